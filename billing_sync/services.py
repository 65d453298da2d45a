"""Every write of the Xero reconciliation: imports, contact mapping, reconciliation and
the resolution of discrepancies.

Each function is one action with an explicit `actor` (and `reason` where history needs
one). Contract values change only through `customers.services`, so field ownership and
history apply as anywhere else. Views, commands, tasks and the admin call these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from billing_sync import reconcile as engine
from billing_sync.choices import (
    Cause,
    DiscrepancyStatus,
    FileStatus,
    ImportKind,
    MatchMethod,
    MatchStatus,
    Resolution,
    RunStatus,
)
from billing_sync.mapping import AccountMatcher
from billing_sync.models import Discrepancy, XeroContact, XeroImport, XeroImportFile, XeroInvoiceLine
from billing_sync.orders import OrderTargets, order_id_in
from billing_sync.parsing import ContactRecord, InvoiceLineRecord, NotAXeroExport, Rejected, open_export, rejected_csv
from billing_sync.products import ProductResolver
from cloudcore_crm.lib import bulkload
from cloudcore_crm.roles import DATA_STEWARD, FINANCE, has_role
from customers import services as customer_services
from customers.choices import ActivityKind, AliasKind
from customers.errors import AliasTakenError, DomainError, OwnershipError
from customers.models import Account, Activity, Subscription

logger = logging.getLogger(__name__)
PROGRESS_KEY = "billing_sync:import:{pk}:rows"
CHUNK = 5000  # rows decided and written together
WRITERS = (FINANCE, DATA_STEWARD)


class ResolutionError(DomainError):
    """A discrepancy cannot be resolved that way (already resolved, no value to accept...)."""


def can_write(user) -> bool:
    return has_role(user, *WRITERS)


def require_finance(actor: AbstractBaseUser | None, action: str = "Xero imports and billing discrepancies") -> None:
    if actor is None or not can_write(actor):
        raise OwnershipError(f"{action} are for Finance (or a data steward).", fields=[])


def name_key(name: str) -> str:
    return " ".join((name or "").split()).casefold()[:255]


# --- Imports ----------------------------------------------------------------------------


@dataclass
class FileOutcome:
    name: str
    kind: str = ""
    status: str = FileStatus.IMPORTED
    counts: Counter = field(default_factory=Counter)
    message: str = ""
    rejected_csv: str = ""
    seconds: float = 0.0
    unknown_refs: set[str] = field(default_factory=set)  # order IDs no subscription or hand-off holds
    mapped: list[dict] = field(default_factory=list)  # contacts mapped by an order ID
    # contacts with no account whose lines carry a known order ID: name_key -> (contact, accounts, ref, invoice)
    to_map: dict[str, tuple] = field(default_factory=dict)


class _Progress:
    """Rows done, in the cache, so the page can show progress while the run's
    transaction is still open."""

    def __init__(self, run: XeroImport):
        self.key = PROGRESS_KEY.format(pk=run.pk)
        self.done = 0
        cache.set(self.key, 0, timeout=24 * 3600)

    def add(self, rows: int) -> None:
        self.done += rows
        cache.set(self.key, self.done, timeout=24 * 3600)


def rows_done(run: XeroImport) -> int:
    return cache.get(PROGRESS_KEY.format(pk=run.pk), run.rows_done)


class _Rollback(Exception):
    """Raised inside a file's savepoint to undo it (rejected rows: all or nothing)."""


@dataclass
class ImportContext:
    run: XeroImport
    actor: AbstractBaseUser
    matcher: AccountMatcher
    products: ProductResolver
    progress: _Progress
    orders: OrderTargets = field(default_factory=OrderTargets)
    contacts: dict[str, XeroContact] = field(default_factory=dict)  # by name_key
    by_spelling: dict[str, XeroContact] = field(default_factory=dict)  # by the name as the file spells it
    touched_contacts: set[int] = field(default_factory=set)  # contacts whose facts changed: match again

    @classmethod
    def build(cls, run: XeroImport, actor, progress: _Progress) -> ImportContext:
        context = cls(run, actor, AccountMatcher.build(), ProductResolver.build(), progress)
        context.reload_contacts()
        return context

    def reload_contacts(self) -> None:
        self.contacts = {c.name_key: c for c in XeroContact.objects.all()}
        self.by_spelling = {}

    @property
    def reason(self) -> str:
        return f"Xero import #{self.run.pk}"


