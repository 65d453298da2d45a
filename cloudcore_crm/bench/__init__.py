"""Benchmarks for `manage.py bench <name>`.

`BENCHMARKS` maps each name to a `Benchmark` (its options and its run function). A new
benchmark is a module beside this one exposing `BENCHMARK`, added to the tuple below.
"""

from __future__ import annotations

from cloudcore_crm.bench import billing, dedupe, imports, pages, renewals, reports, risk
from cloudcore_crm.bench.common import Benchmark

BENCHMARKS: dict[str, Benchmark] = {
    benchmark.name: benchmark
    for benchmark in (
        pages.BENCHMARK,
        dedupe.BENCHMARK,
        risk.BENCHMARK,
        imports.BENCHMARK,
        reports.BENCHMARK,
        renewals.BENCHMARK,
        billing.BENCHMARK,
    )
}
