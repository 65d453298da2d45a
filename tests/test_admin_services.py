"""The steward admin writes only through the services: no history "revert" form on any
admin, a steward's save is checked against the version they loaded, and the webhook
inbox's pages answer."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from cloudcore_crm.lib.admin import registered_admins
from customers import services
from customers.models import Account
from support_bridge.choices import EventStatus, RiskBand
from support_bridge.models import ChurnAlert, RiskScore, Ticket, WebhookEvent
from tests.factories import AccountFactory, UserFactory
from tests.factories_support import ChurnAlertFactory, RiskScoreFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _history_form_url(obj, history_id) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[obj.pk, history_id])


def _older_version(obj, **changes):
    """Record the object's current version in history, then change it; return the old row."""
    old = obj.history.order_by("history_id").last()
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()
    return old


def test_every_history_admin_refuses_its_revert_form(client_for, personas):
    """Walk every registered admin: a history-aware one must refuse GET and POST on the
    revert form (it would save the old version with no service and no reason)."""
    client = client_for("data_steward")
    account = AccountFactory(owner=personas["sales_rep"])
    ticket = TicketFactory(account=account)
    samples = {
        "account": account,
        "ticket": ticket,
        "riskscore": RiskScoreFactory(account=account),
        "churnalert": ChurnAlertFactory(account=account),
    }
    checked = 0
    for model_admin in registered_admins():
        if not isinstance(model_admin, SimpleHistoryAdmin):
            continue
        obj = samples.get(model_admin.model._meta.model_name) or model_admin.model._default_manager.first()
        if obj is None:
            continue
        row = obj.history.first()
        if row is None:
            continue
        url = _history_form_url(obj, row.history_id)
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url
        checked += 1
    assert checked >= 4


def test_steward_cannot_rewrite_a_risk_score_through_the_history_form(client_for):
    score = RiskScoreFactory(score=80, band=RiskBand.HIGH)
    old = _older_version(score, score=20, band=RiskBand.LOW)

    response = client_for("data_steward").post(_history_form_url(score, old.history_id), {})

    assert response.status_code == 403
    score.refresh_from_db()
    assert (score.score, score.band) == (20, RiskBand.LOW)


def test_steward_cannot_move_a_ticket_or_clear_an_acknowledgement_through_the_history_form(client_for, personas):
    first, second = AccountFactory(), AccountFactory()
    ticket = TicketFactory(account=first)
    old_ticket = _older_version(ticket, account=second)
    alert = ChurnAlertFactory(account=first, owner=personas["sales_rep"])
    old_alert = _older_version(alert, acknowledged_by=personas["sales_rep"], note="Called them")
    ChurnAlert.objects.filter(pk=alert.pk).update(acknowledged_at="2026-01-01T00:00:00Z")
    client = client_for("data_steward")

    assert client.post(_history_form_url(ticket, old_ticket.history_id), {}).status_code == 403
    assert client.post(_history_form_url(alert, old_alert.history_id), {}).status_code == 403

    assert Ticket.objects.get(pk=ticket.pk).account_id == second.pk
    assert ChurnAlert.objects.get(pk=alert.pk).acknowledged_at is not None


def _change_form_data(response) -> dict:
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


def test_steward_save_does_not_revert_a_change_made_meanwhile(client_for, personas):
    account = AccountFactory(legal_name="Original Pty Ltd", phone="08 9000 0000")
    client = client_for("data_steward")
    url = reverse("admin:customers_account_change", args=[account.pk])
    data = _change_form_data(client.get(url))  # the steward opens the form

    services.update_account(
        account=account,
        changes={"phone": "08 9111 2222"},
        expected_version=account.version,
        actor=personas["customer_relations"],
        reason="New switchboard",
    )
    data.update(legal_name="Steward Rename Pty Ltd", change_reason="Registered name")
    response = client.post(url, data)

    assert response.status_code == 200  # the form again, with the conflict
    assert "changed phone from" in response.content.decode().lower()
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.phone == "08 9111 2222"
    assert fresh.legal_name == "Original Pty Ltd"


def test_steward_save_on_an_unchanged_record_goes_through_the_service(client_for):
    account = AccountFactory(legal_name="Original Pty Ltd")
    client = client_for("data_steward")
    url = reverse("admin:customers_account_change", args=[account.pk])
    data = _change_form_data(client.get(url))
    data.update(legal_name="Steward Rename Pty Ltd", change_reason="Registered name")

    response = client.post(url, data)

    assert response.status_code == 302
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.legal_name == "Steward Rename Pty Ltd"
    assert fresh.version == account.version + 1
    assert fresh.history.first().history_change_reason == "Registered name"


def test_webhook_event_pages_answer_in_the_admin(client_for):
    event = WebhookEvent.objects.create(event_id="adm-1", body="{}", status=EventStatus.UNMAPPED)
    client = client_for("data_steward")

    assert client.get(reverse("admin:support_bridge_webhookevent_change", args=[event.pk])).status_code == 200
    assert client.get(reverse("admin:support_bridge_webhookevent_history", args=[event.pk])).status_code == 200
    assert not isinstance(admin.site._registry[WebhookEvent], SimpleHistoryAdmin)


def test_only_stewards_reach_the_admin_history(client):
    rep = UserFactory(roles=["sales_rep"], is_staff=True)
    score = RiskScoreFactory()
    client.force_login(rep)
    old = score.history.first()
    assert client.post(_history_form_url(score, old.history_id), {}).status_code in (302, 403)
    assert RiskScore.objects.get(pk=score.pk).score == score.score