def run_import(
    *,
    paths: Iterable[Path] = (),
    sources: Iterable = (),
    actor: AbstractBaseUser,
    dry_run: bool = False,
    run: XeroImport | None = None,
    today: dt.date | None = None,
) -> XeroImport:
    """Import Xero exports (`paths`) or adapter sources (`sources`, e.g. the API pull),
    contacts before invoices, each file all or nothing; then reconcile. A dry run does
    all of it and rolls it back, so its report says what the import would do."""
    require_finance(actor)
    if run is None:
        run = XeroImport.objects.create(started_by=actor, dry_run=dry_run)
    run.status, run.started_at = RunStatus.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    inputs: list = []
    outcomes: list[FileOutcome] = []
    for path in sorted(Path(p) for p in paths):
        if path.name.endswith(".rejected.csv"):
            continue
        try:
            inputs.append(open_export(path))
        except NotAXeroExport as refused:
            outcomes.append(FileOutcome(path.name, status=FileStatus.REFUSED, message=str(refused)))
    inputs += list(sources)
    inputs.sort(key=lambda item: 0 if item.kind == ImportKind.CONTACTS else 1)
    run.rows_total = sum(item.count_rows() for item in inputs)
    run.save(update_fields=["rows_total"])
    progress = _Progress(run)
    summary: dict = {}
    try:
        with transaction.atomic():
            context = ImportContext.build(run, actor, progress)
            for item in inputs:
                outcomes.append(_import_file(item, context))
            summary["order_ids"] = _order_summary(outcomes)
            mapped = map_contacts(context=context)
            summary["contacts"] = mapped
            result = reconcile(today=today, reason=f"Xero import #{run.pk}")
            summary["reconciliation"] = result.as_dict()
            if dry_run:
                transaction.set_rollback(True)
    except DatabaseError as error:
        run.status, run.error, run.finished_at = RunStatus.FAILED, f"The database failed: {error}", timezone.now()
        run.save()
        raise
    return _finish(run, outcomes, summary, dry_run=dry_run)


def _import_file(item, context: ImportContext) -> FileOutcome:
    outcome = FileOutcome(item.path.name if hasattr(item, "path") else item.name, kind=item.kind)
    started = time.perf_counter()
    rejected: list[Rejected] = []
    try:
        with transaction.atomic():
            if item.kind == ImportKind.CONTACTS:
                _import_contacts(item.records(), context, outcome, rejected)
            else:
                _import_lines(item.records(), context, outcome, rejected)
            if rejected:
                raise _Rollback
    except _Rollback:
        outcome.status = FileStatus.REJECTED
        outcome.message = (
            f"{len(rejected)} row(s) could not be read, so nothing of this file was imported. "
            "Download the rejected rows, correct them in Xero or the file, and import it again."
        )
        outcome.rejected_csv = rejected_csv(list(item.headers), rejected)
        outcome.counts = Counter({"rejected": len(rejected)})
        context.reload_contacts()  # what the file created or changed was rolled back with it
    else:
        outcome.status = FileStatus.PREVIEWED if context.run.dry_run else FileStatus.IMPORTED
    outcome.seconds = time.perf_counter() - started
    return outcome


def _new_contact(context: ImportContext, name: str, **facts: str) -> XeroContact:
    """A contact first seen now, matched at once so its lines are written with their
    account (saved in bulk by the caller)."""
    contact = XeroContact(name=name[:255], name_key=name_key(name), status=MatchStatus.UNMATCHED)
    for attr, value in facts.items():
        if value:
            setattr(contact, attr, value)
    _decide(contact, context.matcher)
    contact._change_reason = f"{context.reason}: first seen, {contact.get_status_display().lower()}"
    context.contacts[contact.name_key] = contact
    return contact


def _save_new_contacts(contacts: list[XeroContact]) -> None:
    if contacts:
        bulkload.insert_with_history(contacts, date=timezone.now())


