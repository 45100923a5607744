"""``chainrule datasets``: the catalog of built-in datasets."""

from __future__ import annotations

import argparse

from .. import datasets
from .common import _say, _table


# ====================================================================== datasets
def command_datasets(args: argparse.Namespace) -> int:
    """The built-in datasets as a table."""
    rows = [("Name", "Task", "Samples", "Features", "Classes", "Description")]
    for name, task, samples, features, classes, description in datasets.describe():
        rows.append(
            (
                str(name),
                str(task),
                f"{samples:,}",
                str(features),
                "—" if classes is None else str(classes),
                str(description),
            )
        )
    _say(_table(rows, right=(2, 3, 4)))
    _say()
    _say("Train on one with: chainrule train --data NAME  (or --data FILE.csv --target COLUMN)")
    return 0


__all__ = ["command_datasets"]
