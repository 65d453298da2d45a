"""Filters for the customer list."""

from __future__ import annotations

import django_filters
from django import forms

from cloudcore_crm.roles import SALES_REP
from customers import choices
from customers.forms import StaffChoiceField, staff_with_role
from customers.models import Account, Product


class StaffFilter(django_filters.ModelChoiceFilter):
    field_class = StaffChoiceField


class AccountFilter(django_filters.FilterSet):
    """Search and narrow the customer list; every filter is an indexed query or an IN subquery
    over partial indexes (see AccountQuerySet)."""

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name, code, ABN or alias", "type": "search"}),
    )
    owner = StaffFilter(queryset=staff_with_role(SALES_REP), label="Owner", empty_label="Any owner")
    office = django_filters.ChoiceFilter(choices=choices.Office.choices, empty_label="Any office")
    lifecycle_status = django_filters.ChoiceFilter(
        choices=choices.LifecycleStatus.choices, label="Status", empty_label="Any status"
    )
    product = django_filters.ModelChoiceFilter(
        queryset=Product.objects.filter(is_active=True),
        method="filter_product",
        label="Product",
        empty_label="Any product",
    )
    renewal_within = django_filters.NumberFilter(
        method="filter_renewal_within",
        label="Renewing within (days)",
        min_value=0,
        max_value=3650,
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 90"}),
    )

    class Meta:
        model = Account
        fields = ["q", "owner", "office", "lifecycle_status", "product", "renewal_within"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_product(self, queryset, name, value):
        return queryset.with_product(value) if value else queryset

    def filter_renewal_within(self, queryset, name, value):
        return queryset if value is None else queryset.renewing_within(int(value))
