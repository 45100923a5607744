"""Functional differentiation: ``grad(fn)`` returns a function computing ∂fn/∂argument.

Nested calls give higher derivatives, JAX-style: ``grad(grad(f))(x)`` is f''(x). When an
argument is already a tensor in a recorded computation (an outer ``grad`` is differentiating
through this one), the gradient is computed with ``create_graph=True`` so the outer call can
differentiate it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._tensor import Tensor, gradients
from .grad_mode import is_grad_enabled
from .ops import zeros_like

__all__ = ["grad", "value_and_grad", "gradients"]


def _as_input(value: Any) -> tuple[Tensor, bool]:
    """The tensor to differentiate with respect to, and whether it belongs to an outer graph."""
    if isinstance(value, Tensor):
        if value.requires_grad and is_grad_enabled():
            return value, True
        return Tensor._wrap(value.data, requires_grad=True), False
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return Tensor(value, requires_grad=True, dtype=value.dtype), False
    return Tensor(value, requires_grad=True), False


def value_and_grad(
    fn: Callable[..., Tensor], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Tensor, Tensor | tuple[Tensor, ...]]]:
    """Like ``grad``, but the returned function gives ``(fn(*args), gradient)``."""
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[Tensor, Any]:
        arguments = list(args)
        inputs, nested = [], False
        for number in numbers:
            if number >= len(arguments):
                raise IndexError(
                    f"argnums {number} but the function got {len(arguments)} arguments"
                )
            tensor_, outer = _as_input(arguments[number])
            arguments[number] = tensor_
            inputs.append(tensor_)
            nested = nested or outer
        output = fn(*arguments, **kwargs)
        if not isinstance(output, Tensor) or output.size != 1:
            shape = getattr(output, "shape", type(output).__name__)
            raise TypeError(f"grad needs a function returning a one-element tensor, got {shape}")
        if not output.requires_grad:
            results = tuple(zeros_like(t) for t in inputs)
        else:
            found = gradients(output, inputs, create_graph=nested, allow_unused=True)
            results = tuple(zeros_like(t) if r is None else r for r, t in zip(found, inputs))
        value = output if nested else output.detach()
        return value, results[0] if isinstance(argnums, int) else results

    return value_and_gradient


def grad(fn: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """A function returning ∂fn/∂args[argnums] (a tensor, or a tuple for several argnums).

    ``fn`` must return a one-element tensor.

    >>> import chainrule as cr
    >>> cube = lambda x: x ** 3
    >>> cr.grad(cube)(2.0).item()
    12.0
    >>> cr.grad(cr.grad(cube))(2.0).item()
    12.0
    """
    value_and_gradient = value_and_grad(fn, argnums)

    def gradient(*args: Any, **kwargs: Any) -> Any:
        return value_and_gradient(*args, **kwargs)[1]

    return gradient
