"""The board pack, as data: sections of tables, each table with the chart drawn from it.

The HTML page, the PDF (the same page through WeasyPrint) and the XLSX workbook all render
this one structure, so a figure is the same number in each, and every chart is drawn from
the rows of the table beside it. Everything comes from frozen snapshots: the month, and the
twelve before it for the movements and trends (two queries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from customers.choices import Office, Segment
from reports import metrics
from reports.models import MonthSnapshot, add_months

MONEY, INT, PCT, HOURS, SCORE, TEXT = "money", "int", "pct", "hours", "score", "text"


@dataclass
class Cell:
    value: Any
    kind: str = TEXT
    link: str = ""


@dataclass
class Series:
    name: str
    column: int  # the table column the values come from
    values: list[float] = field(default_factory=list)


@dataclass
class Chart:
    kind: str  # "bar" or "line"
    title: str
    categories: list[str]
    series: list[Series]
    value_kind: str = MONEY


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    kinds: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    note: str = ""


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]
    note: str = ""


@dataclass
class BoardPack:
    snapshot: MonthSnapshot
    previous: MonthSnapshot | None
    year_ago: MonthSnapshot | None
    sections: list[Section]
    headline: dict[str, Any]

    @property
    def label(self) -> str:
        return self.snapshot.label

    @property
    def slug(self) -> str:
        return self.snapshot.slug


def load(month: dt.date) -> BoardPack | None:
    snapshot = MonthSnapshot.objects.filter(month=month).select_related("frozen_by").first()
    if snapshot is None:
        return None
    trend = list(MonthSnapshot.objects.trend(month).only("month", "totals", "source"))
    return build(snapshot, trend)


def build(snapshot: MonthSnapshot, trend: list[MonthSnapshot]) -> BoardPack:
    by_month = {s.month: s for s in trend}
    previous = by_month.get(add_months(snapshot.month, -1))
    year_ago = by_month.get(add_months(snapshot.month, -12))
    builder = _Builder(snapshot, previous, year_ago, [s for s in trend if s.month <= snapshot.month])
    return BoardPack(
        snapshot=snapshot,
        previous=previous,
        year_ago=year_ago,
        sections=builder.sections(),
        headline=snapshot.totals.get("headline", {}),
    )


def _get(snapshot: MonthSnapshot | None, *path: str) -> Any:
    value: Any = snapshot.totals if snapshot else None
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _delta(now: Any, then: Any) -> Any:
    if now is None or then is None:
        return None
    return round(now - then, 4)


class _Builder:
    def __init__(self, snapshot, previous, year_ago, trend):
        self.s, self.prev, self.year, self.trend = snapshot, previous, year_ago, trend
        self.t = snapshot.totals

    def link(self, **filters: str) -> str:
        url = reverse("reports:pack_accounts", kwargs={"month": self.s.slug})
        return f"{url}?{urlencode(filters)}" if filters else url

    def sections(self) -> list[Section]:
        return [
            self.headline(),
            self.arr(),
            self.movement(),
            self.renewals(),
            self.pipeline(),
            self.support(),
            self.billing(),
            self.data_quality(),
        ]

    # Headline ---------------------------------------------------------------------------

    def headline(self) -> Section:
        figures = [
            ("Clients (with ARR)", ("headline", "clients"), INT, self.link(clients="1")),
            ("ARR (AUD)", ("headline", "arr"), MONEY, self.link(clients="1")),
            ("Net revenue retention (month)", ("headline", "nrr"), PCT, ""),
            ("Gross revenue retention (month)", ("headline", "grr"), PCT, ""),
            ("Clients at high churn risk", ("headline", "high_risk_clients"), INT, self.link(risk="high")),
            ("ARR at high churn risk", ("headline", "high_risk_arr"), MONEY, self.link(risk="high")),
            ("CSAT (0-10, tickets resolved in the month)", ("support", "csat"), SCORE, ""),
            ("Renewals due in the month", ("renewals", "due"), INT, self.link(renewals="due")),
        ]
        rows = []
        for label, path, kind, link in figures:
            now, prev, year = _get(self.s, *path), _get(self.prev, *path), _get(self.year, *path)
            rows.append(
                [
                    Cell(label),
                    Cell(now, kind, link),
                    Cell(prev, kind),
                    Cell(_delta(now, prev), kind),
                    Cell(year, kind),
                    Cell(_delta(now, year), kind),
                ]
            )
        headline = Table(
            "headline",
            "Headline figures",
            ["Figure", self.s.label, "Previous month", "Change", "A year before", "Change"],
            [TEXT, "*", "*", "*", "*", "*"],
            rows,
        )
        trend_rows = [
            [
                Cell(s.month.strftime("%b %Y")),
                Cell(_get(s, "headline", "clients"), INT),
                Cell(_get(s, "headline", "arr"), MONEY),
                Cell(_get(s, "headline", "nrr"), PCT),
            ]
            for s in self.trend
        ]
        trend = Table(
            "trend",
            "ARR, month by month",
            ["Month", "Clients", "ARR (AUD)", "NRR (month)"],
            [TEXT, INT, MONEY, PCT],
            trend_rows,
            chart=_chart("line", "ARR (AUD), month by month", trend_rows, [("ARR (AUD)", 2)]),
        )
        return Section("headline", "Headline", [headline, trend])

    # ARR by product, service line, office, segment ----------------------------------------

    def arr(self) -> Section:
        tables = [
            self._arr_table("products", "ARR by product", "product", None),
            self._arr_table("service_lines", "ARR by service line", "product", None),
            self._arr_table("offices", "ARR by office", "office", dict(Office.choices)),
            self._arr_table("segments", "ARR by segment", "segment", dict(Segment.choices)),
        ]
        return Section("arr", "Clients and ARR", tables)

    def _arr_table(self, key: str, title: str, filter_name: str, labels: dict[str, str] | None) -> Table:
        groups = self.t.get(key) or {}
        rows = []
        for code, figures in sorted(groups.items(), key=lambda item: -(item[1].get("arr") or 0)):
            label = figures.get("label") or (labels or {}).get(code, code)
            arr = figures.get("arr")
            prev = _get(self.prev, key, code, "arr")
            year = _get(self.year, key, code, "arr")
            rows.append(
                [
                    Cell(label),
                    Cell(figures.get("clients"), INT, self.link(**{filter_name: code})),
                    Cell(arr, MONEY, self.link(**{filter_name: code})),
                    Cell(_delta(arr, prev), MONEY),
                    Cell(metrics.change(arr, prev)["pct"], PCT),
                    Cell(_delta(arr, year), MONEY),
                    Cell(metrics.change(arr, year)["pct"], PCT),
                ]
            )
        columns = ["Name", "Clients", "ARR (AUD)", "Change on month", "% on month", "Change on year", "% on year"]
        kinds = [TEXT, INT, MONEY, MONEY, PCT, MONEY, PCT]
        return Table(key, title, columns, kinds, rows, chart=_chart("bar", title + " (AUD)", rows, [("ARR (AUD)", 2)]))

    # Movement ----------------------------------------------------------------------------

    def movement(self) -> Section:
        month, year = self.t.get("movement"), self.t.get("movement_year")
        labels = [
            ("Start of period", "start", None),
            ("New", "new", "new"),
            ("Expansion", "expansion", "expansion"),
            ("Contraction", "contraction", "contraction"),
            ("Churn", "churn", "churn"),
            ("End of period", "end", None),
        ]
        rows = []
        for label, key, movement in labels:
            rows.append(
                [
                    Cell(label),
                    Cell((month or {}).get(key), MONEY, self.link(movement=movement) if movement and month else ""),
                    Cell(((month or {}).get("counts") or {}).get(key), INT),
                    Cell((year or {}).get(key), MONEY),
                ]
            )
        table = Table(
            "movement",
            "ARR movement",
            ["Movement", "Over the month (AUD)", "Accounts", "Over twelve months (AUD)"],
            [TEXT, MONEY, INT, MONEY],
            rows,
            chart=_chart("bar", "ARR movement over the month (AUD)", rows[1:5], [("Over the month", 1)]),
            note="" if month else "No movement: the month before was not frozen.",
        )
        retention = Table(
            "retention",
            "Revenue retention",
            ["Measure", "Over the month", "Over twelve months"],
            [TEXT, PCT, PCT],
            [
                [
                    Cell("Gross revenue retention (GRR)"),
                    Cell((month or {}).get("grr"), PCT),
                    Cell((year or {}).get("grr"), PCT),
                ],
                [
                    Cell("Net revenue retention (NRR)"),
                    Cell((month or {}).get("nrr"), PCT),
                    Cell((year or {}).get("nrr"), PCT),
                ],
            ],
            note="GRR = (start - contraction - churn) / start; "
            "NRR = (start + expansion - contraction - churn) / start, on the ARR held at the start of the period.",
        )
        return Section("movement", "New, expanded, contracted and churned ARR", [table, retention])

    # Renewals ----------------------------------------------------------------------------

    def renewals(self) -> Section:
        renewals = self.t.get("renewals") or {}
        values = renewals.get("values") or {}
        rows = [
            [
                Cell(label),
                Cell(renewals.get(key), INT, self.link(renewals="due") if key == "due" else ""),
                Cell(values.get(key), MONEY),
            ]
            for label, key in (
                ("Due in the month", "due"),
                ("Renewed", "renewed"),
                ("Lost (cancelled)", "lost"),
                ("Lapsed", "lapsed"),
                ("Still open at month end", "open"),
            )
        ]
        table = Table(
            "renewals",
            "Renewals",
            ["Renewals", "Subscriptions", "ARR (AUD)"],
            [TEXT, INT, MONEY],
            rows,
            chart=_chart("bar", "Renewals in the month (ARR, AUD)", rows[1:], [("ARR (AUD)", 2)]),
            note=f"From {renewals.get('source', 'subscription renewal dates')}.",
        )
        return Section("renewals", "Renewals due, renewed, lost and lapsed", [table])

    # Pipeline ------------------------------------------------------------------------------

    def pipeline(self) -> Section:
        pipeline = self.t.get("pipeline") or {}
        reached = {r["stage"]: r["count"] for r in pipeline.get("reached", [])}
        conversion = {c["from"]: c["rate"] for c in pipeline.get("conversions", [])}
        rows = [
            [
                Cell(stage["label"]),
                Cell(stage["count"], INT),
                Cell(stage["amount"], MONEY),
                Cell(reached.get(stage["stage"]), INT),
                Cell(conversion.get(stage["stage"]), PCT),
            ]
            for stage in pipeline.get("stages", [])
        ]
        funnel = Table(
            "pipeline",
            "Pipeline by stage",
            ["Stage", "Deals now at the stage", "Amount (AUD)", "Deals that reached it", "Conversion to the next"],
            [TEXT, INT, MONEY, INT, PCT],
            rows,
            chart=_chart(
                "bar",
                "The funnel: deals that reached each stage",
                [r for r in rows if r[3].value is not None],
                [("Reached", 3)],
                INT,
            ),
            note="Lost deals count as having reached the first stage only (their furthest stage is not recorded).",
        )
        forecast = pipeline.get("forecast") or {}
        forecast_table = Table(
            "forecast",
            "Weighted forecast",
            ["Quarter", "Open deals closing", "Amount (AUD)", "Weighted (AUD)"],
            [TEXT, INT, MONEY, MONEY],
            [
                [
                    Cell(forecast.get("quarter", "")),
                    Cell(forecast.get("deals"), INT),
                    Cell(forecast.get("amount"), MONEY),
                    Cell(forecast.get("weighted"), MONEY),
                ]
            ],
            note="Each open deal's amount times its stage's probability (settings.REPORTS_STAGE_PROBABILITY).",
        )
        return Section("pipeline", "Pipeline and forecast", [funnel, forecast_table])

    # Support ---------------------------------------------------------------------------

    def support(self) -> Section:
        support = self.t.get("support") or {}
        rows = [
            [Cell("Tickets opened"), Cell(support.get("opened"), INT)],
            [Cell("Tickets resolved"), Cell(support.get("resolved"), INT)],
            [Cell("Median resolution (hours)"), Cell(support.get("median_resolution_hours"), HOURS)],
            [Cell("CSAT (0-10)"), Cell(support.get("csat"), SCORE)],
            [Cell("Open tickets at month end"), Cell(support.get("open_tickets"), INT, self.link(tickets="open"))],
            [Cell("Clients at high churn risk"), Cell(support.get("high_risk_clients"), INT, self.link(risk="high"))],
            [Cell("ARR they hold (AUD)"), Cell(support.get("high_risk_arr"), MONEY, self.link(risk="high"))],
        ]
        table = Table("support", "Support in the month", ["Figure", self.s.label], [TEXT, "*"], rows)
        trend_rows = [
            [
                Cell(s.month.strftime("%b %Y")),
                Cell(_get(s, "support", "csat"), SCORE),
                Cell(_get(s, "support", "opened"), INT),
                Cell(_get(s, "support", "median_resolution_hours"), HOURS),
            ]
            for s in self.trend
        ]
        trend = Table(
            "csat_trend",
            "CSAT trend",
            ["Month", "CSAT (0-10)", "Tickets opened", "Median resolution (hours)"],
            [TEXT, SCORE, INT, HOURS],
            trend_rows,
            chart=_chart("line", "CSAT (0-10), month by month", trend_rows, [("CSAT", 1)], SCORE),
        )
        return Section("support", "Support", [table, trend])

    def billing(self) -> Section:
        billing = self.t.get("billing")
        if not billing:
            return Section(
                "billing",
                "Billing drift",
                [],
                note="Billing drift (contract value against what Xero bills) appears here once the Xero "
                "reconciliation (billing_sync) is in place.",
            )
        rows = [
            [Cell("Open discrepancies"), Cell(billing.get("open"), INT)],
            [Cell("Accounts affected"), Cell(billing.get("accounts"), INT)],
            [Cell("Money at stake (AUD)"), Cell(billing.get("at_stake"), MONEY)],
        ]
        return Section(
            "billing", "Billing drift", [Table("billing", "Billing drift", ["Figure", self.s.label], [TEXT, "*"], rows)]
        )

    def data_quality(self) -> Section:
        quality = self.t.get("data_quality") or {}
        rows = [
            [Cell(label), Cell(quality.get(key), INT)]
            for label, key in (
                ("Live subscriptions with no renewal date", "subscriptions_without_renewal_date"),
                ("Accounts with no owner", "accounts_without_owner"),
                ("Accounts with no ABN", "accounts_without_abn"),
                ("Duplicate pairs waiting for review", "open_duplicate_pairs"),
                ("Import conflicts open", "open_import_conflicts"),
                ("Import match reviews open", "open_match_reviews"),
            )
        ]
        table = Table(
            "data_quality",
            "Data quality",
            ["Finding", self.s.label],
            [TEXT, INT],
            rows,
            chart=_chart("bar", "Data-quality findings", rows, [("Findings", 1)], INT),
        )
        return Section("data_quality", "Data quality", [table])


def _chart(
    kind: str, title: str, rows: list[list[Cell]], series: list[tuple[str, int]], value_kind: str = MONEY
) -> Chart:
    return Chart(
        kind=kind,
        title=title,
        categories=[str(row[0].value) for row in rows],
        series=[Series(name, column, [row[column].value or 0 for row in rows]) for name, column in series],
        value_kind=value_kind,
    )


def cell_kind(table: Table, column: int, row: list[Cell]) -> str:
    """A column's kind ("*" where each row says its own)."""
    kind = table.kinds[column]
    return row[column].kind if kind == "*" else kind
