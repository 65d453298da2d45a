"""Helpers for the renewals tests: a frozen clock, and a client with a subscription."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.conf import settings

from renewals.models import RenewalCase
from tests.factories import AccountFactory, SubscriptionFactory


class Clock:
    """`django.utils.timezone.now`, frozen at a chosen moment (03:00 Perth: the night's scan)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 4, 2, 3, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))

    def set(self, day: dt.date, hour: int = 3) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def __call__(self) -> dt.datetime:
        return self.now


def client_renewing(owner, coordinator=None, *, renewal_date: dt.date, value: str = "12000.00", **account):
    account = AccountFactory(owner=owner, relations_coordinator=coordinator, **account)
    start = renewal_date - dt.timedelta(days=365)
    return SubscriptionFactory(
        account=account, renewal_date=renewal_date, start_date=start, annual_value=Decimal(value)
    )


class RenewalCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RenewalCase

    subscription = factory.SubFactory(SubscriptionFactory)
    account = factory.SelfAttribute("subscription.account")
    term_end = factory.SelfAttribute("subscription.renewal_date")
    value_at_stake = factory.SelfAttribute("subscription.annual_value")