def _import_contacts(records: Iterator, context: ImportContext, outcome: FileOutcome, rejected: list) -> None:
    new: list[XeroContact] = []
    changed: list[XeroContact] = []
    for record in records:
        context.progress.add(1)
        if isinstance(record, Rejected):
            rejected.append(record)
            continue
        assert isinstance(record, ContactRecord)
        facts = {
            "xero_id": record.contact_id,
            "account_number": record.account_number,
            "tax_number": record.tax_number,
            "email": record.email,
        }
        contact = context.contacts.get(name_key(record.name))
        if contact is None:
            new.append(_new_contact(context, record.name, **facts))
            outcome.counts["contacts added"] += 1
            continue
        fresh = [attr for attr, value in facts.items() if value and getattr(contact, attr) != value]
        if not fresh:
            outcome.counts["contacts unchanged"] += 1
            continue
        for attr in fresh:
            setattr(contact, attr, facts[attr])
        contact._change_reason = f"{context.reason}: {outcome.name[:40]} row {record.row}"
        if contact.pk is None:
            continue  # added earlier in this file: saved with the new ones
        changed.append(contact)
        outcome.counts["contacts updated"] += 1
        if contact.method not in MatchMethod.settled():
            context.touched_contacts.add(contact.pk)
    if not rejected:
        _save_new_contacts(new)
        now = timezone.now()
        for contact in changed:
            contact.updated_at = now
        bulkload.update_with_history(
            changed, ["xero_id", "account_number", "tax_number", "email", "updated_at"], date=now
        )


_LINE_COLUMNS = (
    "invoice_number", "line_no", "invoice_type", "status", "contact_id", "account_id", "product_id", "invoice_date",
    "due_date", "reference", "item_code", "description", "quantity", "unit_amount", "line_amount", "invoice_total",
    "currency", "xero_invoice_id", "fingerprint", "first_import_id", "last_import_id", "order_ref",
)  # fmt: skip
_ACCOUNT, _FINGERPRINT, _FIRST = _LINE_COLUMNS.index("account_id"), 18, 19


def _fingerprint(values: tuple) -> str:
    """A hash of a line's values from its type to its Xero id (not the account: that is
    compared on its own, and not the import ids)."""
    return hashlib.md5(repr(values[2:5] + values[6:18]).encode(), usedforsecurity=False).hexdigest()


def _import_lines(records: Iterator, context: ImportContext, outcome: FileOutcome, rejected: list) -> None:
    """Lines in chunks: an invoice's rows are together in Xero's export, so each chunk
    ends at an invoice boundary and holds whole invoices."""
    lines_seen: dict[str, int] = defaultdict(int)
    chunk: list[InvoiceLineRecord] = []
    for record in records:
        if isinstance(record, Rejected):
            rejected.append(record)
            context.progress.add(1)
            continue
        if len(chunk) >= CHUNK and record.number != chunk[-1].number:
            if not rejected:
                _write_lines(chunk, context, outcome, lines_seen)
            context.progress.add(len(chunk))
            chunk = []
        chunk.append(record)
    if chunk and not rejected:
        _write_lines(chunk, context, outcome, lines_seen)
    context.progress.add(len(chunk))
    if not rejected:
        _map_by_order(context, outcome)


def _contacts_of(chunk: list[InvoiceLineRecord], context: ImportContext) -> None:
    """Every contact the chunk names, the new ones matched and saved in one go."""
    new: list[XeroContact] = []
    for record in chunk:
        spelling = record.contact_name
        if spelling in context.by_spelling:
            continue
        contact = context.contacts.get(name_key(spelling))
        if contact is None:
            contact = _new_contact(context, spelling, xero_id=record.contact_id, email=record.email)
            new.append(contact)
        elif record.contact_id and not contact.xero_id and contact.pk is not None:
            contact.xero_id = record.contact_id
            contact._change_reason = f"{context.reason}: ContactID"
            contact.save(update_fields=["xero_id", "updated_at"])
        context.by_spelling[spelling] = contact
    _save_new_contacts(new)


