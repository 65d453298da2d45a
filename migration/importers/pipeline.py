"""D3, the sales reps' own pipeline workbooks: six files, six sets of column names.

The rep is named in a title cell ("Rep: Chloe Bennett") or in the file name
("Pipeline - Chloe Bennett.xlsx"). Each deal is matched to its client and upserted as an
opportunity owned by that rep, keyed by client, rep and deal name. Stages are read
loosely ("Closed - Won", "qualified "), and a word the import does not know ("Negotiation")
is held for a steward to map once; a lost deal takes the rep's reason ("Price - went
with Backblaze") as its lost reason (the first reason word in the text) and keeps the
words as its note. A totals line ("TOTAL" and a sum) is skipped, not rejected. A deal for a
company that is no client yet is a lead: the company is recorded as the rep's prospect.
"""

from __future__ import annotations

import re
from pathlib import Path

from cloudcore_crm.lib.headers import HeaderMap
from customers.choices import LifecycleStatus, LostReason, OpportunityKind, OpportunityStage
from customers.models import Account, Opportunity
from migration.choices import HeldKind, Store
from migration.importers.base import Importer, RowRejected
from migration.names import product_key, staff_key, stage_key
from migration.parsing import clean_text, is_blank, parse_date, parse_money
from migration.readers import SourceRow

HEADERS = HeaderMap(
    synonyms={
        "name": ["Client", "Customer Name", "Account", "Company", "Organisation", "Customer"],
        "deal": ["Opportunity", "Deal", "Opportunity Name", "What", "Opp"],
        "stage": ["Stage", "Status", "Sales Stage", "Where we are", "Pipeline Stage"],
        "amount": ["Value", "Amount (AUD)", "Est. Value", "$", "Deal Value", "Value ex GST", "Amount"],
        "close": ["Close Date", "Expected Close", "Target Date", "When", "Close", "Forecast Close"],
        "product": ["Product", "Solution", "Product line", "Offering"],
        "lost_reason": ["Lost reason", "Why lost", "Reason lost", "Loss reason", "Reason"],
    },
    required=["name", "deal", "stage", "amount"],
)
STAGES = {
    "suspect": OpportunityStage.SUSPECT,
    "lead": OpportunityStage.SUSPECT,
    "prospect": OpportunityStage.PROSPECT,
    "qualified": OpportunityStage.QUALIFIED,
    "qualified lead": OpportunityStage.QUALIFIED,
    "meeting": OpportunityStage.MEETING,
    "met": OpportunityStage.MEETING,
    "demo": OpportunityStage.MEETING,
    "proposal": OpportunityStage.PROPOSAL,
    "proposal sent": OpportunityStage.PROPOSAL,
    "quote": OpportunityStage.PROPOSAL,
    "won": OpportunityStage.WON,
    "closed won": OpportunityStage.WON,
    "lost": OpportunityStage.LOST,
    "closed lost": OpportunityStage.LOST,
    "dead": OpportunityStage.LOST,
}
# Words in a rep's free-text reason, by the reason they say; the earliest in the text wins
# ("Timing: budget frozen" is timing). Text with none of them is "other", kept as the note.
LOST_WORDS = {
    "price": LostReason.PRICE,
    "expensive": LostReason.PRICE,
    "cost": LostReason.PRICE,
    "competitor": LostReason.COMPETITOR,
    "went with": LostReason.COMPETITOR,
    "lost to": LostReason.COMPETITOR,
    "budget": LostReason.NO_BUDGET,
    "funding": LostReason.NO_BUDGET,
    "no decision": LostReason.NO_DECISION,
    "went quiet": LostReason.NO_DECISION,
    "stalled": LostReason.NO_DECISION,
    "timing": LostReason.TIMING,
    "too early": LostReason.TIMING,
    "next year": LostReason.TIMING,
    "on hold": LostReason.TIMING,
}
TOTALS = frozenset({"total", "totals", "grand total", "sub total", "subtotal", "pipeline total", "sum"})
REP_CELL = re.compile(r"^\s*(rep|owner|sales rep)\s*:\s*(?P<name>.+)$", re.IGNORECASE)
REP_FILE = re.compile(r"pipeline\s*[-\u2013_]\s*(?P<name>.+)$", re.IGNORECASE)


def stage_of(text: object, mapped: dict[str, str] | None = None) -> str | None:
    """'Closed - Won', 'closed-won', 'Proposal Sent ', 'DEAD' -> a funnel stage, or a word a
    steward mapped (`mapped`, by `stage_key`); None when the words are no stage (case,
    spacing and punctuation ignored)."""
    key = stage_key(clean_text(text))
    return STAGES.get(key) or (mapped or {}).get(key)


_LOST_WORD = re.compile(r"\b(" + "|".join(map(re.escape, LOST_WORDS)) + r")\b")


def lost_reason_of(text: str) -> str:
    """The reason a rep's words give for a lost deal: the earliest reason word in the text
    (whole words: "Costco" is no cost); "other" for words with none; "" for none."""
    if is_blank(text):
        return ""
    found = _LOST_WORD.search(clean_text(text).lower())
    return LOST_WORDS[found[1]] if found else LostReason.OTHER


