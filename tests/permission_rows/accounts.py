"""Matrix rows for the stewards' login audit and unlock."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from tests.permission_rows import ANON, only

ROWS: dict[str, dict[str, int]] = {
    "login_audit": only("data_steward"),
    "login_unlock": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302},  # POST only
}
