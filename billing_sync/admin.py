"""Steward admin: browse the Xero contacts and the discrepancies with their history.

Read-only: contacts are mapped on /billing/contacts/, discrepancies resolved on
/billing/discrepancies/.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from billing_sync.models import Discrepancy, XeroContact
from cloudcore_crm.lib.admin import StewardReadOnlyMixin


class ReadOnlyStewardAdmin(StewardReadOnlyMixin, SimpleHistoryAdmin):
    pass


@admin.register(XeroContact)
class XeroContactAdmin(ReadOnlyStewardAdmin):
    list_display = ["name", "status", "method", "account", "tax_number"]
    list_filter = ["status", "method"]
    search_fields = ["name", "tax_number", "account_number"]
    list_select_related = ["account"]


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyStewardAdmin):
    list_display = ["pk", "account", "cause", "status", "amount", "opened_at"]
    list_filter = ["status", "cause"]
    list_select_related = ["account"]
