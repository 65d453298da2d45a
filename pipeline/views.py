"""The pipeline pages: board, list (with export), funnel, and saved views. Thin: filters
and querysets read, `customers.services.move_opportunity` writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers import ownership, services
from customers.choices import LostReason, OpportunityStage
from customers.errors import OwnershipError, StaleMoveError
from customers.models import Opportunity, StageChange, Subscription
from pipeline import metrics
from pipeline import services as view_services
from pipeline.choices import ViewPage, Visibility
from pipeline.exports import deal_rows, write_csv, write_xlsx
from pipeline.filters import bound
from pipeline.models import SavedView

OPEN_STAGES = OpportunityStage.open_stages()
LABELS = dict(OpportunityStage.choices)
SORTS = {
    "name": "name",
    "customer": "account__legal_name",
    "stage": "stage",
    "amount": "amount",
    "close": "expected_close",
    "owner": "owner__first_name",
    "since": "stage_since",
}
PAGE_SIZES = (25, 50, 100, 200)


def _default_view_redirect(request: HttpRequest, page: str) -> HttpResponse | None:
    """Opening a page with no filters applies the person's default view, if they have one."""
    if request.GET or request.htmx:
        return None
    query = view_services.default_query(user=request.user, page=page)
    return redirect(f"{request.path}?{query}&view=default") if query else None


def _views_context(request: HttpRequest, page: str) -> dict[str, Any]:
    return {
        "saved_views": SavedView.objects.visible_to(request.user, page),
        "view_page": page,
        "visibility_choices": Visibility.choices,
        "current_query": view_services.clean_query(request.GET.urlencode()),
    }


def _current_quarter(filterset) -> tuple[int, int]:
    chosen = metrics.parse_quarter(filterset.form.data.get("quarter", "")) if filterset.is_bound else None
    return chosen or metrics.quarter_of(timezone.localdate())


def _forecast(filterset, quarter: tuple[int, int]) -> dict[str, Any]:
    """The quarter's weighted pipeline per rep and for the team, beside the renewals due."""
    start, end = metrics.quarter_bounds(*quarter)
    data = filterset.form.data.copy() if filterset.is_bound else {}
    deals = filterset.qs if filterset.is_bound else filterset.queryset
    if hasattr(data, "pop"):
        data.pop("quarter", None)  # the forecast's quarter is chosen here, not filtered twice
        deals = type(filterset)(data or None, queryset=Opportunity.objects.all()).qs
    open_rows = (
        deals.open()
        .filter(expected_close__range=(start, end))
        .values_list("owner__first_name", "owner__last_name", "stage", "amount")
    )
    won_rows = (
        deals.filter(
            stage=OpportunityStage.WON,
            stage_changes__to_stage=OpportunityStage.WON,
            stage_changes__at__date__range=(start, end),
        )
        .distinct()
        .values_list("owner__first_name", "owner__last_name", "stage", "amount")
    )
    rows = [(f"{f} {last}".strip(), stage, amount, False) for f, last, stage, amount in open_rows]
    rows += [(f"{f} {last}".strip(), stage, amount, True) for f, last, stage, amount in won_rows]
    per_rep, team = metrics.forecast(rows)
    renewals = (
        Subscription.objects.live()
        .filter(renewal_date__range=(start, end))
        .aggregate(count=Count("pk"), value=Sum("annual_value"))
    )
    return {
        "quarter": metrics.quarter_label(*quarter),
        "per_rep": per_rep,
        "team": team,
        "renewals_count": renewals["count"],
        "renewals_value": renewals["value"] or Decimal("0"),
        "probabilities": [(LABELS[s], p) for s, p in settings.PIPELINE_STAGE_PROBABILITY.items()],
    }


