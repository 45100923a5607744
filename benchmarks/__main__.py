"""``python -m benchmarks [--quick] [--output results.json]``: run the benchmarks, print a table
of ratios, and write every number to a JSON file."""

from __future__ import annotations

import argparse
import json
import sys

from . import health_overhead


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--output", default="benchmark-results.json",
                        help="where to write the numbers (JSON)")
    args = parser.parse_args(argv)
    sizes = {"samples": 1_000, "repeats": 3} if args.quick else {}
    results = [health_overhead.run(**sizes)]
    print(health_overhead.format_result(results[0]))
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
