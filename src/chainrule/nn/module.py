"""Modules: objects that hold parameters and buffers and compute a forward pass.

A ``Module`` registers the ``Parameter``s and sub-modules assigned to its attributes, so
``parameters()`` finds every learnable tensor in order, ``state_dict()`` copies them (and buffers
such as BatchNorm's running statistics) out as plain ndarrays, and ``load_state_dict`` copies
them back in place — the optimiser's references to the parameters stay valid.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..errors import ShapeError
from ..grad_mode import active_trace
from ..ops import Kernel, source


def _buffer_value(module: Module, name: str) -> np.ndarray:
    return module._buffers[name]


class Parameter(Tensor):
    """A learnable tensor: a leaf that requires grad, owned by a module.

    >>> Parameter([1.0, 2.0]).requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]


class Module:
    """Base class of layers and models: parameters, buffers, sub-modules, train/eval mode."""

    # Set in __init__ through object.__setattr__ (so __setattr__ does not register them).
    _parameters: dict[str, Parameter]
    _buffers: dict[str, np.ndarray]
    _modules: dict[str, Module]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call Module.__init__() in {type(self).__name__}.__init__ first")
        for registry in (self._parameters, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """A non-learnable array that belongs in ``state_dict`` (e.g. running statistics)."""
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    def set_buffer(self, name: str, value: np.ndarray) -> None:
        """Replace a buffer's array (keeps the registry and the attribute in step).

        A layer that changes a buffer while it trains should use ``buffer_tensor`` and
        ``update_buffer`` instead, so that a compiled step can do the same."""
        trace = active_trace()
        if trace is not None:
            trace.untraced_buffer_changes.append(f"{type(self).__name__}.{name}")
        self.register_buffer(name, value)

    def buffer_tensor(self, name: str) -> Tensor:
        """The buffer's current array as a tensor that carries no gradient (a step's input:
        a compiled step reads the buffer anew on every step)."""
        return source(f"buffer {name}", Kernel(_buffer_value, module=self, name=name))

    def update_buffer(self, name: str, value: Tensor) -> None:
        """Set the buffer to ``value`` computed with tensor ops (e.g. running statistics from
        ``buffer_tensor``): a compiled step recomputes it and writes it back on every step."""
        trace = active_trace()
        if trace is not None:
            trace.buffer_updates.append((self, name, value))
        self.register_buffer(name, value.data)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, each listed once."""
        seen: set[int] = set()
        found = []
        for prefix, module in self.named_modules():
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    found.append((f"{prefix}.{name}" if prefix else name, parameter))
        return found

    def parameters(self) -> list[Parameter]:
        """Every learnable parameter, in registration order."""
        return [parameter for _, parameter in self.named_parameters()]

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        return [
            (f"{prefix}.{name}" if prefix else name, value)
            for prefix, module in self.named_modules()
            for name, value in module._buffers.items()
        ]

    def count_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch statistics); ``train(False)`` = ``eval()``."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off, running statistics)."""
        return self.train(False)

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = None

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers as name → ndarray copies."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update({name: np.array(value, copy=True) for name, value in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy arrays into the parameters (in place) and buffers; names and shapes must match."""
        own = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        missing = [k for k in (*own, *buffers) if k not in state]
        unexpected = [k for k in state if k not in own and k not in buffers]
        if strict and (missing or unexpected):
            raise KeyError(
                "state_dict does not match the model: "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and unexpected else "")
                + (f"unexpected {unexpected}" if unexpected else "")
            )
        for name, parameter in own.items():
            if name in state:
                value = np.asarray(state[name])
                if value.shape != parameter.shape:
                    raise ShapeError(
                        f"state_dict['{name}'] has shape {value.shape}, the parameter "
                        f"has shape {parameter.shape}"
                    )
                np.copyto(parameter.data, value, casting="same_kind")
        for name in buffers:
            if name in state:
                owner_name, _, attribute = name.rpartition(".")
                owner = dict(self.named_modules())[owner_name]
                owner.set_buffer(attribute, np.array(state[name], copy=True))

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        return self.forward(*args, **kwargs)

    def penalty(self) -> Tensor | None:
        """The sum of this module's and its sub-modules' weight penalties (None if none)."""
        total: Tensor | None = None
        for _, module in self.named_modules():
            own = module._own_penalty()
            if own is not None:
                total = own if total is None else total + own
        return total

    def _own_penalty(self) -> Tensor | None:
        return None


__all__ = ["Module", "Parameter"]
