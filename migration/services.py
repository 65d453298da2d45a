"""Importing the legacy estate, and resolving what the import could not decide.

`run_import` recognises each file by its headers, imports the stores in precedence order
(D1 client master, D4 Xero, D7 calendar, D3 pipelines, D2 helpdesk export then triage
sheet), each file in its own transaction
(a file that fails part-way leaves no rows behind), and keeps the run's report. A dry run
does everything and rolls it all back, so its preview is exactly what a real run would do.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cloudcore_crm.lib import bulkload
from cloudcore_crm.lib.headers import Fit, MissingColumnsError
from cloudcore_crm.roles import CUSTOMER_RELATIONS, DATA_STEWARD, FINANCE, has_role
from customers import services as customer_services
from customers.choices import AliasKind, OpportunityStage, SubscriptionStatus
from customers.errors import OwnershipError
from migration.choices import (
    IMPORT_ORDER,
    ConflictStatus,
    EvidenceStatus,
    FileStatus,
    HeldKind,
    HeldStatus,
    ReviewStatus,
    RunStatus,
    Store,
)
from migration.importers.base import FileReport, Importer, RunContext
from migration.importers.calendar import OutlookCalendarImporter
from migration.importers.client_master import ClientMasterImporter
from migration.importers.contacts import OutlookContactsImporter
from migration.importers.helpdesk import HelpdeskExportImporter, TriageSheetImporter
from migration.importers.pipeline import PipelineImporter
from migration.importers.xero import XeroInvoicesImporter
from migration.models import (
    EvidencedSubscription,
    HeldValue,
    ImportConflict,
    ImportFile,
    ImportRun,
    MatchReview,
    ProductAlias,
    StaffAlias,
    StageWord,
    SurveyLabel,
)
from migration.names import label_key, product_key, staff_key, stage_key
from migration.prefetch import Prefetch
from migration.readers import FileRefused, LoadedSheets, Table, csv_table, sniff_kind, xlsx_tables

logger = logging.getLogger(__name__)

IMPORTERS: dict[str, type[Importer]] = {
    Store.CLIENT_MASTER: ClientMasterImporter,
    Store.XERO: XeroInvoicesImporter,
    Store.CALENDAR: OutlookCalendarImporter,
    Store.PIPELINE: PipelineImporter,
    Store.CONTACTS: OutlookContactsImporter,
    Store.HELPDESK: HelpdeskExportImporter,
    Store.TRIAGE: TriageSheetImporter,
}
IGNORED_FILES = {"truth.json"}
PROGRESS_KEY = "migration:run:{pk}:rows"


@dataclass
class Recognised:
    path: Path
    store: str | None
    message: str = ""


def _tables(path: Path, importers: list[type[Importer]], loaded: LoadedSheets | None = None) -> Iterator[Table]:
    """The file's tables, lazily (a CSV is read as its rows are wanted); a workbook's sheets
    come from `loaded` when the run has them already."""
    maps = [i.header_map for i in importers]
    if sniff_kind(path) == "xlsx":
        yield from xlsx_tables(path, maps, loaded)
    else:
        yield csv_table(path, maps)


def recognise(path: Path, only: set[str] | None = None, loaded: LoadedSheets | None = None) -> Recognised:
    """Which store a file is, from its headers (never its name). A workbook's loaded sheets
    stay in `loaded` for its import, unless it is not to be imported."""
    found = _recognise(path, only, loaded)
    if found.store is None and loaded is not None:
        loaded.pop(path, None)
    return found


def _recognise(path: Path, only: set[str] | None, loaded: LoadedSheets | None) -> Recognised:
    candidates = [IMPORTERS[s] for s in IMPORT_ORDER]
    best, store = Fit(0.0, 0), None
    try:
        for table in _tables(path, candidates, loaded):
            for importer in candidates:
                fit = importer.recognises(table.headers)
                if fit > best:
                    best, store = fit, importer.store
            _close(table)
    except FileRefused as refused:
        return Recognised(path, None, str(refused))
    if store is None or best.required < 1.0:
        if elsewhere := _imported_elsewhere(path):
            return Recognised(path, None, f"{path.name}: {elsewhere}")
        detail = f" (closest: {Store(store).label}, {best.required:.0%} of its required columns)" if store else ""
        return Recognised(path, None, f"{path.name}: not recognised as a legacy store{detail}.")
    if only and store not in only:
        return Recognised(path, None, f"{Store(store).label} was not asked for (--only {','.join(sorted(only))}).")
    return Recognised(path, store)


def _imported_elsewhere(path: Path) -> str:
    """What to tell a steward who brings a file that another page of the CRM imports."""
    from billing_sync.parsing import CONTACT_HEADERS

    if sniff_kind(path) != "csv":
        return ""
    try:
        table = csv_table(path, [CONTACT_HEADERS])
    except FileRefused:
        return ""
    _close(table)
    if CONTACT_HEADERS.fit(table.headers).required < 1.0:
        return ""
    return (
        "a Xero contacts export, which Finance imports with Xero's invoices at /billing/ "
        "(each Xero contact is mapped to its client there)."
    )


def _close(table: Table) -> None:
    close = getattr(table.rows, "close", None)
    if close:
        close()


def importable(paths) -> list[Path]:
    """The files of `paths` an import reads, in name order: not the truth file, nor the
    rejected-rows reports an earlier run wrote beside its inputs."""
    return [p for p in sorted(paths) if p.name not in IGNORED_FILES and not p.name.endswith(".rejected.csv")]


def require_steward(actor: AbstractBaseUser) -> None:
    if not has_role(actor, DATA_STEWARD):
        raise OwnershipError("Only data stewards run imports.", fields=[])


def run_import(
    *,
    paths: list[Path],
    actor: AbstractBaseUser,
    dry_run: bool = False,
    only: set[str] | None = None,
    run: ImportRun | None = None,
) -> ImportRun:
    """Import `paths` as `actor` (a data steward) and return the finished run."""
    require_steward(actor)
    if run is None:
        run = ImportRun.objects.create(started_by=actor, dry_run=dry_run, only=",".join(sorted(only or ())))
    run.status, run.started_at = RunStatus.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    files = importable(paths)
    loaded: LoadedSheets = {}  # each workbook loaded once, from recognising it to importing it
    recognised = [recognise(p, only, loaded) for p in files]
    order = {store: i for i, store in enumerate(IMPORT_ORDER)}
    recognised.sort(key=lambda r: (order.get(r.store, 99), r.path.name))
    progress = _Progress(run)
    outcomes: list[tuple[Recognised, FileReport | None, str, str]] = []
    try:
        # The collector resumes after the commit and its tasks: one full collection per run.
        with (
            Prefetch.start(_parse_apart(recognised)) as prefetch,
            _without_cycle_collection(),
            transaction.atomic(),
            _keys_checked_as_written(),
            bulkload.writing_behind(),
        ):
            context = RunContext.build(run, actor)
            context.progress = progress.add
            for item in recognised:
                if item.store is None:
                    outcomes.append((item, None, FileStatus.REFUSED, item.message))
                    continue
                try:
                    started = time.perf_counter()
                    with transaction.atomic():
                        report = _import_file(item, context, loaded, prefetch)
                    report.seconds = time.perf_counter() - started
                    status = FileStatus.PREVIEWED if dry_run else FileStatus.IMPORTED
                    outcomes.append((item, report, status, ""))
                except (FileRefused, MissingColumnsError) as refused:
                    outcomes.append((item, None, FileStatus.REFUSED, str(refused)))
                    context = _fresh_context(run, actor, progress, context)
                except DatabaseError:
                    raise  # the database itself failed: stop, nothing of this run stays
                except Exception as error:  # a bug or a file we could not foresee: keep going
                    logger.exception("Import of %s failed", item.path.name)
                    outcomes.append((item, None, FileStatus.FAILED, f"{error.__class__.__name__}: {error}"))
                    context = _fresh_context(run, actor, progress, context)
                finally:
                    loaded.pop(item.path, None)  # its sheets are not needed again
            if dry_run:
                transaction.set_rollback(True)
            elif context.rescore:
                _rescore_after_commit(sorted(context.rescore))
            # Freed now, the run's caches are not scanned when the collector resumes.
            del context
    except DatabaseError as error:
        run.status, run.error = RunStatus.FAILED, f"The database failed: {error}"
        run.finished_at = timezone.now()
        run.save()
        raise
    return _finish(run, outcomes, dry_run=dry_run)


@contextmanager
def _without_cycle_collection():
    """Python's cycle collector paused while a run imports its files.

    The run's caches (every account, contact and subscription) stay alive for the whole
    run while each file allocates hundreds of thousands of objects, so each full
    collection rescanned them for nothing: 3.3 s of a 25 s client-master import, and
    paused per file, a full collection still followed each file. What a run makes is
    freed by reference counting (`tests/test_migration_inputs.py` checks that the run's
    caches go without the collector): a 10,000-client import peaks at 527 MB."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _keys_checked_as_written():
    """Foreign keys checked as each COPY ends rather than all at the commit.

    Django makes them deferrable, so the commit of a 10,000-client import spent 1.2 s
    checking 400,000 rows while the run waited. Checked per statement, the checks are
    part of COPYs the run writes behind (`bulkload.writing_behind`) while it decides
    the next rows. The import writes parents before children, so nothing it writes
    needs the check deferred."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    # Back to Django's way for the rest of the transaction (after an error, or in a dry
    # run, it is rolled back, and the setting with it).
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _fresh_context(run: ImportRun, actor, progress: _Progress, old: RunContext) -> RunContext:
    """After a file rolled back, its accounts must not linger in the caches. (The clients
    to rescore carry over: rescoring one whose tickets rolled back changes nothing.)"""
    context = RunContext.build(run, actor)
    context.progress = progress.add
    context.rescore = old.rescore
    return context


def _rescore_after_commit(account_ids: list[int]) -> None:
    from support_bridge import tasks

    transaction.on_commit(lambda: tasks.recompute_accounts_risk.delay(account_ids))


def _parse_apart(recognised: list[Recognised]) -> list[tuple[Path, str]]:
    """The files a second process parses while the run decides the ones before them: the
    big CSV exports after the first file, when they are big enough to repay starting it
    (about a second of the other core)."""
    wanted = [r for r in recognised if r.store is not None]
    jobs = [(r.path, r.store) for r in wanted[1:] if IMPORTERS[r.store].parses_apart and sniff_kind(r.path) == "csv"]
    limit = settings.MIGRATION_PARSE_APART_BYTES
    if not limit or os.name != "posix" or sum(path.stat().st_size for path, _ in jobs) < limit:
        return []
    return jobs


def _import_file(item: Recognised, context: RunContext, loaded: LoadedSheets, prefetch: Prefetch) -> FileReport:
    importer_class = IMPORTERS[item.store]
    found = prefetch.take(item.path)
    if found is not None:
        table, parsed = found
        return importer_class(context, item.path.name).run(table, parsed)
    report: FileReport | None = None
    for table in _tables(item.path, [importer_class], loaded):
        if importer_class.recognises(table.headers).required < 1.0:
            continue
        importer = importer_class(context, item.path.name)
        sheet_report = importer.run(table)
        if report is None:
            report = sheet_report
        else:
            report.add_sheet(sheet_report)
    return report or FileReport(name=item.path.name, store=item.store)


class _Progress:
    """Rows done, in the cache, so a page can show progress while the run's transaction
    is still open (the database would not show it until the end)."""

    def __init__(self, run: ImportRun):
        self.key = PROGRESS_KEY.format(pk=run.pk)
        self.done = 0
        cache.set(self.key, 0, timeout=24 * 3600)

    def add(self, rows: int) -> None:
        self.done += rows
        if self.done % 250 == 0:
            cache.set(self.key, self.done, timeout=24 * 3600)


def rows_done(run: ImportRun) -> int:
    return cache.get(PROGRESS_KEY.format(pk=run.pk), run.rows_done)


def _finish(run: ImportRun, outcomes, *, dry_run: bool) -> ImportRun:
    stores: dict[str, Counter] = {}
    summary = {"files": [], "stores": {}, "conflicts": 0, "reviews": 0, "warnings": []}
    with transaction.atomic():
        for item, report, status, message in outcomes:
            counts = dict(report.counts) if report else {}
            if report:
                counts["rejected"] = report.rejected_count
                stores.setdefault(report.store, Counter()).update(report.counts)
                summary["conflicts"] += report.conflicts
                summary["reviews"] += report.reviews
                summary["warnings"] += [f"{item.path.name}: {w}" for w in report.warnings[:50]]
            ImportFile.objects.create(
                run=run,
                name=item.path.name,
                store=item.store or "",
                status=status,
                counts=counts,
                message=message,
                rejected_csv=report.rejected_csv() if report else "",
            )
            summary["files"].append(
                {
                    "name": item.path.name,
                    "store": item.store,
                    "status": status,
                    "counts": counts,
                    "message": message,
                    "seconds": round(report.seconds, 3) if report else 0,
                    "write_seconds": round(report.write_seconds, 3) if report else 0,
                }
            )
        summary["stores"] = {store: dict(counts) for store, counts in stores.items()}
        run.report = summary
        run.rows_done = sum(sum(c.values()) for c in stores.values())
        run.rows_total = run.rows_done
        run.status = RunStatus.PREVIEWED if dry_run else RunStatus.SUCCEEDED
        if any(status == FileStatus.FAILED for _, _, status, _ in outcomes):
            run.error = "Some files failed; see below. Nothing of those files was imported."
        run.finished_at = timezone.now()
        run.save()
    cache.delete(PROGRESS_KEY.format(pk=run.pk))
    return run


# --- Conflicts ------------------------------------------------------------------------


@transaction.atomic
def resolve_conflict(*, conflict: ImportConflict, apply_other: bool, actor: AbstractBaseUser, reason: str):
    """A steward settles a conflict: keep the value the precedence rule chose, or apply
    the other store's value (through the customers services, so history records it).
    Finance settle the contract-value ones (drift from what Xero bills a year)."""
    if not (conflict.field == "annual_value" and has_role(actor, FINANCE)):
        require_steward(actor)
    # Lock the conflict row alone: PostgreSQL refuses FOR UPDATE across a nullable join.
    conflict = (
        ImportConflict.objects.select_for_update(of=("self",))
        .select_related("subscription", "account")
        .get(pk=conflict.pk)
    )
    if conflict.status != ConflictStatus.OPEN:
        raise OwnershipError("This conflict was already resolved.", fields=[])
    if apply_other and not conflict.can_apply:
        raise OwnershipError("This disagreement has no single value to apply; keep the current record.", fields=[])
    if apply_other:
        target = conflict.subscription or conflict.account
        value = _typed_value(target, conflict.field, conflict.other_value)
        change = {"changes": {conflict.field: value}, "actor": actor, "reason": reason}
        if conflict.subscription is not None:
            customer_services.update_subscription(subscription=target, expected_version=target.version, **change)
        else:
            customer_services.update_account(account=target, expected_version=target.version, **change)
    conflict.status = ConflictStatus.APPLIED if apply_other else ConflictStatus.KEPT
    conflict.resolved_by, conflict.resolved_at = actor, timezone.now()
    conflict.save(update_fields=["status", "resolved_by", "resolved_at"])
    return conflict


def _typed_value(target, field: str, text: str):
    model_field = target._meta.get_field(field)
    return model_field.to_python(text) if text else None


# --- Web uploads ------------------------------------------------------------------------


def upload_root() -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR)


def start_run(*, files, actor: AbstractBaseUser, only: set[str] | None, dry_run: bool = True) -> ImportRun:
    """Keep the uploaded files for the run (and its confirmation), then queue it.

    The run happens in a Celery task after commit; without Redis tasks run eagerly, so the
    zero-setup install still works, only without a progress bar.
    """
    require_steward(actor)
    run = ImportRun.objects.create(started_by=actor, dry_run=dry_run, only=",".join(sorted(only or ())))
    directory = upload_root() / f"run-{run.pk}"
    directory.mkdir(parents=True, exist_ok=True)
    for upload in files:
        safe_name = Path(upload.name).name.replace("\x00", "")[:200] or "upload"
        with open(directory / safe_name, "wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
    run.upload_dir = str(directory)
    run.save(update_fields=["upload_dir"])
    _queue(run)
    return run


def confirm_run(*, preview: ImportRun, actor: AbstractBaseUser) -> ImportRun:
    """Import for real the files a dry run previewed."""
    require_steward(actor)
    if not preview.dry_run or preview.status != RunStatus.PREVIEWED:
        raise OwnershipError("Only a finished dry run can be confirmed.", fields=[])
    if not preview.upload_dir or not Path(preview.upload_dir).is_dir():
        raise OwnershipError("The files of this dry run are gone; upload them again.", fields=[])
    run = ImportRun.objects.create(started_by=actor, dry_run=False, only=preview.only, upload_dir=preview.upload_dir)
    _queue(run)
    return run


def _queue(run: ImportRun) -> None:
    from migration.tasks import run_import_task

    transaction.on_commit(lambda: run_import_task.delay(run.pk))


@transaction.atomic
def resolve_review(*, review: MatchReview, account, actor: AbstractBaseUser) -> MatchReview:
    """A steward says which account a held name is: the name becomes an alias, so the
    next import of that file resolves it without asking."""
    require_steward(actor)
    review = MatchReview.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewStatus.OPEN:
        raise OwnershipError("This name was already resolved.", fields=[])
    customer_services.add_alias(
        account=account,
        kind=AliasKind.NAME,
        value=review.incoming_name,
        source=f"{review.file} row {review.row}",
        actor=actor,
        reason=f"Steward chose {account.code} for “{review.incoming_name}” held by an import",
    )
    review.status = ReviewStatus.RESOLVED
    review.save(update_fields=["status"])
    return review


# --- Review queues worked in bulk ------------------------------------------------------


def resolve_review_group(*, reviews: list[MatchReview], account, actor: AbstractBaseUser) -> int:
    """One decision for every held row with one spelling: each spelling becomes an alias of
    `account` once, and every row is settled. Returns how many rows were settled."""
    require_steward(actor)
    settled = 0
    with transaction.atomic():
        locked = list(MatchReview.objects.select_for_update().filter(pk__in=[r.pk for r in reviews]).order_by("pk"))
        spellings: set[str] = set()
        for review in locked:
            if review.status != ReviewStatus.OPEN:
                continue
            if review.incoming_name not in spellings:
                spellings.add(review.incoming_name)
                customer_services.add_alias(
                    account=account,
                    kind=AliasKind.NAME,
                    value=review.incoming_name,
                    source=f"{review.file} row {review.row}",
                    actor=actor,
                    reason=f"Steward chose {account.code} for “{review.incoming_name}” held by an import",
                )
            review.status = ReviewStatus.RESOLVED
            review.save(update_fields=["status"])
            settled += 1
    return settled


def resolve_conflicts(
    *, conflicts: list[ImportConflict], apply_other: bool, actor: AbstractBaseUser, reason: str
) -> tuple[int, int]:
    """ "Keep all" or "apply all" for a filtered set of open conflicts, with one reason.

    Applying skips the conflicts that have no single value to apply (they stay open).
    All or nothing. Returns (settled, skipped)."""
    require_steward(actor)
    if not (reason or "").strip():
        raise OwnershipError("Say why, once for the whole set.", fields=[])
    settled = skipped = 0
    with transaction.atomic():
        for conflict in conflicts:
            if conflict.status != ConflictStatus.OPEN:
                continue
            if apply_other and not conflict.can_apply:
                skipped += 1
                continue
            resolve_conflict(conflict=conflict, apply_other=apply_other, actor=actor, reason=reason)
            settled += 1
    return settled, skipped


# --- Subscriptions created from evidence (Customer Relations) -------------------------------


def require_customer_relations(actor: AbstractBaseUser) -> None:
    if not (has_role(actor, CUSTOMER_RELATIONS) or has_role(actor, DATA_STEWARD)):
        raise OwnershipError("Only Customer Relations confirm subscriptions.", fields=[])


CORRECTABLE = ("product", "seats", "start_date", "renewal_date")


@transaction.atomic
def decide_evidenced_subscription(
    *,
    evidence: EvidencedSubscription,
    decision: str,
    actor: AbstractBaseUser,
    reason: str,
    changes: dict | None = None,
) -> EvidencedSubscription:
    """Customer Relations settle a subscription the import created from Xero or calendar
    evidence: confirm it, correct it (product, seats, start, renewal date), or dismiss it
    (the subscription is cancelled). The answer is kept: the next import neither asks again
    nor creates a dismissed subscription again."""
    require_customer_relations(actor)
    evidence = EvidencedSubscription.objects.select_for_update().get(pk=evidence.pk)
    if evidence.status != EvidenceStatus.OPEN:
        raise OwnershipError("This subscription was already settled.", fields=[])
    if not (reason or "").strip():
        raise OwnershipError("Say why.", fields=[])
    subscription = evidence.subscription
    if decision == EvidenceStatus.DISMISSED:
        if subscription is not None and subscription.status != SubscriptionStatus.CANCELLED:
            customer_services.update_subscription(
                subscription=subscription,
                changes={"status": SubscriptionStatus.CANCELLED},
                expected_version=subscription.version,
                actor=actor,
                reason=f"Dismissed: not a real subscription ({reason})"[:300],
            )
    elif decision == EvidenceStatus.CORRECTED:
        changes = {k: v for k, v in (changes or {}).items() if k in CORRECTABLE and v not in (None, "")}
        if not changes:
            raise OwnershipError("Say what to correct.", fields=[])
        if subscription is None:
            raise OwnershipError("The subscription is gone; nothing to correct.", fields=[])
        customer_services.update_subscription(
            subscription=subscription,
            changes=changes,
            expected_version=subscription.version,
            actor=actor,
            reason=f"Corrected after import: {reason}"[:300],
        )
        if "product" in changes:
            evidence.product = changes["product"]
    elif decision != EvidenceStatus.CONFIRMED:
        raise OwnershipError("Confirm, correct or dismiss.", fields=[])
    evidence.status = decision
    evidence.decided_by, evidence.decided_at = actor, timezone.now()
    evidence.decision_reason = reason[:300]
    fields = ["status", "decided_by", "decided_at", "decision_reason"]
    if decision == EvidenceStatus.CORRECTED and "product" in (changes or {}):
        clash = EvidencedSubscription.objects.filter(account=evidence.account, product=evidence.product)
        if not clash.exclude(pk=evidence.pk).exists():
            fields.append("product")
    evidence.save(update_fields=fields)
    return evidence


# --- Values held for a steward to map ------------------------------------------------------


@transaction.atomic
def map_held_value(
    *, held: HeldValue, actor: AbstractBaseUser, product=None, user=None, score=None, stage=""
) -> HeldValue:
    """A steward maps a held value once: a product alias, a staff-name alias of a user, a
    survey label's 0-10 score (None: the label is no rating), or the funnel stage a rep's
    word means. The next import resolves every row that held it."""
    require_steward(actor)
    held = HeldValue.objects.select_for_update().get(pk=held.pk)
    if held.kind == HeldKind.PRODUCT:
        if product is None:
            raise OwnershipError("Choose the product this name means.", fields=["product"])
        alias = ProductAlias(product=product, value=held.value, created_by=actor)
        ProductAlias.objects.filter(key=product_key(held.value)).delete()
        alias.save()
        target = product.name
    elif held.kind == HeldKind.STAFF:
        if user is None:
            raise OwnershipError("Choose the staff member this name means.", fields=["user"])
        StaffAlias.objects.filter(key=staff_key(held.value)).delete()
        StaffAlias(user=user, value=held.value, created_by=actor).save()
        target = user.get_full_name() or user.username
    elif held.kind == HeldKind.STAGE:
        if stage not in OpportunityStage.values:
            raise OwnershipError("Choose the stage this word means.", fields=["stage"])
        StageWord.objects.filter(key=stage_key(held.value)).delete()
        StageWord(value=held.value, stage=stage, created_by=actor).save()
        target = OpportunityStage(stage).label
    else:
        if score is not None and not 0 <= score <= 10:
            raise OwnershipError("A score is 0-10.", fields=["score"])
        SurveyLabel.objects.filter(key=label_key(held.value)).delete()
        SurveyLabel(value=held.value, score=score, created_by=actor).save()
        target = "no rating" if score is None else f"{score}/10"
    held.status, held.mapped_to, held.mapped_by = HeldStatus.MAPPED, target[:200], actor
    held.save(update_fields=["status", "mapped_to", "mapped_by"])
    return held
