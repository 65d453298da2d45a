"""`manage.py seed_demo`: the demo world (imported from the generated legacy estate), its
logins, idempotency and the production guard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.http import HttpRequest
from django.test import override_settings
from django.utils import timezone

from cloudcore_crm.roles import DATA_STEWARD, ROLE_NAMES, SALES_REP
from customers import demo
from customers.choices import ActivityKind, OpportunityKind, OpportunityStage, SubscriptionStatus
from customers.models import Account, AccountAlias, Activity, Contact, Opportunity, Subscription
from customers.validators import abn_is_valid

TRACKED = (Account, Contact, Subscription, Opportunity, Activity, AccountAlias)
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _about(actual: int, expected: int) -> bool:
    return expected * 0.8 <= actual <= expected * 1.2


def _row_counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in TRACKED}
    counts |= {f"{model.__name__} history": model.history.count() for model in TRACKED}
    counts["users"] = get_user_model().objects.count()
    counts["group memberships"] = get_user_model().groups.through.objects.count()
    return counts


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Seed once for the whole module (it takes seconds), inside a transaction rolled back
    at the end so no demo rows leak into other test modules. Each test runs in a savepoint
    inside it. MD5 here too, as the per-test hasher fixture is not active yet."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=MD5), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_seed_demo_builds_the_cloudcore_world(demo_world):
    # 500 planned clients; the three Acme spellings are one client, so the import makes 498;
    # each of the six reps' workbooks has a lead for a company that is no client yet (six
    # prospects); then three look-alikes entered again by other teams wait in the
    # duplicate queue.
    assert Account.objects.count() == 507
    assert Account.objects.filter(lifecycle_status="prospect", contacts=None).count() == 6
    assert _about(Contact.objects.count(), 1500)
    assert _about(Subscription.objects.count(), 1200)
    assert _about(Opportunity.objects.count(), 300)
    codes = set(Account.objects.values_list("code", flat=True))
    assert codes == {f"CC{n:03d}" for n in range(1, 510)} - {"CC187", "CC342"}
    perth = Account.objects.filter(office="perth").count()
    assert 250 <= perth <= 350

    reps = get_user_model().objects.filter(groups__name=SALES_REP)
    assert reps.count() == 6
    assert set(Account.objects.values_list("owner__username", flat=True)) == set(
        reps.values_list("username", flat=True)
    )
    assert all(abn_is_valid(abn) for abn in Account.objects.exclude(abn="").values_list("abn", flat=True))
    assert Contact.objects.filter(is_primary=True).count() == 498

    today = timezone.localdate()
    live = Subscription.objects.live()
    assert live.filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=90)).exists()
    assert live.filter(renewal_date__lt=today).exists()  # overdue renewals
    assert Subscription.objects.filter(renewal_date__isnull=True).exists()  # data-quality findings
    assert Subscription.objects.filter(status=SubscriptionStatus.ACTIVE).count() > Subscription.objects.count() * 0.7

    assert "http://127.0.0.1:8000" in demo_world
    assert all(f"{role} " in demo_world for role in ROLE_NAMES)
    assert "cloudcore-demo" in demo_world


@pytest.mark.django_db
def test_cc009_is_upsold_while_its_support_tickets_pile_up(demo_world):
    meridian = Account.objects.get(code="CC009")

    assert meridian.lifecycle_status == "active"
    assert meridian.segment == "mid"
    assert meridian.subscriptions.filter(status=SubscriptionStatus.ACTIVE).count() >= 3
    assert meridian.opportunities.open().filter(kind=OpportunityKind.UPSELL, stage=OpportunityStage.PROPOSAL).exists()
    tickets = meridian.activities.filter(kind=ActivityKind.TICKET)
    assert tickets.count() == 7
    assert tickets.filter(occurred_at__lt=timezone.now() - dt.timedelta(days=183)).count() == 0
    assert tickets.filter(detail__contains="4.2/10").exists()


@pytest.mark.django_db
def test_acme_recorded_three_ways_in_the_legacy_stores_is_one_account(demo_world):
    acme = Account.objects.get(normalised_name="acme")

    assert acme.legal_name == "Acme Pty Ltd" and acme.abn == "99612345678"
    # Its own row and the "ACME" and "Acme" rows typed later all landed on this account.
    from migration.models import Provenance

    provenance = Provenance.objects.get(store="d1", content_type__model="account", object_id=acme.pk)
    assert len(provenance.rows) >= 3


@pytest.mark.django_db
def test_the_demo_world_came_through_the_import_with_provenance(demo_world):
    from migration.models import ImportConflict, ImportRun, Provenance

    run = ImportRun.objects.get()
    assert run.status == "succeeded" and run.started_by.username == DATA_STEWARD
    assert Provenance.objects.filter(store="d1").count() >= 498
    assert ImportConflict.objects.filter(field="annual_value").exists()  # Xero and the master disagree
    meridian = Account.objects.get(code="CC009")
    assert meridian.history.earliest().history_change_reason.startswith(f"Import run #{run.pk}")


@pytest.mark.django_db
def test_every_demo_login_works_with_the_demo_password(demo_world, client):
    usernames = [member.username for member in demo.demo_staff()]

    assert set(ROLE_NAMES) <= set(usernames)
    for username in usernames:
        # django-axes authenticates only with a request, which Client.login does not pass.
        assert client.login(request=HttpRequest(), username=username, password="cloudcore-demo"), username
        client.logout()
    assert not client.login(request=HttpRequest(), username=SALES_REP, password="not-the-demo-password")
    for role in ROLE_NAMES:
        user = get_user_model().objects.get(username=role)
        assert user.groups.filter(name=role).exists()
        assert user.first_name and user.last_name
        assert user.is_staff == (role == DATA_STEWARD)


@pytest.mark.django_db
def test_running_seed_demo_again_changes_nothing(demo_world):
    before = _row_counts()

    out = StringIO()
    call_command("seed_demo", "--seed", "7", stdout=out)

    assert _row_counts() == before
    assert "not loaded again" in out.getvalue()
    assert "sales_rep" in out.getvalue()  # `make run` still prints the logins


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    users = get_user_model().objects.count()

    with pytest.raises(CommandError, match="disabled in production"):
        call_command("seed_demo", stdout=StringIO())

    assert get_user_model().objects.count() == users


def test_the_same_seed_plans_the_same_world():
    today = dt.date(2026, 3, 1)

    first = demo.plan_world(seed=2026, today=today)

    assert first == demo.plan_world(seed=2026, today=today)
    assert first != demo.plan_world(seed=7, today=today)
    abns = [plan.fields["abn"] for plan in first if plan.fields["abn"]]
    assert all(abn_is_valid(abn) for abn in abns)
    assert len(set(abns)) == len(abns)  # no accidental duplicates: only Acme is meant to be one


def test_renewal_dates_roll_whole_months():
    assert demo.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert demo.add_months(dt.date(2023, 11, 15), 36) == dt.date(2026, 11, 15)
    assert demo.add_months(dt.date(2026, 3, 31), -13) == dt.date(2025, 2, 28)


@pytest.mark.django_db
def test_the_demo_duplicate_queue_holds_pairs_of_different_kinds_with_evidence(demo_world):
    from customers.models import ContactDuplicateCandidate, DuplicateCandidate

    pairs = list(DuplicateCandidate.objects.open())
    assert len(pairs) >= 3
    evidence = " ".join(" ".join(p.evidence) for p in pairs)
    assert "same ABN" in evidence
    assert "trading name" in evidence
    assert "one letter apart" in evidence
    assert ContactDuplicateCandidate.objects.open().exists()
    assert Account.objects.filter(normalised_name="acme").count() == 1


@pytest.mark.django_db
def test_the_demo_review_queues_hold_a_few_realistic_items(demo_world):
    from migration.models import ImportConflict, MatchReview

    assert 1 <= ImportConflict.objects.filter(status="open").count() <= 10
    assert {"annual_value", "renewal_date"} <= set(
        ImportConflict.objects.filter(status="open").values_list("field", flat=True)
    )
    reviews = MatchReview.objects.filter(status="open")
    assert 2 <= reviews.count() <= 10
    assert reviews.values("incoming_name").distinct().count() < reviews.count()  # one spelling on several rows
    assert all(r.candidates for r in reviews)


@pytest.mark.django_db
def test_the_demo_shows_subscriptions_from_xero_and_the_calendar_and_drift_for_finance(demo_world):
    from migration.choices import ConflictKind
    from migration.models import EvidencedSubscription, ImportConflict

    found = [e for e in EvidencedSubscription.objects.select_related("subscription") if "d4" in e.stores]
    assert len(found) >= 20
    with_both = [e for e in found if "d7" in e.stores and e.subscription.renewal_date and e.subscription.annual_value]
    assert with_both
    several = Account.objects.filter(evidenced_subscriptions__isnull=False).distinct()
    assert all(a.subscriptions.count() >= 2 for a in several[:20])
    assert ImportConflict.objects.filter(kind=ConflictKind.DRIFT, status="open").exists()
