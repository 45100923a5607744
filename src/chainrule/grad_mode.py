"""Whether operations record the graph: ``no_grad`` switches recording off in a block."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    enabled: bool = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new operations record the graph needed for ``backward``."""
    return _mode.enabled


class _SetGradMode:
    enabled: bool

    def __enter__(self) -> None:
        # A stack, so that one instance can be entered again inside itself.
        self.__dict__.setdefault("_previous", []).append(_mode.enabled)
        _mode.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        _mode.enabled = self._previous.pop()

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):  # noqa: N801 - named like the context managers users know
    """Context manager (and decorator) in which operations record no graph.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_SetGradMode):  # noqa: N801
    """Context manager (and decorator) that turns graph recording back on inside ``no_grad``."""

    enabled = True


class set_grad_enabled(_SetGradMode):  # noqa: N801
    """Context manager setting graph recording on or off: ``with set_grad_enabled(False): ...``."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)

    def __call__(self, function: F) -> F:
        raise TypeError(
            "set_grad_enabled is a context manager; use no_grad/enable_grad to decorate"
        )