def _write_lines(chunk: list[InvoiceLineRecord], context: ImportContext, outcome: FileOutcome, seen) -> None:
    run_id = context.run.pk
    _contacts_of(chunk, context)
    numbers = {record.number for record in chunk}
    existing: dict[tuple[str, int], tuple[int, str, int | None, int | None, str]] = {
        (number, line_no): (pk, fingerprint, account_id, first, order_ref)
        for pk, number, line_no, fingerprint, account_id, first, order_ref in XeroInvoiceLine.objects.filter(
            invoice_number__in=numbers
        ).values_list("pk", "invoice_number", "line_no", "fingerprint", "account_id", "first_import_id", "order_ref")
    }
    resolve = context.products.resolve
    refs = [order_id_in(record.reference, record.description) for record in chunk]
    targets = context.orders.lookup(refs)
    new: list[tuple] = []
    changed: list[XeroInvoiceLine] = []
    for record, ref in zip(chunk, refs, strict=True):
        seen[record.number] += 1
        line_no = seen[record.number]
        contact = context.by_spelling[record.contact_name]
        product = resolve(item_code=record.item_code, description=record.description, reference=record.reference)
        product_id = product.pk if product else None
        account_id = contact.account_id
        # An order ID the line carries (its invoice's Reference, else its description)
        # decides its client and fills in its product, before the contact's name does.
        target = targets.get(ref)
        if target is not None:
            account_id, product_id = target.account_id, target.product_for(product_id)
            outcome.counts["lines matched by order ID"] += 1
            if contact.account_id is None:
                _, accounts, *_ = outcome.to_map.setdefault(contact.name_key, (contact, set(), ref, record.number))
                accounts.add(target.account_id)
            elif contact.account_id != target.account_id:
                outcome.counts["lines whose order ID names another client than the contact"] += 1
        elif ref:
            outcome.unknown_refs.add(ref)
            ref = ""  # an unknown order ID changes nothing
        values = (
            record.number, line_no, record.invoice_type, record.status, contact.pk, account_id,
            product_id, record.date, record.due_date, record.reference, record.item_code,
            record.description, record.quantity, record.unit_amount, record.line_amount, record.total,
            record.currency, record.invoice_id, "", run_id, run_id, ref,
        )  # fmt: skip
        fingerprint = _fingerprint(values)
        before = existing.pop((record.number, line_no), None)
        if before is None:
            new.append((*values[:_FINGERPRINT], fingerprint, run_id, run_id, ref))
            outcome.counts["lines added"] += 1
        elif before[1] != fingerprint or before[2] != values[_ACCOUNT] or before[4] != ref:
            line = XeroInvoiceLine(**dict(zip(_LINE_COLUMNS, values, strict=True)))
            line.pk, line.fingerprint, line.first_import_id = before[0], fingerprint, before[3]
            changed.append(line)
            outcome.counts["lines updated"] += 1
        else:
            outcome.counts["lines unchanged"] += 1
    # Lines an invoice no longer has (Xero's edit removed them), for invoices seen whole.
    gone = [pk for (number, line_no), (pk, *_) in existing.items() if line_no > seen[number]]
    if gone:
        XeroInvoiceLine.objects.filter(pk__in=gone).delete()
        outcome.counts["lines removed"] += len(gone)
    bulkload.insert_rows(XeroInvoiceLine, new, names=_LINE_COLUMNS)
    bulkload.update(changed, [c for c in _LINE_COLUMNS if c not in ("invoice_number", "line_no", "first_import_id")])
    outcome.counts["invoices"] += len(numbers)


def _map_by_order(context: ImportContext, outcome: FileOutcome) -> None:
    """A contact with no account whose invoices carry an activated order's ID is that
    order's client: mapped through `map_contact`, as Finance would, the reason naming the
    invoice and the order. Orders of two clients on one contact are left for Finance."""
    unknown = len(outcome.unknown_refs)
    if unknown:
        outcome.counts["unknown order IDs (nothing changed)"] = unknown
    for contact, accounts, ref, number in outcome.to_map.values():
        if len(accounts) != 1:
            outcome.counts["contacts naming orders of two clients (left for Finance)"] += 1
            continue
        account = Account.objects.get(pk=next(iter(accounts)))
        try:
            mapped = map_contact(
                contact=contact,
                account=account,
                actor=context.actor,
                reason=f"{context.reason}: invoice {number} carries order {ref} of {account.code}",
                method=MatchMethod.ORDER_ID,
            )
        except DomainError as error:
            outcome.counts["contacts an order ID could not map (left for Finance)"] += 1
            logger.info("Xero contact %s not mapped by order %s: %s", contact.name, ref, error)
            continue
        contact.status, contact.account_id, contact.method = mapped.status, mapped.account_id, mapped.method
        context.matcher.remember(account_id=account.pk, identifier=mapped.identifier)
        outcome.counts["contacts mapped by order ID"] += 1
        outcome.mapped.append({"contact": contact.name, "account": account.code, "order": ref, "invoice": number})