def _board_context(request: HttpRequest) -> dict[str, Any]:
    filterset, dropped = bound(request.GET)
    deals = filterset.qs if filterset.is_bound else filterset.queryset
    totals = {
        row["stage"]: row
        for row in deals.open().order_by().values("stage").annotate(count=Count("pk"), value=Sum("amount"))
    }
    limit = settings.PIPELINE_BOARD_CARDS_PER_STAGE
    now = timezone.now()
    stuck = metrics.stuck_thresholds()
    user = request.user
    columns = []
    cards_by_stage = {
        stage: list(
            deals.filter(stage=stage)
            .select_related("account", "owner", "product", "account__risk_score")
            .order_by("expected_close", "pk")[:limit]
        )
        for stage in OPEN_STAGES
    }
    # When each card entered its stage: one query for the cards shown, not a subquery per deal.
    since = StageChange.objects.entered_current_stage([c.pk for cards in cards_by_stage.values() for c in cards])
    for stage in OPEN_STAGES:
        cards = cards_by_stage[stage]
        for card in cards:
            card.stage_since = since.get(card.pk, card.created_at)
            card.days_in_stage = (now - card.stage_since).days
            card.is_stuck = card.days_in_stage > stuck.get(stage, 10**6)
            card.can_move = ownership.can_write(user, card, "stage")
            risk = getattr(card.account, "risk_score", None) if hasattr(card.account, "risk_score") else None
            card.risk_band = risk.band if risk is not None else ""
            card.risk_reasons = risk.reasons if risk is not None else []
            card.upsell_warning = card.kind == "upsell" and card.risk_band == "high"
        total = totals.get(stage, {})
        count = total.get("count", 0)
        columns.append(
            {
                "stage": stage,
                "label": LABELS[stage],
                "count": count,
                "value": total.get("value") or Decimal("0"),
                "cards": cards,
                "more": max(count - len(cards), 0),
                "previous": OPEN_STAGES[OPEN_STAGES.index(stage) - 1] if stage != OPEN_STAGES[0] else "",
                "next": OPEN_STAGES[OPEN_STAGES.index(stage) + 1] if stage != OPEN_STAGES[-1] else "won",
            }
        )
        column = columns[-1]
        column["previous_label"] = LABELS.get(column["previous"], "")
        column["next_label"] = LABELS[column["next"]]
    return {
        "filter": filterset,
        "dropped": dropped,
        "columns": columns,
        "labels": LABELS,
        "lost_reasons": LostReason.choices,
        "forecast": _forecast(filterset, _current_quarter(filterset)),
        "query": view_services.clean_query(request.GET.urlencode()),
    }


def board(request: HttpRequest) -> HttpResponse:
    default = _default_view_redirect(request, ViewPage.PIPELINE)
    if default:
        return default
    context = _board_context(request)
    if request.htmx:
        return render(request, "pipeline/partials/board.html", context)
    context.update(_views_context(request, ViewPage.PIPELINE))
    return render(request, "pipeline/board.html", context)


