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
    contacts: dict[str, XeroContact] = field(default_factory=dict)  # by name_key
    touched_contacts: set[int] = field(default_factory=set)

    @classmethod
    def build(cls, run: XeroImport, actor, progress: _Progress) -> ImportContext:
        context = cls(run, actor, AccountMatcher.build(), ProductResolver.build(), progress)
        context.contacts = {c.name_key: c for c in XeroContact.objects.all()}
        return context


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
        # Contacts this file created were rolled back with it.
        context.contacts = {k: c for k, c in context.contacts.items() if c.pk is not None and _exists(c)}
    else:
        outcome.status = FileStatus.PREVIEWED if context.run.dry_run else FileStatus.IMPORTED
    outcome.seconds = time.perf_counter() - started
    return outcome


def _exists(contact: XeroContact) -> bool:
    return XeroContact.objects.filter(pk=contact.pk).exists()


def _contact_for(context: ImportContext, name: str, **facts: str) -> XeroContact:
    key = name_key(name)
    found = context.contacts.get(key)
    if found is None:
        found = XeroContact(name=name[:255], name_key=key, status=MatchStatus.UNMATCHED)
        for attr, value in facts.items():
            if value:
                setattr(found, attr, value)
        found._change_reason = f"Xero import #{context.run.pk}"
        found.save()
        context.contacts[key] = found
        context.touched_contacts.add(found.pk)
    elif facts.get("xero_id") and not found.xero_id:
        found.xero_id = facts["xero_id"]
        found._change_reason = f"Xero import #{context.run.pk}: ContactID"
        found.save(update_fields=["xero_id", "updated_at"])
    return found


def _import_contacts(records: Iterator, context: ImportContext, outcome: FileOutcome, rejected: list) -> None:
    for record in records:
        context.progress.add(1)
        if isinstance(record, Rejected):
            rejected.append(record)
            continue
        assert isinstance(record, ContactRecord)
        contact = context.contacts.get(name_key(record.name))
        facts = {
            "xero_id": record.contact_id,
            "account_number": record.account_number,
            "tax_number": record.tax_number,
            "email": record.email,
        }
        if contact is None:
            contact = _contact_for(context, record.name, **facts)
            outcome.counts["contacts added"] += 1
            continue
        changed = [attr for attr, value in facts.items() if value and getattr(contact, attr) != value]
        if not changed:
            outcome.counts["contacts unchanged"] += 1
            continue
        for attr in changed:
            setattr(contact, attr, facts[attr])
        contact._change_reason = f"Xero import #{context.run.pk}: {outcome.name[:40]} row {record.row}"
        contact.save()
        outcome.counts["contacts updated"] += 1
        if contact.status != MatchStatus.MATCHED or contact.method != MatchMethod.FINANCE:
            context.touched_contacts.add(contact.pk)


_FINGERPRINTED = (
    "invoice_type", "status", "contact_id", "product_id", "invoice_date", "due_date", "reference", "item_code",
    "description", "quantity", "unit_amount", "line_amount", "invoice_total", "currency", "xero_invoice_id",
)  # fmt: skip


def _fingerprint(line: XeroInvoiceLine) -> str:
    text = "\x1f".join(str(getattr(line, name)) for name in _FINGERPRINTED)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


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


