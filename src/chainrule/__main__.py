"""``python -m chainrule``: the command-line tool (see ``chainrule.cli``), started by the same
launcher as the ``chainrule`` console script (``chainrule_launcher``)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from chainrule_launcher import main

    sys.exit(main())
