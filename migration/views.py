"""Steward pages for legacy imports: upload and preview, confirm, follow progress, download
rejected rows, settle conflicts between stores and names the import would not guess."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cloudcore_crm.lib.text import safe_filename
from cloudcore_crm.roles import DATA_STEWARD, has_role
from customers.errors import OwnershipError
from customers.models import Account
from migration import services
from migration.choices import REPORT_COLUMNS, ConflictStatus, ReviewStatus, RunStatus
from migration.forms import ConflictResolutionForm, ImportUploadForm, ReviewResolutionForm
from migration.models import ImportConflict, ImportFile, ImportRun, MatchReview

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


def importconflict_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    status = request.GET.get("status", ConflictStatus.OPEN)
    conflicts = ImportConflict.objects.select_related("account", "subscription__product", "resolved_by")
    if status in ConflictStatus.values:
        conflicts = conflicts.filter(status=status)
    page = Paginator(conflicts.order_by("account__number", "field", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": ConflictStatus.choices, "form": ConflictResolutionForm()}
    return render(request, "migration/importconflict_list.html", context)


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


def matchreview_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    reviews = MatchReview.objects.filter(status=ReviewStatus.OPEN).order_by("file", "row")
    page = Paginator(reviews, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "migration/matchreview_list.html", {"page": page, "form": ReviewResolutionForm()})


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
