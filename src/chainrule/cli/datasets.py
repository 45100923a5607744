"""``chainrule datasets``: the catalog of built-in datasets."""

from __future__ import annotations

import argparse
from typing import Any

from .. import datasets
from .common import _say, _subparser, _table


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


def _add_datasets(commands: Any, common: argparse.ArgumentParser) -> None:
    _subparser(
        commands,
        "datasets",
        command_datasets,
        "list the built-in datasets",
        "List the built-in datasets (use one with 'chainrule train --data NAME').",
        common,
    )


__all__ = ["command_datasets"]
