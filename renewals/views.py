"""Renewal pages and the calendar feed. Thin: parse, call a queryset or a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, SALES_MANAGER, has_role
from customers.errors import DomainError
from customers.models import Subscription
from renewals import calendar, export, forecast, services
from renewals.filters import RenewalCaseFilter
from renewals.forms import LoseForm, OutreachForm, RenewForm, TokenForm
from renewals.models import CalendarToken, RenewalCase
from renewals.querysets import in_band, today

BOARD_PAGE_SIZE = 50
FINDING_ROLES = (CUSTOMER_RELATIONS, SALES_MANAGER, DATA_STEWARD)


def _filtered(request: HttpRequest):
    filterset = RenewalCaseFilter(request.GET or None, queryset=RenewalCase.objects.all())
    if filterset.is_bound and filterset.is_valid():
        return filterset, filterset.qs, filterset.form.cleaned_data
    return filterset, RenewalCase.objects.unresolved(), {}


def _forecast_subscriptions(cleaned: dict):
    """The board's filters, as they apply to subscriptions."""
    subscriptions = Subscription.objects.live()
    if cleaned.get("owner"):
        subscriptions = subscriptions.filter(account__owner=cleaned["owner"])
    if cleaned.get("office"):
        subscriptions = subscriptions.filter(account__office=cleaned["office"])
    if cleaned.get("product"):
        subscriptions = subscriptions.filter(product=cleaned["product"])
    if cleaned.get("min_value") is not None:
        subscriptions = subscriptions.filter(annual_value__gte=cleaned["min_value"])
    if cleaned.get("band"):
        subscriptions = in_band(subscriptions, cleaned["band"])
    return subscriptions


def board(request: HttpRequest) -> HttpResponse:
    filterset, cases, cleaned = _filtered(request)
    day = today()
    # Slice the filtered cases' ids alone (an index walk), then read the page's rows by id.
    ids = cases.order_by("term_end", "pk").values_list("pk", flat=True)
    page = Paginator(ids, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = RenewalCase.objects.for_board().in_bulk(list(page.object_list))
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    query = request.GET.copy()
    query.pop("page", None)
    months = forecast.forecast(today=day, subscriptions=_forecast_subscriptions(cleaned))
    context = {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "windows": cases.windows(day),
        "statuses": RenewalCase.objects.by_status(),
        "months": months,
        "forecast_total": sum(m.weighted for m in months),
        "forecast_value": sum(m.value for m in months),
        "weights": forecast.WEIGHTS,
        "missing_dates": services.missing_dates().count(),
        "today": day,
    }
    template = "renewals/partials/board_table.html" if request.htmx else "renewals/board.html"
    return render(request, template, context)


@require_GET
def board_export(request: HttpRequest) -> HttpResponse:
    _, cases, _ = _filtered(request)
    cases = cases.for_board().order_by("term_end", "pk")
    stamp = timezone.localdate().isoformat()
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            export.as_xlsx(cases), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="renewals-{stamp}.xlsx"'
        return response
    response = HttpResponse(export.as_csv(cases), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="renewals-{stamp}.csv"'
    return response


def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(RenewalCase.objects.for_board(), pk=pk)
    history = case.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
    context = {
        "case": case,
        "history": history,
        "notices": case.notices.select_related("recipient").order_by("created_at", "pk"),
        "can_log_outreach": case.is_unresolved and services.may_log_outreach(request.user, case),
        "can_record_outcome": case.is_unresolved and services.may_record_outcome(request.user),
        "outreach_form": OutreachForm(),
        "renew_form": RenewForm(),
        "lose_form": LoseForm(),
    }
    return render(request, "renewals/case_detail.html", context)


def _act(request: HttpRequest, pk: int, form_class, action, done: str) -> HttpResponse:
    case = get_object_or_404(RenewalCase.objects.select_related("account"), pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect(case)
    try:
        action(case, form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(case)


def _forbid_unless(allowed: bool) -> None:
    if not allowed:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied


@require_POST
def case_outreach(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(RenewalCase.objects.select_related("account"), pk=pk)
    _forbid_unless(services.may_log_outreach(request.user, case))
    return _act(
        request,
        pk,
        OutreachForm,
        lambda c, d: services.log_outreach(case=c, actor=request.user, kind=d["kind"], note=d["note"]),
        "Outreach logged.",
    )


@require_POST
def case_renew(request: HttpRequest, pk: int) -> HttpResponse:
    _forbid_unless(services.may_record_outcome(request.user))
    return _act(
        request,
        pk,
        RenewForm,
        lambda c, d: services.renew(
            case=c, actor=request.user, new_term_end=d["new_term_end"], new_value=d["new_value"], note=d["note"]
        ),
        "Renewed: the subscription's renewal date moved.",
    )


@require_POST
def case_lose(request: HttpRequest, pk: int) -> HttpResponse:
    _forbid_unless(services.may_record_outcome(request.user))
    return _act(
        request,
        pk,
        LoseForm,
        lambda c, d: services.lose(case=c, actor=request.user, reason=d["reason"], note=d["note"]),
        "Recorded as lost: the subscription has ended.",
    )


def finding_list(request: HttpRequest) -> HttpResponse:
    """Data-quality findings for Customer Relations: live subscriptions with no renewal date
    (and, from other apps' panels, the legacy calendar's gaps)."""
    _forbid_unless(has_role(request.user, *FINDING_ROLES))
    missing = services.missing_dates()
    page = Paginator(missing, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "renewals/finding_list.html", {"page": page, "count": page.paginator.count})


# --- Calendar feeds --------------------------------------------------------------------------


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar program polls: the token in the address is the only credential."""
    found = CalendarToken.objects.active().select_related("user").filter(token=token).first()
    if found is None or not found.user.is_active:
        raise Http404("No such calendar feed (it may have been revoked).")
    CalendarToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    cases = RenewalCase.objects.unresolved().for_feed()
    if found.team:
        name = "CloudCore renewals (Customer Relations)"
    else:
        cases = cases.for_person(found.user)
        name = f"CloudCore renewals: {found.user.get_full_name() or found.user.username}"
    response = HttpResponse(calendar.feed(cases, name=name), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="renewals.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


@require_POST
def token_add(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    team = form.is_valid() and form.cleaned_data["team"]
    try:
        services.create_calendar_token(actor=request.user, team=team)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "New calendar feed address created: subscribe to it in Outlook.")
    return redirect(reverse("profile"))


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(CalendarToken, pk=pk)
    try:
        services.revoke_calendar_token(token=token, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Calendar feed revoked: that address no longer works.")
    return redirect(reverse("profile"))
