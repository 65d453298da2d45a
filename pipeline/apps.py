from django.apps import AppConfig


class PipelineConfig(AppConfig):
    """The shared sales pipeline: board, funnel, forecast and saved views (seed 003)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "pipeline"

    def ready(self) -> None:
        from pipeline import panels

        panels.register_all()
