"""Finance's pages: Xero imports (upload, dry run, confirm, progress, rejected rows), the
contact mapping queue, and the discrepancy queue with its resolutions. Thin: parse, call
a service or a queryset, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from billing_sync import orders, services
from billing_sync.choices import Cause, DiscrepancyStatus, HandoffStatus, MatchStatus, Resolution
from billing_sync.filters import DiscrepancyFilter, HandoffFilter
from billing_sync.forms import MapContactForm, ResolveForm, XeroUploadForm
from billing_sync.models import Discrepancy, XeroContact, XeroImport, XeroImportFile
from cloudcore_crm.roles import DATA_STEWARD, EXECUTIVE, FINANCE, has_role
from customers.errors import DomainError
from customers.models import Account

PAGE_SIZE = 50
READERS = (FINANCE, DATA_STEWARD, EXECUTIVE)


def _writers_only(request: HttpRequest) -> None:
    if not services.can_write(request.user):
        raise PermissionDenied("Xero imports and contact mapping are for Finance.")


def _readers_only(request: HttpRequest) -> None:
    if not has_role(request.user, *READERS):
        raise PermissionDenied("The discrepancy queue is Finance's; each customer's 360 page shows its own.")


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _writers_only(request)
    form = XeroUploadForm(request.POST, request.FILES) if request.method == "POST" else XeroUploadForm()
    if request.method == "POST" and form.is_valid():
        run = services.start_import(files=form.cleaned_data["files"], actor=request.user)
        return redirect(run.get_absolute_url())
    runs = Paginator(XeroImport.objects.for_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "runs": runs,
        "held": XeroContact.objects.filter(status=MatchStatus.HELD).count(),
        "unmatched": XeroContact.objects.filter(status=MatchStatus.UNMATCHED).count(),
        "totals": Discrepancy.objects.open().totals(),
        "handoffs": _handoff_counts(),
    }
    return render(request, "billing_sync/import_list.html", context, status=400 if form.errors else 200)


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _writers_only(request)
    run = get_object_or_404(XeroImport.objects.select_related("started_by"), pk=pk)
    context = {"run": run, "files": run.files.all(), "rows_done": services.rows_done(run)}
    template = "billing_sync/partials/import_status.html" if request.htmx else "billing_sync/import_detail.html"
    return render(request, template, context)


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _writers_only(request)
    preview = get_object_or_404(XeroImport, pk=pk)
    try:
        run = services.confirm_import(preview=preview, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(preview.get_absolute_url())
    return redirect(run.get_absolute_url())


def importfile_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    _writers_only(request)
    imported = get_object_or_404(XeroImportFile, pk=pk)
    response = HttpResponse(imported.rejected_csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{imported.name}.rejected.csv"'
    return response


def contact_list(request: HttpRequest) -> HttpResponse:
    _writers_only(request)
    page = Paginator(XeroContact.objects.queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing_sync/contact_list.html", {"page": page, "form": MapContactForm()})


@require_POST
def contact_map(request: HttpRequest, pk: int) -> HttpResponse:
    _writers_only(request)
    contact = get_object_or_404(XeroContact, pk=pk)
    form = MapContactForm(request.POST)
    account = None
    if form.is_valid():
        code = form.cleaned_data["code"].strip().upper()
        account = Account.objects.active_records().filter(code=code).first()
    if account is None:
        messages.error(request, "Enter the code of an existing client, e.g. CC023.")
        return redirect("billing_sync:contact_list")
    try:
        services.map_contact(contact=contact, account=account, actor=request.user, reason=form.cleaned_data["reason"])
        services.reconcile(reason=f"Xero contact “{contact.name[:40]}” mapped", account_ids=[account.pk])
        messages.success(request, f"“{contact.name}” is now {account.code}; its invoices count for that client.")
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("billing_sync:contact_list")


def discrepancy_list(request: HttpRequest) -> HttpResponse:
    _readers_only(request)
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = DiscrepancyStatus.OPEN
    filterset = DiscrepancyFilter(data, queryset=Discrepancy.objects.all())
    cases = filterset.qs if filterset.is_valid() else filterset.queryset.open()
    totals = cases.totals()
    page = Paginator(cases.for_queue().order_by("-amount", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "totals": totals, "query": query.urlencode()}
    template = "billing_sync/partials/discrepancy_table.html" if request.htmx else "billing_sync/discrepancy_list.html"
    return render(request, template, context)


def discrepancy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _readers_only(request)
    case = get_object_or_404(Discrepancy.objects.for_queue(), pk=pk)
    history = case.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
    context = {
        "case": case,
        "history": history,
        "form": ResolveForm(),
        "can_resolve": services.can_write(request.user) and case.is_open,
        "can_accept": case.cause == Cause.VALUE and case.subscription_id is not None,
        "resolutions": Resolution,
    }
    return render(request, "billing_sync/discrepancy_detail.html", context)


@require_POST
def discrepancy_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    _writers_only(request)
    case = get_object_or_404(Discrepancy, pk=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a resolution and say why.")
        return redirect(case.get_absolute_url())
    try:
        services.resolve_discrepancy(
            discrepancy=case,
            resolution=form.cleaned_data["resolution"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
            explained_until=form.cleaned_data["explained_until"],
        )
        messages.success(request, f"Discrepancy #{case.pk} resolved.")
    except DomainError as error:
        messages.error(request, str(error))
    return redirect(case.get_absolute_url())


def _handoff_counts() -> dict[str, int]:
    """Hand-offs awaiting a first invoice and overdue, for the links on Finance's page (one query)."""
    today = timezone.localdate()
    waiting = orders.handoffs().filter(first_invoice_date__isnull=True)
    due = today - dt.timedelta(days=orders.grace_days())
    found = waiting.order_by().aggregate(
        awaiting=Count("pk", filter=Q(start_date__gte=due)), overdue=Count("pk", filter=Q(start_date__lt=due))
    )
    return {"awaiting": found["awaiting"] or 0, "overdue": found["overdue"] or 0}


def handoff_list(request: HttpRequest) -> HttpResponse:
    """Activated orders handed to Finance, each with whether Xero has invoiced it: awaiting
    the first invoice (days since the start date), overdue (with its case), or invoiced
    (the first invoice carrying the order ID)."""
    _readers_only(request)
    today = timezone.localdate()
    filterset = HandoffFilter(request.GET, queryset=orders.handoffs())
    handoffs = filterset.qs if filterset.is_valid() else filterset.queryset
    page = Paginator(handoffs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(handoff, orders.state(handoff, today=today)) for handoff in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "grace_days": orders.grace_days(),
        "statuses": HandoffStatus,
    }
    template = "billing_sync/partials/handoff_table.html" if request.htmx else "billing_sync/handoff_list.html"
    return render(request, template, context)
