"""Freezing months: every write of the reports app's snapshots goes through here.

`freeze_month` reads every record as it stood at the month's last instant (from
django-simple-history, `reports.asof`), works out the month's figures once, and writes a
`MonthSnapshot` with one `AccountSnapshot` per account. A frozen month is never written
again except by `freeze_month(..., refreeze=True)`, a data steward's action with a reason,
recorded in `SnapshotFreeze` with the headline before and after.

A month frozen on the first days after it ended is marked live; one frozen later (the
backfill, `manage.py snapshot_month --last 12`) is marked rebuilt: history may not reach
back that far (the legacy import wrote its history on the day it ran), and then a record's
oldest known state stands in for it, from its own dates (a subscription counts from its
start date).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone

from cloudcore_crm.lib import bulkload
from cloudcore_crm.roles import DATA_STEWARD, has_role
from customers.choices import LifecycleStatus, OpportunityStage, ProductKind, SubscriptionStatus
from customers.models import Account, DuplicateCandidate, Opportunity, Product, Subscription
from reports import metrics, sources
from reports.asof import states_as_of
from reports.choices import FreezeAction, Movement, SnapshotSource
from reports.models import AccountSnapshot, MonthSnapshot, SnapshotFreeze, add_months, month_start

LIVE_STATUSES = {SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING}
ENDED_STATUSES = {SubscriptionStatus.CANCELLED, SubscriptionStatus.LAPSED}
FUNNEL = [
    OpportunityStage.SUSPECT,
    OpportunityStage.PROSPECT,
    OpportunityStage.QUALIFIED,
    OpportunityStage.MEETING,
    OpportunityStage.PROPOSAL,
    OpportunityStage.WON,
]
CSAT_DAYS = 180
BATCH = 2000
HEADLINE_KEYS = ("clients", "arr", "new", "expansion", "contraction", "churn", "grr", "nrr")


class FreezeError(Exception):
    """A freeze that may not happen (a month not yet over, a re-freeze without a reason)."""


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's first and last instant, in the CRM's time zone (Perth)."""
    zone = timezone.get_default_timezone()
    first = timezone.make_aware(dt.datetime.combine(month_start(month), dt.time.min), zone)
    following = timezone.make_aware(dt.datetime.combine(add_months(month_start(month), 1), dt.time.min), zone)
    return first, following - dt.timedelta(microseconds=1)


def parse_month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise FreezeError(f"A month is written YYYY-MM, not {text!r}.") from error


def last_complete_month(now: dt.datetime | None = None) -> dt.date:
    return add_months(month_start(timezone.localdate(now or timezone.now())), -1)


@transaction.atomic
def freeze_month(
    *,
    month: dt.date,
    actor=None,
    reason: str = "",
    refreeze: bool = False,
    now: dt.datetime | None = None,
) -> tuple[MonthSnapshot, bool]:
    """Freeze `month` (idempotent): returns (snapshot, whether it was written now).

    An already frozen month is returned untouched unless `refreeze`, which only a data
    steward may ask for, with a reason.
    """
    month = month_start(month)
    now = now or timezone.now()
    _, end = month_bounds(month)
    if end >= now:
        raise FreezeError(
            f"{month:%B %Y} has not ended yet; it can be frozen from {end + dt.timedelta(microseconds=1):%-d %B %Y}."
        )
    existing = MonthSnapshot.objects.select_for_update().filter(month=month).first()
    if existing is not None and not refreeze:
        return existing, False
    if refreeze:
        if not has_role(actor, DATA_STEWARD):
            raise FreezeError("Only a data steward may re-freeze a month.")
        if not reason.strip():
            raise FreezeError("Say why the month is re-frozen.")
    started = time.perf_counter()
    fresh_days = getattr(settings, "REPORTS_LIVE_FREEZE_DAYS", 3)
    source = SnapshotSource.LIVE if now - end <= dt.timedelta(days=fresh_days) else SnapshotSource.REBUILT
    figures = MonthFigures(month, now=now)
    rows, totals = figures.compute()
    before = (existing.totals or {}).get("headline", {}) if existing else {}
    try:
        with transaction.atomic():
            if existing is None:
                snapshot = MonthSnapshot.objects.create(
                    month=month, source=source, as_of=end, frozen_at=now, frozen_by=actor, reason=reason, totals=totals
                )
            else:
                existing.accounts.all().delete()
                existing.source, existing.as_of, existing.frozen_at = source, end, now
                existing.frozen_by, existing.reason, existing.totals = actor, reason.strip(), totals
                existing.version += 1
                existing.save()
                snapshot = existing
    except IntegrityError:
        # Another run froze the month between our look and our write: theirs stands.
        return MonthSnapshot.objects.get(month=month), False
    for row in rows:
        row.snapshot = snapshot
    bulkload.insert(rows)  # by COPY on PostgreSQL: bulk_create took half the freeze
    SnapshotFreeze.objects.create(
        month=month,
        action=FreezeAction.REFREEZE if existing else FreezeAction.FREEZE,
        actor=actor,
        reason=reason.strip(),
        at=now,
        source=source,
        accounts=len(rows),
        seconds=round(time.perf_counter() - started, 3),
        headline_before=before,
        headline_after=totals["headline"],
    )
    return snapshot, True


