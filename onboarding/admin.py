"""Read-mostly steward admin for orders; every change goes through the services."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cloudcore_crm.lib.admin import StewardReadOnlyMixin
from onboarding.models import ExceptionCase, Order, OrderEvent, ProvisioningTask


class ReadOnlyAdmin(StewardReadOnlyMixin, SimpleHistoryAdmin):
    """Data stewards view orders, tasks and exceptions here (with their history); the
    onboarding pages change them, through the services."""


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "account", "new_client_name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["order_id", "account__code", "account__legal_name", "new_client_name"]


@admin.register(ProvisioningTask)
class ProvisioningTaskAdmin(ReadOnlyAdmin):
    list_display = ["reference", "status", "auto", "assignee", "tenancy_ref"]
    list_filter = ["status", "auto"]
    search_fields = ["reference", "tenancy_ref"]


@admin.register(ExceptionCase)
class ExceptionCaseAdmin(ReadOnlyAdmin):
    list_display = ["order_ref", "reason_code", "owner", "opened_at", "resolved_at"]
    list_filter = ["reason_code"]


@admin.register(OrderEvent)
class OrderEventAdmin(StewardReadOnlyMixin, admin.ModelAdmin):
    list_display = ["order_ref", "kind", "summary", "actor", "at"]
    list_filter = ["kind"]
