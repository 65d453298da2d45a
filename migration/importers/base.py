"""What every legacy importer shares: the run context (actor, account index, caches), the
per-file report, provenance and conflict recording."""

from __future__ import annotations

import io
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max
from django.utils import timezone
from openpyxl.utils import get_column_letter

from cloudcore_crm.lib import bulkload, spreadsheets
from cloudcore_crm.lib.headers import Fit, HeaderMap
from customers.bulk import BulkWriter
from customers.choices import ActivityKind
from customers.dedupe import AccountIndex, Match, MatchRecord, account_records
from customers.errors import DomainError
from customers.matching import normalise_name
from customers.models import Account, Activity, Contact, Opportunity, Product, Subscription, account_code
from migration.choices import ConflictKind, ConflictStatus, EvidenceStatus, FileStatus, HeldKind, HeldStatus, Store
from migration.models import (
    EvidencedSubscription,
    HeldValue,
    ImportConflict,
    ImportFile,
    ImportRun,
    MatchReview,
    ProductAlias,
    Provenance,
    StaffAlias,
    StageWord,
    SurveyLabel,
)
from migration.names import product_key, staff_key
from migration.parsing import CellError, clean_text
from migration.readers import FORMULA_WITHOUT_VALUE, SourceRow, Table

AUTO_MATCH = 90  # a name match this strong (or a shared ABN) is the same client
REVIEW_FLOOR = 70  # below this an incoming name is not like any account
MARGIN = 5  # a runner-up this close to the best makes the match ambiguous
FLUSH_AT = 5000  # pending writes; bounds memory on a very large file
IMPORT_REASON_PREFIX = "Import run #"  # every history row an import writes starts so
_UNSEEN = object()


def _validation_reason(problem: Exception) -> str:
    """A model validation error as one line for the rejected-rows file."""
    if isinstance(problem, ValidationError) and hasattr(problem, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in problem.message_dict.items())
    if isinstance(problem, ValidationError):
        return " ".join(problem.messages)
    return str(problem)


class RowRejected(ValueError):
    """This row cannot be imported; the message goes in the rejected-rows file."""


class HeldForReview(ValueError):
    """The row looks like more than one account; a person must choose."""

    def __init__(self, candidates: list[dict], name: str):
        super().__init__(candidates, name)
        self.candidates = candidates
        self.name = name  # the client name as the file gives it, for the review queue

    def again(self) -> HeldForReview:
        """A fresh copy, to keep or to raise again. A caught exception must not be kept:
        its traceback holds the frames, and through them the importer and the run's
        caches, in a reference cycle that only the cycle collector frees (a million
        objects after a 10,000-client import)."""
        return HeldForReview(self.candidates, self.name)


