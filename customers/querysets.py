"""Named reads for the golden record. Each method owns its joins, so pages never run a
query per row and their query count does not grow with the data."""

from __future__ import annotations

import datetime as dt
import re

from django.apps import apps
from django.db import models
from django.db.models import Exists, Min, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.choices import OpportunityStage, SubscriptionStatus
from customers.matching import normalise_name, phone_digits

TIMELINE_LENGTH = 20
_CODE_RE = re.compile(r"^cc\d+$", re.IGNORECASE)


def _model(name: str) -> type[models.Model]:
    # Models import these querysets, so look them up lazily to avoid an import cycle.
    return apps.get_model("customers", name)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class AccountQuerySet(models.QuerySet):
    def live_subscriptions(self) -> models.QuerySet:
        return _model("Subscription").objects.filter(
            account=OuterRef("pk"), status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING]
        )

    def for_list(self) -> AccountQuerySet:
        """Customer list rows: owner and coordinator joined, live contract value and next
        renewal as correlated subqueries (evaluated only for the rows on the page)."""
        live = self.live_subscriptions()
        value = live.values("account").annotate(total=Sum("annual_value")).values("total")
        next_renewal = (
            live.filter(renewal_date__isnull=False)
            .values("account")
            .annotate(first=Min("renewal_date"))
            .values("first")
        )
        return self.select_related("owner", "relations_coordinator").annotate(
            contract_value=Coalesce(Subquery(value), models.Value(0), output_field=models.DecimalField()),
            next_renewal=Subquery(next_renewal, output_field=models.DateField()),
        )

    def for_360(self) -> AccountQuerySet:
        """Everything the customer 360 page shows, in a fixed number of queries."""
        Subscription, Opportunity, Activity, Contact = (
            _model("Subscription"),
            _model("Opportunity"),
            _model("Activity"),
            _model("Contact"),
        )
        return self.select_related("owner", "relations_coordinator", "billing_contact").prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.all()),
            Prefetch("subscriptions", queryset=Subscription.objects.select_related("product")),
            Prefetch(
                "opportunities",
                queryset=Opportunity.objects.open().select_related("owner", "product"),
                to_attr="open_opportunities",
            ),
            Prefetch(
                "activities",
                queryset=Activity.objects.select_related("actor", "contact")[:TIMELINE_LENGTH],
                to_attr="recent_activities",
            ),
            "aliases",
        )

    def search(self, text: str) -> AccountQuerySet:
        """Accounts matching a client code, ABN, legal or trading name, or a known alias."""
        text = (text or "").strip()
        if not text:
            return self
        condition = Q(legal_name__icontains=text) | Q(trading_name__icontains=text)
        key = normalise_name(text)
        if key:
            condition |= Q(normalised_name__contains=key)
            condition |= Q(
                pk__in=_model("AccountAlias").objects.filter(normalised_value__contains=key).values("account_id")
            )
        if _CODE_RE.match(text):
            condition |= Q(code__iexact=text)
        digits = _digits(text)
        if len(digits) == 11:
            condition |= Q(abn=digits)
        return self.filter(condition)

    def owned_or_coordinated_by(self, user) -> AccountQuerySet:
        return self.filter(Q(owner=user) | Q(relations_coordinator=user))

    def with_product(self, product) -> AccountQuerySet:
        return self.filter(Exists(self.live_subscriptions().filter(product=product)))

    def renewing_within(self, days: int, *, today: dt.date | None = None) -> AccountQuerySet:
        today = today or timezone.localdate()
        window = self.live_subscriptions().filter(
            renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=days)
        )
        return self.filter(Exists(window))


class ContactQuerySet(models.QuerySet):
    def search(self, text: str) -> ContactQuerySet:
        """Contacts by name ('Jane', 'Jane Citizen'), email or phone digits."""
        text = (text or "").strip()
        if not text:
            return self
        condition = Q(first_name__icontains=text) | Q(last_name__icontains=text) | Q(email__icontains=text)
        parts = text.split()
        if len(parts) >= 2:
            condition |= Q(first_name__iexact=parts[0], last_name__iexact=" ".join(parts[1:]))
        digits = phone_digits(text)
        if len(digits) >= 6:
            condition |= Q(phone_digits__contains=digits)
        return self.filter(condition)

    def for_search(self) -> ContactQuerySet:
        return self.select_related("account")


class SubscriptionQuerySet(models.QuerySet):
    def live(self) -> SubscriptionQuerySet:
        return self.filter(status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING])

    def renewing_for(self, user, *, days: int, today: dt.date | None = None) -> SubscriptionQuerySet:
        """Renewals due within `days` (or overdue) on accounts the user owns or coordinates."""
        today = today or timezone.localdate()
        return (
            self.filter(Q(account__owner=user) | Q(account__relations_coordinator=user))
            .filter(renewal_date__lte=today + dt.timedelta(days=days))
            .select_related("account", "product")
            .order_by("renewal_date")
        )


class OpportunityQuerySet(models.QuerySet):
    def open(self) -> OpportunityQuerySet:
        return self.filter(stage__in=OpportunityStage.open_stages())


class ActivityQuerySet(models.QuerySet):
    def timeline(self) -> ActivityQuerySet:
        return self.select_related("actor", "contact")
