"""The ``chainrule`` console script: installs its signal handling before chainrule loads.

Loading chainrule takes a fifth of a second; a Ctrl-C (SIGINT) or SIGTERM in that time would
otherwise end in Python's traceback. This module lives outside the package, so the console
script (``[project.scripts]``) reaches it without importing chainrule first: it turns either
signal during the import into one line and the shell's exit code (130 for SIGINT, 143 for
SIGTERM), then hands over to ``chainrule.cli.main``, which handles both from then on.
``python -m chainrule`` runs the same ``main`` (there the package itself is loaded first).
"""

from __future__ import annotations

import signal
import sys

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT
TERMINATED = 143  # the shell's code for a process ended by SIGTERM


class _Terminated(KeyboardInterrupt):
    """SIGTERM while chainrule is still loading."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def main() -> int:
    """Load ``chainrule.cli`` under the launcher's signal handling, then run the command."""
    # SIGINT already raises KeyboardInterrupt (Python's own handler, unless it is ignored).
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from chainrule.cli import main as command
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, _Terminated)
        print(
            "chainrule: terminated (SIGTERM)" if terminated else "chainrule: interrupted",
            file=sys.stderr,
            flush=True,
        )
        return TERMINATED if terminated else INTERRUPTED
    signal.signal(signal.SIGTERM, previous)
    return command()


if __name__ == "__main__":
    sys.exit(main())
