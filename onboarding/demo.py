"""Demo onboarding orders (`manage.py seed_demo_orders`, after `seed_demo`): one order in
every state, one provisioned automatically, one exception waiting in the queue, and a
customer status link to open without logging in. Built through the services, as people
would; spread over the past weeks so the board's KPIs have something to say."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from customers.choices import OpportunityStage
from customers.models import Account, Opportunity, Product
from onboarding import services
from onboarding.choices import FailureReason, OrderStatus
from onboarding.models import Order

REASON = "Demo world (seed_demo_orders)"


def _line(code: str, seats: int, value: str, start: dt.date, **tenancy) -> dict:
    defaults = {
        "datavault": {"datavault_region": "perth", "datavault_quota_gb": 500},
        "analytics-pro": {"workspace_name": "insights"},
    }.get(code, {})
    return {
        "product": Product.objects.get(code=code),
        "seats": seats,
        "annual_value": Decimal(value),
        "start_date": start,
        "term_months": 12,
        **defaults,
        **tenancy,
    }


def _contacts(account: Account) -> dict:
    slug = "".join(ch for ch in account.display_name.lower() if ch.isalnum())[:20] or "client"
    return {
        "billing_contact_name": "Accounts Payable",
        "billing_contact_email": f"accounts@{slug}.example",
        "technical_contact_name": "IT Manager",
        "technical_contact_email": f"it@{slug}.example",
    }


def _draft(rep, account, lines, opportunity=None, **values) -> Order:
    return services.save_draft(
        actor=rep, values={"account": account, **_contacts(account), **values}, lines=lines, opportunity=opportunity
    )


def _backdate(order: Order, *, days_ago: float, took_hours: float) -> None:
    """Demo history only: the order was submitted `days_ago` and activated `took_hours` later."""
    submitted = timezone.now() - dt.timedelta(days=days_ago)
    Order.objects.filter(pk=order.pk).update(
        submitted_at=submitted,
        created_at=submitted,
        activated_at=submitted + dt.timedelta(hours=took_hours),
        status_changed_at=submitted + dt.timedelta(hours=took_hours),
    )
    order.events.update(at=submitted)


def seed_demo_orders() -> list[str]:
    if settings.PRODUCTION:
        raise RuntimeError("Demo orders are never loaded in production.")
    User = get_user_model()
    users = {
        u.username: u for u in User.objects.filter(username__in=["sales_rep", "customer_relations", "provisioning"])
    }
    if len(users) < 3:
        return ["Onboarding demo skipped: run seed_demo first (it creates the demo logins)."]
    rep, relations, provisioning = users["sales_rep"], users["customer_relations"], users["provisioning"]
    if not Order.objects.exists():
        accounts = list(Account.objects.active_records().filter(owner=rep).order_by("number")[:8])
        if len(accounts) < 8:
            return ["Onboarding demo skipped: the demo world has too few accounts for sales_rep."]
        # Finance's hand-off emails are the real thing's; the demo keeps them off the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            _seed(rep, relations, provisioning, accounts)
    return _summary(rep)


@transaction.atomic
def _seed(rep, relations, provisioning, accounts: list[Account]) -> None:
    today = timezone.localdate()
    soon = today + dt.timedelta(days=3)
    manual = override_settings(ONBOARDING_AUTO_PRODUCTS=[])
    won = Opportunity.objects.filter(account=accounts[0], stage=OpportunityStage.WON).first()

    # Active, provisioned automatically (three of them, over the past weeks, for the KPIs).
    for index, (days_ago, hours) in enumerate([(20, 30), (12, 20), (5, 9)]):
        account = accounts[index]
        order = _draft(
            rep, account, [_line("datavault", 20 + index * 5, "15000.00", today - dt.timedelta(days=days_ago))]
        )
        services.submit_order(order=order, actor=rep, reason=REASON)
        with override_settings(ONBOARDING_PROVISIONING_ADAPTER="onboarding.adapters.ExternalProvisioning"):
            order = services.validate_order(order=order, actor=relations, reason=REASON)
        for task in order.tasks.all():
            services.auto_provision(task.pk)
        _backdate(order, days_ago=days_ago, took_hours=hours)

    # Active, provisioned by hand (custom requirements), slower.
    order = _draft(
        rep,
        accounts[3],
        [_line("cloud-hosting", 1, "42000.00", today - dt.timedelta(days=8))],
        custom_requirements="Dedicated hosts in the Perth zone",
    )
    services.submit_order(order=order, actor=rep, reason=REASON)
    order = services.validate_order(order=order, actor=relations, reason=REASON)
    task = order.tasks.get()
    services.claim_task(task=task, actor=provisioning)
    services.complete_task(task=task, actor=provisioning, tenancy_ref="CH-PER-0099")
    _backdate(order, days_ago=9, took_hours=52)

    # Exception waiting: DataVault's Sydney region is full.
    with manual:
        order = _draft(rep, accounts[4], [_line("datavault", 60, "30000.00", soon, datavault_region="sydney")])
        services.submit_order(order=order, actor=rep, reason=REASON)
        order = services.validate_order(order=order, actor=relations, reason=REASON)
    task = order.tasks.get()
    services.claim_task(task=task, actor=provisioning)
    services.fail_task(
        task=task, actor=provisioning, reason_code=FailureReason.REGION_CAPACITY, note="Sydney cluster at 95%"
    )

    # Provisioning by hand, one task claimed; the customer's status link is on this one.
    with manual:
        order = _draft(
            rep,
            accounts[5],
            [_line("cloudsync", 45, "11250.00", soon), _line("analytics-pro", 10, "8000.00", soon)],
            opportunity=won,
        )
        services.submit_order(order=order, actor=rep, reason=REASON)
        order = services.validate_order(order=order, actor=relations, reason=REASON)
    services.claim_task(task=order.tasks.order_by("pk").first(), actor=provisioning)
    services.issue_status_link(order=order, actor=rep)

    # Validated, waiting for provisioning to pick it up.
    with manual:
        order = _draft(rep, accounts[6], [_line("managed-services", 1, "24000.00", soon)])
        services.submit_order(order=order, actor=rep, reason=REASON)
        services.validate_order(order=order, actor=relations, reason=REASON)

    # Submitted, waiting for Customer Relations: a new client.
    order = services.save_draft(
        actor=rep,
        values={
            "new_client_name": "Swan River Physiotherapy Pty Ltd",
            "new_client_confirmed": True,
            "billing_contact_name": "Priya Shah",
            "billing_contact_email": "priya@swanriverphysio.example",
            "technical_contact_name": "Liam Ford",
            "technical_contact_email": "liam@swanriverphysio.example",
        },
        lines=[_line("cloudsync", 12, "3600.00", soon)],
    )
    services.submit_order(order=order, actor=rep, reason=REASON)

    # Draft: the technical contact and the quota are still missing.
    services.save_draft(
        actor=rep,
        values={"account": accounts[7], "billing_contact_name": "Accounts Payable"},
        lines=[_line("datavault", 15, "9000.00", soon, datavault_quota_gb=None)],
    )

    # Cancelled: the client changed its mind.
    order = _draft(rep, accounts[7], [_line("security-compliance", 1, "18000.00", soon)])
    services.submit_order(order=order, actor=rep, reason=REASON)
    services.cancel_order(order=order, actor=relations, reason="Client postponed to next financial year")


def _summary(rep) -> list[str]:
    counts = {s: Order.objects.filter(status=s).count() for s in OrderStatus.values}
    lines = ["Onboarding demo orders: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
    linked = Order.objects.filter(status_token__isnull=False).order_by("pk").first()
    if linked is None:
        linked = Order.objects.filter(status=OrderStatus.PROVISIONING).order_by("pk").first()
        if linked is not None:
            linked = services.issue_status_link(order=linked, actor=rep)
    if linked is not None:
        lines.append(
            f"Customer status link for {linked.order_id} (no login): "
            f"{django_settings.SITE_URL}{services.status_link_path(linked)}"
        )
    return lines
