"""D7, the Outlook renewal calendar: a hand-made copy of the client master's dates, and the
only record of the renewals of subscriptions the master does not list.

The client master wins for the renewal dates it holds: each event is matched to its
client and product, and a different date, or a date where the master has none, is
recorded as a conflict. A subscription the master does not list (created from Xero's
invoices, or from the entry itself when no other store knows it) takes the calendar's
date. After the file, live subscriptions whose renewal is missing from the calendar are
counted: the renewals that would have lapsed silently (P5).
"""

from __future__ import annotations

import datetime as dt
import re

from cloudcore_crm.lib.headers import HeaderMap
from customers.choices import SubscriptionStatus
from customers.models import Subscription
from migration.choices import ConflictKind, EvidenceStatus, HeldKind, Store
from migration.importers.base import SKIP, Importer, RowRejected
from migration.names import product_key
from migration.parsing import clean_text, parse_date
from migration.readers import SourceRow

HEADERS = HeaderMap(
    synonyms={
        "subject": ["Subject"],
        "start": ["Start Date"],
        "all_day": ["All day event"],
        "description": ["Description"],
        "categories": ["Categories"],
    },
    required=["subject", "start", "all_day"],
)
SUBJECT = re.compile(
    r"^\s*renewal(?:\s+due)?\s*[:\-]\s*(?P<client>.+?)\s+[-\u2013]\s+(?P<product>[^-\u2013]+?)\s*$", re.IGNORECASE
)


class OutlookCalendarImporter(Importer):
    store = Store.CALENDAR
    header_map = HEADERS

    def prepare(self, table) -> None:
        self.seen: set[int] = set()
        self.accounts: set[int] = set()

    parses_apart = True

    @classmethod
    def parse_row(cls, row, values, file_name):
        match = SUBJECT.match(clean_text(values.get("subject")))
        if not match:
            return SKIP  # other appointments share the calendar
        day = parse_date(values.get("start"))
        if day is None:
            raise RowRejected("no Start Date")
        return match["client"], match["product"], day

    def import_row(self, row: SourceRow, parsed: tuple) -> str:
        client, product_text, day = parsed
        account = self.client_named(client)
        product = self.ctx.find_product(product_text)
        if product is None:
            why = f"no product called {product_text!r}"
            key = product_key(product_text)
            self.ctx.hold_value(HeldKind.PRODUCT, product_text, key, why, self.file_name, row.number)
            raise RowRejected(f"{why}: held for a steward to map at /migration/held/")
        subscription = self.ctx.live_subscription(account, product)
        if subscription is None:
            return self._from_evidence(account, product, day, row)
        self.seen.add(id(subscription))
        self.accounts.add(account.pk)
        self.provenance(subscription, row, ["renewal_date"])
        if subscription.renewal_date == day:
            return "unchanged"
        if self.ctx.is_from_evidence(account, product, subscription) and not self._corrected(account, product):
            # The client master does not list it: the calendar is the store of its renewal.
            changes = {"renewal_date": day}
            if day < subscription.start_date:
                changes["start_date"] = _months_before(day, subscription.term_months)
            updated = self.update(
                subscription, changes, reason=f"{self.reason(row)}: renewal date from the Outlook calendar"
            )
            self.ctx.note_evidence(account, product, subscription, Store.CALENDAR, f"Calendar renewal {day:%d/%m/%Y}")
            return "updated" if updated else "unchanged"
        self.conflict(
            account=account,
            subscription=subscription,
            field="renewal_date",
            kept_store=Store.CLIENT_MASTER,
            kept=subscription.renewal_date or "",
            other_store=Store.CALENDAR,
            other=day.isoformat(),
            detail="The client master wins for renewal dates"
            if subscription.renewal_date
            else "The client master has no renewal date; the calendar suggests one",
        )
        return "conflict"

    def _corrected(self, account, product) -> bool:
        earlier = self.ctx.evidence.get((account.pk, product.pk))
        return earlier is not None and earlier.status == EvidenceStatus.CORRECTED

    def _from_evidence(self, account, product, day, row: SourceRow) -> str:
        """A renewal of a subscription neither the client master nor Xero lists: created
        from the entry for Customer Relations to confirm (its value is for Finance to set)."""
        answered = self.ctx.found_before(account, product)
        if answered:
            return answered
        if self.ctx.ended_since(account, product) is not None:
            return "ended in the CRM since"  # the calendar still has the renewal of what ended
        reason = f"{self.reason(row)}: a renewal in the Outlook calendar, in no other store"
        subscription = self.ctx.writer.create(
            Subscription(account=account),
            values={
                "product": product,
                "seats": 1,
                "start_date": _months_before(day, 12),
                "renewal_date": day,
                "term_months": 12,
                "status": SubscriptionStatus.ACTIVE,
            },
            reason=reason,
        )
        self.ctx.subscriptions_of(account).append(subscription)
        self.seen.add(id(subscription))
        self.provenance(subscription, row, ["product", "start_date", "renewal_date"])
        self.ctx.note_evidence(account, product, subscription, Store.CALENDAR, f"Calendar renewal {day:%d/%m/%Y}")
        self.conflict(
            account=account,
            subscription=subscription,
            field="annual_value",
            kept_store=Store.CALENDAR,
            kept="0.00",
            other_store=Store.XERO,
            other="cannot tell",
            detail="Only the Outlook calendar knows this subscription: no invoice gives its value",
            kind=ConflictKind.UNTOLD,
            evidence={"how": "no Xero invoice for this product", "record_holds": "no value", "invoices": []},
        )
        return "created"

    def finish(self) -> None:
        missing = sum(
            1 for s in self.ctx.all_live_subscriptions() if s.renewal_date is not None and id(s) not in self.seen
        )
        if missing:
            self.report.warnings.append(
                f"{missing} live subscription renewal(s) are missing from the Outlook calendar: "
                "the CRM's renewal cases now cover them"
            )
        self.report.counts["renewals missing from calendar"] = missing


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
