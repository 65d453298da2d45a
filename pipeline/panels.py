"""Boxes the pipeline adds to other apps' pages (see cloudcore_crm/lib/panels.py): the
quarter's forecast on a sales home page, and saved views above the customer list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from cloudcore_crm.lib.panels import Panel, register
from cloudcore_crm.roles import SALES_MANAGER, SALES_REP, has_role
from customers.models import Opportunity
from pipeline import metrics
from pipeline.choices import ViewPage, Visibility
from pipeline.models import SavedView
from pipeline.services import clean_query


def home_forecast(request: HttpRequest, user) -> dict[str, Any] | None:
    """A rep sees their own quarter; a sales manager the team's (two queries)."""
    manager = has_role(user, SALES_MANAGER)
    if not (manager or has_role(user, SALES_REP)):
        return None
    quarter = metrics.quarter_of(timezone.localdate())
    start, end = metrics.quarter_bounds(*quarter)
    deals = Opportunity.objects.all() if manager else Opportunity.objects.filter(owner=user)
    rows = [
        ("", stage, amount, False)
        for stage, amount in deals.open().filter(expected_close__range=(start, end)).values_list("stage", "amount")
    ]
    rows += [
        ("", stage, amount, True)
        for stage, amount in deals.filter(
            stage="won", stage_changes__to_stage="won", stage_changes__at__date__range=(start, end)
        )
        .distinct()
        .values_list("stage", "amount")
    ]
    _, totals = metrics.forecast(rows)
    return {"quarter": metrics.quarter_label(*quarter), "totals": totals, "team": manager}


def customer_list_views(request: HttpRequest, _obj) -> dict[str, Any] | None:
    return {
        "saved_views": SavedView.objects.visible_to(request.user, ViewPage.CUSTOMERS),
        "view_page": ViewPage.CUSTOMERS,
        "visibility_choices": Visibility.choices,
        "current_query": clean_query(request.GET.urlencode()),
    }


def register_all() -> None:
    register(Panel("home", "pipeline_forecast", "pipeline/partials/home_forecast.html", home_forecast, 30))
    register(Panel("account_list", "saved_views", "pipeline/partials/saved_views.html", customer_list_views, 10))
