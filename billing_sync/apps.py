from django.apps import AppConfig


class BillingSyncConfig(AppConfig):
    """Xero reconciliation: imports, contact mapping and the discrepancy queue."""

    name = "billing_sync"
    verbose_name = "Billing sync (Xero)"

    def ready(self) -> None:
        from billing_sync import panels
        from cloudcore_crm.lib.panels import Panel, register

        register(Panel("home", "billing_queue", "billing_sync/partials/home_panel.html", panels.home_queue, 20))
        register(
            Panel(
                "account_360", "billing_discrepancies", "billing_sync/partials/account_panel.html", panels.account, 20
            )
        )
        register(
            Panel("onboarding_order", "billing_handoff", "billing_sync/partials/order_panel.html", panels.order_billing)
        )
        register(
            Panel(
                "agent_lookup", "billing_discrepancies", "billing_sync/partials/account_panel.html", panels.account, 20
            )
        )