def _write_lines(chunk: list[InvoiceLineRecord], context: ImportContext, outcome: FileOutcome, seen) -> None:
    run = context.run
    numbers = {record.number for record in chunk}
    existing: dict[tuple[str, int], XeroInvoiceLine] = {}
    for line in XeroInvoiceLine.objects.filter(invoice_number__in=numbers):
        existing[(line.invoice_number, line.line_no)] = line
    new: list[XeroInvoiceLine] = []
    changed: list[XeroInvoiceLine] = []
    for record in chunk:
        seen[record.number] += 1
        line_no = seen[record.number]
        contact = _contact_for(context, record.contact_name, xero_id=record.contact_id, email=record.email)
        product = context.products.resolve(
            item_code=record.item_code, description=record.description, reference=record.reference
        )
        line = XeroInvoiceLine(
            invoice_number=record.number,
            line_no=line_no,
            invoice_type=record.invoice_type,
            status=record.status,
            contact_id=contact.pk,
            account_id=contact.account_id,
            product_id=product.pk if product else None,
            invoice_date=record.date,
            due_date=record.due_date,
            reference=record.reference,
            item_code=record.item_code,
            description=record.description,
            quantity=record.quantity,
            unit_amount=record.unit_amount,
            line_amount=record.line_amount,
            invoice_total=record.total,
            currency=record.currency,
            xero_invoice_id=record.invoice_id,
            first_import_id=run.pk,
            last_import_id=run.pk,
        )
        line.fingerprint = _fingerprint(line)
        before = existing.pop((record.number, line_no), None)
        if before is None:
            new.append(line)
            outcome.counts["lines added"] += 1
        elif before.fingerprint != line.fingerprint or before.account_id != line.account_id:
            line.pk, line.first_import_id = before.pk, before.first_import_id
            changed.append(line)
            outcome.counts["lines updated"] += 1
        else:
            outcome.counts["lines unchanged"] += 1
    # Lines an invoice no longer has (Xero's edit removed them), for invoices seen whole.
    gone = [line.pk for (number, line_no), line in existing.items() if line_no > seen[number]]
    if gone:
        XeroInvoiceLine.objects.filter(pk__in=gone).delete()
        outcome.counts["lines removed"] += len(gone)
    bulkload.insert_records(new)
    bulkload.update(changed, [f for f in (*_FINGERPRINTED, "account_id", "fingerprint", "last_import_id")])
    outcome.counts["invoices"] += len(numbers)


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


def map_contacts(*, context: ImportContext | None = None, contact_ids: Iterable[int] | None = None) -> dict:
    """Match contacts that are not settled yet (new, held or unmatched; never one Finance
    mapped) to accounts, and point their invoice lines at the account."""
    matcher = context.matcher if context else AccountMatcher.build()
    contacts = XeroContact.objects.exclude(method=MatchMethod.FINANCE)
    if contact_ids is not None:
        contacts = contacts.filter(pk__in=list(contact_ids))
    elif context is not None:
        contacts = contacts.filter(pk__in=context.touched_contacts) | XeroContact.objects.exclude(
            status=MatchStatus.MATCHED
        ).exclude(method=MatchMethod.FINANCE)
    counts: Counter = Counter()
    reason = f"Xero import #{context.run.pk}" if context else "Contact mapping"
    for contact in contacts.distinct():
        decision = matcher.decide(
            name=contact.name,
            xero_id=contact.xero_id,
            account_number=contact.account_number,
            tax_number=contact.tax_number,
            email=contact.email,
        )
        counts[decision.status] += 1
        new = (decision.status, decision.account_id, decision.method, list(decision.candidates))
        if new == (contact.status, contact.account_id, contact.method, contact.candidates):
            continue
        contact.status, contact.account_id, contact.method, contact.candidates = new
        contact._change_reason = f"{reason}: {contact.get_status_display().lower()}"
        contact.save()
        XeroInvoiceLine.objects.filter(contact=contact).update(account_id=contact.account_id)
    return dict(counts)


@transaction.atomic
def map_contact(*, contact: XeroContact, account: Account, actor: AbstractBaseUser, reason: str = "") -> XeroContact:
    """Finance's answer for a held or unmatched contact: it is this account. The answer
    becomes the account's Xero contact id (or, when it has one already, an alias), so the
    next import resolves the contact by itself."""
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
    contact.status, contact.method = MatchStatus.MATCHED, MatchMethod.FINANCE
    contact.mapped_by, contact.mapped_at = actor, timezone.now()
    contact._change_reason, contact._history_user = why, actor
    contact.save()
    XeroInvoiceLine.objects.filter(contact=contact).update(account_id=account.pk)
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
def reconcile(*, today: dt.date | None = None, reason: str = "Nightly reconciliation") -> ReconcileResult:
    """Compare every live subscription of the accounts Xero bills with what Xero bills per
    year, and keep the queue in step: one case per cause and subscription (or account and
    product), opened, updated, settled when the figures agree, reopened only when they
    change after a resolution."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    now = timezone.now()
    findings = engine.find(today=today)
    result = ReconcileResult(findings=len(findings))
    existing = {d.key: d for d in Discrepancy.objects.all()}
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
            case.resolution_reason = "Xero and the CRM now agree."
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
