"""Filters for the pipeline board, list and funnel."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from cloudcore_crm.roles import SALES_REP
from customers import choices
from customers.filters import ProductFilter, StaffFilter
from customers.forms import staff_with_role
from customers.models import Opportunity, Product
from pipeline import metrics


class DealFilter(django_filters.FilterSet):
    """Owner, office, product, source and quarter (of the expected close), plus a search."""

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Deal or customer", "type": "search"}),
    )
    owner = StaffFilter(queryset=staff_with_role(SALES_REP), label="Owner", empty_label="Any owner")
    office = django_filters.ChoiceFilter(
        field_name="account__office", choices=choices.Office.choices, label="Office", empty_label="Any office"
    )
    product = ProductFilter(queryset=Product.objects.filter(is_active=True), label="Product", empty_label="Any product")
    source = django_filters.ChoiceFilter(
        choices=choices.OpportunitySource.choices, label="Source", empty_label="Any source"
    )
    quarter = django_filters.CharFilter(
        method="filter_quarter",
        label="Closing in quarter",
        widget=forms.TextInput(attrs={"placeholder": "e.g. 2027-Q1"}),
    )

    class Meta:
        model = Opportunity
        fields = ["q", "owner", "office", "product", "source", "quarter"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(account__legal_name__icontains=value) | Q(account__code__iexact=value)
        )

    def filter_quarter(self, queryset, name, value):
        quarter = metrics.parse_quarter(value)
        if quarter is None:
            return queryset
        start, end = metrics.quarter_bounds(*quarter)
        return queryset.filter(expected_close__range=(start, end))

    def clean_quarter_value(self) -> tuple[int, int] | None:
        return metrics.parse_quarter(self.form.cleaned_data.get("quarter") or "") if self.is_valid() else None


def bound(data) -> tuple[DealFilter, list[str]]:
    """A filter over the request's values with every invalid one dropped, and a note naming
    what was dropped (a bad value never silently widens into 'everything' unannounced)."""
    data = data.copy()
    dropped: list[str] = []
    quarter = data.get("quarter", "").strip()
    if quarter and metrics.parse_quarter(quarter) is None:
        data.pop("quarter")
        dropped.append(f"quarter “{quarter}” (write it like 2027-Q1)")
    filterset = DealFilter(data or None, queryset=Opportunity.objects.all())
    if filterset.is_bound and not filterset.is_valid():
        for name in list(filterset.errors):
            dropped.append(f"{filterset.form.fields[name].label.lower()} “{data.get(name)}”")
            data.pop(name, None)
        filterset = DealFilter(data or None, queryset=Opportunity.objects.all())
    return filterset, dropped
