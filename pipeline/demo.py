"""The demo's stage histories: the legacy workbooks say only where each deal stands today,
so the demo gives every deal a plausible path through the funnel over the past year (the
funnel, the time in stage and the forecast then show real shapes on the first visit).

Demo only: real histories start with the import's first row and grow through the services.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cloudcore_crm.roles import DATA_STEWARD
from customers.bulk import BulkWriter
from customers.choices import LostReason, OpportunityStage
from customers.models import Opportunity, StageChange

DEMO_REASON = "Demo world: the deal's path before the CRM"
OPEN = OpportunityStage.open_stages()
# How many of the stages before the furthest one a lost deal reached, by chance.
LOST_REACH = [(0, 30), (1, 30), (2, 20), (3, 12), (4, 8)]


def _weighted(rng: random.Random, pairs: list[tuple[int, int]]) -> int:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _path(rng: random.Random, stage: str) -> list[str]:
    if stage == OpportunityStage.WON:
        return [*OPEN, OpportunityStage.WON]
    if stage == OpportunityStage.LOST:
        return [*OPEN[: _weighted(rng, LOST_REACH) + 1], OpportunityStage.LOST]
    return OPEN[: OPEN.index(stage) + 1]


@transaction.atomic
def seed_stage_histories(*, seed: int = 7, now: dt.datetime | None = None) -> int:
    """Replace each deal's single import-time row with a dated path; returns the number of
    deals given a history. Does nothing once the demo histories exist."""
    if StageChange.objects.filter(reason=DEMO_REASON).exists():
        return 0
    now = now or timezone.now()
    deals = list(Opportunity.objects.values_list("pk", "stage", "owner_id", "lost_reason"))
    rows: list[StageChange] = []
    lost_reasons: list[tuple[int, str]] = []
    for pk, stage, owner_id, lost_reason in deals:
        rng = random.Random(seed * 1_000_003 + pk)
        path = _path(rng, stage)
        # Walk back from today: each earlier stage lasted 3-40 days; open deals entered their
        # current stage up to 75 days ago, so some are stuck.
        at = now - dt.timedelta(days=rng.randint(0, 75), hours=rng.randint(0, 8))
        stamps = [at]
        for _ in path[1:]:
            at -= dt.timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 8))
            stamps.append(at)
        stamps.reverse()
        previous = ""
        for to_stage, when in zip(path, stamps, strict=True):
            rows.append(
                StageChange(
                    opportunity_id=pk,
                    from_stage=previous,
                    to_stage=to_stage,
                    actor_id=owner_id,
                    at=when,
                    reason=DEMO_REASON,
                )
            )
            previous = to_stage
        if stage == OpportunityStage.LOST and not lost_reason:
            lost_reasons.append((pk, rng.choice(LostReason.values)))
    StageChange.objects.filter(opportunity_id__in=[pk for pk, *_ in deals], from_stage="").delete()
    StageChange.objects.bulk_create(rows, batch_size=2000)
    # The legacy workbooks never said why a deal was lost; the demo gives each lost deal a
    # reason (as a steward, with history) so the funnel's "why lost" box has a shape.
    steward = get_user_model().objects.filter(groups__name=DATA_STEWARD).order_by("pk").first()
    if lost_reasons and steward is not None:
        writer = BulkWriter(steward)
        reasons = dict(lost_reasons)
        for deal in Opportunity.objects.filter(pk__in=reasons):
            writer.update(deal, {"lost_reason": reasons[deal.pk]}, reason="Demo world: why the deal was lost")
        writer.flush()
    return len(deals)
