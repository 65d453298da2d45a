"""Customer pages. Thin: parse, call a queryset or a service, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from cloudcore_crm.roles import DATA_STEWARD, SALES_REP, has_role
from customers import ownership, services
from customers.dedupe import find_matches
from customers.errors import ConflictError, MergeError, OwnershipError
from customers.exports import FORMATS as EXPORT_FORMATS
from customers.exports import export_response
from customers.filters import AccountFilter, without_invalid
from customers.forms import (
    AccountForm,
    ActivityForm,
    ContactForm,
    HistoryFilterForm,
    MergeForm,
    OpportunityForm,
    SubscriptionForm,
    UndoMergeForm,
    conflict_form,
    staff_with_role,
)
from customers.history import account_changes, filter_changes
from customers.models import (
    Account,
    AccountMerge,
    Activity,
    Contact,
    ContactDuplicateCandidate,
    ContactMerge,
    DuplicateCandidate,
    Opportunity,
    Subscription,
)
from customers.querysets import LIST_SORTS
from customers.tasks import scan_duplicates as scan_duplicates_task
from customers.validators import format_abn

SEARCH_LIMIT = 20
HOME_LIST_LENGTH = 10


def home(request: HttpRequest) -> HttpResponse:
    """The start page: my accounts, their renewals, my open deals, and other apps' panels
    (alerts for the account owner)."""
    user = request.user
    context = {
        "my_accounts": Account.objects.for_list().owned_or_coordinated_by(user)[:HOME_LIST_LENGTH],
        "renewals": Subscription.objects.live().renewing_for(user, days=90)[:HOME_LIST_LENGTH],
        "today": timezone.localdate(),
        "opportunities": Opportunity.objects.open()
        .filter(owner=user)
        .select_related("account", "product")[:HOME_LIST_LENGTH],
    }
    return render(request, "customers/home.html", context)


LIST_PAGE_SIZES = (25, 50, 100, 200)
LIST_COLUMNS = (
    ("Code", "code", ""),
    ("Customer", "name", ""),
    ("Office", "office", ""),
    ("Status", "status", ""),
    ("Owner", "owner", ""),
    ("Coordinator", "coordinator", ""),
    ("Contract value (AUD/yr)", "value", "num"),
    ("Next renewal", "renewal", ""),
)
EXPORT_HEADERS = (
    "Code",
    "Customer",
    "Legal name",
    "ABN",
    "Office",
    "Status",
    "Owner",
    "Coordinator",
    "Contract value (AUD/yr)",
    "Next renewal",
)


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("per_page", ""))
    except ValueError:
        return settings.CUSTOMER_LIST_PAGE_SIZE
    return size if size in LIST_PAGE_SIZES else settings.CUSTOMER_LIST_PAGE_SIZE


def _sort_links(request: HttpRequest, sort: str) -> list[dict[str, str]]:
    """Each column header's link: sorts by it, or reverses it when it is the current sort."""
    links = []
    for label, key, css in LIST_COLUMNS:
        query = request.GET.copy()
        for name in ("page", "sort", "export"):
            query.pop(name, None)
        query["sort"] = f"-{key}" if sort == key else key
        state = "ascending" if sort == key else "descending" if sort == f"-{key}" else ""
        links.append({"label": label, "url": f"?{query.urlencode()}", "sort": state, "css": css})
    return links


def _export_row(account: Account) -> list:
    return [
        account.code,
        account.display_name,
        account.legal_name,
        format_abn(account.abn) if account.abn else "",
        account.get_office_display(),
        account.get_lifecycle_status_display(),
        account.owner.get_full_name() if account.owner else "",
        account.relations_coordinator.get_full_name() if account.relations_coordinator else "",
        account.contract_value,
        account.next_renewal,
    ]


