from django.apps import AppConfig


class MigrationConfig(AppConfig):
    """Importers of the legacy stores (D1-D7) into the golden record."""

    name = "migration"
    label = "migration"
    verbose_name = "Legacy import"
