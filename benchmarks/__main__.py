"""``python -m benchmarks [--quick] [--only NAME ...] [--output results.json]``: run the
benchmarks, print the ratios and the issue's targets as tables, and write every number to JSON.

Every contender uses 2 threads (BLAS, OpenMP, PyTorch) and float32. PyTorch and scikit-learn
are measured when they are installed. A full run takes a few minutes.
"""

from __future__ import annotations

import os

# The thread count must be set before NumPy (and its BLAS) is first imported.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "2")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from . import epoch, experiments, health_overhead, process, steps  # noqa: E402
from .report import format_results, format_targets  # noqa: E402

SUITES: dict[str, tuple[Callable[[bool], Any], Callable[[list[dict[str, Any]]], Any]]] = {
    "steps": (steps.run, steps.targets),
    "epoch": (epoch.run, epoch.targets),
    "memory": (lambda quick: [process.peak_memory(quick)], process.targets),
    "import": (lambda quick: [process.import_time(quick)], process.targets),
    "health": (
        lambda quick: [health_overhead.run(**({"samples": 1_000, "repeats": 3} if quick else {}))],
        health_overhead.targets,
    ),
    "experiments": (experiments.run, experiments.targets),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(SUITES),
        metavar="NAME",
        help=f"run only these suites ({', '.join(SUITES)})",
    )
    parser.add_argument(
        "--output", default="benchmark-results.json", help="where to write the numbers (JSON)"
    )
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    found_targets: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name in args.only or list(SUITES):
        run, targets = SUITES[name]
        print(f"running {name} ...", file=sys.stderr, flush=True)
        suite = run(args.quick)
        results.extend(suite)
        found_targets.extend(targets(suite))
    print(format_results(results))
    print()
    print(format_targets(found_targets))
    document = {
        "machine": _machine(),
        "quick": args.quick,
        "seconds": time.perf_counter() - started,
        "results": results,
        "targets": found_targets,
    }
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _machine() -> dict[str, Any]:
    import numpy as np

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "threads": 2,
        "platform": platform.platform(),
        "processor": platform.processor(),
    }


if __name__ == "__main__":
    sys.exit(main())