@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card to another stage (htmx: answers with the refreshed board)."""
    deal = get_object_or_404(Opportunity, pk=pk)
    to_stage = request.POST.get("to_stage", "")
    expected = request.POST.get("expected_stage", "")
    status = 200
    if to_stage not in OpportunityStage.values or expected not in OpportunityStage.values:
        message, level, status = "Choose a stage to move the deal to.", messages.ERROR, 400
    else:
        try:
            services.move_opportunity(
                opportunity=deal,
                to_stage=to_stage,
                expected_stage=expected,
                actor=request.user,
                reason=request.POST.get("reason", ""),
                lost_reason=request.POST.get("lost_reason", ""),
                lost_note=request.POST.get("lost_note", "")[:300],
            )
        except StaleMoveError as error:
            message, level, status = str(error), messages.ERROR, 409
        except OwnershipError as error:
            raise PermissionDenied(str(error)) from error
        except ValidationError as error:
            message, level, status = " ".join(error.messages), messages.ERROR, 400
        else:
            message, level = f"Moved {deal.name} to {LABELS[to_stage]}.", messages.SUCCESS
    if request.htmx:
        # The board is re-read with the filters the person had (sent along by hx-include).
        request.GET = request.POST.copy()
        for name in ("to_stage", "expected_stage", "reason", "lost_reason", "lost_note", "csrfmiddlewaretoken"):
            request.GET.pop(name, None)
        context = _board_context(request)
        context["notice"] = {"text": message, "error": level == messages.ERROR}
        return render(request, "pipeline/partials/board.html", context, status=status)
    messages.add_message(request, level, message)
    return redirect(reverse("pipeline:board"))


def deal_list(request: HttpRequest) -> HttpResponse:
    default = _default_view_redirect(request, ViewPage.PIPELINE_LIST)
    if default:
        return default
    filterset, dropped = bound(request.GET)
    deals = (filterset.qs if filterset.is_bound else filterset.queryset).for_pipeline()
    sort = request.GET.get("sort", "close")
    field = SORTS.get(sort.lstrip("-"), "expected_close")
    descending = sort.startswith("-")
    deals = deals.order_by(f"-{field}" if descending else field, "pk")
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        rows = deal_rows(deals)
        stamp = timezone.localdate().isoformat()
        if export == "csv":
            return write_csv(rows, f"pipeline-{stamp}.csv")
        return write_xlsx(rows, f"pipeline-{stamp}.xlsx")
    try:
        size = int(request.GET.get("size", 50))
    except ValueError:
        size = 50
    size = size if size in PAGE_SIZES else 50
    page = Paginator(deals, size).get_page(request.GET.get("page"))
    now = timezone.now()
    for deal in page.object_list:
        deal.days_in_stage = (now - deal.stage_since).days
    query = request.GET.copy()
    for name in ("page", "sort", "format", "view"):
        query.pop(name, None)
    context = {
        "filter": filterset,
        "dropped": dropped,
        "page": page,
        "sort": sort,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "query": query.urlencode(),
        "columns": [
            ("name", "Deal"),
            ("customer", "Customer"),
            ("stage", "Stage"),
            ("amount", "Amount (AUD)"),
            ("close", "Expected close"),
            ("owner", "Owner"),
            ("since", "In stage since"),
        ],
    }
    if request.htmx:
        return render(request, "pipeline/partials/deal_table.html", context)
    context.update(_views_context(request, ViewPage.PIPELINE_LIST))
    return render(request, "pipeline/deal_list.html", context)


GROUPS = {"owner": "Owner", "source": "Source", "product": "Product", "quarter": "Quarter created"}


def _deal_facts(deals) -> tuple[list[metrics.Deal], list[metrics.Move], dict[int, str], list[str]]:
    rows = list(deals.values_list("pk", "stage", "amount", "created_at", "lost_reason"))
    facts = [metrics.Deal(pk, stage, amount, created) for pk, stage, amount, created, _ in rows]
    moves = [
        metrics.Move(*row)
        for row in StageChange.objects.filter(opportunity__in=deals.values("pk"))
        .for_metrics()
        .values_list("opportunity_id", "from_stage", "to_stage", "at")
    ]
    lost = [reason for _, stage, _, _, reason in rows if stage == OpportunityStage.LOST]
    return facts, moves, {pk: stage for pk, stage, *_ in rows}, lost


def funnel(request: HttpRequest) -> HttpResponse:
    default = _default_view_redirect(request, ViewPage.FUNNEL)
    if default:
        return default
    filterset, dropped = bound(request.GET)
    deals = filterset.qs if filterset.is_bound else filterset.queryset
    now = timezone.now()
    facts, moves, _, lost = _deal_facts(deals)
    result = metrics.funnel(facts, moves, now=now, lost_reasons=lost)
    group = request.GET.get("group", "owner")
    group = group if group in GROUPS else "owner"
    breakdown = _breakdown(deals, facts, moves, group, now)
    top = max(result.max_reached, 1)
    chart = []
    for i, row in enumerate(result.stages):
        width = round(380 * row.reached / top, 1)
        chart.append(
            {
                "label": row.label,
                "stage": row.stage,
                "reached": row.reached,
                "width": width,
                "x": round((400 - width) / 2, 1),
                "y": i * 34,
                "text_y": i * 34 + 19,
            }
        )
    reasons = dict(LostReason.choices)
    context = {
        "filter": filterset,
        "dropped": dropped,
        "funnel": result,
        "chart": chart,
        "chart_height": len(chart) * 34,
        "lost_reasons": [(reasons.get(r, "Not recorded"), n) for r, n in result.lost_reasons.items()],
        "group": group,
        "group_label": GROUPS[group],
        "groups": GROUPS,
        "breakdown": breakdown,
        "query": view_services.clean_query(request.GET.urlencode()),
    }
    context.update(_views_context(request, ViewPage.FUNNEL))
    return render(request, "pipeline/funnel.html", context)


def _breakdown(deals, facts, moves, group: str, now) -> list[dict[str, Any]]:
    """The funnel's headline figures per owner, source, product or quarter created."""
    if group == "quarter":
        keys = {pk: created for pk, created in deals.values_list("pk", "created_at")}
        labels = {
            pk: metrics.quarter_label(*metrics.quarter_of(timezone.localtime(c).date())) for pk, c in keys.items()
        }
    elif group == "owner":
        labels = {
            pk: f"{f} {last}".strip()
            for pk, f, last in deals.values_list("pk", "owner__first_name", "owner__last_name")
        }
    elif group == "product":
        labels = {pk: name or "No product" for pk, name in deals.values_list("pk", "product__name")}
    else:
        sources = dict(Opportunity._meta.get_field("source").choices)
        labels = {pk: sources.get(source, source) for pk, source in deals.values_list("pk", "source")}
    by_label: dict[str, list[metrics.Deal]] = {}
    for fact in facts:
        by_label.setdefault(labels.get(fact.pk, "—"), []).append(fact)
    moves_by_deal: dict[int, list[metrics.Move]] = {}
    for move in moves:
        moves_by_deal.setdefault(move.opportunity_id, []).append(move)
    rows = []
    for label, group_deals in sorted(by_label.items()):
        group_moves = [m for d in group_deals for m in moves_by_deal.get(d.pk, [])]
        figures = metrics.funnel(group_deals, group_moves, now=now)
        first = figures.stages[0].reached
        rows.append(
            {
                "label": label,
                "deals": figures.deals,
                "open_value": sum((s.open_value for s in figures.stages), Decimal("0")),
                "won": figures.won,
                "lost": figures.lost,
                "win_rate": figures.win_rate,
                "to_won": figures.stages[-1].reached / first if first else None,
                "cycle": figures.average_cycle_days,
                "stuck": sum(s.stuck for s in figures.stages),
            }
        )
    return rows


@require_POST
def view_save(request: HttpRequest) -> HttpResponse:
    page = request.POST.get("page", "")
    try:
        view = view_services.save_view(
            owner=request.user,
            page=page,
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
            visibility=request.POST.get("visibility", Visibility.PRIVATE),
            is_default=request.POST.get("is_default") == "on",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_page_url(page, request.POST.get("query", "")))
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(_page_url(view.page, view.query))


@require_POST
def view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk)
    view_services.delete_view(view=view, actor=request.user)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(_page_url(view.page, ""))


def _page_url(page: str, query: str) -> str:
    names = {
        ViewPage.PIPELINE: "pipeline:board",
        ViewPage.PIPELINE_LIST: "pipeline:deal_list",
        ViewPage.FUNNEL: "pipeline:funnel",
        ViewPage.CUSTOMERS: "customers:account_list",
    }
    url = reverse(names.get(page, "pipeline:board"))
    query = view_services.clean_query(query)
    # "view" keeps a person's default from re-applying itself over the filters they chose.
    return f"{url}?{query}&view=saved" if query else f"{url}?view=none"
