"""factory-boy factories. They build rows directly for test set-up; tests of behaviour
call the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers import choices
from customers.models import (
    Account,
    AccountAlias,
    AccountMerge,
    Activity,
    Contact,
    ContactDuplicateCandidate,
    ContactMerge,
    DuplicateCandidate,
    Opportunity,
    Product,
    Subscription,
    account_code,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@cloudcore.example")
    password = factory.django.Password("cloudcore-demo")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: 9000 + n)
    code = factory.LazyAttribute(lambda a: account_code(a.number))
    legal_name = factory.Sequence(lambda n: f"Test Client {n} Pty Ltd")
    office = choices.Office.PERTH
    lifecycle_status = choices.LifecycleStatus.ACTIVE


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda c: f"{c.first_name}.{c.last_name}@example.com".lower())
    phone = "08 9212 3456"


def product(code: str = "datavault") -> Product:
    return Product.objects.get(code=code)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    account = factory.SubFactory(AccountFactory)
    product = factory.LazyFunction(product)
    seats = 10
    annual_value = Decimal("12000.00")
    start_date = dt.date(2025, 7, 1)
    term_months = 12
    renewal_date = dt.date(2026, 7, 1)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = choices.OpportunityStage.QUALIFIED
    amount = Decimal("5000.00")
    owner = factory.SubFactory(UserFactory, roles=["sales_rep"])


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    account = factory.SubFactory(AccountFactory)
    summary = factory.Sequence(lambda n: f"Called about item {n}")


class AliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountAlias

    account = factory.SubFactory(AccountFactory)
    value = factory.Sequence(lambda n: f"Alias {n}")


# --- Duplicates -------------------------------------------------------------------------


class DuplicateCandidateFactory(factory.django.DjangoModelFactory):
    """An open pair in the review queue; `account_a` is created first, so has the lower id."""

    class Meta:
        model = DuplicateCandidate

    account_a = factory.SubFactory(AccountFactory, legal_name="Acme Pty Ltd")
    account_b = factory.SubFactory(AccountFactory, legal_name="ACME")
    score = 90
    evidence = factory.LazyFunction(lambda: ["same name after removing 'Pty Ltd'"])


class ContactDuplicateCandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactDuplicateCandidate

    contact_a = factory.SubFactory(ContactFactory, first_name="Jane", last_name="Citizen")
    contact_b = factory.SubFactory(ContactFactory, first_name="Jane", last_name="Citizen")
    score = 90
    evidence = factory.LazyFunction(lambda: ["same email address (jane.citizen@example.com)"])


class AccountMergeFactory(factory.django.DjangoModelFactory):
    """A merge record as the merge service leaves it (for pages that show one)."""

    class Meta:
        model = AccountMerge

    survivor = factory.SubFactory(AccountFactory)
    duplicate = factory.SubFactory(AccountFactory, merged_into=factory.SelfAttribute("..survivor"))
    merged_by = factory.SubFactory(UserFactory, roles=["data_steward"])
    reason = "Same client entered twice"


class ContactMergeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMerge

    survivor = factory.SubFactory(ContactFactory)
    duplicate = factory.SubFactory(ContactFactory, merged_into=factory.SelfAttribute("..survivor"))
    merged_by = factory.SubFactory(UserFactory, roles=["data_steward"])
    reason = "Same person entered twice"
