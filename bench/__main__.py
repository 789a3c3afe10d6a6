"""`python -m bench`: run every benchmark and print each figure beside its floor."""

from __future__ import annotations

import argparse
import sys
import time

from bench import certificates, city, exams, judging, results
from bench.context import Context
from bench.table import environment, table

# Each takes the shared Context and returns rows; they run in this order.
BENCHMARKS = [
    results.import_time,
    results.results_time,
    certificates.certificates_time,
    judging.judging_time,
    city.city_time,
    exams.grading_time,  # last: it imports its own 2,000-candidate competition into the shared database
]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, and exit 0 whatever the figures."""
    args = _parser().parse_args(argv)
    entrants = 1000 if args.quick else args.entrants
    print(environment())
    print(f"synthetic competition: {entrants:,} entrants, seed 2026, no ID numbers\n", flush=True)
    started = time.perf_counter()
    rows = []
    with Context(entrants, keep=args.keep) as ctx:
        for benchmark in BENCHMARKS:
            print(f"running {benchmark.__module__}.{benchmark.__name__} …", file=sys.stderr, flush=True)
            rows += benchmark(ctx)
        print(table(rows))
        for note in ctx.notes:
            print(note)
        if args.keep:
            print(f"database kept: {ctx.db_path}")
    print(f"whole run: {time.perf_counter() - started:.1f} s")
    return 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--entrants",
        type=_positive,
        default=10000,
        metavar="N",
        help="entrants in the synthetic competition (default 10000)",
    )
    parser.add_argument("--quick", action="store_true", help="a quick run: 1000 entrants")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database afterwards, to investigate")
    return parser


if __name__ == "__main__":
    sys.exit(main())
