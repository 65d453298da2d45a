"""D7, the Outlook renewal calendar: a hand-made copy of the client master's dates.

It never changes a record (the client master wins for renewal dates). Each event is
matched to its client and product; a different date, or a date where the master has none,
is recorded as a conflict. After the file, live subscriptions whose renewal is missing
from the calendar are counted: the renewals that would have lapsed silently (P5).
"""

from __future__ import annotations

import re

from cloudcore_crm.lib.headers import HeaderMap
from migration.choices import Store
from migration.importers.base import SKIP, Importer, RowRejected
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
        product = self.ctx.product(product_text)
        subscription = self.ctx.live_subscription(account, product)
        if subscription is None:
            raise RowRejected(f"{account.code} has no live {product.name} subscription in the client master")
        self.seen.add(subscription.pk)
        self.accounts.add(account.pk)
        self.provenance(subscription, row, ["renewal_date"])
        if subscription.renewal_date == day:
            return "unchanged"
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

    def finish(self) -> None:
        missing = sum(
            1 for s in self.ctx.all_live_subscriptions() if s.renewal_date is not None and s.pk not in self.seen
        )
        if missing:
            self.report.warnings.append(
                f"{missing} live subscription renewal(s) are missing from the Outlook calendar: "
                "the CRM's renewal cases now cover them"
            )
        self.report.counts["renewals missing from calendar"] = missing
