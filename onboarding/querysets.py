"""Named reads for onboarding pages; each owns its joins, so no page runs a query per row."""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Prefetch, Q

from onboarding.choices import OrderStatus, TaskStatus

_ORDER_ID_RE = re.compile(r"^\s*(ord-?)?(\d{4})-?(\d{1,5})\s*$", re.IGNORECASE)


class OrderQuerySet(models.QuerySet):
    def for_list(self) -> OrderQuerySet:
        return self.select_related("account", "created_by")

    def for_detail(self) -> OrderQuerySet:
        from onboarding.models import OrderEvent, OrderLine, ProvisioningTask

        return self.select_related("account", "account__owner", "opportunity", "created_by").prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product", "subscription")),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch("tasks", queryset=ProvisioningTask.objects.select_related("assignee", "line__product")),
            "exceptions__owner",
        )

    def search(self, text: str) -> OrderQuerySet:
        """By order ID (`ORD-2026-00042`, `2026-42`), client code or client name."""
        text = (text or "").strip()
        if not text:
            return self
        found = _ORDER_ID_RE.match(text)
        if found:
            return self.filter(year=int(found.group(2)), number=int(found.group(3)))
        return self.filter(
            Q(order_id__iexact=text)
            | Q(account__code__iexact=text)
            | Q(account__legal_name__icontains=text)
            | Q(account__trading_name__icontains=text)
            | Q(new_client_name__icontains=text)
        )

    def in_flight(self) -> OrderQuerySet:
        return self.filter(status__in=OrderStatus.in_flight())


class TaskQuerySet(models.QuerySet):
    def for_queue(self) -> TaskQuerySet:
        return self.select_related("order", "order__account", "line__product", "assignee")

    def open(self) -> TaskQuerySet:
        return self.filter(status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.FAILED])


class ExceptionCaseQuerySet(models.QuerySet):
    def open(self) -> ExceptionCaseQuerySet:
        return self.filter(resolved_at__isnull=True)

    def for_queue(self) -> ExceptionCaseQuerySet:
        return self.select_related("order", "order__account", "task", "owner", "resolved_by")