@dataclass
class RunContext:
    """State shared by the importers of one run.

    Every account of the run is one `Account` instance (in `accounts_by_code`), so the
    maps below key records by that instance's identity: it works the same for accounts
    already in the database and for those this run has created but not yet written.
    """

    run: ImportRun
    actor: models.Model
    index: AccountIndex  # grows with the accounts this run creates
    accounts_by_code: dict[str, Account]
    products: dict[str, Product]
    staff_by_name: dict[str, models.Model]
    writer: BulkWriter
    taken_numbers: set[int]
    top_number: int = 0
    progress: Callable[[int], None] = lambda rows: None
    _contacts: dict[int, list[Contact]] | None = None
    _subscriptions: dict[int, list[Subscription]] | None = None
    _opportunities: dict[tuple[int, int, str], Opportunity] | None = None
    _ever_subscribed: set[int] | None = None
    _crm_changes: dict[tuple, set[str]] = field(default_factory=dict)  # see changed_in_crm
    _ended: dict[tuple, object] | None = None  # (account, product, start or None) -> when it stopped being live
    _named: dict[str, object] = field(default_factory=dict)  # see account_named
    _name_keys: dict[str, str] = field(default_factory=dict)  # see name_key
    rescore: set[int] = field(default_factory=set)  # clients whose tickets changed: one rescoring per run
    ambiguous_staff: set[str] = field(default_factory=set)  # names that fit two users: never guessed
    survey_labels: dict[str, int | None] = field(default_factory=dict)  # stewards' mappings, by label_key
    stage_words: dict[str, str] = field(default_factory=dict)  # stewards' mappings, by stage_key
    held: dict[tuple[str, str], dict] = field(default_factory=dict)  # (kind, key) -> value, reason, rows, where
    evidence: dict[tuple[int, int], EvidencedSubscription] = field(default_factory=dict)  # (account, product)
    master_values: dict[int, tuple[object, object]] = field(default_factory=dict)  # id(subscription) -> (value, row)
    from_evidence: set[int] = field(default_factory=set)  # id() of subscriptions this run created from evidence
    _evidence_pending: dict[tuple[int, int], dict] = field(default_factory=dict)
    _loose_products: dict[str, Product | None] = field(default_factory=dict)

    @classmethod
    def build(cls, run: ImportRun, actor) -> RunContext:
        User = get_user_model()
        staff: dict[str, models.Model] = {}
        taken_by: dict[str, set[int]] = {}
        for user in User.objects.filter(is_active=True).order_by("pk"):
            for key in {staff_key(user.get_full_name()), staff_key(user.username)} - {""}:
                taken_by.setdefault(key, set()).add(user.pk)
                staff.setdefault(key, user)
        ambiguous = {key for key, users in taken_by.items() if len(users) > 1}
        for key in ambiguous:
            del staff[key]
        for alias in StaffAlias.objects.select_related("user").filter(user__is_active=True):
            staff[alias.key] = alias.user  # a steward's mapping settles a name two users share
            ambiguous.discard(alias.key)
        products = {}
        for product in Product.objects.all():
            for key in {product.name, product.code, product.code.replace("-", " ")}:
                products[product_key(key)] = product
        for alias in ProductAlias.objects.select_related("product"):
            products[alias.key] = alias.product
        taken = set(Account.objects.values_list("number", flat=True))
        return cls(
            run=run,
            actor=actor,
            index=AccountIndex(account_records()),
            accounts_by_code={a.code: a for a in Account.objects.active_records()},
            products=products,
            staff_by_name=staff,
            writer=BulkWriter(actor),
            taken_numbers=taken,
            top_number=max(taken, default=0),
            ambiguous_staff=ambiguous,
            survey_labels={label.key: label.score for label in SurveyLabel.objects.all()},
            stage_words=dict(StageWord.objects.values_list("key", "stage")),
            evidence={(e.account_id, e.product_id): e for e in EvidencedSubscription.objects.all()},
        )

    def product(self, value: object) -> Product:
        """The product a cell names; RowRejected (and the value held for a steward) when
        it names none or several."""
        found = self.find_product(value)
        if found is None:
            text = clean_text(value)
            raise RowRejected(f"unknown product {text!r}: held for a steward to map at /migration/held/")
        return found

    def find_product(self, value: object) -> Product | None:
        """The product a cell names, after normalising (case, spacing, "&"/"and", plurals,
        bracketed words) and by the stewards' aliases; else the one product whose name the
        text contains ("CloudSync subscription (40 seats)"). None when it names none, or
        more than one."""
        key = product_key(value)
        if not key:
            return None
        product = self.products.get(key)
        if product is not None:
            return product
        found = self._loose_products.get(key, _UNSEEN)
        if found is _UNSEEN:
            inside = {p.pk: p for k, p in self.products.items() if len(k) >= 5 and k in key}
            found = self._loose_products[key] = next(iter(inside.values())) if len(inside) == 1 else None
        return found

    def staff(self, name: str) -> tuple[models.Model | None, str]:
        """The user a legacy staff name is (full name or username, case and spacing
        ignored, or a steward's alias), and when none, why."""
        key = staff_key(name)
        user = self.staff_by_name.get(key)
        if user is not None:
            return user, ""
        if key in self.ambiguous_staff:
            return None, f"{clean_text(name)!r} fits more than one staff member"
        return None, f"no staff member called {clean_text(name)!r}"

    def hold_value(self, kind: str, value: str, key: str, reason: str, file: str, row: int) -> None:
        """A cell the run could not map, to list for a steward (written with the file)."""
        held = self.held.get((kind, key))
        if held is None:
            held = self.held[(kind, key)] = {"value": clean_text(value)[:200], "reason": reason[:300], "rows": 0}
            held["where"] = []
        held["rows"] += 1
        held["dirty"] = True
        if len(held["where"]) < 10:
            held["where"].append([file, row])

    def note_evidence(self, account: Account, product: Product, subscription, store: str, detail: str) -> None:
        """A subscription the client master does not list, evidenced by `store`: listed for
        Customer Relations to confirm (written with the file, once the records have ids)."""
        key = (id(account), product.pk)
        pending = self._evidence_pending.get(key)
        if pending is None:
            pending = self._evidence_pending[key] = {
                "account": account,
                "product": product,
                "subscription": subscription,
                "stores": [],
                "detail": detail,
            }
        if store not in pending["stores"]:
            pending["stores"].append(store)
        self.from_evidence.add(id(subscription))

    def is_from_evidence(self, account: Account, product: Product, subscription) -> bool:
        """Whether this subscription came from Xero or calendar evidence (this run or an
        earlier one), rather than from the client master."""
        if id(subscription) in self.from_evidence:
            return True
        earlier = self.evidence.get((account.pk, product.pk))
        return earlier is not None and earlier.subscription_id == subscription.pk

    def write_evidence(self) -> None:
        """The file's evidenced subscriptions: new ones in one statement, the stores of
        those listed before updated in another."""
        new, changed = [], []
        for pending in self._evidence_pending.values():
            account, product = pending["account"], pending["product"]
            earlier = self.evidence.get((account.pk, product.pk))
            if earlier is None:
                earlier = EvidencedSubscription(
                    account=account,
                    product=product,
                    subscription=pending["subscription"],
                    stores=pending["stores"],
                    detail=pending["detail"][:300],
                    run=self.run,
                )
                self.evidence[(account.pk, product.pk)] = earlier
                new.append(earlier)
                continue
            stores = earlier.stores + [s for s in pending["stores"] if s not in earlier.stores]
            if stores != earlier.stores or (earlier.subscription_id is None and pending["subscription"].pk):
                earlier.stores = stores
                if earlier.subscription_id is None:
                    earlier.subscription = pending["subscription"]
                changed.append(earlier)
        self._evidence_pending.clear()
        bulkload.insert(new)  # with ids: a later file of the run may add a store to them
        bulkload.update(changed, ["stores", "subscription"])

    def write_held(self) -> None:
        """The values held so far, on the steward's list: one entry per value, its rows
        counted over the run (a value mapped since and held again is open again)."""
        for (kind, key), held in self.held.items():
            if not held.pop("dirty", False):
                continue
            HeldValue.objects.update_or_create(
                kind=kind,
                key=key,
                defaults={
                    "value": held["value"],
                    "reason": held["reason"],
                    "rows": held["rows"],
                    "where": held["where"],
                    "status": HeldStatus.OPEN,
                    "run": self.run if self.run.pk else None,
                },
            )

    def account_for(
        self, *, name: str, abn: str = "", phone: str = "", state: str = "", code: str = ""
    ) -> Account | None:
        """The existing account this incoming record is, or None for a new client.

        Raises HeldForReview when more than one account fits, or one fits only loosely.
        """
        if code and code.upper() in self.accounts_by_code:
            return self.accounts_by_code[code.upper()]
        record = MatchRecord.build(legal_name=name, abn=abn, phone=phone, state=state)
        matches = [m for m in self.index.find(record) if m.score >= REVIEW_FLOOR]
        if code:
            # The client master gives each client its own code: an account under another
            # code is another client, however alike the names ("R & A Gupta" is not
            # "A & P Gupta"), unless it has the same ABN, when the sheet contradicts itself
            # and a person decides. (Whether a look-alike was found at all depended on how
            # many accounts the index held, so a re-run decided such rows differently.)
            code = code.upper()
            matches = [m for m in matches if m.code in ("", code) or (record.abn and m.record.abn == record.abn)]
        if not matches:
            return None
        best = matches[0]
        rivals = [m for m in matches[1:] if m.code != best.code and m.score >= best.score - MARGIN]
        if best.score >= AUTO_MATCH and not rivals:
            return self.accounts_by_code.get(best.code) or self._load(best.pk)
        raise HeldForReview(_describe(matches), name)

    def account_named(self, name: str) -> Account | None:
        """`account_for(name=name)`, remembered per spelling for the rest of the run: the
        Xero export, the calendar, the pipelines and both helpdesk files name the same
        clients again and again. Only a new account can change an answer, and creating
        one forgets them all."""
        key = self.name_key(name)
        found = self._named.get(key, _UNSEEN)
        if found is _UNSEEN:
            try:
                found = self.account_for(name=name)
            except HeldForReview as held:
                found = held.again()
            self._named[key] = found
        if isinstance(found, HeldForReview):
            raise HeldForReview(found.candidates, name)
        return found

    def name_key(self, name: str) -> str:
        """`normalise_name(name)`, once per spelling for the run: the same spellings come
        back on thousands of rows (Xero's 90,000 lines name 10,000 clients)."""
        key = self._name_keys.get(name)
        if key is None:
            key = self._name_keys[name] = normalise_name(name)
        return key

    def _load(self, pk: int) -> Account:
        account = Account.objects.get(pk=pk)
        self.accounts_by_code[account.code] = account
        return account

    def new_account(self, *, code: str, values: dict, reason: str) -> Account:
        """A client the run has not seen: its own code when the row gave a free one,
        otherwise the next free number. Written at the next flush."""
        number = int(code[2:]) if code else 0
        if not number or number in self.taken_numbers:
            number = self.top_number + 1
        self._named.clear()  # the new client may be a better answer for a name seen before
        self.taken_numbers.add(number)
        self.top_number = max(self.top_number, number)
        account = self.writer.create(Account(number=number, code=account_code(number)), values=values, reason=reason)
        self.accounts_by_code[account.code] = account
        self.index.add(
            MatchRecord.build(
                pk=-len(self.index.records) - 1,  # not written yet: a stand-in id, unique in the index
                code=account.code,
                legal_name=account.legal_name,
                trading_name=account.trading_name,
                abn=account.abn,
                phone=account.phone,
                state=account.state,
            )
        )
        return account

    def learn_name(self, account: Account, name: str) -> None:
        """A name the run has just recorded as the account's alias: the run's later files
        match it as the next run will (whose index is built with the alias). Without this,
        a client-master variant row matched by its ABN taught the CRM a name that the same
        run's pipelines and triage sheet then rejected as no client, and the next import
        took those rows: a second import changed things."""
        self.index.add(
            MatchRecord.build(
                pk=account.pk or -len(self.index.records) - 1,
                code=account.code,
                legal_name=account.legal_name,
                trading_name=account.trading_name,
                other_names=[name],
            )
        )
        self._named.pop(self.name_key(name), None)

    # --- What the run knows of each account (loaded once, kept current as it writes) ---
    def _by_account(self, rows: Iterable[models.Model]) -> dict[int, list]:
        """Records grouped by their account's instance, which they are attached to (so
        ownership checks that read `record.account` cost no query)."""
        accounts = {a.pk: a for a in self.accounts_by_code.values() if a.pk is not None}
        grouped: dict[int, list] = {}
        for record in rows:
            account = accounts.get(record.account_id)
            if account is not None:
                record.account = account
                grouped.setdefault(id(account), []).append(record)
        return grouped

    def contacts_of(self, account: Account) -> list[Contact]:
        if self._contacts is None:
            self._contacts = self._by_account(Contact.objects.active_records().order_by("pk"))
        return self._contacts.setdefault(id(account), [])

    def _live(self) -> dict[int, list[Subscription]]:
        if self._subscriptions is None:
            self._subscriptions = self._by_account(Subscription.objects.live().order_by("pk"))
        return self._subscriptions

    def subscriptions_of(self, account: Account) -> list[Subscription]:
        """The account's live subscriptions, oldest first."""
        return self._live().setdefault(id(account), [])

    def live_subscription(self, account: Account, product: Product) -> Subscription | None:
        return next((s for s in self.subscriptions_of(account) if s.product_id == product.pk), None)

    def ended_since(self, account: Account, product: Product, start=None):
        """When a person cancelled, or let lapse, the account's subscription of this product
        (with this start, when given) in the CRM: newer than the legacy store that still
        lists it, so it is not created again. None when no such subscription ended."""
        if account.pk is None:
            return None
        if self._ended is None:
            ended = Subscription.objects.exclude(pk__in=Subscription.objects.live().values("pk"))
            last_change = dict(
                Subscription.history.filter(id__in=ended.values("pk"))
                .values("id")
                .annotate(on=Max("history_date"))
                .values_list("id", "on")
            )
            self._ended = {}
            for pk, account_id, product_id, began in ended.values_list("pk", "account", "product", "start_date"):
                on = last_change.get(pk)
                for key in ((account_id, product_id, began), (account_id, product_id, None)):
                    if on is not None and (key not in self._ended or on > self._ended[key]):
                        self._ended[key] = on
        return self._ended.get((account.pk, product.pk, start))

    def changed_in_crm(self, record: models.Model, changes: dict) -> set[str]:
        """The fields of `changes` a person has changed since an import last wrote the
        record: its newest history row against the newest one an import wrote (two
        queries, once per record a run updates). Empty for a record no import has written:
        the stores' precedence applies to it."""
        if record.pk is None:
            return set()
        key = (type(record), record.pk)
        if key not in self._crm_changes:
            newest = record.history.order_by("-history_date", "-history_id")
            by_import = newest.filter(history_change_reason__startswith=IMPORT_REASON_PREFIX).first()
            current = newest.first()
            self._crm_changes[key] = (
                set()
                if by_import is None or current is None or current.pk == by_import.pk
                else {
                    field.name
                    for field in type(record)._meta.concrete_fields
                    if getattr(current, field.attname) != getattr(by_import, field.attname)
                }
            )
        return self._crm_changes[key] & set(changes)

    def found_before(self, account: Account, product: Product) -> str | None:
        """Why a subscription Xero or the calendar evidences, which has no live one, is not
        created again: Customer Relations dismissed it, or it was found before and has
        ended since (either answer is newer than the legacy store). None: create it."""
        earlier = self.evidence.get((account.pk, product.pk))
        if earlier is None:
            return None
        return "dismissed earlier" if earlier.status == EvidenceStatus.DISMISSED else "ended since it was found"

    def all_live_subscriptions(self) -> Iterator[Subscription]:
        for subscriptions in self._live().values():
            yield from subscriptions

    def ever_subscribed(self, account: Account) -> bool:
        if self._ever_subscribed is None:
            self._ever_subscribed = set(Subscription.objects.values_list("account_id", flat=True).distinct())
        return account.pk in self._ever_subscribed or bool(self.subscriptions_of(account))

    def opportunity(self, account: Account, owner, name: str) -> Opportunity | None:
        if self._opportunities is None:
            self._opportunities = {}
            for account_key, deals in self._by_account(Opportunity.objects.order_by("pk")).items():
                for deal in deals:
                    self._opportunities.setdefault((account_key, deal.owner_id, deal.name.lower()), deal)
        return self._opportunities.get((id(account), owner.pk, name.lower()))

    def add_opportunity(self, opportunity: Opportunity) -> None:
        self.opportunity(opportunity.account, opportunity.owner, opportunity.name)  # loads the map
        key = (id(opportunity.account), opportunity.owner.pk, opportunity.name.lower())
        self._opportunities.setdefault(key, opportunity)