def _order_summary(outcomes: list[FileOutcome]) -> dict:
    kept = [o for o in outcomes if o.status not in (FileStatus.REJECTED, FileStatus.REFUSED)]
    return {
        "matched": sum(o.counts["lines matched by order ID"] for o in kept),
        "mapped": [m for o in kept for m in o.mapped],
        "unknown": sorted({ref for o in kept for ref in o.unknown_refs}),
    }


def _finish(run: XeroImport, outcomes: list[FileOutcome], summary: dict, *, dry_run: bool) -> XeroImport:
    with transaction.atomic():
        for outcome in outcomes:
            XeroImportFile.objects.create(
                run=run,
                name=outcome.name[:200],
                kind=outcome.kind,
                status=outcome.status,
                counts=dict(outcome.counts),
                message=outcome.message,
                rejected_csv=outcome.rejected_csv,
            )
        summary["files"] = [
            {"name": o.name, "status": o.status, "counts": dict(o.counts), "seconds": round(o.seconds, 2)}
            for o in outcomes
        ]
        run.report = summary
        run.rows_done = run.rows_total
        run.status = RunStatus.PREVIEWED if dry_run else RunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        run.save()
    cache.delete(PROGRESS_KEY.format(pk=run.pk))
    return run


def upload_root() -> Path:
    return Path(settings.BILLING_UPLOAD_DIR)


def start_import(*, files, actor: AbstractBaseUser) -> XeroImport:
    """Keep the uploaded files for the dry run (and its confirmation), then queue it.

    The run happens in a Celery task after commit (eagerly without Redis)."""
    require_finance(actor)
    run = XeroImport.objects.create(started_by=actor, dry_run=True)
    directory = upload_root() / f"xero-{run.pk}"
    directory.mkdir(parents=True, exist_ok=True)
    for upload in files:
        safe_name = Path(upload.name).name.replace("\x00", "")[:200] or "upload.csv"
        with open(directory / safe_name, "wb") as target:
            for part in upload.chunks():
                target.write(part)
    run.upload_dir = str(directory)
    run.save(update_fields=["upload_dir"])
    _queue(run)
    return run


def confirm_import(*, preview: XeroImport, actor: AbstractBaseUser) -> XeroImport:
    """Import for real the files a dry run previewed."""
    require_finance(actor)
    if not preview.dry_run or preview.status != RunStatus.PREVIEWED:
        raise OwnershipError("Only a finished dry run can be confirmed.", fields=[])
    if not preview.upload_dir or not Path(preview.upload_dir).is_dir():
        raise OwnershipError("The files of this dry run are gone; upload them again.", fields=[])
    run = XeroImport.objects.create(started_by=actor, dry_run=False, upload_dir=preview.upload_dir)
    _queue(run)
    return run


def _queue(run: XeroImport) -> None:
    from billing_sync import tasks

    transaction.on_commit(lambda: tasks.run_xero_import.delay(run.pk))


def run_queued(run_id: int) -> XeroImport | None:
    """The task's body: claim the pending run (so a retried task runs it once) and import."""
    claimed = XeroImport.objects.filter(pk=run_id, status=RunStatus.PENDING).update(status=RunStatus.RUNNING)
    if not claimed:
        return None
    run = XeroImport.objects.select_related("started_by").get(pk=run_id)
    paths = [p for p in Path(run.upload_dir).iterdir() if p.is_file()]
    try:
        return run_import(paths=paths, actor=run.started_by, dry_run=run.dry_run, run=run)
    except Exception as error:  # the page must say it failed, not spin forever
        logger.exception("Xero import #%s failed", run_id)
        XeroImport.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=f"{error.__class__.__name__}: {error}", finished_at=timezone.now()
        )
        return None


