from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    """Renewal cases per subscription term: nightly scan, reminders, board, calendar feeds."""

    name = "renewals"
    verbose_name = "Renewals"

    def ready(self) -> None:
        from cloudcore_crm.lib.panels import Panel, register
        from renewals import panels

        register(Panel("home", "renewal_notices", "renewals/partials/home_notices.html", panels.home_notices, 5))
        register(Panel("account_360", "renewal_cases", "renewals/partials/case_panel.html", panels.account_cases, 20))
        register(Panel("lookup_account", "renewal_cases", "renewals/partials/case_panel.html", panels.lookup_cases))
        register(Panel("profile", "calendar_feeds", "renewals/partials/calendar_feeds.html", panels.profile_feeds))
