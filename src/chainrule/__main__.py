"""``python -m chainrule``: the command-line tool (see ``chainrule.cli``)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
