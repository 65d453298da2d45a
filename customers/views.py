"""Customer pages. Thin: parse, call a queryset or a service, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from customers import ownership, services
from customers.errors import ConflictError, OwnershipError
from customers.filters import AccountFilter
from customers.forms import AccountForm, ActivityForm, ContactForm, OpportunityForm, SubscriptionForm
from customers.history import account_changes
from customers.models import Account, Activity, Contact, Opportunity, Subscription

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


def account_list(request: HttpRequest) -> HttpResponse:
    filterset = AccountFilter(request.GET or None, queryset=Account.objects.for_list())
    accounts = filterset.qs if filterset.is_bound and filterset.is_valid() else Account.objects.for_list()
    page = Paginator(accounts, settings.CUSTOMER_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "can_add": ownership.can_create(request.user, Account),
    }
    template = "customers/partials/account_table.html" if request.htmx else "customers/account_list.html"
    return render(request, template, context)


def _get_account(code: str, queryset=None) -> Account:
    return get_object_or_404(queryset if queryset is not None else Account.objects.all(), code__iexact=code)


def account_detail(request: HttpRequest, code: str) -> HttpResponse:
    account = _get_account(code, Account.objects.for_list().for_360())
    user = request.user
    context = {
        "account": account,
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
    account = _get_account(code, Account.objects.select_related("owner", "relations_coordinator"))
    context = {"account": account, "tab": "history", "changes": account_changes(account)}
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
                form.add_error(None, str(conflict))
                form.conflict = conflict
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
        if form.is_valid():
            try:
                account = services.create_account(
                    actor=request.user, reason=form.cleaned_data["reason"], **form.changes()
                )
            except (OwnershipError, ValidationError) as error:
                _apply_service_errors(form, error)
            else:
                messages.success(request, f"Created {account.code}.")
                return redirect(account.get_absolute_url())
        status = 400
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
        save=lambda form: services.log_activity(account=account, actor=request.user, **form.changes()),
    )


# --- Search --------------------------------------------------------------------------


def search(request: HttpRequest) -> HttpResponse:
    """Global search over accounts (name, alias, code, ABN) and contacts (name, email, phone)."""
    text = request.GET.get("q", "").strip()[:100]
    accounts = contacts = []
    if text:
        accounts = list(Account.objects.for_list().search(text)[:SEARCH_LIMIT])
        contacts = list(Contact.objects.for_search().search(text)[:SEARCH_LIMIT])
        if len(accounts) == 1 and not contacts and accounts[0].code.lower() == text.lower():
            return redirect(accounts[0].get_absolute_url())
    context = {"q": text, "accounts": accounts, "contacts": contacts, "limit": SEARCH_LIMIT}
    return render(request, "customers/search.html", context)
