"""Named reads of the support bridge; each owns its joins so pages run fixed query counts."""

from __future__ import annotations

from django.db import models

from support_bridge.choices import EventStatus, TicketPriority, TicketStatus

OPEN_TICKETS_SHOWN = 10


class TicketQuerySet(models.QuerySet):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=TicketStatus.open_values())

    def open_high(self) -> TicketQuerySet:
        return self.open().filter(priority__in=TicketPriority.high_values())

    def for_panel(self) -> TicketQuerySet:
        return self.open().select_related("contact", "product").order_by("-opened_at", "-pk")


class WebhookEventQuerySet(models.QuerySet):
    def unmapped(self) -> WebhookEventQuerySet:
        return self.filter(status=EventStatus.UNMAPPED).order_by("received_at", "pk")


class ChurnAlertQuerySet(models.QuerySet):
    def open(self) -> ChurnAlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)

    def for_owner(self, user) -> ChurnAlertQuerySet:
        return self.open().filter(owner=user).select_related("account", "raised_by").order_by("-created_at")