# --- Contact mapping --------------------------------------------------------------------


def _decide(contact: XeroContact, matcher: AccountMatcher) -> bool:
    """Match a contact to an account; True when its answer changed."""
    decision = matcher.decide(
        name=contact.name,
        xero_id=contact.xero_id,
        account_number=contact.account_number,
        tax_number=contact.tax_number,
        email=contact.email,
    )
    new = (decision.status, decision.account_id, decision.method, list(decision.candidates))
    if new == (contact.status, contact.account_id, contact.method, contact.candidates):
        return False
    contact.status, contact.account_id, contact.method, contact.candidates = new
    return True


def map_contacts(*, context: ImportContext | None = None, contact_ids: Iterable[int] | None = None) -> dict:
    """Match again the contacts that are not settled (held or unmatched, or whose facts an
    import changed; never one Finance mapped), and point their invoice lines at the
    account when the answer changed. New contacts were matched as they were first seen."""
    matcher = context.matcher if context else AccountMatcher.build()
    reason = context.reason if context else "Contact mapping"
    unsettled = XeroContact.objects.exclude(method__in=MatchMethod.settled())
    if contact_ids is not None:
        contacts = unsettled.filter(pk__in=list(contact_ids))
    else:
        touched = context.touched_contacts if context else set()
        contacts = unsettled.filter(Q(pk__in=touched) | ~Q(status=MatchStatus.MATCHED))
    for contact in contacts:
        before = contact.account_id
        if _decide(contact, matcher):
            contact._change_reason = f"{reason}: {contact.get_status_display().lower()}"
            contact.save()
            if contact.account_id != before:
                _point_lines(contact, contact.account_id)
    return dict(XeroContact.objects.order_by().values_list("status").annotate(n=Count("pk")))


def _point_lines(contact: XeroContact, account_id: int | None) -> None:
    """The contact's lines follow its account, except those carrying an activated order's
    ID: they belong to that order's client whatever the contact is."""
    XeroInvoiceLine.objects.filter(contact=contact, order_ref="").update(account_id=account_id)


@transaction.atomic
def map_contact(
    *,
    contact: XeroContact,
    account: Account,
    actor: AbstractBaseUser,
    reason: str = "",
    method: str = MatchMethod.FINANCE,
) -> XeroContact:
    """Finance's answer for a held or unmatched contact: it is this account. The answer
    becomes the account's Xero contact id (or, when it has one already, an alias), so the
    next import resolves the contact by itself. `method` says how the answer was found
    (Finance's, or an order ID on the contact's invoice, found by the import)."""
    require_finance(actor, "Mapping Xero contacts")
    contact = XeroContact.objects.select_for_update().get(pk=contact.pk)
    why = (reason or "").strip() or f"Xero contact “{contact.name}” mapped by Finance"
    identifier = contact.identifier
    if not account.xero_contact_id:
        customer_services.update_account(
            account=account,
            changes={"xero_contact_id": identifier},
            expected_version=account.version,
            actor=actor,
            reason=why,
        )
    elif account.xero_contact_id.strip().lower() != identifier.strip().lower():
        try:
            # The system records the alias for Finance (aliases are Customer Relations' to
            # add by hand); the reason names who decided.
            customer_services.add_alias(
                account=account,
                kind=AliasKind.XERO_CONTACT,
                value=identifier,
                source="Xero contact mapping",
                actor=None,
                reason=f"{why} (by {actor.get_username()})",
            )
        except AliasTakenError as taken:
            raise ResolutionError(str(taken)) from None
    contact.account = account
    contact.status, contact.method = MatchStatus.MATCHED, method
    contact.mapped_by, contact.mapped_at = actor, timezone.now()
    contact._change_reason, contact._history_user = why, actor
    contact.save()
    _point_lines(contact, account.pk)
    return contact


# --- Reconciliation ---------------------------------------------------------------------


