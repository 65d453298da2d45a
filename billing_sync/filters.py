"""Filters for the discrepancy queue: owner, age, amount, cause, status."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone

from billing_sync import orders
from billing_sync.choices import Cause, DiscrepancyStatus, HandoffStatus
from billing_sync.models import Discrepancy
from cloudcore_crm.roles import FINANCE
from customers.filters import StaffFilter
from customers.forms import staff_with_role


class DiscrepancyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Client code or name", "type": "search"}),
    )
    status = django_filters.ChoiceFilter(choices=DiscrepancyStatus.choices, empty_label="Any status", label="Status")
    cause = django_filters.ChoiceFilter(choices=Cause.choices, empty_label="Any cause")
    owner = StaffFilter(queryset=staff_with_role(FINANCE), label="Owner", empty_label="Any owner")
    min_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label="At stake from ($)", min_value=0
    )
    older_than = django_filters.NumberFilter(
        method="filter_older_than", label="Open for more than (days)", min_value=0, max_value=3650
    )

    class Meta:
        model = Discrepancy
        fields = ["q", "status", "cause", "owner", "min_amount", "older_than"]

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        if value.upper().startswith("CC") and value[2:].isdigit():
            return queryset.filter(account__code=value.upper())
        return queryset.filter(account__legal_name__icontains=value)

    def filter_older_than(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(opened_at__lte=timezone.now() - dt.timedelta(days=int(value)))


class HandoffFilter(django_filters.FilterSet):
    """The billing hand-offs (activated orders) on Finance's page: by status, order ID or client."""

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Order ID, client code or name", "type": "search"}),
    )
    status = django_filters.ChoiceFilter(
        choices=HandoffStatus.choices, method="filter_status", empty_label="Any status", label="Status"
    )

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        if value.upper().startswith("ORD-"):
            return queryset.filter(order_ref__istartswith=value)
        if value.upper().startswith("CC") and value[2:].isdigit():
            return queryset.filter(order__account__code=value.upper())
        return queryset.filter(order__account__legal_name__icontains=value)

    def filter_status(self, queryset, name, value):
        return orders.with_status(queryset, value, today=timezone.localdate()) if value else queryset
