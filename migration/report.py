"""The run report as text lines (the command prints them; the page shows the same data)."""

from __future__ import annotations

from migration.choices import REPORT_COLUMNS as COLUMNS
from migration.choices import Store
from migration.models import ImportRun


def report_lines(run: ImportRun) -> list[str]:
    report = run.report or {}
    title = "DRY RUN (nothing was saved)" if run.dry_run else "Import"
    lines = [f"{title}: run #{run.pk}, {run.get_status_display()}", ""]
    header = f"{'file':<38} {'store':<5} " + " ".join(
        f"{c:>9}" for c in ("created", "updated", "unchanged", "rejected", "review", "skipped")
    )
    lines.append(header)
    lines.append("-" * len(header))
    for entry in report.get("files", []):
        counts = entry.get("counts", {})
        cells = " ".join(f"{counts.get(c, 0):>9}" for c in COLUMNS)
        lines.append(f"{entry['name'][:38]:<38} {entry.get('store') or '-':<5} {cells}")
        extra = {k: v for k, v in counts.items() if k not in COLUMNS}
        if extra:
            lines.append("    " + ", ".join(f"{k}: {v}" for k, v in sorted(extra.items())))
        if entry.get("message"):
            lines.append(f"    {entry['status']}: {entry['message']}")
    lines.append("")
    for store, counts in sorted(report.get("stores", {}).items()):
        label = Store(store).label if store in Store.values else store
        lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    lines.append(f"Conflicts between stores recorded: {report.get('conflicts', 0)}")
    lines.append(f"Rows held for a person to choose the client: {report.get('reviews', 0)}")
    for warning in report.get("warnings", [])[:20]:
        lines.append(f"  note: {warning}")
    if run.error:
        lines.append(run.error)
    return lines
