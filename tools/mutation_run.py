"""Mutation run over the rules that matter (cosmic-ray), one table row per module.

    .venv/bin/python tools/mutation_run.py                 # every module below
    .venv/bin/python tools/mutation_run.py signing risk    # only these (by key)
    .venv/bin/python tools/mutation_run.py --list          # what would run
    .venv/bin/python tools/mutation_run.py merge --workdir W --again   # W's survivors vs today's tests

Not part of `make test`: it takes minutes per module. cosmic-ray edits the file it mutates,
so the run works on a copy of the repository's tracked files in a temporary directory
(the work tree is never touched, and tests running beside it are not disturbed). Each
module is tested only by the few test files that cover it, against a SQLite test database
built once and reused (`--reuse-db`), and each mutant stops at its first failing test.

Prints, per module: mutants, killed, survived, timeouts/incompetent, and the score
(killed / (killed + survived)); surviving mutants' diffs go to
`<workdir>/<key>.survivors.txt` for review.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    module: str
    tests: str  # pytest arguments: the test files (and -k) that cover the module
    lines: str = ""  # only mutate these lines ("a-b"), for a module larger than the rule
    # Slower tests (imports through the database) run only on the first pass's survivors:
    # most mutants die in the fast tests, so the whole run costs minutes, not hours.
    then: str = ""


TARGETS: dict[str, Target] = {
    "ownership": Target(
        "customers/ownership.py",
        "tests/test_mutation_kills.py",
        then="tests/test_ownership_oracle.py",
    ),
    "validators": Target(
        "customers/validators.py",
        "tests/test_settings_and_validators.py tests/test_mutation_kills.py",
    ),
    "signing": Target(
        "cloudcore_crm/lib/signing.py",
        "tests/test_support_webhook.py tests/test_mutation_kills.py "
        "-k 'signature or secret or timestamp or signed or replay'",
    ),
    # The factors: band_for() and assess(), the arithmetic on the gathered facts.
    "risk": Target(
        "support_bridge/risk.py",
        "tests/test_money_and_risk_by_hand.py tests/test_support_risk.py -k 'risk or score or band or reason'",
        lines="87-94,211-252",
    ),
    # The merge and undo service: the part of customers/services.py from _raw() to the end.
    "merge": Target(
        "customers/services.py",
        "tests/test_duplicates.py tests/test_mutation_kills.py -k 'merge or undo'",
        lines="515-878",
    ),
    # The money code: what Xero bills per year, annualised by billing cadence (pure functions;
    # the hand-worked cases first, then the imports that read it).
    "cadence": Target(
        "customers/billing_cadence.py",
        "tests/test_billing_cadence.py tests/test_mutation_kills.py",
        then="tests/test_money_and_risk_by_hand.py tests/test_migration_handmade.py tests/test_billing_sync.py",
    ),
    "xero": Target(
        "migration/importers/xero.py",
        "tests/test_migration_xero_details.py tests/test_money_and_risk_by_hand.py",
        then="tests/test_migration_handmade.py tests/test_migration_review.py tests/test_migration_inputs.py "
        "-k 'xero or handmade or review'",
    ),
}

# Operators that rarely say anything about these rules (bit shifts, powers on money...).
EXCLUDED_OPERATORS = [
    r"core/ReplaceBinaryOperator_.*_(Pow|RShift|LShift|BitOr|BitAnd|BitXor|FloorDiv|Mod)$",
    r"core/ReplaceBinaryOperator_(Pow|RShift|LShift|BitOr|BitAnd|BitXor|FloorDiv|Mod)_.*",
    r"core/ReplaceComparisonOperator_.*_(Is|IsNot|In|NotIn)$",
    r"core/ReplaceComparisonOperator_(Is|IsNot|In|NotIn)_.*",
    r"core/ReplaceUnaryOperator_.*",
    r"core/VariableInserter",
    r"core/VariableReplacer",
    r"core/RemoveDecorator",
]

SETTINGS = """\
from cloudcore_crm.settings import *  # noqa: F403

