"""Filters for the renewals board (and its export)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from cloudcore_crm.roles import SALES_REP
from customers import choices as customer_choices
from customers.filters import ProductFilter, StaffFilter
from customers.forms import staff_with_role
from customers.models import Product
from renewals import choices
from renewals.querysets import in_band, today, window_of

BANDS = [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("none", "No score")]


class RenewalCaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Client code or name", "type": "search"}),
    )
    status = django_filters.ChoiceFilter(
        choices=choices.CaseStatus.choices, empty_label="Unresolved", method="filter_status"
    )
    window = django_filters.ChoiceFilter(
        choices=choices.Window.choices, label="Due window", empty_label="Any window", method="filter_window"
    )
    owner = StaffFilter(
        queryset=staff_with_role(SALES_REP), field_name="account__owner", label="Owner", empty_label="Any owner"
    )
    office = django_filters.ChoiceFilter(
        choices=customer_choices.Office.choices, field_name="account__office", label="Office", empty_label="Any office"
    )
    product = ProductFilter(
        queryset=Product.objects.filter(is_active=True),
        field_name="subscription__product",
        label="Product",
        empty_label="Any product",
    )
    min_value = django_filters.NumberFilter(
        field_name="value_at_stake", lookup_expr="gte", label="Value at least (AUD)", min_value=0
    )
    band = django_filters.ChoiceFilter(choices=BANDS, label="Churn risk", empty_label="Any risk", method="filter_band")

    class Meta:
        fields = ["q", "status", "window", "owner", "office", "product", "min_value", "band"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(account__code__iexact=value)
            | Q(account__legal_name__icontains=value)
            | Q(account__trading_name__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value)

    def filter_window(self, queryset, name, value):
        return queryset.alias(window=window_of("term_end", today())).filter(window=value)

    def filter_band(self, queryset, name, value):
        return in_band(queryset, value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.unresolved()
        return queryset
