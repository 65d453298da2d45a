"""What every legacy importer shares: the run context (actor, account index, caches), the
per-file report, provenance and conflict recording."""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

from customers.dedupe import AccountIndex, Match, MatchRecord, account_records
from customers.models import Account, Product
from migration.choices import ConflictStatus, Store
from migration.headers import HeaderMap
from migration.models import ImportConflict, ImportRun, MatchReview, Provenance
from migration.parsing import CellError, clean_text
from migration.readers import FORMULA_WITHOUT_VALUE, SourceRow, Table

AUTO_MATCH = 90  # a name match this strong (or a shared ABN) is the same client
REVIEW_FLOOR = 70  # below this an incoming name is not like any account
MARGIN = 5  # a runner-up this close to the best makes the match ambiguous


class RowRejected(ValueError):
    """This row cannot be imported; the message goes in the rejected-rows file."""


class HeldForReview(ValueError):
    """The row looks like more than one account; a person must choose."""


@dataclass
class RunContext:
    """State shared by the importers of one run."""

    run: ImportRun
    actor: models.Model
    index: AccountIndex  # grows with the accounts this run creates
    accounts_by_code: dict[str, Account]
    products: dict[str, Product]
    staff_by_name: dict[str, models.Model]
    progress: Callable[[int], None] = lambda rows: None

    @classmethod
    def build(cls, run: ImportRun, actor) -> RunContext:
        User = get_user_model()
        staff = {}
        for user in User.objects.filter(is_active=True):
            for key in {user.get_full_name().lower(), user.username.lower()}:
                if key:
                    staff[key] = user
        products = {}
        for product in Product.objects.all():
            for key in {product.name, product.code, product.code.replace("-", " "), product.name.replace(" ", "")}:
                products[_product_key(key)] = product
        return cls(
            run=run,
            actor=actor,
            index=AccountIndex(account_records()),
            accounts_by_code={a.code: a for a in Account.objects.active_records()},
            products=products,
            staff_by_name=staff,
        )

    def product(self, value: object) -> Product:
        text = clean_text(value)
        product = self.products.get(_product_key(text))
        if product is None:
            for key, candidate in self.products.items():
                if key and key in _product_key(text):
                    return candidate
            raise RowRejected(f"unknown product {text!r}")
        return product

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
        if not matches:
            return None
        best = matches[0]
        rivals = [m for m in matches[1:] if m.pk != best.pk and m.score >= best.score - MARGIN]
        if best.score >= AUTO_MATCH and not rivals:
            return self.accounts_by_code.get(best.code) or self._load(best.pk)
        raise HeldForReview(_describe(matches))

    def _load(self, pk: int) -> Account:
        account = Account.objects.get(pk=pk)
        self.accounts_by_code[account.code] = account
        return account

    def remember(self, account: Account) -> None:
        """Put a created or updated account where the next rows will find it."""
        known = account.code in self.accounts_by_code
        self.accounts_by_code[account.code] = account
        if not known:
            self.index.add(
                MatchRecord.build(
                    pk=account.pk,
                    code=account.code,
                    legal_name=account.legal_name,
                    trading_name=account.trading_name,
                    abn=account.abn,
                    phone=account.phone,
                    state=account.state,
                )
            )


def _product_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


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
    conflicts: int = 0
    reviews: int = 0
    seconds: float = 0.0

    def rejected_csv(self) -> str:
        """The rejected rows in the file's own columns plus `row` and `reason` (formula-like
        text is neutralised so a spreadsheet never executes it)."""
        if not self.rejected:
            return ""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["row", *[clean_text(h) for h in self.headers], "reason"])
        for number, values, reason in self.rejected:
            writer.writerow([number, *[_safe_cell(v) for v in values], reason])
        return buffer.getvalue()


