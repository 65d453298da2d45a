"""The ICS feed of open renewal cases (RFC 5545, with `icalendar`).

One all-day event per case on its renewal date. The UID is the case's id, so when Outlook
refreshes a subscribed calendar it updates an event (a moved date, a new status) instead
of adding a second one; a case that gets an outcome drops out of the feed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from renewals.forecast import BAND_LABELS

PRODID = "-//CloudCore Networks//CloudCore CRM renewals//EN"
UID_DOMAIN = "renewals.cloudcore-crm"


def uid(case) -> str:
    return f"renewal-case-{case.pk}@{UID_DOMAIN}"


def feed(cases, *, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-published-ttl", "PT12H")  # Outlook: refresh twice a day
    now = timezone.now()
    for case in cases:
        account = case.account
        product = case.subscription.product.name
        band = getattr(case, "band", "") or ""
        event = Event()
        event.add("uid", uid(case))
        event.add("dtstamp", now)
        event.add("last-modified", case.opened_at)
        event.add("dtstart", case.term_end)
        event.add("dtend", case.term_end + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        event.add("summary", f"Renewal: {account.code} {account.display_name} - {product}")
        link = f"{settings.SITE_URL}{case.get_absolute_url()}"
        event.add(
            "description",
            f"{product} for {account.code} {account.display_name}\n"
            f"Value at stake: ${case.value_at_stake:,.2f} a year\n"
            f"Churn risk: {BAND_LABELS.get(band, 'no score')}\n"
            f"Status: {case.get_status_display()}\n"
            f"{link}",
        )
        event.add("url", link)
        event.add("categories", ["Renewal"])
        calendar.add_component(event)
    return calendar.to_ical()
