"""``python -m chainrule``: the command-line tool (see ``chainrule.cli``)."""

from __future__ import annotations

import signal
import sys


class _Terminated(KeyboardInterrupt):
    """SIGTERM while the command's modules are still loading."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


if __name__ == "__main__":
    # Ctrl-C or SIGTERM while the modules load (half a second): one line, no traceback.
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from .cli import main
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, _Terminated)
        print("chainrule: terminated (SIGTERM)" if terminated else "chainrule: interrupted",
              file=sys.stderr, flush=True)
        sys.exit(143 if terminated else 130)
    sys.exit(main())
