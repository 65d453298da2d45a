"""The data-steward admin: browse every record with its history; edits go through the
same services as the product UI (with a required reason), so ownership and history hold."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin

from cloudcore_crm.lib.admin import NoHistoryRevertMixin, StewardReadOnlyMixin
from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, SALES_REP, has_role
from customers import ownership, services
from customers.errors import ConflictError, OwnershipError
from customers.forms import StaffChoiceField, staff_with_role
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
)
from customers.services import changes_since


class StewardChangeForm(forms.ModelForm):
    change_reason = forms.CharField(max_length=300, help_text="Why are you changing this record? Shown in History.")
    # The version the steward loaded: a save is checked against it, so a change someone
    # made meanwhile is shown as a conflict instead of silently reverted.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if hasattr(self.instance, "version") and self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version
            self.fields["seen_version"].required = True
        else:
            del self.fields["seen_version"]

    def clean(self):
        cleaned = super().clean()
        seen = cleaned.get("seen_version")
        if seen is None or "seen_version" not in self.fields:
            return cleaned
        model = type(self.instance)
        current = model._default_manager.filter(pk=self.instance.pk).values_list("version", flat=True).first()
        if current is not None and current != seen:
            fresh = model._default_manager.get(pk=self.instance.pk)
            self.conflict = ConflictError(current_version=current, changes=changes_since(fresh, seen))
            raise ValidationError(str(self.conflict))
        return cleaned


class StewardAdmin(NoHistoryRevertMixin, SimpleHistoryAdmin):
    """Visible to data stewards only. No add or delete: records are created on the
    customer pages and removed by merges, so nothing disappears without a trace."""

    form = StewardChangeForm

    def has_module_permission(self, request):
        return has_role(request.user, DATA_STEWARD)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, DATA_STEWARD)

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, DATA_STEWARD)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The app's rules for who may fill a person field: owners are sales reps, coordinators
    # Customer Relations; people are shown by their full names.
    STAFF_FIELDS = {"owner": SALES_REP, "relations_coordinator": CUSTOMER_RELATIONS}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        role = self.STAFF_FIELDS.get(db_field.name)
        if role is not None and db_field.related_model is staff_with_role(role).model:
            kwargs.update(queryset=staff_with_role(role), form_class=StaffChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        extra = ["seen_version"] if hasattr(self.model, "version") and obj is not None else []
        return [*ownership.owned_fields(self.model), "change_reason", *extra]

    def save_model(self, request, obj, form, change):
        local = {"change_reason", "seen_version"}
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name not in local}
        try:
            services.steward_update(
                instance=obj,
                changes=changes,
                expected_version=form.cleaned_data.get("seen_version") if hasattr(obj, "version") else None,
                actor=request.user,
                reason=form.cleaned_data["change_reason"],
            )
        except (OwnershipError, ConflictError, ValidationError) as error:
            raise PermissionDenied(str(error)) from error

    def get_readonly_fields(self, request, obj=None):
        return []


@admin.register(Account)
class AccountAdmin(StewardAdmin):
    list_display = ["code", "legal_name", "trading_name", "office", "lifecycle_status", "owner"]
    list_filter = ["office", "lifecycle_status", "segment"]
    search_fields = ["code", "legal_name", "trading_name", "abn"]
    list_select_related = ["owner"]
    raw_id_fields = ["billing_contact"]


@admin.register(Contact)
class ContactAdmin(StewardAdmin):
    list_display = ["full_name", "account", "email", "phone", "is_primary"]
    search_fields = ["first_name", "last_name", "email", "account__code", "account__legal_name"]
    list_select_related = ["account"]


@admin.register(Subscription)
class SubscriptionAdmin(StewardAdmin):
    list_display = ["account", "product", "seats", "annual_value", "renewal_date", "status"]
    list_filter = ["product", "status"]
    search_fields = ["account__code", "account__legal_name", "tenancy_ref"]
    list_select_related = ["account", "product"]


@admin.register(Opportunity)
class OpportunityAdmin(StewardAdmin):
    list_display = ["name", "account", "stage", "amount", "expected_close", "owner"]
    list_filter = ["stage", "kind"]
    search_fields = ["name", "account__code", "account__legal_name"]
    list_select_related = ["account", "owner"]


@admin.register(Activity)
class ActivityAdmin(StewardAdmin):
    list_display = ["occurred_at", "account", "kind", "summary", "actor"]
    list_filter = ["kind"]
    search_fields = ["summary", "account__code"]
    list_select_related = ["account", "actor"]


@admin.register(AccountAlias)
class AccountAliasAdmin(StewardAdmin):
    list_display = ["value", "kind", "account", "source"]
    list_filter = ["kind"]
    search_fields = ["value", "account__code"]
    list_select_related = ["account"]

    def get_fields(self, request, obj=None):
        return ["account", "kind", "value", "source"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(StewardReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "code", "is_active"]


class StewardReadOnlyAdmin(StewardReadOnlyMixin, admin.ModelAdmin):
    """The duplicate queue and merge records, for stewards to browse: read-only, because
    reviews, merges and undos go through the review pages (and their services)."""


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(StewardReadOnlyAdmin):
    list_display = ["account_a", "account_b", "score", "status", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["account_a__code", "account_b__code", "account_a__legal_name", "account_b__legal_name"]
    list_select_related = ["account_a", "account_b", "reviewed_by"]


@admin.register(ContactDuplicateCandidate)
class ContactDuplicateCandidateAdmin(StewardReadOnlyAdmin):
    list_display = ["contact_a", "contact_b", "score", "status", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["contact_a__email", "contact_b__email", "contact_a__last_name"]
    list_select_related = ["contact_a", "contact_b", "reviewed_by"]


@admin.register(AccountMerge)
class AccountMergeAdmin(StewardReadOnlyAdmin):
    list_display = ["duplicate", "survivor", "merged_by", "merged_at", "undone_at"]
    search_fields = ["duplicate__code", "survivor__code", "reason"]
    list_select_related = ["duplicate", "survivor", "merged_by"]


@admin.register(ContactMerge)
class ContactMergeAdmin(StewardReadOnlyAdmin):
    list_display = ["duplicate", "survivor", "merged_by", "merged_at", "undone_at"]
    search_fields = ["duplicate__email", "survivor__email", "reason"]
    list_select_related = ["duplicate", "survivor", "merged_by"]
