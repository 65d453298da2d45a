from django.apps import AppConfig


class SupportBridgeConfig(AppConfig):
    """Helpdesk integration: ticket mirror, agent lookup, churn risk and alerts."""

    name = "support_bridge"
    verbose_name = "Support bridge"

    def ready(self) -> None:
        from cloudcore_crm.lib import account_facts
        from cloudcore_crm.lib.panels import Panel, register
        from support_bridge import panels

        register(Panel("home", "churn_alerts", "support_bridge/partials/home_alerts.html", panels.home_alerts, 10))
        register(Panel("account_360", "churn_risk", "support_bridge/partials/risk_panel.html", panels.account_risk, 10))
        register(
            Panel(
                "account_360_opportunities",
                "upsell_warning",
                "support_bridge/partials/upsell_warning.html",
                panels.upsell_warning,
            )
        )
        register(Panel("search", "tickets", "support_bridge/partials/search_tickets.html", panels.search_tickets))
        register(
            Panel("search_suggest", "tickets", "support_bridge/partials/suggest_tickets.html", panels.search_tickets)
        )
        register(
            Panel(
                "opportunity_form",
                "upsell_warning",
                "support_bridge/partials/upsell_warning.html",
                panels.opportunity_form_warning,
            )
        )
        # Renewals weight their forecast by this band without importing support_bridge.
        account_facts.register(
            account_facts.CHURN_RISK_BAND,
            account_facts.Fact(expression=panels.risk_band_expression, accounts=panels.accounts_in_band),
        )