def _safe_cell(value: object) -> str:
    if value is FORMULA_WITHOUT_VALUE:
        return "(formula without a saved value)"
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class Importer(ABC):
    """One legacy store. Subclasses declare `store`, `header_map` and `import_row`."""

    store: ClassVar[str]
    header_map: ClassVar[HeaderMap]
    min_score: ClassVar[float] = 0.99  # share of required columns a file must have

    def __init__(self, context: RunContext, file_name: str):
        self.ctx = context
        self.file_name = file_name
        self.report = FileReport(name=file_name, store=self.store)
        self._provenance: dict[tuple, Provenance] = {}

    @classmethod
    def recognises(cls, headers: list[object]) -> float:
        return cls.header_map.score(headers)

    def reason(self, row: SourceRow) -> str:
        where = f"{self.file_name}" + (f" sheet {row.sheet}" if row.sheet else "") + f" row {row.number}"
        return f"Import run #{self.ctx.run.pk} ({Store(self.store).label}): {where}"

    def run(self, table: Table) -> FileReport:
        columns = self.header_map.resolve(table.headers)
        self.report.headers = list(table.headers)
        self.prepare(table)
        for row in table.rows:
            values = HeaderMap.row_dict(row.values, columns)
            if self.is_blank(values):
                self.report.counts["skipped"] += 1
                continue
            try:
                self._check_formulas(values)
                action = self.import_row(row, values)
            except (RowRejected, CellError) as problem:
                self.report.rejected.append((row.number, row.values, str(problem)))
                action = "rejected"
            except HeldForReview as held:
                self.hold(row, values, held.args[0])
                action = "held for review"
            self.report.counts[action] += 1
            self.ctx.progress(1)
        self.finish()
        # One insert for the file's provenance; rows already recorded are left alone.
        Provenance.objects.bulk_create(self._provenance.values(), ignore_conflicts=True, batch_size=2000)
        return self.report

    def is_blank(self, values: dict[str, object]) -> bool:
        """A row with nothing to import (a spacer, a totals line) is skipped, not rejected."""
        return not any(clean_text(v) for v in values.values() if v is not FORMULA_WITHOUT_VALUE)

    def prepare(self, table: Table) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook before the rows (e.g. read the rep's name from a title cell)."""

    def finish(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook after the rows (e.g. write values aggregated over many rows)."""

    @abstractmethod
    def import_row(self, row: SourceRow, values: dict[str, object]) -> str:
        """Import one row; return what happened to it ("created", "unchanged", ...)."""

    @staticmethod
    def _check_formulas(values: dict[str, object]) -> None:
        bad = [name for name, value in values.items() if value is FORMULA_WITHOUT_VALUE]
        if bad:
            raise RowRejected(
                f"{', '.join(bad)} holds a formula with no saved value; "
                "open the file in Excel, save it, and import again"
            )

    # --- Shared records ----------------------------------------------------------------
    def provenance(self, record: models.Model, row: SourceRow, fields: Iterable[str]) -> None:
        """Remember that this row supplied these fields of `record` (written at file end)."""
        content_type = ContentType.objects.get_for_model(record)
        key = (content_type.pk, record.pk, row.sheet, row.number)
        if key in self._provenance:
            self._provenance[key].fields = sorted({*self._provenance[key].fields, *fields})
            return
        self._provenance[key] = Provenance(
            content_type=content_type,
            object_id=record.pk,
            store=self.store,
            file=self.file_name,
            sheet=row.sheet,
            row=row.number,
            fields=sorted(fields),
            run=self.ctx.run,
        )

    def conflict(
        self, *, account, subscription=None, field: str, kept_store: str, kept, other_store: str, other, detail=""
    ) -> None:
        """Record that two stores disagree (once per distinct disagreement)."""
        _, created = ImportConflict.objects.get_or_create(
            account=account,
            subscription=subscription,
            field=field,
            other_store=other_store,
            other_value=clean_text(other),
            defaults={
                "run": self.ctx.run,
                "kept_store": kept_store,
                "kept_value": clean_text(kept),
                "detail": detail,
                "status": ConflictStatus.OPEN,
            },
        )
        if created:
            self.report.conflicts += 1

    def hold(self, row: SourceRow, values: dict[str, object], candidates: list[dict]) -> None:
        _, created = MatchReview.objects.get_or_create(
            store=self.store,
            file=self.file_name,
            row=row.number,
            incoming_name=clean_text(values.get("name"))[:200],
            defaults={"run": self.ctx.run, "candidates": candidates},
        )
        if created:
            self.report.reviews += 1
