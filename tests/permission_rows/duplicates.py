"""Matrix rows for the duplicate review queue, its review and merge pages (data stewards only)."""

from __future__ import annotations

from cloudcore_crm.roles import ROLE_NAMES
from tests.factories import (
    AccountMergeFactory,
    ContactDuplicateCandidateFactory,
    ContactMergeFactory,
    DuplicateCandidateFactory,
)
from tests.permission_rows import ANON, only

STEWARDS = only("data_steward")

ROWS: dict[str, dict[str, int]] = {
    "customers:duplicate_list": STEWARDS,
    "customers:duplicate_detail": STEWARDS,
    "customers:contact_duplicate_detail": STEWARDS,
    "customers:merge_detail": STEWARDS,
    "customers:contact_merge_detail": STEWARDS,
    "customers:duplicate_scan": {**dict.fromkeys(ROLE_NAMES, 405), ANON: 302},  # POST only
    "admin:customers_duplicatecandidate_changelist": only("data_steward", denied=302),
    "admin:customers_contactduplicatecandidate_changelist": only("data_steward", denied=302),
    "admin:customers_accountmerge_changelist": only("data_steward", denied=302),
    "admin:customers_contactmerge_changelist": only("data_steward", denied=302),
}


def build(world: dict, personas: dict) -> None:
    world.update(
        duplicate_candidate=DuplicateCandidateFactory(),
        contact_duplicate_candidate=ContactDuplicateCandidateFactory(),
        account_merge=AccountMergeFactory(merged_by=personas["data_steward"]),
        contact_merge=ContactMergeFactory(merged_by=personas["data_steward"]),
    )


def url_kwargs(name: str, world: dict) -> dict:
    return {
        "customers:duplicate_detail": {"pk": world["duplicate_candidate"].pk},
        "customers:contact_duplicate_detail": {"pk": world["contact_duplicate_candidate"].pk},
        "customers:merge_detail": {"pk": world["account_merge"].pk},
        "customers:contact_merge_detail": {"pk": world["contact_merge"].pk},
    }.get(name, {})
