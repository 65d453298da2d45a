"""Board pack pages and exports, the months list, re-freezing, and the digest preference.
Thin: parse, read a snapshot or call a service, render."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cloudcore_crm.roles import DATA_STEWARD, EXECUTIVE, FINANCE, SALES_MANAGER, has_role
from customers.choices import Office, Segment
from customers.models import Product
from reports import digests, exports, pack, services
from reports.choices import Movement
from reports.forms import DigestPreferenceForm, RefreezeForm
from reports.models import AccountSnapshot, MonthSnapshot, SnapshotFreeze, add_months

PACK_ROLES = (EXECUTIVE, SALES_MANAGER, FINANCE, DATA_STEWARD)
ACCOUNTS_PAGE_SIZE = 100


def pack_reader(view):
    """Executive, sales manager, finance and data steward open the board pack."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not has_role(request.user, *PACK_ROLES):
            raise PermissionDenied("The board pack is for executives, sales management, finance and data stewards.")
        return view(request, *args, **kwargs)

    return wrapped


def _pack_or_404(month: dt.date) -> pack.BoardPack:
    board = pack.load(month)
    if board is None:
        raise Http404(f"{month:%B %Y} has not been frozen.")
    return board


@pack_reader
def board_pack_latest(request: HttpRequest) -> HttpResponse:
    latest = MonthSnapshot.objects.order_by("-month").values_list("month", flat=True).first()
    if latest is None:
        return redirect("reports:snapshot_list")
    return redirect("reports:board_pack", month=latest)


@pack_reader
def board_pack(request: HttpRequest, month: dt.date) -> HttpResponse:
    board = _pack_or_404(month)
    months = {s.month for s in MonthSnapshot.objects.trend(add_months(month, 1), 3).only("month")}
    previous, following = add_months(month, -1), add_months(month, 1)
    context = {
        "pack": board,
        "previous_month": previous if previous in months else None,
        "previous_label": f"{previous:%b %Y}",
        "next_month": following if following in months else None,
        "next_label": f"{following:%b %Y}",
    }
    return render(request, "reports/board_pack.html", context)


@pack_reader
def board_pack_pdf(request: HttpRequest, month: dt.date) -> HttpResponse:
    board = _pack_or_404(month)
    response = HttpResponse(exports.pdf(board), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="cloudcore-board-pack-{board.slug}.pdf"'
    return response


@pack_reader
def board_pack_xlsx(request: HttpRequest, month: dt.date) -> HttpResponse:
    board = _pack_or_404(month)
    response = HttpResponse(
        exports.workbook(board), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="cloudcore-board-pack-{board.slug}.xlsx"'
    return response


ACCOUNT_FILTERS = {
    "clients": ("Clients with ARR", lambda v: {"arr__gt": 0}),
    "product": ("Product or service line", lambda v: {"arr_by_product__has_key": v}),
    "office": ("Office", lambda v: {"office": v}),
    "segment": ("Segment", lambda v: {"segment": v}),
    "movement": ("ARR movement", lambda v: {"movement": v}),
    "risk": ("Churn-risk band", lambda v: {"risk_band": v}),
    "renewals": ("Renewals due in the month", lambda v: {"renewals_due__gt": 0}),
    "tickets": ("Open tickets at month end", lambda v: {"open_tickets__gt": 0}),
}


def _filter_label(name: str, value: str) -> str:
    label = ACCOUNT_FILTERS[name][0]
    names = {
        "office": dict(Office.choices),
        "segment": dict(Segment.choices),
        "movement": dict(Movement.choices),
    }.get(name, {})
    if name == "product":
        names = dict(Product.objects.values_list("code", "name"))
    return f"{label}: {names.get(value, value)}" if name not in ("clients", "renewals", "tickets") else label


@pack_reader
def pack_accounts(request: HttpRequest, month: dt.date) -> HttpResponse:
    """The accounts behind a board-pack figure, as frozen."""
    snapshot = MonthSnapshot.objects.filter(month=month).only("month", "source", "as_of").first()
    if snapshot is None:
        raise Http404(f"{month:%B %Y} has not been frozen.")
    rows = AccountSnapshot.objects.filter(snapshot=snapshot)
    applied = []
    for name, (_, condition) in ACCOUNT_FILTERS.items():
        value = request.GET.get(name)
        if value:
            rows = rows.filter(**condition(value))
            applied.append(_filter_label(name, value))
    product = request.GET.get("product", "")
    rows = rows.order_by("-arr", "code")
    page = Paginator(rows, ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.product_arr = row.arr_by_product.get(product) if product else None
    query = request.GET.copy()
    query.pop("page", None)
    context = {"snapshot": snapshot, "page": page, "applied": applied, "product": product, "query": query.urlencode()}
    return render(request, "reports/pack_accounts.html", context)


@pack_reader
def snapshot_list(request: HttpRequest) -> HttpResponse:
    context = {
        "snapshots": MonthSnapshot.objects.select_related("frozen_by").defer("totals"),
        "freezes": SnapshotFreeze.objects.select_related("actor")[:20],
        "can_refreeze": has_role(request.user, DATA_STEWARD),
        "form": RefreezeForm(),
    }
    return render(request, "reports/snapshot_list.html", context)


@require_http_methods(["GET", "POST"])
def snapshot_refreeze(request: HttpRequest, month: dt.date) -> HttpResponse:
    if not has_role(request.user, DATA_STEWARD):
        raise PermissionDenied("Only a data steward may re-freeze a month.")
    snapshot = MonthSnapshot.objects.filter(month=month).defer("totals").first()
    if snapshot is None:
        raise Http404(f"{month:%B %Y} has not been frozen.")
    form = RefreezeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.refreeze_month(month=month, actor=request.user, reason=form.cleaned_data["reason"])
            except services.FreezeError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{snapshot.label} re-frozen. The reason is recorded.")
                return redirect("reports:board_pack", month=month)
        status = 400
    return render(request, "reports/snapshot_refreeze.html", {"snapshot": snapshot, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def digest_preference(request: HttpRequest) -> HttpResponse:
    current = digests.wants_digest(request.user)
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST)
        if form.is_valid():
            digests.set_preference(user=request.user, weekly_digest=form.cleaned_data["weekly_digest"])
            messages.success(request, "Your digest preference is saved.")
            return redirect("reports:digest_preference")
    else:
        form = DigestPreferenceForm(initial={"weekly_digest": current})
    return render(request, "reports/digest_preference.html", {"form": form, "current": current})


@login_not_required
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every digest: no login needed (the signed token names the person)."""
    user = digests.user_for_token(token)
    if user is None:
        return render(request, "reports/digest_unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        digests.set_preference(user=user, weekly_digest=False)
        return render(request, "reports/digest_unsubscribe.html", {"done": True, "person": user})
    return render(
        request,
        "reports/digest_unsubscribe.html",
        {"person": user, "action": reverse("reports:digest_unsubscribe", args=[token])},
    )
