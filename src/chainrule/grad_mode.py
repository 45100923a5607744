"""Whether operations record the graph: ``no_grad`` switches recording off in a block."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypedDict, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class _GradMode(threading.local):
    enabled: bool = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new operations record the graph needed for ``backward``."""
    return _mode.enabled


class _SetGradMode:
    enabled: bool
    _previous: list[bool]  # set on first entry (see __enter__)

    def __enter__(self) -> None:
        # A stack, so that one instance can be entered again inside itself.
        self.__dict__.setdefault("_previous", []).append(_mode.enabled)
        _mode.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        _mode.enabled = self._previous.pop()

    def __call__(self, function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_SetGradMode):  # lower case, like the context managers users know
    """Context manager (and decorator) in which operations record no graph.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_SetGradMode):
    """Context manager (and decorator) that turns graph recording back on inside ``no_grad``."""

    enabled = True


class set_grad_enabled(_SetGradMode):
    """Context manager setting graph recording on or off: ``with set_grad_enabled(False): ...``."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)

    def __call__(self, function: Callable[P, R]) -> Callable[P, R]:
        raise TypeError(
            "set_grad_enabled is a context manager; use no_grad/enable_grad to decorate"
        )


ErrKind = Literal["ignore", "warn", "raise", "call", "print", "log"]


class ErrState(TypedDict):
    """``np.geterr()``: what each kind of floating-point error does (``np.errstate``'s
    keywords)."""

    divide: ErrKind
    over: ErrKind
    under: ErrKind
    invalid: ErrKind


class Trace:
    """What a traced step recorded: every graph tensor in creation order, and the layer
    buffers it updated (``(module, name, tensor)``, see ``Module.update_buffer``)."""

    def __init__(self) -> None:
        self.tensors: list[Any] = []
        self.buffer_updates: list[tuple[Any, str, Any]] = []
        self.untraced_buffer_changes: list[str] = []
        self.errstates: list[tuple[Any, ErrState]] = []  # np.geterr() per kernel


class _ActiveTrace(threading.local):
    trace: Trace | None = None


_active = _ActiveTrace()


def active_trace() -> Trace | None:
    """The ``Trace`` being recorded while ``chainrule.compiler`` traces a step (None
    otherwise). While tracing, values that carry no gradient but depend on the step's data
    (masks, dropout's random scale, a layer's buffers) are recorded too, so that the compiled
    program recomputes them on every step instead of freezing them."""
    return _active.trace


class tracing:
    """Context manager: record the graph of everything computed inside (``as trace``)."""

    def __enter__(self) -> Trace:
        if _active.trace is not None:
            raise RuntimeError("a step is already being traced in this thread")
        _active.trace = Trace()
        return _active.trace

    def __exit__(self, *exc_info: object) -> None:
        _active.trace = None


__all__ = [
    "ErrState",
    "active_trace",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "Trace",
    "tracing",
]
