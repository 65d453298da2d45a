"""Import records in the steward admin: read-only (imports and resolutions have pages)."""

from django.contrib import admin

from cloudcore_crm.lib.admin import StewardReadOnlyMixin
from migration.models import (
    EvidencedSubscription,
    HeldValue,
    ImportConflict,
    ImportFile,
    ImportRun,
    MatchReview,
    ProductAlias,
    Provenance,
    StaffAlias,
    StageWord,
    SurveyLabel,
)


class ReadOnlyStewardAdmin(StewardReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyStewardAdmin):
    list_display = ["pk", "created_at", "started_by", "dry_run", "status"]
    list_filter = ["status", "dry_run"]
    list_select_related = ["started_by"]


@admin.register(ImportFile)
class ImportFileAdmin(ReadOnlyStewardAdmin):
    list_display = ["name", "run", "store", "status"]
    list_filter = ["store", "status"]


@admin.register(Provenance)
class ProvenanceAdmin(ReadOnlyStewardAdmin):
    list_display = ["content_type", "object_id", "store", "file", "sheet", "rows_label", "run"]
    list_filter = ["store", "content_type"]
    search_fields = ["file"]


@admin.register(ImportConflict)
class ImportConflictAdmin(ReadOnlyStewardAdmin):
    list_display = ["account", "field", "kept_value", "kept_store", "other_value", "other_store", "status"]
    list_filter = ["field", "status"]
    list_select_related = ["account"]


@admin.register(MatchReview)
class MatchReviewAdmin(ReadOnlyStewardAdmin):
    list_display = ["incoming_name", "store", "file", "row", "status"]
    list_filter = ["status", "store"]


@admin.register(ProductAlias)
class ProductAliasAdmin(ReadOnlyStewardAdmin):
    list_display = ["value", "product", "created_by", "created_at"]
    list_select_related = ["product", "created_by"]
    search_fields = ["value"]


@admin.register(StaffAlias)
class StaffAliasAdmin(ReadOnlyStewardAdmin):
    list_display = ["value", "user", "created_by", "created_at"]
    list_select_related = ["user", "created_by"]
    search_fields = ["value"]


@admin.register(SurveyLabel)
class SurveyLabelAdmin(ReadOnlyStewardAdmin):
    list_display = ["value", "score", "created_by", "created_at"]
    list_select_related = ["created_by"]


@admin.register(StageWord)
class StageWordAdmin(ReadOnlyStewardAdmin):
    list_display = ["value", "stage", "created_by", "created_at"]
    list_select_related = ["created_by"]


@admin.register(HeldValue)
class HeldValueAdmin(ReadOnlyStewardAdmin):
    list_display = ["value", "kind", "rows", "status", "mapped_to"]
    list_filter = ["kind", "status"]


@admin.register(EvidencedSubscription)
class EvidencedSubscriptionAdmin(ReadOnlyStewardAdmin):
    list_display = ["account", "product", "stores", "status", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["account", "product", "decided_by"]