class PipelineImporter(Importer):
    store = Store.PIPELINE
    header_map = HEADERS

    @staticmethod
    def is_blank(values: dict[str, object]) -> bool:
        # A totals line: "TOTAL" under the client or the deal, the other empty (its sum,
        # often a formula nobody recalculated, is no deal).
        client, deal = clean_text(values.get("name")), clean_text(values.get("deal"))
        if not (client and deal) and (client or deal).lower().rstrip(":") in TOTALS:
            return True
        return Importer.is_blank(values)

    def prepare(self, table) -> None:
        self.seen: dict[tuple[int, str], int] = {}  # (account, deal) -> first row in this file
        candidates = [clean_text(cell) for values in table.preamble for cell in values if cell]
        candidates += [Path(self.file_name).stem]
        self.rep = None
        unknown: tuple[str, str] | None = None
        for text in candidates:
            match = REP_CELL.match(text) or REP_FILE.search(text)
            if match:
                self.rep, why = self.ctx.staff(match["name"])
                if self.rep is not None:
                    return
                unknown = unknown or (match["name"].strip(), why)
        if unknown is not None:
            # Held for a steward to map to a user; the next import then takes the deals.
            name, why = unknown
            self.ctx.hold_value(HeldKind.STAFF, name, staff_key(name), why, self.file_name, 1)
            self.report.warnings.append(f"{why}: the deals wait for a steward to map the name at /migration/held/")
            return
        self.report.warnings.append("the rep is named neither in a 'Rep:' cell nor in the file name")

    def unknown_client(self, name: str) -> Account:
        """A deal for a company that is no client yet is a rep's lead (seed 000: leads are
        captured in the rep's own workbook): the company is recorded as that rep's
        prospect, and the nightly duplicate scan compares it with every client."""
        values = {"legal_name": name[:200], "owner": self.rep, "lifecycle_status": LifecycleStatus.PROSPECT}
        self.warn_grouped("leads for companies that are no client yet: each recorded as the rep's prospect")
        account = self.ctx.new_account(code="", values=values, reason=self.reason(self._row))
        self.provenance(account, self._row, values)
        return account

    def import_row(self, row: SourceRow, values: dict[str, object]) -> str:
        if self.rep is None:
            raise RowRejected("unknown sales rep for this workbook")
        self._row = row
        client = clean_text(values.get("name"))
        deal = clean_text(values.get("deal"))
        if not client or not deal:
            raise RowRejected("a deal needs a client and a name")
        stage = stage_of(values.get("stage"), self.ctx.stage_words)
        if stage is None:
            # No stage is guessed (it weighs the forecast): the deal waits for a steward to
            # map the word once, and the next import takes it.
            word = clean_text(values.get("stage"))
            if not word:
                raise RowRejected("a deal needs a stage")
            why = f"no pipeline stage called {word!r}"
            self.ctx.hold_value(HeldKind.STAGE, word, stage_key(word), why, self.file_name, row.number)
            raise RowRejected(f"{why}: the deal waits for a steward to map it at /migration/held/")
        amount = parse_money(values.get("amount")) or 0
        if amount < 0:
            raise RowRejected("a negative deal value")
        close = parse_date(values.get("close"))
        product_text = clean_text(values.get("product"))
        product = self.ctx.find_product(product_text) if product_text else None
        if product is None and product_text:
            why = f"no product called {product_text!r}"
            self.warn_grouped(f"{why}: the deal is imported without it until a steward maps it at /migration/held/")
            key = product_key(product_text)
            self.ctx.hold_value(HeldKind.PRODUCT, product_text, key, why, self.file_name, row.number)
        account = self.client_named(client)
        key = (id(account), deal[:200].lower())
        if key in self.seen:
            # The same deal typed twice in one workbook: the first row stands, so a second
            # import gives the same result instead of flipping between the two rows.
            self.report.warnings.append(f"row {row.number} repeats the deal of row {self.seen[key]}; skipped")
            return "skipped"
        self.seen[key] = row.number
        fields = {"stage": stage, "amount": amount, "expected_close": close, "product": product}
        if stage == OpportunityStage.LOST:
            why = "" if is_blank(values.get("lost_reason")) else clean_text(values.get("lost_reason"))
            fields |= {"lost_reason": lost_reason_of(why), "lost_note": why[:300]}
        reason = self.reason(row)
        existing = self.ctx.opportunity(account, self.rep, deal[:200])
        if existing is None:
            kind = OpportunityKind.RENEWAL if "renewal" in deal.lower() else OpportunityKind.NEW_BUSINESS
            if self.ctx.ever_subscribed(account) and kind != OpportunityKind.RENEWAL:
                kind = OpportunityKind.UPSELL
            opportunity = self.ctx.writer.create(
                Opportunity(account=account),
                values={"name": deal[:200], "owner": self.rep, "kind": kind, **fields},
                reason=reason,
            )
            self.ctx.add_opportunity(opportunity)
            self.provenance(opportunity, row, ["name", *fields])
            return "created"
        self.provenance(existing, row, ["name", *fields])
        if not self.update(existing, fields, reason=reason):
            return "unchanged"
        return "updated"
