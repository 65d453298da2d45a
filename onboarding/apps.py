from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    """New-client orders: one shared order ID from a won deal to an active, billed subscription."""

    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self) -> None:
        from cloudcore_crm.lib.panels import Panel, register
        from onboarding import panels

        register(
            Panel(
                "account_360", "onboarding_orders", "onboarding/partials/account_panel.html", panels.account_orders, 20
            )
        )