def _describe(matches: list[Match]) -> list[dict]:
    return [{"code": m.code, "name": m.label, "score": m.score, "evidence": list(m.evidence)} for m in matches]


@dataclass
class FileReport:
    """What one file did: counts per action, rejected rows with reasons, conflicts."""

    name: str
    store: str
    headers: list[object] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    rejected: list[tuple[int, list[object], str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sheet: str = ""  # the sheet these rows are on ("" for a CSV)
    # The workbook's other sheets this file imported: (sheet, its headers, its rejected rows).
    other_sheets: list[tuple[str, list[object], list[tuple[int, list[object], str]]]] = field(default_factory=list)
    conflicts: int = 0
    reviews: int = 0
    seconds: float = 0.0
    write_seconds: float = 0.0  # of which writing records, history, provenance and conflicts

    def add_sheet(self, other: FileReport) -> None:
        """Another sheet of the same workbook: its counts, warnings and rejected rows (kept
        with its own columns) join this file's."""
        self.counts.update(other.counts)
        self.warnings.extend(other.warnings)
        self.conflicts += other.conflicts
        self.reviews += other.reviews
        self.write_seconds += other.write_seconds
        self.other_sheets.append((other.sheet, other.headers, other.rejected))

    @property
    def rejected_count(self) -> int:
        return len(self.rejected) + sum(len(rows) for _, _, rows in self.other_sheets)

    def rejected_csv(self) -> str:
        """The rejected rows in the file's own columns plus `row` and `reason` (formula-like
        text is neutralised so a spreadsheet never executes it). When rows of more than one
        sheet were rejected, a `sheet` column says whose, and each sheet's cells sit under
        its own column names (the sheets of a rep's workbook order their columns their
        own way)."""
        blocks = [(s, h, r) for s, h, r in [(self.sheet, self.headers, self.rejected), *self.other_sheets] if r]
        if not blocks:
            return ""
        buffer = io.StringIO()
        writer = spreadsheets.csv_writer(buffer)  # every cell, headers and reasons too, formula-safe
        if len(blocks) == 1:
            # A workbook row comes without its empty trailing cells: it is padded to the
            # columns, so the reason stays under `reason` (it slid under the last cells').
            _sheet, headers, rejected = blocks[0]
            width = max([len(headers), *(len(values) for _, values, _ in rejected)])
            names = [clean_text(h) for h in headers] + [_column_name(headers, i) for i in range(len(headers), width)]
            writer.writerow(["row", *names, "reason"])
            for number, values, reason in rejected:
                cells = [_cell_text(v) for v in values] + [""] * (width - len(values))
                writer.writerow([number, *cells, reason])
            return buffer.getvalue()
        columns: dict[str, int] = {}  # column name -> position, in order of first sight
        named_blocks = []
        for sheet, headers, rejected in blocks:
            width = max([len(headers), *(len(values) for _, values, _ in rejected)])
            names = [_column_name(headers, index) for index in range(width)]
            for name in names:
                columns.setdefault(name, len(columns))
            named_blocks.append((sheet, names, rejected))
        writer.writerow(["row", "sheet", *columns, "reason"])
        for sheet, names, rejected in named_blocks:
            for number, values, reason in rejected:
                cells = [""] * len(columns)
                for name, value in zip(names, values, strict=False):
                    cells[columns[name]] = _cell_text(value)
                writer.writerow([number, sheet, *cells, reason])
        return buffer.getvalue()


def _column_name(headers: list[object], index: int) -> str:
    """A sheet's column as the rejected-rows file names it: its header, or its letter."""
    name = clean_text(headers[index]) if index < len(headers) else ""
    return name or f"column {get_column_letter(index + 1)}"


def _cell_text(value: object) -> str:
    if value is FORMULA_WITHOUT_VALUE:
        return "(formula without a saved value)"
    return "" if value is None else str(value)


# What the first stage made of a row (`parsed_rows`): its kind, and the value for
# `import_row` (or the reason it is rejected). Plain strings, so they survive pickling.
# `parse_row` returns SKIP for a row not to import.
PARSED, BLANK, SKIP, REJECTED = "", "blank", "skipped", "rejected"


# The columns of the provenance rows an importer writes, in the order it builds them.
PROVENANCE_COLUMNS = (
    "content_type_id",
    "object_id",
    "store",
    "file",
    "sheet",
    "row",
    "rows",
    "fields",
    "run_id",
    "recorded_at",
)


class ParsedRow(NamedTuple):
    row: SourceRow
    kind: str
    value: object


def parsed_rows(importer: type[Importer], table: Table, file_name: str) -> Iterator[ParsedRow]:
    """The table's rows through `importer.parse_row`, in order: everything about a row
    that needs neither the database nor the run (so another process can do it)."""
    columns = importer.header_map.resolve(table.headers)  # before any row: MissingColumnsError
    return _parsed(importer, table.rows, columns, file_name)


def _parsed(importer: type[Importer], rows: Iterable[SourceRow], columns: dict[str, int], file_name: str):
    row_dict, is_blank, parse_row = HeaderMap.row_dict, importer.is_blank, importer.parse_row
    for row in rows:
        values = row_dict(row.values, columns)
        if is_blank(values):
            yield ParsedRow(row, BLANK, None)
            continue
        try:
            Importer._check_formulas(values)
            value = parse_row(row, values, file_name)
        except (RowRejected, CellError) as problem:
            yield ParsedRow(row, REJECTED, str(problem))
            continue
        if type(value) is str and value == SKIP:
            yield ParsedRow(row, SKIP, None)
        else:
            yield ParsedRow(row, PARSED, value)


class Importer(ABC):
    """One legacy store. Subclasses declare `store`, `header_map` and `import_row`."""

    store: ClassVar[str]
    header_map: ClassVar[HeaderMap]
    min_score: ClassVar[float] = 0.99  # share of required columns a file must have

    def __init__(self, context: RunContext, file_name: str):
        self.ctx = context
        self.file_name = file_name
        self.report = FileReport(name=file_name, store=self.store)
        self._provenance: dict[tuple, tuple[models.Model, str, list[int], set[str]]] = {}
        self._conflicts: dict[tuple, dict] = {}
        self._holds: dict[tuple[int, str], list[dict]] = {}  # (row, name) -> candidates
        self._names: dict[str, object] = {}  # client names this file used (see client_named)
        self.grouped: Counter = Counter()  # a warning repeated on many rows, reported once with its count

    @classmethod
    def recognises(cls, headers: list[object]) -> Fit:
        return cls.header_map.fit(headers)

    def reason(self, row: SourceRow) -> str:
        sheet = f" sheet {row.sheet}" if row.sheet else ""
        return f"{self._reason_prefix}: {self.file_name}{sheet} row {row.number}"

    @cached_property
    def _reason_prefix(self) -> str:
        return f"{IMPORT_REASON_PREFIX}{self.ctx.run.pk} ({Store(self.store).label})"

    def run(self, table: Table, parsed: Iterable[ParsedRow] | None = None) -> FileReport:
        """Import the table's rows. `parsed`: the same rows already through `parsed_rows`
        (by a second process, `migration.prefetch`), which the table then does not hold."""
        self.report.headers = list(table.headers)
        self.report.sheet = table.sheet
        self.prepare(table)
        if parsed is None:
            parsed = parsed_rows(type(self), table, self.file_name)
        for row, kind, value in parsed:
            if kind == BLANK:
                self.report.counts["skipped"] += 1
                continue
            if kind == REJECTED:
                self.report.rejected.append((row.number, row.values, value))
                action = "rejected"
            elif kind == SKIP:
                action = "skipped"
            else:
                try:
                    action = self.import_row(row, value)
                except (RowRejected, CellError) as problem:
                    self.report.rejected.append((row.number, row.values, str(problem)))
                    action = "rejected"
                except (ValidationError, DomainError) as problem:  # the model's own checks
                    self.report.rejected.append((row.number, row.values, _validation_reason(problem)))
                    action = "rejected"
                except HeldForReview as held:
                    self.hold(row, held)
                    action = "held for review"
            self.report.counts[action] += 1
            self.ctx.progress(1)
            if row.number % 500 == 0 and self.ctx.writer.pending >= FLUSH_AT:
                self._timed(self.ctx.writer.flush)  # bounds memory on a big file
        self.finish()
        for message, rows in self.grouped.items():
            self.report.warnings.append(f"{message} ({rows} row{'s' if rows != 1 else ''})")
        self.grouped.clear()
        # What is on record already is read before this file's last writes are queued: a
        # query waits for every COPY written behind (`bulkload.writing_behind`), and the
        # writes below then go on while the next file is decided.
        first_import = self._first_import_of_file()
        known_conflicts = self._known_conflicts()
        listed_holds = self._listed_holds()
        # The records first: provenance and conflicts need their ids.
        self._timed(self.ctx.writer.flush)
        self._timed(lambda: self._write_provenance(first_import))
        self._timed(lambda: self._write_conflicts(known_conflicts))
        self._timed(lambda: self._write_holds(listed_holds))
        self._timed(self.ctx.write_held)
        self._timed(self.ctx.write_evidence)
        return self.report

    def _timed(self, write: Callable[[], None]) -> None:
        started = time.perf_counter()
        write()
        self.report.write_seconds += time.perf_counter() - started

    @staticmethod
    def is_blank(values: dict[str, object]) -> bool:
        """A row with nothing to import (a spacer, a totals line) is skipped, not rejected."""
        for value in values.values():
            if value is None or value is FORMULA_WITHOUT_VALUE:
                continue
            # Text is blank when it is all whitespace (what clean_text strips): tested without
            # building the cleaned copy, since every row of every file comes through here.
            if (value and not value.isspace()) if type(value) is str else clean_text(value):
                return False
        return True

    def prepare(self, table: Table) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook before the rows (e.g. read the rep's name from a title cell)."""

    def finish(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook after the rows (e.g. write values aggregated over many rows)."""

    # Importers whose `parse_row` reads a row without the database or the run's state; a
    # second process may parse their files while the run decides earlier ones.
    parses_apart: ClassVar[bool] = False

    @classmethod
    def parse_row(cls, row: SourceRow, values: dict[str, object], file_name: str):
        """What `import_row` is given for a row: by default its values by column. An
        importer that `parses_apart` reads its cells here (dates, amounts, text), raising
        RowRejected or CellError for a bad cell, or returning SKIP for a row not to import.
        (It has no report to warn in: a warning belongs in `import_row`.)"""
        return values

    @abstractmethod
    def import_row(self, row: SourceRow, parsed) -> str:
        """Import one row, given what `parse_row` made of it; return what happened to it
        ("created", "unchanged", ...)."""

    @staticmethod
    def _check_formulas(values: dict[str, object]) -> None:
        bad = [name for name, value in values.items() if value is FORMULA_WITHOUT_VALUE]
        if bad:
            raise RowRejected(
                f"{', '.join(bad)} holds a formula with no saved value; "
                "open the file in Excel, save it, and import again"
            )

    def new_contact(self, account: Account, *, first: str, last: str, email: str, reason: str, **values) -> Contact:
        """A person the client does not have yet, named as the store gives them (by the
        email's local part when it gives no name); the primary contact of a client that
        has none."""
        existing = self.ctx.contacts_of(account)
        contact = self.ctx.writer.create(
            Contact(account=account),
            values={
                "first_name": (first or email.split("@")[0])[:100],
                "last_name": last[:100] or "(unknown)",
                "email": email,
                "is_primary": not existing,
                **values,
            },
            reason=reason,
        )
        existing.append(contact)
        return contact

    def note_once(self, account: Account, summary: str, *, reason: str, detail: str = "", contact=None) -> None:
        """A note on the client's timeline that an earlier import of the same file has not
        written already (one query, for the rare rows that leave a note)."""
        summary = summary[:300]
        if account.pk is not None and Activity.objects.filter(account=account, summary=summary, detail=detail).exists():
            return
        self.ctx.writer.create(
            Activity(account=account, actor=self.ctx.actor, contact=contact),
            values={"kind": ActivityKind.NOTE, "summary": summary, "detail": detail},
            reason=reason,
        )

    def update(self, record: models.Model, changes: dict, *, reason: str) -> bool:
        """`writer.update`, except that a field a person has changed in the CRM since an
        import last wrote the record keeps the person's value: the CRM is newer than the
        legacy store (a rep's move on the board, a renewal date Customer Relations
        corrected). Each kept field is reported once with its row count."""
        kept = self.ctx.changed_in_crm(record, changes)
        for name in kept:
            field = type(record)._meta.get_field(name)
            self.warn_grouped(
                f"{type(record)._meta.verbose_name} {field.verbose_name} changed in the CRM since an import "
                "last wrote it: the CRM's value kept"
            )
        changes = {name: value for name, value in changes.items() if name not in kept}
        return bool(changes) and self.ctx.writer.update(record, changes, reason=reason)

    def warn_grouped(self, message: str) -> None:
        """A warning that may repeat on many rows: the report says it once, with its row count."""
        self.grouped[message] += 1

    def staff_member(self, name: str, row: SourceRow, column: str):
        """The user a staff-name cell names, or None: the name is then held for a steward to
        map (once, as an alias of a user) and reported once with its row count."""
        user, why = self.ctx.staff(name)
        if user is None:
            self.warn_grouped(f"{why}; {column} left unset until a steward maps the name at /migration/held/")
            self.ctx.hold_value(HeldKind.STAFF, name, staff_key(name), why, self.file_name, row.number)
        return user

    def client_named(self, name: str) -> Account:
        """The account a client name in this file means. The first row of a name that fits
        several accounts is held for review; the file's later rows naming it are rejected
        with a pointer to that row, rather than as unknown."""
        key = self.ctx.name_key(name)
        found = self._names.get(key, _UNSEEN)
        if found is _UNSEEN:
            try:
                found = self.ctx.account_named(name)
            except HeldForReview as held:
                self._names[key] = held.again()
                raise
            self._names[key] = found
            if found is not None:
                self.first_sight(found, name)
        if isinstance(found, HeldForReview):
            raise RowRejected(f"{name!r} fits more than one client; its first row is held for review")
        if found is None:
            found = self._names[key] = self.unknown_client(name)
        return found

    def first_sight(self, account: Account, name: str) -> None:  # noqa: B027 - an optional hook
        """Hook: a client name this file uses, matched for the first time."""

    def unknown_client(self, name: str) -> Account:
        """A name no client has: the row is rejected. A store whose rows may name companies
        that are not clients yet (a rep's leads) records them instead."""
        raise RowRejected(f"no client in the client master matches {name!r}")

    # --- Shared records ----------------------------------------------------------------
    def provenance(self, record: models.Model, row: SourceRow, fields: Iterable[str]) -> None:
        """Remember that this row supplied these fields of `record`: one provenance
        record per record and sheet, listing its rows (written at the end of the file,
        when every record this run created has its id)."""
        key = (type(record), id(record), row.sheet)
        found = self._provenance.get(key)
        if found is None:
            self._provenance[key] = (record, row.sheet, [row.number], set(fields))
        else:
            if found[2][-1] != row.number:
                found[2].append(row.number)
            found[3].update(fields)

    def _write_provenance(self, first_import: bool) -> None:
        # One statement for the file; importing the same file again replaces its rows.
        now = timezone.now()
        store, file_name, run_id = self.store, self.file_name, self.ctx.run.pk
        content_types = {}
        rows = []
        for record, sheet, numbers, fields in self._provenance.values():
            model = type(record)
            content_type = content_types.get(model)
            if content_type is None:
                content_type = content_types[model] = ContentType.objects.get_for_model(record).pk
            rows.append(
                (content_type, record.pk, store, file_name, sheet, numbers[0], numbers, sorted(fields), run_id, now)
            )
        self._provenance.clear()
        if first_import:
            # Nothing to replace: plain COPY, without the staging table and the conflict
            # check per row (1 s of a 10,000-client import).
            bulkload.insert_rows(Provenance, rows, names=PROVENANCE_COLUMNS)
            return
        bulkload.upsert(
            Provenance,
            rows,
            names=PROVENANCE_COLUMNS,
            unique=["content_type", "object_id", "store", "file", "sheet"],
            update=["row", "rows", "fields", "run", "recorded_at"],
        )

    def _first_import_of_file(self) -> bool:
        """No provenance names this file yet (so none can clash with what it writes). A
        file imported before says so at once; else its rows are looked for, in case a
        run that imported it was deleted since and left them."""
        if ImportFile.objects.filter(store=self.store, name=self.file_name, status=FileStatus.IMPORTED).exists():
            return False
        return not Provenance.objects.filter(store=self.store, file=self.file_name).exists()

    def conflict(
        self,
        *,
        account,
        subscription=None,
        field: str,
        kept_store: str,
        kept,
        other_store: str,
        other,
        detail="",
        kind: str = ConflictKind.STORES,
        evidence: dict | None = None,
    ) -> None:
        """Record that two stores disagree (once per distinct disagreement; written at the flush)."""
        other = clean_text(other)
        key = (id(account), id(subscription), field, other_store, other)
        self._conflicts.setdefault(
            key,
            {
                "account": account,
                "subscription": subscription,
                "field": field,
                "other_store": other_store,
                "other_value": other,
                "kept_store": kept_store,
                "kept_value": clean_text(kept),
                "detail": detail[:300],
                "kind": kind,
                "evidence": evidence or {},
            },
        )

    def _known_conflicts(self) -> set[tuple]:
        """The disagreements already recorded for this file's accounts that have ids (a
        record new in this file has none recorded)."""
        accounts = sorted({values["account"].pk for values in self._conflicts.values()} - {None})
        known = set()
        for start in range(0, len(accounts), 1000):
            known.update(
                ImportConflict.objects.filter(account_id__in=accounts[start : start + 1000]).values_list(
                    "account_id", "subscription_id", "field", "other_store", "other_value"
                )
            )
        return known

    def _write_conflicts(self, known: set[tuple]) -> None:
        new = []
        for values in self._conflicts.values():
            subscription = values["subscription"]
            key = (
                values["account"].pk,
                subscription.pk if subscription else None,
                values["field"],
                values["other_store"],
                values["other_value"],
            )
            if key not in known:
                known.add(key)
                new.append(ImportConflict(run=self.ctx.run, status=ConflictStatus.OPEN, **values))
        bulkload.insert_records(new)
        self.report.conflicts += len(new)
        self._conflicts.clear()

    def hold(self, row: SourceRow, held: HeldForReview) -> None:
        """Put the row on the review list (written at the end of the file)."""
        self._holds.setdefault((row.number, clean_text(held.name)[:200]), held.candidates)

    def _listed_holds(self) -> set[tuple[int, str]]:
        if not self._holds:
            return set()
        listed = MatchReview.objects.filter(store=self.store, file=self.file_name)
        return set(listed.values_list("row", "incoming_name"))

    def _write_holds(self, listed: set[tuple[int, str]]) -> None:
        # A row already on the list from an earlier run stays there as it is.
        new = [
            MatchReview(
                run=self.ctx.run, store=self.store, file=self.file_name, row=row, incoming_name=name, candidates=found
            )
            for (row, name), found in self._holds.items()
            if (row, name) not in listed
        ]
        bulkload.insert_records(new)
        self.report.reviews += len(new)
        self._holds.clear()