@dataclass
class ReconcileResult:
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    settled: int = 0
    unchanged: int = 0
    findings: int = 0
    seconds: float = 0.0
    by_cause: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "opened": self.opened,
            "reopened": self.reopened,
            "updated": self.updated,
            "settled": self.settled,
            "unchanged": self.unchanged,
            "findings": self.findings,
            "by_cause": dict(self.by_cause),
            "seconds": round(self.seconds, 2),
        }


def default_owner():
    """The Finance person who owns new discrepancies: `BILLING_DISCREPANCY_OWNER`, else
    the first active member of Finance."""
    User = get_user_model()
    username = getattr(settings, "BILLING_DISCREPANCY_OWNER", "")
    if username:
        found = User.objects.filter(username=username, is_active=True).first()
        if found:
            return found
    return User.objects.filter(groups__name=FINANCE, is_active=True).order_by("pk").first()


_CASE_FIELDS = (
    "cause", "account_id", "subscription_id", "product_id", "crm_value", "xero_value", "amount", "cadence",
    "detail", "invoices",
)  # fmt: skip


@transaction.atomic
def reconcile(
    *, today: dt.date | None = None, reason: str = "Nightly reconciliation", account_ids: list[int] | None = None
) -> ReconcileResult:
    """Compare every live subscription of the accounts Xero bills with what Xero bills per
    year, and keep the queue in step: one case per cause and subscription (or account and
    product), opened, updated, settled when the figures agree, reopened only when they
    change after a resolution."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    now = timezone.now()
    findings = engine.find(today=today, account_ids=account_ids)
    result = ReconcileResult(findings=len(findings))
    cases = Discrepancy.objects.all() if account_ids is None else Discrepancy.objects.filter(account_id__in=account_ids)
    existing = {d.key: d for d in cases}
    owner = default_owner()
    created: list[Discrepancy] = []
    changed: list[Discrepancy] = []
    notices: list[Activity] = []
    for finding in findings:
        result.by_cause[finding.cause] += 1
        case = existing.pop(finding.key, None)
        if case is None:
            case = Discrepancy(key=finding.key, owner=owner, opened_at=now, last_seen_at=now)
            _apply(case, finding)
            case._change_reason = f"{reason}: opened"
            created.append(case)
            notices.append(_notice(case, "opened"))
            continue
        if case.is_open:
            if _figures(case) != finding.figures or case.detail != finding.detail:
                _apply(case, finding)
                case.last_seen_at = now
                case._change_reason = f"{reason}: figures changed"
                changed.append(case)
                result.updated += 1
            else:
                result.unchanged += 1
            continue
        explanation_over = case.explained_until is not None and case.explained_until < today
        if finding.figures != case.resolved_figures or explanation_over:
            _apply(case, finding)
            case.status, case.last_seen_at, case.opened_at = DiscrepancyStatus.OPEN, now, now
            case.xero_correction_pending = False
            why = "the explanation's date passed" if explanation_over else "the figures changed"
            case._change_reason = f"{reason}: reopened, {why}"
            changed.append(case)
            notices.append(_notice(case, "reopened"))
            result.reopened += 1
        else:
            result.unchanged += 1
    for case in existing.values():
        if case.is_open:
            case.status, case.resolution = DiscrepancyStatus.RESOLVED, Resolution.SETTLED
            case.resolved_at, case.resolved_by = now, None
            case.resolution_reason = (
                "No longer waiting: an invoice carries the order ID, or the order's subscriptions ended."
                if case.cause == Cause.HANDOFF_NOT_INVOICED
                else "Xero and the CRM now agree."
            )
            case.resolved_figures = _figures(case)
            case._change_reason = f"{reason}: settled, the figures now agree"
            changed.append(case)
            result.settled += 1
        elif case.xero_correction_pending:
            case.xero_correction_pending = False  # Finance's correction reached Xero
            case._change_reason = f"{reason}: Xero corrected"
            changed.append(case)
    for case in created:
        case._history_user = None
    bulkload.insert_with_history(created, date=now, default_reason=reason)
    for case in changed:
        case._history_user = None
    bulkload.update_with_history(
        changed,
        _UPDATED,
        date=now,
        default_reason=reason,
    )
    result.opened = len(created)
    if notices:
        customer_services.log_system_activities(activities=notices, reason=reason)
    result.seconds = time.perf_counter() - started
    return result


_UPDATED = [
    "status", "subscription_id", "product_id", "crm_value", "xero_value", "amount", "cadence", "detail", "invoices",
    "last_seen_at", "opened_at", "resolution", "resolution_reason", "resolved_by_id", "resolved_at",
    "resolved_figures", "xero_correction_pending",
]  # fmt: skip


def _apply(case: Discrepancy, finding: engine.Finding) -> None:
    case.cause = finding.cause
    case.account_id = finding.account_id
    case.subscription_id = finding.subscription_id
    case.product_id = finding.product_id
    case.crm_value = finding.crm_value
    case.xero_value = finding.xero_value
    case.amount = finding.amount
    case.cadence = finding.cadence
    case.detail = finding.detail[:300]
    case.invoices = finding.invoices


def _figures(case: Discrepancy) -> str:
    return engine.figures(case.cause, case.crm_value, case.xero_value, case.invoices)


def _notice(case: Discrepancy, verb: str) -> Activity:
    """The account owner is told on the timeline (their home page and the 360 page)."""
    label = Cause(case.cause).label
    return Activity(
        account_id=case.account_id,
        kind=ActivityKind.SYSTEM,
        summary=f"Billing discrepancy {verb} for Finance: {label.lower()}"[:300],
        detail=case.detail,
    )


@transaction.atomic
def resolve_discrepancy(
    *,
    discrepancy: Discrepancy,
    resolution: str,
    actor: AbstractBaseUser,
    reason: str,
    explained_until: dt.date | None = None,
) -> Discrepancy:
    """Finance settles a case: accept Xero's value (the contract value changes through the
    customers services, its history naming the case), keep the CRM's value (Finance
    corrects Xero; recorded on the case and the timeline), or explain it."""
    require_finance(actor, "Resolving billing discrepancies")
    reason = (reason or "").strip()
    if not reason:
        raise ResolutionError("Say why: the reason is kept with the case.")
    case = (
        Discrepancy.objects.select_for_update(of=("self",))
        .select_related("subscription", "account")
        .get(pk=discrepancy.pk)
    )
    if not case.is_open:
        raise ResolutionError("This discrepancy was already resolved.")
    if resolution == Resolution.ACCEPT_XERO:
        if case.cause != Cause.VALUE or case.subscription is None or case.xero_value is None:
            raise ResolutionError("Only a contract value that differs from Xero's can take Xero's value.")
        subscription = Subscription.objects.get(pk=case.subscription_id)
        customer_services.update_subscription(
            subscription=subscription,
            changes={"annual_value": case.xero_value},
            expected_version=subscription.version,
            actor=actor,
            reason=f"Billing discrepancy #{case.pk}: accepted Xero's value ({reason})",
        )
    elif resolution == Resolution.KEEP_CRM:
        case.xero_correction_pending = True
        customer_services.log_activity(
            account=case.account,
            actor=actor,
            kind=ActivityKind.NOTE,
            summary=f"Finance to correct Xero (billing discrepancy #{case.pk})",
            detail=f"{case.detail} CRM value kept: {reason}",
            reason=f"Billing discrepancy #{case.pk}",
        )
    elif resolution == Resolution.EXPLAINED:
        case.explained_until = explained_until
    else:
        raise ResolutionError("Choose accept Xero's value, keep the CRM's value or explain.")
    case.status, case.resolution, case.resolution_reason = DiscrepancyStatus.RESOLVED, resolution, reason[:500]
    case.resolved_by, case.resolved_at = actor, timezone.now()
    case.resolved_figures = _figures(case)
    case._change_reason, case._history_user = f"{Resolution(resolution).label}: {reason}"[:100], actor
    case.save()
    return case


@transaction.atomic
def assign_discrepancy(*, discrepancy: Discrepancy, owner, actor: AbstractBaseUser) -> Discrepancy:
    require_finance(actor, "Assigning billing discrepancies")
    case = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
    case.owner = owner
    case._change_reason, case._history_user = f"Assigned to {owner.get_username()}", actor
    case.save(update_fields=["owner"])
    return case


def open_amount(discrepancies: Iterable[Discrepancy]) -> Decimal:
    return sum((d.amount for d in discrepancies), Decimal("0"))