# A file-backed SQLite test database, so --reuse-db keeps it between mutants.
DATABASES["default"] = {{  # noqa: F405
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": "{work}/mutation.sqlite3",
    "TEST": {{"NAME": "{work}/mutation_test.sqlite3"}},
}}
"""


def _tracked(*paths: str) -> list[str]:
    """The files git tracks (names may hold spaces: "Pipeline_Ravi Sharma.xlsx")."""
    listed = subprocess.run(["git", "ls-files", "-z", *paths], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def copy_tree(work: Path) -> Path:
    tree = work / "tree"
    for name in _tracked():
        source = ROOT / name
        if source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    (tree / "mutation_settings.py").write_text(SETTINGS.format(work=work))
    return tree


def refresh_tests(work: Path, keys: list[str]) -> Path:
    """Today's tests in the earlier run's tree; refuses when a mutated module has changed
    since (the session's mutations are positions in the old file)."""
    tree = work / "tree"
    for key in keys:
        module = TARGETS[key].module
        if (ROOT / module).read_bytes() != (tree / module).read_bytes():
            sys.exit(f"{module} changed since the run in {work}: run it afresh (without --again).")
    for name in _tracked("tests"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    return tree


def config(target: Target, tree: Path, python: str, tests: str) -> str:
    command = f"{python} -m pytest -x -q -p no:cacheprovider --ds=mutation_settings --reuse-db -o addopts='' {tests}"
    lines = [
        "[cosmic-ray]",
        f"module-path = {json.dumps(target.module)}",
        "timeout = 600.0",
        "excluded-modules = []",
        f"test-command = {json.dumps(command)}",
        "",
        "[cosmic-ray.distributor]",
        'name = "local"',
        "",
        "[cosmic-ray.filters.operators-filter]",
        f"exclude-operators = {json.dumps(EXCLUDED_OPERATORS)}",
    ]
    if target.lines:
        lines += [
            "",
            "[cosmic-ray.filters.line-filter]",
            f"lines = {{ {json.dumps(target.module)} = {json.dumps(target.lines.split(','))} }}",
        ]
    return "\n".join(lines) + "\n"


def run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def forget_survivors(session: Path) -> None:
    """Mark the survivors as not yet run, so the next `cosmic-ray exec` runs only them."""
    import sqlite3

    with sqlite3.connect(session) as db:
        db.execute("DELETE FROM work_results WHERE worker_outcome = 'NORMAL' AND test_outcome = 'SURVIVED'")


def score(session: Path) -> dict:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    counts = {"mutants": 0, "killed": 0, "survived": 0, "other": 0, "skipped": 0}
    survivors = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                counts["skipped"] += 1  # an excluded operator or a line outside the range
                continue
            counts["mutants"] += 1
            if result.worker_outcome != WorkerOutcome.NORMAL:
                counts["other"] += 1
            elif result.test_outcome == TestOutcome.KILLED:
                counts["killed"] += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                counts["survived"] += 1
                mutation = item.mutations[0]
                survivors.append(
                    f"{mutation.module_path}:{mutation.start_pos[0]} {mutation.operator_name}\n{result.diff}"
                )
            else:
                counts["other"] += 1
    decided = counts["killed"] + counts["survived"]
    counts["score"] = f"{100 * counts['killed'] / decided:.0f}%" if decided else "-"
    counts["survivors"] = survivors
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("keys", nargs="*", help=f"modules to run (default all): {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--workdir", help="keep the sessions here (default: a new temporary directory)")
    parser.add_argument(
        "--again",
        action="store_true",
        help="run an earlier session's survivors (in --workdir) again against today's tests, "
        "after adding tests that should kill them; the module itself must not have changed",
    )
    args = parser.parse_args()
    keys = args.keys or list(TARGETS)
    if args.list:
        for key in keys:
            print(f"{key:11} {TARGETS[key].module:30} {TARGETS[key].tests}")
        return 0
    if args.again and not args.workdir:
        parser.error("--again needs the --workdir of the earlier run")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mutation-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    tree = refresh_tests(work, keys) if args.again else copy_tree(work)
    python = sys.executable
    bindir = Path(python).parent
    rows = []
    for key in keys:
        target = TARGETS[key]
        started = time.monotonic()
        cfg, session = work / f"{key}.toml", work / f"{key}.sqlite"
        if args.again:
            forget_survivors(session)
            cfg.write_text(config(target, tree, python, f"{target.tests} {target.then}".strip()))
            run([str(bindir / "cosmic-ray"), "exec", str(cfg), str(session)], tree)
        else:
            cfg.write_text(config(target, tree, python, target.tests))
            session.unlink(missing_ok=True)
            run([str(bindir / "cosmic-ray"), "init", str(cfg), str(session)], tree)
            run([str(bindir / "cr-filter-operators"), str(session), str(cfg)], tree)
            if target.lines:
                run([str(bindir / "cr-filter-lines"), "--config", str(cfg), str(session)], tree)
            run([str(bindir / "cosmic-ray"), "exec", str(cfg), str(session)], tree)
            if target.then:
                forget_survivors(session)
                cfg.write_text(config(target, tree, python, target.then))
                run([str(bindir / "cosmic-ray"), "exec", str(cfg), str(session)], tree)
        result = score(session)
        (work / f"{key}.survivors.txt").write_text("\n".join(result.pop("survivors")))
        rows.append((key, target.module, result, time.monotonic() - started))
        print(f"  {key}: {result} in {rows[-1][3]:.0f} s", file=sys.stderr, flush=True)
    print(f"\n{'module':32} {'mutants':>8} {'killed':>7} {'survived':>9} {'other':>6} {'score':>6} {'minutes':>8}")
    for _key, module, r, seconds in rows:
        print(
            f"{module:32} {r['mutants']:>8} {r['killed']:>7} {r['survived']:>9} {r['other']:>6} {r['score']:>6}"
            f" {seconds / 60:>8.1f}"
        )
    print(f"\nsessions and survivors' diffs: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