def account_list(request: HttpRequest) -> HttpResponse:
    filterset, notes = without_invalid(
        AccountFilter, request.GET or None, queryset=Account.objects.active_records(), request=request
    )
    accounts = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    sort = request.GET.get("sort", "")
    if sort and sort.lstrip("-") not in LIST_SORTS:
        notes.append(f"Ignored the sort “{sort}”: not a column of this list.")
        sort = ""
    if sort:
        accounts = accounts.sorted_by(sort)
    export = request.GET.get("export", "")
    if export in EXPORT_FORMATS:
        rows = (_export_row(a) for a in Account.objects.for_export(accounts).iterator(chunk_size=2000))
        return export_response(export, stem="customers", headers=EXPORT_HEADERS, rows=rows)
    page_size = _page_size(request)
    page = Paginator(accounts, page_size).get_page(request.GET.get("page"))
    page.object_list = Account.objects.for_list_table(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    size_query = query.copy()
    size_query.pop("per_page", None)
    context = {
        "size_query": size_query.urlencode(),
        "filter": filterset,
        "notes": notes,
        "page": page,
        "query": query.urlencode(),
        "columns": _sort_links(request, sort),
        "page_sizes": LIST_PAGE_SIZES,
        "page_size": page_size,
        "default_page_size": settings.CUSTOMER_LIST_PAGE_SIZE,
        "sort": sort,
        "can_add": ownership.can_create(request.user, Account),
        "can_reassign": ownership.owns(request.user, Account(), "owner"),
        "sales_reps": staff_with_role(SALES_REP) if ownership.owns(request.user, Account(), "owner") else [],
        "next_url": request.get_full_path(),
    }
    template = "customers/partials/account_table.html" if request.htmx else "customers/account_list.html"
    return render(request, template, context)


@require_http_methods(["POST"])
def account_bulk_owner(request: HttpRequest) -> HttpResponse:
    """A sales manager gives the selected accounts a new owner, with one reason."""
    if not ownership.owns(request.user, Account(), "owner"):
        raise PermissionDenied("Only a sales manager reassigns account owners.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("customers:account_list")
    codes = request.POST.getlist("codes")
    owner = staff_with_role(SALES_REP).filter(pk=request.POST.get("owner") or None).first()
    reason = request.POST.get("reason", "").strip()
    if not codes or owner is None or not reason:
        messages.error(request, "Tick the accounts, choose the new owner and say why.")
        return redirect(back)
    accounts = list(Account.objects.active_records().filter(code__in=[c.upper() for c in codes]))
    try:
        changed = services.reassign_owner(accounts=accounts, owner=owner, actor=request.user, reason=reason)
    except (OwnershipError, ValidationError) as error:
        messages.error(request, error.messages if isinstance(error, ValidationError) else str(error))
        return redirect(back)
    messages.success(
        request,
        f"{len(changed)} account{'s' if len(changed) != 1 else ''} now owned by {owner.get_full_name()}; "
        "each has its history row.",
    )
    return redirect(back)


def _get_account(code: str, queryset=None) -> Account:
    # Codes are stored upper case: an exact match on the upper-cased code uses the unique
    # index, where code__iexact (UPPER(code) = ...) scans the table.
    return get_object_or_404(queryset if queryset is not None else Account.objects.active_records(), code=code.upper())


def _merged_survivor(code: str) -> Account | None:
    """The account a merged-away code now lives in (following later merges too)."""
    account = Account.objects.filter(code=code.upper(), merged_into__isnull=False).select_related("merged_into").first()
    if account is None:
        return None
    survivor = account.merged_into
    while survivor.merged_into_id:
        survivor = survivor.merged_into
    return survivor


def account_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        account = _get_account(code, Account.objects.for_list().for_360())
    except Http404:
        survivor = _merged_survivor(code)
        if survivor is None:
            raise
        messages.info(request, f"{code.upper()} was merged into {survivor.code}; showing {survivor.code}.")
        return redirect(survivor.get_absolute_url())
    user = request.user
    is_steward = has_role(user, DATA_STEWARD)
    context = {
        "account": account,
        "merged_from": list(AccountMerge.objects.undoable().filter(survivor=account).select_related("duplicate"))
        if is_steward
        else [],
        "tab": "overview",
        "can_edit_account": ownership.can_edit_any(user, account),
        "can_add_contact": ownership.can_create(user, Contact, account=account),
        "can_add_subscription": ownership.can_create(user, Subscription, account=account),
        "can_add_opportunity": ownership.can_create(user, Opportunity, account=account),
        "can_log_activity": ownership.can_create(user, Activity, account=account),
        "can_edit_contacts": ownership.can_edit_any(user, Contact(account=account)),
        "can_edit_subscriptions": ownership.can_edit_any(user, Subscription(account=account)),
        "editable_opportunities": {o.pk for o in account.open_opportunities if ownership.can_edit_any(user, o)},
    }
    return render(request, "customers/account_detail.html", context)


def account_history(request: HttpRequest, code: str) -> HttpResponse:
    try:
        account = _get_account(code, Account.objects.active_records().select_related("owner", "relations_coordinator"))
    except Http404:
        survivor = _merged_survivor(code)
        if survivor is None:
            raise
        return redirect("customers:account_history", code=survivor.code)
    changes = account_changes(account)
    form = HistoryFilterForm(request.GET or None, changes=changes)
    notes = []
    if form.is_bound and not form.is_valid():
        notes = [
            f"Ignored the {form.fields[name].label.lower()} filter: {' '.join(errors)}"
            for name, errors in form.errors.items()
        ]
    if form.is_bound:
        # An invalid filter is left out (and noted above); the valid ones still apply.
        chosen = {name: value for name, value in form.cleaned_data.items() if value}
        changes = filter_changes(changes, **chosen)
    export = request.GET.get("export", "")
    if export in EXPORT_FORMATS:
        rows = ([c.when, c.who, c.record, c.label, c.old, c.new, c.why, c.action] for c in changes)
        headers = ("When", "Who", "Record", "Field", "Old", "New", "Why", "Action")
        return export_response(export, stem=f"{account.code}-history", headers=headers, rows=rows)
    query = request.GET.copy()
    query.pop("export", None)
    context = {
        "account": account,
        "tab": "history",
        "changes": changes,
        "form": form,
        "notes": notes,
        "query": query.urlencode(),
    }
    template = "customers/partials/history_table.html" if request.htmx else "customers/account_history.html"
    return render(request, template, context)


# --- Add and edit --------------------------------------------------------------------


def _apply_service_errors(form, error: Exception) -> None:
    """Show a domain or validation error from a service on the form, next to its field."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(error, OwnershipError):
        fields = [f for f in error.fields if f in form.fields]
        form.add_error(fields[0] if len(fields) == 1 else None, str(error))
    else:
        form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))


def _edit(
    request: HttpRequest,
    *,
    instance,
    form_class,
    account: Account,
    save,
    title: str,
    form_kwargs: dict[str, Any] | None = None,
    panel_slot: str = "",
) -> HttpResponse:
    """GET shows the ownership-aware form; POST calls `save(form)` (a service call).

    A refused, invalid or conflicting save re-renders the form with what the user typed.
    """
    form_kwargs = {"user": request.user, "instance": instance, **(form_kwargs or {})}
    if instance.pk and not ownership.can_edit_any(request.user, instance):
        raise PermissionDenied("You do not own any field of this record.")
    if request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                saved = save(form)
            except ConflictError as conflict:
                # The form comes back carrying the new version and the other person's
                # values, so the next Save goes through.
                form = conflict_form(form, conflict, seen_version=form.cleaned_data["version"])
            except (OwnershipError, ValidationError) as error:
                _apply_service_errors(form, error)
            else:
                messages.success(request, f"Saved {saved._meta.verbose_name}.")
                return redirect(account.get_absolute_url())
        status = 409 if getattr(form, "conflict", None) else 400
    else:
        form = form_class(**form_kwargs)
        status = 200
    context = {"form": form, "account": account, "title": title, "instance": instance, "panel_slot": panel_slot}
    return render(request, "customers/edit_form.html", context, status=status)


def _require_create(request: HttpRequest, model, account: Account | None = None) -> None:
    if not ownership.can_create(request.user, model, account=account):
        raise PermissionDenied(f"You cannot add a {model._meta.verbose_name}.")


@require_http_methods(["GET", "POST"])
def account_add(request: HttpRequest) -> HttpResponse:
    _require_create(request, Account)
    instance = Account()
    if request.method == "POST":
        form = AccountForm(request.POST, user=request.user, instance=instance)
        status = 400
        if form.is_valid() and not form.cleaned_data.get("create_anyway"):
            # Warn before creating a likely duplicate; the user may confirm and create anyway.
            form.duplicate_matches = find_matches(**form.match_fields())
            status = 200 if form.duplicate_matches else status
        if form.is_valid() and not form.duplicate_matches:
            try:
                account = services.create_account(
                    actor=request.user, reason=form.cleaned_data["reason"], **form.changes()
                )
            except (OwnershipError, ValidationError) as error:
                _apply_service_errors(form, error)
            else:
                messages.success(request, f"Created {account.code}.")
                return redirect(account.get_absolute_url())
    else:
        form, status = AccountForm(user=request.user, instance=instance), 200
    return render(request, "customers/edit_form.html", {"form": form, "title": "New customer"}, status=status)


@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, code: str) -> HttpResponse:
    account = _get_account(code)
    return _edit(
        request,
        instance=account,
        form_class=AccountForm,
        account=account,
        title=f"Edit {account.code} {account.display_name}",
        save=lambda form: services.update_account(
            account=account,
            changes=form.changes(),
            expected_version=form.cleaned_data["version"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        ),
    )


@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, code: str) -> HttpResponse:
    account = _get_account(code)
    _require_create(request, Contact, account)
    return _edit(
        request,
        instance=Contact(account=account),
        form_class=ContactForm,
        account=account,
        title=f"New contact at {account.display_name}",
        save=lambda form: services.create_contact(
            account=account, actor=request.user, reason=form.cleaned_data["reason"], **form.changes()
        ),
    )


@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    account = _get_account(code)
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk, account=account)
    return _edit(
        request,
        instance=contact,
        form_class=ContactForm,
        account=account,
        title=f"Edit contact {contact.full_name}",
        save=lambda form: services.update_contact(
            contact=contact,
            changes=form.changes(),
            expected_version=form.cleaned_data["version"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        ),
    )


@require_http_methods(["GET", "POST"])
def subscription_add(request: HttpRequest, code: str) -> HttpResponse:
    account = _get_account(code)
    _require_create(request, Subscription, account)
    return _edit(
        request,
        instance=Subscription(account=account),
        form_class=SubscriptionForm,
        account=account,
        title=f"New subscription for {account.display_name}",
        save=lambda form: services.create_subscription(
            account=account, actor=request.user, reason=form.cleaned_data["reason"], **form.changes()
        ),
    )


@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    account = _get_account(code)
    subscription = get_object_or_404(Subscription.objects.select_related("account", "product"), pk=pk, account=account)
    return _edit(
        request,
        instance=subscription,
        form_class=SubscriptionForm,
        account=account,
        title=f"Edit {subscription.product} subscription",
        save=lambda form: services.update_subscription(
            subscription=subscription,
            changes=form.changes(),
            expected_version=form.cleaned_data["version"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        ),
    )


@require_http_methods(["GET", "POST"])
def opportunity_add(request: HttpRequest, code: str) -> HttpResponse:
    account = _get_account(code)
    _require_create(request, Opportunity, account)
    return _edit(
        request,
        instance=Opportunity(account=account, owner=request.user),
        form_class=OpportunityForm,
        account=account,
        title=f"New opportunity with {account.display_name}",
        panel_slot="opportunity_form",
        save=lambda form: services.create_opportunity(
            account=account, actor=request.user, reason=form.cleaned_data["reason"], **form.changes()
        ),
    )


@require_http_methods(["GET", "POST"])
def opportunity_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    account = _get_account(code)
    opportunity = get_object_or_404(Opportunity.objects.select_related("account", "owner"), pk=pk, account=account)
    return _edit(
        request,
        instance=opportunity,
        form_class=OpportunityForm,
        account=account,
        title=f"Edit opportunity {opportunity.name}",
        panel_slot="opportunity_form",
        save=lambda form: services.update_opportunity(
            opportunity=opportunity, changes=form.changes(), actor=request.user, reason=form.cleaned_data["reason"]
        ),
    )


@require_http_methods(["GET", "POST"])
def activity_add(request: HttpRequest, code: str) -> HttpResponse:
    account = _get_account(code)
    _require_create(request, Activity, account)
    return _edit(
        request,
        instance=Activity(account=account),
        form_class=ActivityForm,
        account=account,
        title=f"Log an activity with {account.display_name}",
        form_kwargs={"account": account},
        save=lambda form: services.log_activity(
            account=account,
            actor=request.user,
            reason=form.cleaned_data["reason"] or "Logged on the timeline",
            **form.changes(),
        ),
    )


# --- Search --------------------------------------------------------------------------


def search(request: HttpRequest) -> HttpResponse:
    """Global search over accounts (name, alias, code, ABN) and contacts (name, email, phone);
    other apps add their results (ticket numbers) through the "search" panel slot. When no
    customer matches, close spellings are offered ("merdian" finds Meridian)."""
    text = request.GET.get("q", "").strip()[:100]
    accounts = contacts = close = []
    if text:
        accounts = list(Account.objects.for_list().search(text)[:SEARCH_LIMIT])
        contacts = list(Contact.objects.for_search(text, limit=SEARCH_LIMIT))
        if len(accounts) == 1 and not contacts and accounts[0].code.lower() == text.lower():
            return redirect(accounts[0].get_absolute_url())
        if not accounts:
            close = Account.objects.close_spellings(text, limit=SEARCH_LIMIT)
    context = {"q": text, "accounts": accounts, "contacts": contacts, "close": close, "limit": SEARCH_LIMIT}
    return render(request, "customers/search.html", context)


SUGGEST_ACCOUNTS, SUGGEST_CONTACTS = 6, 4


def search_suggest(request: HttpRequest) -> HttpResponse:
    """The header box's type-ahead (htmx): a few customers (or close spellings), contacts and
    other apps' matches, as links the keyboard can walk (static/js/search.js)."""
    text = request.GET.get("q", "").strip()[:100]
    accounts = contacts = []
    close = False
    if len(text) >= 2:
        accounts = list(Account.objects.for_list().search(text)[:SUGGEST_ACCOUNTS])
        if not accounts:
            accounts, close = Account.objects.close_spellings(text, limit=SUGGEST_ACCOUNTS), True
        contacts = list(Contact.objects.for_search(text, limit=SUGGEST_CONTACTS))
    context = {"q": text, "accounts": accounts, "contacts": contacts, "close": close}
    return render(request, "customers/partials/search_suggestions.html", context)


# --- Duplicates (data stewards) ---------------------------------------------------------

QUEUE_PAGE_SIZE = 50
RECENT_MERGES = 10


def _require_steward(request: HttpRequest) -> None:
    if not has_role(request.user, DATA_STEWARD):
        raise PermissionDenied("The duplicate queue is for data stewards.")


def duplicate_list(request: HttpRequest) -> HttpResponse:
    """The review queue: open pairs, most certain first; accounts or contacts."""
    _require_steward(request)
    kind = "contacts" if request.GET.get("kind") == "contacts" else "accounts"
    queue = (ContactDuplicateCandidate if kind == "contacts" else DuplicateCandidate).objects.for_queue()
    merges = AccountMerge if kind == "accounts" else ContactMerge
    context = {
        "kind": kind,
        "page": Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("page")),
        "recent_merges": merges.objects.select_related("survivor", "duplicate", "merged_by", "undone_by")[
            :RECENT_MERGES
        ],
        "open_accounts": DuplicateCandidate.objects.open().count(),
        "open_contacts": ContactDuplicateCandidate.objects.open().count(),
    }
    template = "customers/partials/duplicate_table.html" if request.htmx else "customers/duplicate_list.html"
    return render(request, template, context)


@require_http_methods(["POST"])
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    """Run the scan on demand (the same task beat runs nightly)."""
    _require_steward(request)
    # Through the task queue: at 100,000 accounts a scan outlasts a web request. Without
    # a worker (eager mode) it has finished by now and its summary can be shown.
    result = scan_duplicates_task.delay()
    messages.success(request, result.get() if result.ready() else "Scan started; refresh this page in a minute.")
    return redirect("customers:duplicate_list")


def _review(request: HttpRequest, *, candidate, a, b, fields: list[str], label, merge, kind: str) -> HttpResponse:
    """GET shows the pair side by side; POST merges it or marks it "not a duplicate"."""
    data = request.POST if request.method == "POST" else None
    form = MergeForm(data, a=a, b=b, fields=fields, label=label)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "not_duplicate":
                services.mark_not_duplicate(
                    candidate=candidate, actor=request.user, reason=request.POST.get("reason", "")
                )
                messages.success(request, "Marked as not a duplicate; this pair will not be proposed again.")
                return redirect(f"{reverse('customers:duplicate_list')}?kind={kind}")
            if form.is_valid():
                done = merge(**form.merge_arguments(), actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(
                    request,
                    f"Merged {label(done.duplicate)} into {label(done.survivor)}; undo within {done.UNDO_DAYS} days.",
                )
                # A contact has no page of its own: show the account it belongs to.
                return redirect(getattr(done.survivor, "account", done.survivor).get_absolute_url())
            status = 400
        except (MergeError, OwnershipError, ValidationError) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
            status = 409
    context = {"candidate": candidate, "a": a, "b": b, "form": form, "kind": kind}
    return render(request, "customers/duplicate_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def duplicate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_steward(request)
    candidate = get_object_or_404(DuplicateCandidate.objects.open(), pk=pk)
    a, b = Account.objects.for_merge_review().filter(pk__in=[candidate.account_a_id, candidate.account_b_id])
    return _review(
        request,
        candidate=candidate,
        a=a,
        b=b,
        fields=ownership.owned_fields(Account),
        label=lambda account: f"{account.code} {account.display_name}",
        merge=lambda **kwargs: services.merge_accounts(candidate=candidate, **kwargs),
        kind="accounts",
    )


@require_http_methods(["GET", "POST"])
def contact_duplicate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_steward(request)
    candidate = get_object_or_404(ContactDuplicateCandidate.objects.open(), pk=pk)
    a, b = Contact.objects.for_merge_review().filter(pk__in=[candidate.contact_a_id, candidate.contact_b_id])
    return _review(
        request,
        candidate=candidate,
        a=a,
        b=b,
        fields=ownership.owned_fields(Contact),
        label=lambda contact: f"{contact.full_name} ({contact.account.code})",
        merge=lambda **kwargs: services.merge_contacts(candidate=candidate, **kwargs),
        kind="contacts",
    )


def _merge_page(request: HttpRequest, *, merge, undo, kind: str) -> HttpResponse:
    """A merge record (who, when, why, where each value came from, what moved) and its undo."""
    form = UndoMergeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                undo(merge=merge, actor=request.user, reason=form.cleaned_data["reason"])
            except (MergeError, OwnershipError, ValidationError) as error:
                form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
                status = 409
            else:
                messages.success(request, "Merge undone: both records and every moved row are as they were.")
                return redirect(f"{reverse('customers:duplicate_list')}?kind={kind}")
        else:
            status = 400
    return render(request, "customers/merge_detail.html", {"merge": merge, "form": form, "kind": kind}, status=status)


@require_http_methods(["GET", "POST"])
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_steward(request)
    merge = get_object_or_404(AccountMerge.objects.select_related("survivor", "duplicate", "merged_by"), pk=pk)
    return _merge_page(request, merge=merge, undo=services.unmerge_accounts, kind="accounts")


@require_http_methods(["GET", "POST"])
def contact_merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_steward(request)
    merge = get_object_or_404(
        ContactMerge.objects.select_related("survivor__account", "duplicate__account", "merged_by"), pk=pk
    )
    return _merge_page(request, merge=merge, undo=services.unmerge_contacts, kind="contacts")
