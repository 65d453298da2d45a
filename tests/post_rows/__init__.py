"""POST-matrix rows, one module per app: every URL that changes data x every role + anonymous.

Each module defines `POSTS` ({label: PostRow}); the label is the URL name, optionally
followed by `@variant` for the same URL on another object (another rep's account...).
A module may define `build(world, personas)` to add the objects its rows post to; it runs
after the GET matrix's builders (`tests/permission_rows/`), so `world` already holds the
account owned by the sales rep, its contact, subscription, opportunity and so on.
A module may also list `READ_ONLY` URL names: pages whose POST changes nothing (or that
take no POST), so `tests/test_post_matrix.py` knows every URL was decided.

`tests/test_post_matrix.py` posts each row's body as each role. An answer that is not
the row's expected status fails; a refused POST (any role whose expected status is not in
`row.ok`) must leave every table exactly as it was; an allowed one must change something
(unless `writes=False`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cloudcore_crm.roles import ROLE_NAMES

ANON = "anonymous"
EVERYONE = (*ROLE_NAMES, ANON)


def allowed(*roles: str, ok: int = 302, denied: int = 403, anonymous: int = 302) -> dict[str, int]:
    """`ok` for the given roles, `denied` for the other roles, `anonymous` for nobody."""
    return {**{r: (ok if r in roles else denied) for r in ROLE_NAMES}, ANON: anonymous}


def _nothing(world: dict) -> dict:
    return {}


@dataclass(frozen=True)
class PostRow:
    expected: dict[str, int]
    data: Callable[[dict], dict] = _nothing
    kwargs: Callable[[dict], dict] = _nothing
    url_name: str = ""  # defaults to the label before "@"
    writes: bool = True  # an allowed POST must change the database
    content_type: str = ""  # "" posts a form (multipart); else `data` returns the raw body under "body"
    ok: tuple[int, ...] = (200, 201, 202, 302)
    # Optional check of the intended effect after an allowed POST: done(world, role) -> None.
    done: Callable[[dict, str], None] | None = None
    # The credential is in the address (a signed token), not a session: an anonymous
    # caller's allowed POST writes too, and is checked like a signed-in one.
    public: bool = False
    extra: dict = field(default_factory=dict)

    def name(self, label: str) -> str:
        return self.url_name or label.split("@")[0]


# Admin models Django or a library registers (users, groups, lockouts): for the site's
# superuser only. A data steward is staff but gets 403 there; everyone else the login.
SUPERUSER_ONLY_ADMIN_APPS = {"auth", "axes"}
