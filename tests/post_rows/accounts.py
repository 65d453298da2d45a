"""POST rows for the login audit: only a data steward unlocks a username or an address."""

from __future__ import annotations

from tests.post_rows import PostRow, allowed


def build(world: dict, personas: dict) -> None:
    from axes.models import AccessAttempt

    # A locked-out username for the unlock to clear.
    world["lockout"] = AccessAttempt.objects.create(
        username="locked_out", ip_address="203.0.113.9", failures_since_start=5, get_data="", post_data=""
    )


def _cleared(world: dict, role: str) -> None:
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.filter(username="locked_out").exists()


POSTS: dict[str, PostRow] = {
    "login_unlock": PostRow(allowed("data_steward"), data=lambda w: {"username": "locked_out"}, done=_cleared),
}
READ_ONLY = {"login_audit"}
