from django.apps import AppConfig


class MigrationConfig(AppConfig):
    """Importers of the legacy stores (D1-D7) into the golden record."""

    name = "migration"
    label = "migration"
    verbose_name = "Legacy import"

    def ready(self) -> None:
        from cloudcore_crm.lib.panels import Panel, register
        from migration import panels

        # The D7 calendar's gaps, on the renewals findings page (migration may read any app).
        register(
            Panel(
                "renewal_findings",
                "legacy_calendar",
                "migration/partials/calendar_findings.html",
                panels.calendar_findings,
            )
        )
