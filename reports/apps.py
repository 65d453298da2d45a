from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Month-end snapshots, the board pack, role dashboards and weekly digests.

    `reports` may read every app; no app imports it. Its dashboards reach the home page
    through the "home" panel slot (cloudcore_crm/lib/panels.py).
    """

    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from reports import dashboards

        dashboards.register_panels()
