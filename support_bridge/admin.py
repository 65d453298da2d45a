"""Steward admin: browse the mirror, scores, alerts and the webhook inbox with history.

Read-only: tickets come from the helpdesk, scores from the risk run, alerts are
acknowledged by their owner, and unmapped events are mapped on /support/unmapped/.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cloudcore_crm.lib.admin import StewardReadOnlyMixin
from support_bridge.models import ChurnAlert, RiskScore, Ticket, WebhookEvent


class ReadOnlyStewardAdmin(StewardReadOnlyMixin, SimpleHistoryAdmin):
    pass


class ReadOnlyStewardPlainAdmin(StewardReadOnlyMixin, admin.ModelAdmin):
    """For a model without history (the webhook inbox is its own audit trail): the
    history-aware admin would answer its history pages with a 500."""


@admin.register(Ticket)
class TicketAdmin(ReadOnlyStewardAdmin):
    list_display = ["external_id", "source", "account", "subject", "status", "priority", "opened_at", "satisfaction"]
    list_filter = ["source", "status", "priority"]
    search_fields = ["external_id", "subject", "account__code"]
    list_select_related = ["account"]


@admin.register(RiskScore)
class RiskScoreAdmin(ReadOnlyStewardAdmin):
    list_display = ["account", "score", "band", "computed_at"]
    list_filter = ["band"]
    search_fields = ["account__code", "account__legal_name"]
    list_select_related = ["account"]


@admin.register(ChurnAlert)
class ChurnAlertAdmin(ReadOnlyStewardAdmin):
    list_display = ["created_at", "account", "kind", "owner", "score", "acknowledged_at"]
    list_filter = ["kind"]
    search_fields = ["account__code"]
    list_select_related = ["account", "owner"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyStewardPlainAdmin):
    list_display = ["received_at", "event_type", "ticket_external_id", "status", "resolution", "account"]
    list_filter = ["status", "resolution"]
    search_fields = ["event_id", "ticket_external_id", "organization_id"]
    list_select_related = ["account"]
