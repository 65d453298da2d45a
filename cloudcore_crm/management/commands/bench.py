"""`manage.py bench <name> [options]`: run one benchmark from `cloudcore_crm.bench.BENCHMARKS`.

Each benchmark builds its data in a database of its own (`bench_<benchmark>_<NAME>`), never the
developer's, and prints a table of its measurements. `manage.py bench <name> --help`
lists a benchmark's options.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cloudcore_crm.bench import BENCHMARKS


class Command(BaseCommand):
    help = "Run a named benchmark (" + ", ".join(BENCHMARKS) + ") on a generated data set and print its table."

    def add_arguments(self, parser: CommandParser) -> None:
        benchmarks = parser.add_subparsers(dest="benchmark", metavar="name", title="benchmarks", required=True)
        for benchmark in BENCHMARKS.values():
            benchmark.add_arguments(benchmarks.add_parser(benchmark.name, help=benchmark.help))

    def handle(self, *args: Any, benchmark: str, **options: Any) -> None:
        BENCHMARKS[benchmark].run(options, self.stdout)
