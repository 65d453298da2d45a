"""Steward pages for legacy imports: upload and preview, confirm, follow progress, download
rejected rows, settle conflicts between stores and names the import would not guess."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from cloudcore_crm.lib import formats
from cloudcore_crm.lib.text import safe_filename
from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, FINANCE, has_role
from customers.errors import ConflictError, OwnershipError
from customers.matching import normalise_name
from customers.models import Account, Subscription
from migration import services
from migration.choices import (
    REPORT_COLUMNS,
    ConflictKind,
    ConflictStatus,
    EvidenceStatus,
    HeldStatus,
    ReviewStatus,
    RunStatus,
    Store,
)
from migration.forms import (
    ConflictResolutionForm,
    EvidenceDecisionForm,
    HeldMappingForm,
    ImportUploadForm,
    ReviewResolutionForm,
)
from migration.models import EvidencedSubscription, HeldValue, ImportConflict, ImportFile, ImportRun, MatchReview

PAGE_SIZE = 50


def _steward_only(request: HttpRequest) -> None:
    if not has_role(request.user, DATA_STEWARD):
        raise PermissionDenied("Imports are for data stewards.")


@require_http_methods(["GET", "POST"])
def importrun_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    if request.method == "POST" and form.is_valid():
        run = services.start_run(
            files=form.cleaned_data["files"], actor=request.user, only=set(form.cleaned_data["only"]), dry_run=True
        )
        return redirect(run.get_absolute_url())
    runs = Paginator(ImportRun.objects.select_related("started_by"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "runs": runs,
        "open_conflicts": ImportConflict.objects.filter(status=ConflictStatus.OPEN).count(),
        "open_reviews": MatchReview.objects.filter(status=ReviewStatus.OPEN).count(),
        "open_evidence": EvidencedSubscription.objects.filter(status=EvidenceStatus.OPEN).count(),
        "open_held": HeldValue.objects.filter(status=HeldStatus.OPEN).count(),
        "open_drifts": ImportConflict.objects.filter(
            status=ConflictStatus.OPEN, kind__in=[ConflictKind.DRIFT, ConflictKind.UNTOLD]
        ).count(),
    }
    return render(request, "migration/importrun_list.html", context, status=400 if form.errors else 200)


def importrun_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _steward_only(request)
    run = get_object_or_404(ImportRun.objects.select_related("started_by"), pk=pk)
    context = {
        "run": run,
        "files": run.files.all(),
        "columns": REPORT_COLUMNS,
        "rows_done": services.rows_done(run),
        "running": run.status in (RunStatus.PENDING, RunStatus.RUNNING),
    }
    template = "migration/partials/run_status.html" if request.htmx else "migration/importrun_detail.html"
    return render(request, template, context)


@require_POST
def importrun_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _steward_only(request)
    preview = get_object_or_404(ImportRun, pk=pk)
    try:
        run = services.confirm_run(preview=preview, actor=request.user)
    except OwnershipError as error:
        messages.error(request, str(error))
        return redirect(preview.get_absolute_url())
    return redirect(run.get_absolute_url())


def importfile_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    _steward_only(request)
    imported = get_object_or_404(ImportFile, pk=pk)
    response = HttpResponse(imported.rejected_csv, content_type="text/csv; charset=utf-8")
    name = safe_filename(f"{imported.name}.rejected.csv", default="rejected.csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


CONFLICT_FILTERS = ("q", "field", "store")
_MONEY_FIELDS = {"annual_value", "amount", "contract_value"}
_DATE_FIELDS = {"renewal_date", "start_date", "expected_close"}


def _field_label(field: str, *, on_subscription: bool = True) -> str:
    """ "Annual value (AUD)" rather than "annual_value"."""
    for model in (Subscription, Account) if on_subscription else (Account, Subscription):
        try:
            name = str(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            continue
        return name[:1].upper() + name[1:]
    return field.replace("_", " ").capitalize()


def _shown(field: str, value: str) -> str:
    if not value:
        return "—"
    if field in _MONEY_FIELDS:
        return formats.money(value)
    if field in _DATE_FIELDS:
        return formats.day(value)
    if field == "abn":
        return formats.abn(value)
    return value


def _filtered_conflicts(params, status: str):
    """Conflicts by status, narrowed by customer (code or name), field and store."""
    conflicts = ImportConflict.objects.select_related("account", "subscription__product", "resolved_by")
    if status in ConflictStatus.values:
        conflicts = conflicts.filter(status=status)
    text = (params.get("q") or "").strip()
    if text:
        conflicts = conflicts.filter(
            Q(account__code=text.upper())
            | Q(account__legal_name__icontains=text)
            | Q(account__trading_name__icontains=text)
        )
    if params.get("field"):
        conflicts = conflicts.filter(field=params["field"])
    if params.get("store") in Store.values:
        conflicts = conflicts.filter(Q(kept_store=params["store"]) | Q(other_store=params["store"]))
    return conflicts.order_by("account__number", "field", "pk")


def importconflict_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    status = request.GET.get("status", ConflictStatus.OPEN)
    conflicts = _filtered_conflicts(request.GET, status)
    page = Paginator(conflicts, PAGE_SIZE).get_page(request.GET.get("page"))
    for conflict in page.object_list:
        conflict.label = _field_label(conflict.field, on_subscription=bool(conflict.subscription_id))
        conflict.kept_shown = _shown(conflict.field, conflict.kept_value)
        conflict.other_shown = _shown(conflict.field, conflict.other_value)
    fields = sorted(ImportConflict.objects.values_list("field", flat=True).distinct())
    query = request.GET.copy()
    query.pop("page", None)
    filters = {name: request.GET.get(name, "") for name in CONFLICT_FILTERS}
    context = {
        "page": page,
        "status": status,
        "statuses": ConflictStatus.choices,
        "form": ConflictResolutionForm(),
        "fields": [(f, _field_label(f)) for f in fields],
        "stores": Store.choices,
        "filters": filters,
        "query": query.urlencode(),
        "open_count": conflicts.count() if status == ConflictStatus.OPEN else 0,
    }
    return render(request, "migration/importconflict_list.html", context)


@require_POST
def importconflict_bulk(request: HttpRequest) -> HttpResponse:
    """Keep all or apply all, for the open conflicts the current filters show, with one reason."""
    _steward_only(request)
    filters = {name: request.POST.get(name, "") for name in CONFLICT_FILTERS}
    back = f"{reverse('migration:importconflict_list')}?{urlencode({k: v for k, v in filters.items() if v})}"
    reason = request.POST.get("reason", "").strip()
    apply_other = request.POST.get("action") == "apply"
    if not reason:
        messages.error(request, "Give one reason for the whole set.")
        return redirect(back)
    conflicts = list(_filtered_conflicts(filters, ConflictStatus.OPEN))
    try:
        settled, skipped = services.resolve_conflicts(
            conflicts=conflicts, apply_other=apply_other, actor=request.user, reason=reason
        )
    except (OwnershipError, ConflictError) as error:
        messages.error(request, f"Nothing was changed: {error}")
        return redirect(back)
    verb = "Applied the other store's value for" if apply_other else "Kept the current value for"
    note = f" {skipped} had no single value to apply and stay open." if skipped else ""
    messages.success(request, f"{verb} {settled} conflict{'s' if settled != 1 else ''}.{note}")
    return redirect(back)


@require_POST
def importconflict_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    _steward_only(request)
    conflict = get_object_or_404(ImportConflict, pk=pk)
    form = ConflictResolutionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do and give a reason.")
    else:
        try:
            services.resolve_conflict(
                conflict=conflict,
                apply_other=form.cleaned_data["apply_other"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, f"Resolved the {conflict.field} conflict on {conflict.account.code}.")
        except OwnershipError as error:
            messages.error(request, str(error))
    return redirect("migration:importconflict_list")


def _review_groups() -> list[dict]:
    """Open held names grouped by spelling (as the alias lookup compares them: case,
    punctuation and legal suffixes aside), the largest group first."""
    groups: dict[str, dict] = {}
    for review in MatchReview.objects.filter(status=ReviewStatus.OPEN).order_by("file", "row"):
        key = normalise_name(review.incoming_name) or review.incoming_name.strip().lower()
        group = groups.setdefault(key, {"key": key, "spellings": [], "reviews": [], "candidates": []})
        if review.incoming_name not in group["spellings"]:
            group["spellings"].append(review.incoming_name)
        group["reviews"].append(review)
        known = {c["code"] for c in group["candidates"]}
        group["candidates"].extend(c for c in review.candidates if c.get("code") not in known)
    return sorted(groups.values(), key=lambda g: (-len(g["reviews"]), g["spellings"][0].lower()))


def matchreview_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    groups = _review_groups()
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "form": ReviewResolutionForm(), "rows": sum(len(g["reviews"]) for g in groups)}
    return render(request, "migration/matchreview_list.html", context)


@require_POST
def matchreview_resolve_group(request: HttpRequest) -> HttpResponse:
    """One decision settles every held row with this spelling."""
    _steward_only(request)
    key = request.POST.get("key", "")
    group = next((g for g in _review_groups() if g["key"] == key), None)
    # A candidate's button and the free-text box share the name: the one filled in counts.
    code = next((c.strip().upper() for c in request.POST.getlist("code") if c.strip()), "")
    account = Account.objects.active_records().filter(code=code).first() if code else None
    if group is None:
        messages.error(request, "Those rows were already settled.")
    elif account is None:
        messages.error(request, "Choose a candidate or enter the code of an existing client, e.g. CC023.")
    else:
        try:
            settled = services.resolve_review_group(reviews=group["reviews"], account=account, actor=request.user)
        except OwnershipError as error:
            messages.error(request, str(error))
        else:
            names = " / ".join(f"“{s}”" for s in group["spellings"])
            messages.success(
                request,
                f"{names} now resolves to {account.code}: {settled} row{'s' if settled != 1 else ''} settled. "
                "Import the file again.",
            )
    return redirect("migration:matchreview_list")


@require_POST
def matchreview_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    _steward_only(request)
    review = get_object_or_404(MatchReview, pk=pk)
    form = ReviewResolutionForm(request.POST)
    account = None
    if form.is_valid():
        account = Account.objects.filter(code=form.cleaned_data["code"].strip().upper()).first()
    if account is None:
        messages.error(request, "Enter the code of an existing client, e.g. CC023.")
    else:
        try:
            services.resolve_review(review=review, account=account, actor=request.user)
            messages.success(
                request, f"“{review.incoming_name}” now resolves to {account.code}. Import the file again."
            )
        except OwnershipError as error:
            messages.error(request, str(error))
    return redirect("migration:matchreview_list")


# --- Subscriptions from evidence (Customer Relations) ----------------------------------------


def _customer_relations_only(request: HttpRequest) -> None:
    if not (has_role(request.user, CUSTOMER_RELATIONS) or has_role(request.user, DATA_STEWARD)):
        raise PermissionDenied("Subscriptions found by the import are confirmed by Customer Relations.")


def evidence_list(request: HttpRequest) -> HttpResponse:
    _customer_relations_only(request)
    status = request.GET.get("status", EvidenceStatus.OPEN)
    found = EvidencedSubscription.objects.select_related("account", "product", "subscription", "decided_by")
    if status in EvidenceStatus.values:
        found = found.filter(status=status)
    page = Paginator(found.order_by("account__number", "product__name"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": EvidenceStatus.choices, "form": EvidenceDecisionForm()}
    return render(request, "migration/evidence_list.html", context)


@require_POST
def evidence_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _customer_relations_only(request)
    evidence = get_object_or_404(EvidencedSubscription.objects.select_related("account", "product"), pk=pk)
    form = EvidenceDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose confirm, correct or dismiss, and give a reason.")
        return redirect("migration:evidence_list")
    data = form.cleaned_data
    try:
        services.decide_evidenced_subscription(
            evidence=evidence,
            decision=data["decision"],
            actor=request.user,
            reason=data["reason"],
            changes={name: data.get(name) for name in services.CORRECTABLE},
        )
        messages.success(request, f"{evidence.product} for {evidence.account.code}: {data['decision']}.")
    except OwnershipError as error:
        messages.error(request, str(error))
    return redirect("migration:evidence_list")


# --- Values held for a steward ------------------------------------------------------------


def held_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    status = request.GET.get("status", HeldStatus.OPEN)
    held = HeldValue.objects.select_related("mapped_by")
    if status in HeldStatus.values:
        held = held.filter(status=status)
    page = Paginator(held.order_by("kind", "-rows", "value"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": HeldStatus.choices, "form": HeldMappingForm()}
    return render(request, "migration/held_list.html", context)


@require_POST
def held_map(request: HttpRequest, pk: int) -> HttpResponse:
    _steward_only(request)
    held = get_object_or_404(HeldValue, pk=pk)
    form = HeldMappingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what this value means.")
        return redirect("migration:held_list")
    try:
        services.map_held_value(held=held, actor=request.user, **form.cleaned_data)
        messages.success(request, f"“{held.value}” is mapped. Import the files again to fill it in.")
    except OwnershipError as error:
        messages.error(request, str(error))
    return redirect("migration:held_list")


# --- Contract-value drift (Finance) ---------------------------------------------------------


def _finance_only(request: HttpRequest) -> None:
    if not (has_role(request.user, FINANCE) or has_role(request.user, DATA_STEWARD)):
        raise PermissionDenied("Contract-value drift is for Finance.")


def drift_list(request: HttpRequest) -> HttpResponse:
    _finance_only(request)
    status = request.GET.get("status", ConflictStatus.OPEN)
    drifts = ImportConflict.objects.filter(kind__in=[ConflictKind.DRIFT, ConflictKind.UNTOLD]).select_related(
        "account", "subscription__product", "resolved_by"
    )
    if status in ConflictStatus.values:
        drifts = drifts.filter(status=status)
    page = Paginator(drifts.order_by("kind", "account__number", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": ConflictStatus.choices}
    return render(request, "migration/drift_list.html", context)


@require_POST
def drift_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    _finance_only(request)
    conflict = get_object_or_404(ImportConflict, pk=pk, field="annual_value")
    form = ConflictResolutionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do and give a reason.")
    else:
        try:
            services.resolve_conflict(
                conflict=conflict,
                apply_other=form.cleaned_data["apply_other"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, f"Settled the contract value of {conflict.account.code}.")
        except OwnershipError as error:
            messages.error(request, str(error))
    return redirect("migration:drift_list")
