"""The funnel and the forecast, computed from stage rows (the facts) rather than from
where deals stand today.

Seed 003 measures a funnel by how many leads reach each status and the ratio from one
status to the next. Here a deal has *reached* a stage when it was ever in that stage or a
later one (a deal that went back keeps the furthest stage it reached; a lost deal counts
for the stages it reached before it was lost). Conversion from a stage to the next is
reached(next) / reached(stage).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from customers.choices import OpportunityStage

FUNNEL_STAGES: list[str] = [*OpportunityStage.open_stages(), OpportunityStage.WON]
STAGE_INDEX = {stage: i for i, stage in enumerate(FUNNEL_STAGES)}
LABELS = dict(OpportunityStage.choices)
DAY = 86400


@dataclass(frozen=True)
class Deal:
    """What the funnel needs of one opportunity."""

    pk: int
    stage: str
    amount: Decimal
    created_at: dt.datetime


@dataclass(frozen=True)
class Move:
    """One stage row."""

    opportunity_id: int
    from_stage: str
    to_stage: str
    at: dt.datetime


@dataclass
class StageFigures:
    stage: str
    label: str
    open_count: int = 0  # deals in this stage now
    open_value: Decimal = Decimal("0")
    reached: int = 0  # deals that were ever here or further
    conversion: float | None = None  # reached(next) / reached(this); None for the last stage
    median_days: float | None = None  # median time a deal spent in this stage
    stuck: int = 0  # open deals here past the stage's threshold
    stuck_after_days: int = 0


@dataclass
class Funnel:
    stages: list[StageFigures]
    deals: int
    won: int
    lost: int
    win_rate: float | None  # won / (won + lost)
    average_cycle_days: float | None  # first stage row to the move into won, won deals only
    won_value: Decimal = Decimal("0")
    lost_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def max_reached(self) -> int:
        return max((s.reached for s in self.stages), default=0)


def stuck_thresholds() -> dict[str, int]:
    return {stage: int(days) for stage, days in settings.PIPELINE_STUCK_DAYS.items()}


def probabilities() -> dict[str, Decimal]:
    """Each open stage's chance of closing as won (a setting, in percent)."""
    return {stage: Decimal(str(p)) / 100 for stage, p in settings.PIPELINE_STAGE_PROBABILITY.items()}


def funnel(
    deals: Iterable[Deal], moves: Iterable[Move], *, now: dt.datetime, lost_reasons: Iterable[str] = ()
) -> Funnel:
    deals = list(deals)
    by_deal: dict[int, list[Move]] = defaultdict(list)
    for move in moves:
        by_deal[move.opportunity_id].append(move)
    figures = {stage: StageFigures(stage, LABELS[stage]) for stage in FUNNEL_STAGES}
    durations: dict[str, list[float]] = defaultdict(list)
    thresholds = stuck_thresholds()
    won = lost = 0
    won_value = Decimal("0")
    cycles: list[float] = []
    for deal in deals:
        history = sorted(by_deal.get(deal.pk, []), key=lambda m: m.at)
        furthest = max(
            (STAGE_INDEX[m.to_stage] for m in history if m.to_stage in STAGE_INDEX),
            default=STAGE_INDEX.get(deal.stage, -1),
        )
        if deal.stage in STAGE_INDEX:
            furthest = max(furthest, STAGE_INDEX[deal.stage])
        for stage in FUNNEL_STAGES[: furthest + 1]:
            figures[stage].reached += 1
        # Time in stage: from entering a stage to the next row, or to now for an open deal.
        for i, this in enumerate(history):
            following = history[i + 1] if i + 1 < len(history) else None
            if this.to_stage not in OpportunityStage.open_stages():
                continue
            end = following.at if following else (now if deal.stage == this.to_stage else None)
            if end is not None:
                durations[this.to_stage].append((end - this.at).total_seconds() / DAY)
        if deal.stage in OpportunityStage.open_stages():
            row = figures[deal.stage]
            row.open_count += 1
            row.open_value += deal.amount
            since = history[-1].at if history else deal.created_at
            if (now - since).total_seconds() / DAY > thresholds.get(deal.stage, 10**6):
                row.stuck += 1
        elif deal.stage == OpportunityStage.WON:
            won += 1
            won_value += deal.amount
            started = history[0].at if history else deal.created_at
            closed = next((m.at for m in reversed(history) if m.to_stage == OpportunityStage.WON), None)
            if closed is not None:
                cycles.append((closed - started).total_seconds() / DAY)
        elif deal.stage == OpportunityStage.LOST:
            lost += 1
    stages = [figures[s] for s in FUNNEL_STAGES]
    for this, following in itertools.pairwise(stages):
        this.conversion = following.reached / this.reached if this.reached else None
    for row in stages:
        row.stuck_after_days = thresholds.get(row.stage, 0)
        if durations[row.stage]:
            row.median_days = statistics.median(durations[row.stage])
    reasons: dict[str, int] = defaultdict(int)
    for reason in lost_reasons:
        reasons[reason or "unknown"] += 1
    return Funnel(
        stages=stages,
        deals=len(deals),
        won=won,
        lost=lost,
        win_rate=won / (won + lost) if won + lost else None,
        average_cycle_days=statistics.fmean(cycles) if cycles else None,
        won_value=won_value,
        lost_reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
    )


# --- Forecast ---------------------------------------------------------------------------


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter."""
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    end_month = start.month + 2
    following = dt.date(year + (end_month == 12), end_month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def parse_quarter(text: str) -> tuple[int, int] | None:
    """'2026-Q3' -> (2026, 3); anything else -> None."""
    try:
        year, q = text.upper().split("-Q")
        year_n, q_n = int(year), int(q)
    except (AttributeError, ValueError):
        return None
    return (year_n, q_n) if 1 <= q_n <= 4 and 2000 <= year_n <= 2100 else None


def quarter_label(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


@dataclass
class ForecastRow:
    """One rep's (or the team's) quarter: won so far, committed, best case, weighted."""

    name: str
    won: Decimal = Decimal("0")
    committed: Decimal = Decimal("0")  # won + open deals at the last open stage (proposal)
    best_case: Decimal = Decimal("0")  # committed + every other open deal closing this quarter
    weighted: Decimal = Decimal("0")  # won + each open deal x its stage's probability
    open_deals: int = 0


def forecast(rows: Iterable[tuple[str, str, Decimal, bool]]) -> tuple[list[ForecastRow], ForecastRow]:
    """`rows`: (owner name, stage, amount, won in the quarter) for deals closing in the
    quarter (open ones by expected close, won ones by the day they were won)."""
    chance = probabilities()
    per_rep: dict[str, ForecastRow] = {}
    team = ForecastRow("Team")
    commit_stage = OpportunityStage.open_stages()[-1]
    for owner, stage, amount, won in rows:
        rep = per_rep.setdefault(owner, ForecastRow(owner))
        for target in (rep, team):
            if won:
                target.won += amount
                target.committed += amount
                target.best_case += amount
                target.weighted += amount
            elif stage in chance:
                target.open_deals += 1
                target.best_case += amount
                target.weighted += (amount * chance[stage]).quantize(Decimal("0.01"))
                if stage == commit_stage:
                    target.committed += amount
    return sorted(per_rep.values(), key=lambda r: -r.weighted), team
