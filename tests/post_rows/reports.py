"""POST rows for reports: only a steward re-freezes a month; everyone sets their own digest;
the unsubscribe link's signed token is its own credential."""

from __future__ import annotations

from reports.models import DigestPreference
from tests.post_rows import EVERYONE, PostRow, allowed


def _unsubscribed(world: dict, role: str) -> None:
    assert DigestPreference.objects.get(user=world["personas"]["sales_rep"]).weekly_digest is False


def _digest_on(world: dict, role: str) -> None:
    assert DigestPreference.objects.get(user__username=role).weekly_digest is True


POSTS: dict[str, PostRow] = {
    "reports:snapshot_refreeze": PostRow(
        allowed("data_steward"),
        kwargs=lambda w: {"month": w["snapshot"].month},
        data=lambda w: {"reason": "POST matrix: a late invoice"},
    ),
    # Each person's own preference (nobody sets anyone else's).
    "reports:digest_preference": PostRow(
        allowed(*EVERYONE[:-1]), data=lambda w: {"weekly_digest": "on"}, done=_digest_on
    ),
    # The link in the email: the signed token names the sales rep, whoever follows it.
    "reports:digest_unsubscribe": PostRow(
        dict.fromkeys(EVERYONE, 200),
        kwargs=lambda w: {"token": w["unsubscribe_token"]},
        public=True,
        done=_unsubscribed,
    ),
    # A forged token unsubscribes nobody.
    "reports:digest_unsubscribe@forged_token": PostRow(
        dict.fromkeys(EVERYONE, 400), kwargs=lambda w: {"token": w["unsubscribe_token"][:-2] + "xx"}
    ),
}

READ_ONLY = {
    "reports:board_pack_latest",
    "reports:board_pack",
    "reports:board_pack_pdf",
    "reports:board_pack_xlsx",
    "reports:pack_accounts",
    "reports:snapshot_list",
}