def freeze_recent(*, months: int, actor=None, now: dt.datetime | None = None) -> list[tuple[MonthSnapshot, bool]]:
    """Freeze the last `months` complete months, oldest first (each month's movement reads
    the month before it), leaving frozen ones as they are."""
    last = last_complete_month(now)
    return [freeze_month(month=add_months(last, -offset), actor=actor, now=now) for offset in range(months - 1, -1, -1)]


def refreeze_month(*, month: dt.date, actor, reason: str, now: dt.datetime | None = None) -> MonthSnapshot:
    snapshot, _ = freeze_month(month=month, actor=actor, reason=reason, refreeze=True, now=now)
    return snapshot


# --- The month's figures ----------------------------------------------------------------


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


class MonthFigures:
    """Reads the records as they stood at the month's end and works out every figure."""

    def __init__(self, month: dt.date, *, now: dt.datetime):
        self.month = month
        self.start, self.end = month_bounds(month)
        self.last_day = self.end.date()
        self.now = now

    # Records at the month's end -------------------------------------------------------

    def _accounts(self) -> dict[int, dict[str, Any]]:
        columns = (
            "code", "legal_name", "trading_name", "lifecycle_status", "owner_id", "office", "segment",
            "merged_into_id", "created_at", "abn",
        )  # fmt: skip
        states = states_as_of(Account, self.end, columns)
        accounts = {pk: row for pk, row in states.known.items() if not row["merged_into_id"]}
        for pk, row in states.oldest.items():
            if not row["merged_into_id"]:
                row["_oldest"] = True
                accounts[pk] = row
        return accounts

    def _subscriptions(self, at: dt.datetime, **where: Any) -> dict[int, dict[str, Any]]:
        if not where and at == self.end and hasattr(self, "_at_end"):
            return self._at_end
        columns = ("account_id", "product_id", "annual_value", "start_date", "renewal_date", "status")
        states = states_as_of(Subscription, at, columns, where=where)
        subs = dict(states.known)
        day = at.date()
        for pk, row in states.oldest.items():
            if row["start_date"] is None or row["start_date"] > day:
                continue
            # Known only from a later state: it had started; if it has since ended, it
            # ended at its renewal date, so before that date it was live.
            if row["status"] in ENDED_STATUSES and (row["renewal_date"] is None or row["renewal_date"] > day):
                row["status"] = SubscriptionStatus.ACTIVE
            subs[pk] = row
        if not where and at == self.end:
            self._at_end = subs
        return subs

    def compute(self) -> tuple[list[AccountSnapshot], dict[str, Any]]:
        accounts = self._accounts()
        subs = self._subscriptions(self.end)
        products = {p.pk: p for p in Product.objects.all()}
        arr: dict[int, Decimal] = defaultdict(Decimal)
        by_product: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        renewals_due: dict[int, int] = defaultdict(int)
        no_renewal_date = 0
        for sub in subs.values():
            if sub["status"] not in LIVE_STATUSES or sub["account_id"] not in accounts:
                continue
            value = _dec(sub["annual_value"])
            arr[sub["account_id"]] += value
            by_product[sub["account_id"]][products[sub["product_id"]].code] += value
            if sub["renewal_date"] is None:
                no_renewal_date += 1
            elif self.month <= sub["renewal_date"] <= self.last_day:
                renewals_due[sub["account_id"]] += 1
        # An account known only from a later state counts if it had a live subscription.
        accounts = {
            pk: a for pk, a in accounts.items() if not a.get("_oldest") or arr.get(pk) or a["created_at"] <= self.end
        }

        # A score known only from a later state stands in for the month (marked rebuilt).
        risk = states_as_of(_risk_model(), self.end, ("account_id", "score", "band"))
        risk_by_account = {r["account_id"]: r for r in [*risk.oldest.values(), *risk.known.values()]}
        open_tickets, csat = self._ticket_figures()
        discrepancies = sources.open_discrepancies_by_account(self.end)
        previous = self._arr_of(add_months(self.month, -1))
        year_ago = self._arr_of(add_months(self.month, -12))
        owners = _owner_names({a["owner_id"] for a in accounts.values() if a["owner_id"]})

        rows: list[AccountSnapshot] = []
        for pk, account in accounts.items():
            value = arr.get(pk, Decimal("0"))
            previous_value = previous.get(pk) if previous is not None else None
            score = risk_by_account.get(pk)
            rows.append(
                AccountSnapshot(
                    account_id=pk,
                    code=account["code"],
                    name=account["trading_name"] or account["legal_name"],
                    lifecycle_status=account["lifecycle_status"],
                    owner_id=account["owner_id"],
                    owner_name=owners.get(account["owner_id"], ""),
                    office=account["office"],
                    segment=account["segment"],
                    arr=value,
                    arr_by_product={code: metrics.money(v) for code, v in sorted(by_product[pk].items())},
                    previous_arr=previous_value if previous is not None else None,
                    movement=metrics.classify(previous_value, value) if previous is not None else Movement.NONE,
                    risk_band=score["band"] if score else "",
                    risk_score=score["score"] if score else None,
                    open_tickets=open_tickets.get(pk, 0),
                    csat=csat.get(pk),
                    open_discrepancies=(discrepancies or {}).get(pk, 0) if discrepancies is not None else None,
                    renewals_due=renewals_due.get(pk, 0),
                )
            )
        totals = self._totals(rows, products, previous, year_ago, accounts, no_renewal_date)
        return rows, totals

    def _arr_of(self, month: dt.date) -> dict[int, Decimal] | None:
        snapshot = MonthSnapshot.objects.filter(month=month).values_list("pk", flat=True).first()
        if snapshot is None:
            return None
        return dict(AccountSnapshot.objects.filter(snapshot_id=snapshot).values_list("account_id", "arr"))

    def _ticket_figures(self) -> tuple[dict[int, int], dict[int, Decimal]]:
        Ticket = _ticket_model()
        opened = Ticket.objects.filter(opened_at__lte=self.end)
        still_open = opened.filter(
            Q(resolved_at__gt=self.end) | Q(resolved_at__isnull=True, status__in=_open_ticket_statuses())
        )
        open_counts = dict(still_open.values("account_id").annotate(n=Count("pk")).values_list("account_id", "n"))
        recent = Ticket.objects.filter(
            resolved_at__gt=self.end - dt.timedelta(days=CSAT_DAYS),
            resolved_at__lte=self.end,
            satisfaction__isnull=False,
        )
        csat = {
            pk: Decimal(str(round(avg, 2)))
            for pk, avg in recent.values("account_id").annotate(a=Avg("satisfaction")).values_list("account_id", "a")
        }
        return open_counts, csat

    # The month's totals ----------------------------------------------------------------

    def _totals(self, rows, products, previous, year_ago, accounts, no_renewal_date) -> dict[str, Any]:
        now_arr = {r.account_id: r.arr for r in rows}
        clients = [r for r in rows if r.arr > 0]
        total_arr = sum((r.arr for r in clients), Decimal("0"))
        month_move = metrics.arr_movement(previous, now_arr).as_dict() if previous is not None else None
        year_move = metrics.arr_movement(year_ago, now_arr).as_dict() if year_ago is not None else None

        def grouped(key) -> dict[str, dict[str, float]]:
            groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"clients": 0, "arr": Decimal("0")})
            for row in clients:
                for name in key(row):
                    groups[name]["clients"] += 1
                    groups[name]["arr"] += _dec(row.arr_by_product.get(name)) if key is _products else row.arr
            return {k: {"clients": v["clients"], "arr": metrics.money(v["arr"])} for k, v in groups.items()}

        by_product = grouped(_products)
        high = [r for r in rows if r.risk_band == "high" and r.arr > 0]
        support = self._support_totals()
        support["high_risk_clients"] = len(high)
        support["high_risk_arr"] = metrics.money(sum((r.arr for r in high), Decimal("0")))
        support["open_tickets"] = sum(r.open_tickets for r in rows)
        headline = {
            "clients": len(clients),
            "arr": metrics.money(total_arr),
            "accounts": len(rows),
            **{k: (month_move or {}).get(k) for k in ("new", "expansion", "contraction", "churn", "grr", "nrr")},
            "high_risk_clients": support["high_risk_clients"],
            "high_risk_arr": support["high_risk_arr"],
            "csat": support["csat"],
            "renewals_due": 0,
        }
        renewals = self._renewals()
        headline["renewals_due"] = renewals["due"]
        return {
            "month": self.month.isoformat(),
            "headline": headline,
            "products": _product_rows(by_product, products, ProductKind.PRODUCT),
            "service_lines": _product_rows(by_product, products, ProductKind.SERVICE_LINE),
            "offices": grouped(lambda r: [r.office]),
            "segments": grouped(lambda r: [r.segment]),
            "movement": month_move,
            "movement_year": year_move,
            "renewals": renewals,
            "pipeline": self._pipeline(),
            "support": support,
            "billing": sources.billing_drift(self.end),
            "data_quality": self._data_quality(accounts, no_renewal_date),
        }

    def _support_totals(self) -> dict[str, Any]:
        Ticket = _ticket_model()
        opened = Ticket.objects.filter(opened_at__gte=self.start, opened_at__lte=self.end).count()
        resolved = list(
            Ticket.objects.filter(resolved_at__gte=self.start, resolved_at__lte=self.end).values_list(
                "resolution_hours", "satisfaction"
            )
        )
        hours = [float(h) for h, _ in resolved if h is not None]
        scores = [s for _, s in resolved if s is not None]
        return {
            "opened": opened,
            "resolved": len(resolved),
            "median_resolution_hours": round(metrics.median(hours), 1) if hours else None,
            "csat": round(sum(scores) / len(scores), 2) if scores else None,
            "csat_responses": len(scores),
        }

    def _renewals(self) -> dict[str, Any]:
        """Subscriptions whose renewal date (as it stood when the month began) fell in the
        month, by what had become of them at its end."""
        cases = sources.renewal_case_figures(self.month, self.last_day)
        at_start = self._subscriptions(
            self.start - dt.timedelta(microseconds=1), renewal_date__gte=self.month, renewal_date__lte=self.last_day
        )
        at_end = self._subscriptions(self.end)
        figures = {k: 0 for k in ("due", "renewed", "lost", "lapsed", "open")}
        values = {k: Decimal("0") for k in figures}
        for pk, sub in at_start.items():
            if sub["status"] not in LIVE_STATUSES or not sub["renewal_date"]:
                continue
            if not (self.month <= sub["renewal_date"] <= self.last_day):
                continue
            later = at_end.get(pk, sub)
            if later["status"] == SubscriptionStatus.CANCELLED:
                outcome = "lost"
            elif later["status"] == SubscriptionStatus.LAPSED:
                outcome = "lapsed"
            elif later["renewal_date"] and later["renewal_date"] > self.last_day:
                outcome = "renewed"
            else:
                outcome = "open"
            for key in ("due", outcome):
                figures[key] += 1
                values[key] += _dec(sub["annual_value"])
        return {
            **figures,
            "values": {k: metrics.money(v) for k, v in values.items()},
            "source": "renewal cases" if cases else "subscription renewal dates",
            **({"cases": cases} if cases else {}),
        }

    def _pipeline(self) -> dict[str, Any]:
        columns = ("stage", "amount", "expected_close", "created_at", "owner_id")
        states = states_as_of(Opportunity, self.end, columns)
        quarter_start, quarter_end = forecast_quarter(self.last_day)
        # A deal known only from a later state was in the pipeline if it existed by then or,
        # in a month history does not reach, if it is expected to close from this quarter on.
        deals = list(states.known.values()) + [
            d
            for d in states.oldest.values()
            if d["created_at"] <= self.end or (d["expected_close"] and d["expected_close"] >= quarter_start)
        ]
        order = {stage: i for i, stage in enumerate(FUNNEL)}
        stages = {s: {"count": 0, "amount": Decimal("0")} for s in OpportunityStage.values}
        reached = [0] * len(FUNNEL)
        for deal in deals:
            stages[deal["stage"]]["count"] += 1
            stages[deal["stage"]]["amount"] += _dec(deal["amount"])
            # A lost deal's furthest stage is not recorded: it counts as having been a suspect.
            furthest = order.get(deal["stage"], 0)
            for i in range(furthest + 1):
                reached[i] += 1
        conversions = [
            {
                "from": FUNNEL[i],
                "to": FUNNEL[i + 1],
                "from_label": OpportunityStage(FUNNEL[i]).label,
                "to_label": OpportunityStage(FUNNEL[i + 1]).label,
                "rate": metrics.ratio(Decimal(reached[i + 1]) / reached[i]) if reached[i] else None,
            }
            for i in range(len(FUNNEL) - 1)
        ]
        weights = settings.REPORTS_STAGE_PROBABILITY
        in_quarter = [
            d
            for d in deals
            if d["stage"] in OpportunityStage.open_stages()
            and d["expected_close"]
            and quarter_start <= d["expected_close"] <= quarter_end
        ]
        weighted = sum((_dec(d["amount"]) * Decimal(str(weights.get(d["stage"], 0))) for d in in_quarter), Decimal("0"))
        return {
            "stages": [
                {
                    "stage": s,
                    "label": OpportunityStage(s).label,
                    "count": v["count"],
                    "amount": metrics.money(v["amount"]),
                }
                for s, v in stages.items()
            ],
            "reached": [
                {"stage": s, "label": OpportunityStage(s).label, "count": n}
                for s, n in zip(FUNNEL, reached, strict=True)
            ],
            "conversions": conversions,
            "forecast": {
                "quarter": quarter_label(quarter_start),
                "from": quarter_start.isoformat(),
                "to": quarter_end.isoformat(),
                "deals": len(in_quarter),
                "amount": metrics.money(sum((_dec(d["amount"]) for d in in_quarter), Decimal("0"))),
                "weighted": metrics.money(weighted),
            },
        }

    def _data_quality(self, accounts, no_renewal_date) -> dict[str, Any]:
        live = [a for a in accounts.values() if a["lifecycle_status"] != LifecycleStatus.CHURNED]
        duplicates = (
            DuplicateCandidate.objects.filter(found_at__lte=self.end)
            .filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__gt=self.end))
            .count()
        )
        conflicts, reviews = _migration_open_counts(self.end)
        return {
            "subscriptions_without_renewal_date": no_renewal_date,
            "accounts_without_owner": sum(1 for a in live if not a["owner_id"]),
            "accounts_without_abn": sum(1 for a in live if not a["abn"]),
            "open_duplicate_pairs": duplicates,
            "open_import_conflicts": conflicts,
            "open_match_reviews": reviews,
        }


