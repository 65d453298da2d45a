"""Admin pieces shared by the apps: the steward admin is for data stewards only."""

from __future__ import annotations

from cloudcore_crm.roles import DATA_STEWARD, has_role


class StewardReadOnlyMixin:
    """Visible to data stewards, and read-only: these records are written by their
    services and pages (imports, risk runs, the helpdesk), never edited by hand here."""

    def has_module_permission(self, request):
        return has_role(request.user, DATA_STEWARD)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, DATA_STEWARD)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
