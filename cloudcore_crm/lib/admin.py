"""Admin pieces shared by the apps: the steward admin is for data stewards only, and no
admin page writes around the services."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from cloudcore_crm.roles import DATA_STEWARD, has_role

REVERT_REFUSED = "Reverting from the admin is not available; change the record on its page, with a reason."


class NoHistoryRevertMixin:
    """Closes django-simple-history's `history_form_view` (the "revert to this version"
    form), which saves with `has_view_permission` alone and no service, ownership check,
    version check or reason. The history list stays readable; a revert that makes sense
    is done on the record's own page, through its service."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        raise PermissionDenied(REVERT_REFUSED)

    def revert_disabled(self, request, obj=None):
        return True


class StewardReadOnlyMixin(NoHistoryRevertMixin):
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


def registered_admins(site: admin.AdminSite | None = None) -> list[admin.ModelAdmin]:
    """Every ModelAdmin on the site (tests walk them to check none writes around a service)."""
    return list((site or admin.site)._registry.values())