def _products(row: AccountSnapshot) -> list[str]:
    return list(row.arr_by_product)


def _product_rows(by_product, products, kind) -> dict[str, dict[str, Any]]:
    return {
        p.code: {"label": p.name, **by_product.get(p.code, {"clients": 0, "arr": 0.0})}
        for p in sorted(products.values(), key=lambda p: p.name)
        if p.kind == kind and (p.is_active or p.code in by_product)
    }


def forecast_quarter(last_day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar quarter the board looks at after `last_day`: the one holding the next day."""
    day = last_day + dt.timedelta(days=1)
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return first, add_months(first, 3) - dt.timedelta(days=1)


def quarter_label(first: dt.date) -> str:
    return f"Q{(first.month - 1) // 3 + 1} {first.year} ({first:%b}-{add_months(first, 2):%b})"


def _owner_names(ids: set[int]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=ids).only("first_name", "last_name", "username")
    return {u.pk: (u.get_full_name() or u.username) for u in users}


# Other apps' tables, looked up by name so reports' import does not depend on their order.
def _ticket_model():
    from support_bridge.models import Ticket

    return Ticket


def _risk_model():
    from support_bridge.models import RiskScore

    return RiskScore


def _open_ticket_statuses() -> list[str]:
    from support_bridge.choices import TicketStatus

    return TicketStatus.open_values()


def _migration_open_counts(at: dt.datetime) -> tuple[int, int]:
    from migration.choices import ConflictStatus, ReviewStatus
    from migration.models import ImportConflict, MatchReview

    conflicts = (
        ImportConflict.objects.filter(created_at__lte=at)
        .filter(Q(status=ConflictStatus.OPEN) | Q(resolved_at__gt=at))
        .count()
    )
    reviews = MatchReview.objects.filter(created_at__lte=at, status=ReviewStatus.OPEN).count()
    return conflicts, reviews
