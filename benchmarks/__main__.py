"""``python -m benchmarks [--quick] [--only NAME ...] [--output results.json]``: run the
benchmarks, print the ratios and the issue's targets as tables, and write every number to JSON.

With ``--only``, the suites that did not run keep their numbers from the existing output file
(each result and target names its suite; ``suites`` says when and how each was run), so a
partial run updates the file instead of replacing it.

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

from chainrule.atomic import write_bytes_atomically  # noqa: E402

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
    kept = _kept_suites(args.output, set(args.only or SUITES))
    results: list[dict[str, Any]] = []
    found_targets: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    machine = _machine()
    for name in args.only or list(SUITES):
        run, targets = SUITES[name]
        print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        suite = [{**result, "suite": name} for result in run(args.quick)]
        results.extend(suite)
        found_targets.extend({**item, "suite": name} for item in targets(suite))
        runs[name] = {
            "quick": args.quick,
            "seconds": time.perf_counter() - started,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine,
        }
    print(format_results(results))
    print()
    print(format_targets(found_targets))
    document = {
        "machine": machine,
        "suites": {**kept.get("suites", {}), **runs},
        "results": [*kept.get("results", []), *results],
        "targets": [*kept.get("targets", []), *found_targets],
    }
    write_bytes_atomically(args.output, json.dumps(document, indent=2).encode())
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _kept_suites(path: str, running: set[str]) -> dict[str, Any]:
    """The results, targets and run records of the suites not run now, from an earlier output
    file (nothing when there is none, or it holds no suites: a file of the older format)."""
    try:
        with open(path, encoding="utf-8") as handle:
            earlier = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SystemExit(
            f"python -m benchmarks: cannot read the earlier results in {path} ({error}); "
            "move it away or give --output another file"
        ) from None
    if not isinstance(earlier, dict) or not isinstance(earlier.get("suites"), dict):
        return {}
    entries = [*earlier.get("results", []), *earlier.get("targets", [])]
    if not all(isinstance(entry, dict) for entry in entries):
        raise SystemExit(
            f"python -m benchmarks: cannot read the earlier results in {path} (an entry of its "
            "results or targets is not an object); move it away or give --output another file"
        )
    keep = set(earlier["suites"]) - running
    return {
        "suites": {name: earlier["suites"][name] for name in keep},
        "results": [r for r in earlier.get("results", []) if r.get("suite") in keep],
        "targets": [t for t in earlier.get("targets", []) if t.get("suite") in keep],
    }


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
