"""Permission-matrix rows, one module per app.

Each module defines `ROWS` ({url name: {role or "anonymous": expected GET status}}) and
`url_kwargs(name, world) -> dict` for the URLs that take arguments. `world` is the dict
built by `tests.test_permissions.world`; a module may add its own objects to it with a
`build(world, personas)` function. `tests/test_permissions.py` merges every module here.
"""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES

ANON = "anonymous"
EVERYONE = (*ROLE_NAMES, ANON)
OK_FOR_ALL = {**dict.fromkeys(ROLE_NAMES, 200), ANON: 302}


def only(*roles: str, denied: int = 403, anonymous: int = 302) -> dict[str, int]:
    """200 for the given roles, `denied` for the other roles, `anonymous` for nobody."""
    return {**{r: (200 if r in roles else denied) for r in ROLE_NAMES}, ANON: anonymous}
