"""The compiled training step: the engine's own graph of one step, lowered to a static program.

docs/math.md §4: a static graph can be optimised before it runs. ``compile_step`` runs the
model's forward pass and loss once on a real batch with the ordinary engine, then the backward
pass with ``create_graph=True``: the VJPs of ``chainrule.ops`` are tensor operations, so the
backward pass is recorded as a graph like any other. Every recorded node keeps the ``Kernel``
that computed its value, and the program replays those kernels — the same code eager training
runs, so there is no second copy of any derivative rule, and compiled training is bit-identical
to eager training. Lowering the graph to a flat list of kernel calls over preallocated buffers
is where the optimisations happen:

- **constant folding**: whatever does not depend on the batch, the parameters or a layer's
  buffers (the root gradient 1, the mean's 1/N and everything computed from them) was computed
  once while tracing and is a constant of the program;
- **dead-node elimination**: only what the loss, the prediction, the parameters' gradients and
  the layers' buffer updates need is run (no gradient for the input);
- **``out=`` kernels**: matrix products, ufuncs and sums write into buffers allocated once, with
  the layout eager training gets, so the bits are the same;
- **in place**: an elementwise kernel overwrites an input that nothing reads afterwards (the
  activation writes a over z when its backward needs only a: σ' = a(1 − a), tanh' = 1 − a²);
- **buffer reuse by liveness**: a buffer whose value is dead is handed to the next value of the
  same shape; views keep the buffer they look into alive;
- **the prediction on demand**: kernels only the prediction needs (the softmax behind a
  cross-entropy computed from its logits) run when ``Program.prediction`` is read (for metrics);
- **gradients in place**: ∂L/∂θ of every parameter is written straight into one flat array
  (``param.grad`` are views of it), so one BLAS dot checks them all for NaN, and when the
  parameters are views of one flat array too an elementwise optimiser updates them in one call;
- **views made once**: a view of an array that never changes (Gᵀ of a gradient buffer for
  ∂L/∂W = Gᵀ X) is made when the program is built, not on every step;
- **fusion** (``kernels="numba"``, the ``fast`` extra): bias + ReLU after the layer's GEMM, and
  g ⊙ f'(a) for ReLU, tanh and sigmoid, each run as one ``chainrule.fast`` loop instead of
  two to five NumPy passes and their temporaries. Only kernels made of the same IEEE
  operations in the same order are fused (no exp, log or tanh, whose Numba and NumPy versions
  may differ by an ulp), and each is run once on the traced step and kept only when it gives
  the eager bits there, so a fused program is bit-identical to eager training too. Without
  Numba the recorded NumPy kernels run unfused (nothing is slower than before). The one
  exception is the loss: a softmax cross-entropy from logits becomes two ``chainrule.fast``
  kernels (``chainrule.fused_loss``), equal to the NumPy kernels to rounding (checked on the
  traced step), not bit for bit.

Randomness (dropout's mask) and layer state (BatchNorm's running statistics) are *sources* of
the graph: the program draws a new mask from the layer's generator and reads the current
buffer on every step, in eager order, and writes the buffer updates back (``Module.
update_buffer``). A program is kept per batch shape (the smaller last batch gets its own).

What cannot be compiled raises ``CompileError`` while tracing, never later: an op recorded
without a kernel, an optimiser that needs a closure (L-BFGS, CG), a tensor that requires grad
but is no parameter, a buffer changed outside the graph, or a graph or constant that changes with
the data (a second trace on other data must give the same graph and constants).

>>> import numpy as np, chainrule as cr
>>> from chainrule.models import Sequential
>>> from chainrule.nn import Dense
>>> model = Sequential([Dense(8, input_dim=2, activation="tanh"), Dense(1)], seed=0)
>>> model.compile(loss="mse", optimizer=cr.optim.SGD(lr=0.1), jit=True)
>>> x = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]], dtype=np.float32)
>>> history = model.fit(x, x.sum(axis=1, keepdims=True), epochs=100, batch_size=4, verbose=0)
>>> model.compiled_step.traces, bool(history.history["loss"][-1] < 0.01)
(1, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._tensor import Node, Tensor, gradients
from .dtypes import all_finite
from .errors import CompileError, JitFallbackWarning
from .grad_mode import ErrState, enable_grad, tracing
from .losses import sample_weight_array
from .ops import _no_gradient, _sum_array, linear_forward

Run = Callable[[], None]


# ---------------------------------------------------------------------- tracing
@dataclass
class _Trace:
    """One step recorded by the engine: forward, loss, and the backward pass as a graph."""

    tensors: list[Tensor]  # every recorded tensor, in creation order
    backward_from: int  # tensors[backward_from:] were recorded by the backward pass
    inputs: Tensor
    target: Tensor
    weights: Tensor | None  # the batch's sample weights (None: unweighted step)
    total: Tensor
    prediction: Tensor
    grads: list[Tensor | None]  # ∂total/∂θ per parameter (None: unused parameter)
    buffer_updates: list[tuple[Any, str, Tensor]]
    errstates: dict[int, ErrState]  # id(tensor) -> np.errstate its kernel ran under


def _node_of(tensor_: Tensor) -> Node:
    """The node that recorded ``tensor_`` (every tensor of the traced graph but its leaves)."""
    node = tensor_._node
    if node is None:
        raise CompileError(
            f"a tensor of shape {tensor_.shape} is used as a node of the traced "
            "graph but was not recorded"
        )
    return node


def _step_input(data: np.ndarray, op: str) -> Tensor:
    """The batch (or its target) as a source node: recorded, carrying no gradient."""
    tensor_ = Tensor._wrap(data)
    tensor_._node = Node(op, (), _no_gradient)
    return tensor_


def _generator_states(model: Any) -> list[tuple[Any, Any]]:
    return [
        (module, module._generator.bit_generator.state)
        for _, module in model.named_modules()
        if hasattr(module, "_generator")
    ]


def _trace(model: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> _Trace:
    """Run the step once with the engine, recording everything (random generators and layer
    buffers restored afterwards, so tracing changes nothing)."""
    generators = _generator_states(model)
    buffers = [(module, dict(module._buffers)) for _, module in model.named_modules()]
    params = model.parameters()
    default_errstate = np.geterr()
    try:
        with tracing() as trace, enable_grad():
            inputs = _step_input(x, "input")
            prediction = model(inputs)
            if not isinstance(prediction, Tensor):
                raise CompileError("the model's forward must return a tensor")
            target = _step_input(model.loss.target(prediction, y).data, "target")
            values = model.loss.values(prediction, target)
            weights = (
                None
                if w is None
                else _step_input(
                    sample_weight_array(w, values.shape, values.dtype), "sample_weight"
                )
            )
            total = model.loss.reduce(values, weights)
            penalty = model.penalty()
            if penalty is not None:
                total = total + penalty
            if total.shape != ():
                raise CompileError(
                    f"the loss must be a scalar, got shape {total.shape} "
                    "(reduction='none' cannot be trained)"
                )
            if not total.requires_grad:
                raise CompileError("the loss does not depend on any parameter")
            backward_from = len(trace.tensors)
            grads = list(gradients(total, params, create_graph=True, allow_unused=True))
    finally:
        for module, state in generators:
            module._generator.bit_generator.state = state
        for module, saved in buffers:
            for name, value in saved.items():
                module.register_buffer(name, value)
    if trace.untraced_buffer_changes:
        raise CompileError(
            f"{', '.join(trace.untraced_buffer_changes)} is changed outside the "
            "graph while training (use Module.update_buffer)"
        )
    errstates = {id(t): state for t, state in trace.errstates if state != default_errstate}
    return _Trace(
        trace.tensors,
        backward_from,
        inputs,
        target,
        weights,
        total,
        prediction,
        grads,
        trace.buffer_updates,
        errstates,
    )


def _outputs(trace: _Trace) -> list[Tensor]:
    outputs = [trace.total, trace.prediction]
    outputs += [g for g in trace.grads if g is not None]
    outputs += [value for _, _, value in trace.buffer_updates]
    return outputs


def _reachable(trace: _Trace) -> list[Tensor]:
    """The recorded tensors the outputs depend on, in creation order (dead ones dropped)."""
    seen: set[int] = set()
    stack = _outputs(trace)
    while stack:
        tensor_ = stack.pop()
        if id(tensor_) in seen:
            continue
        seen.add(id(tensor_))
        node = tensor_._node
        if node is not None:
            stack.extend(node.parents)
    live = [t for t in trace.tensors if id(t) in seen]
    for tensor_ in live:
        if _node_of(tensor_).kernel is None:
            raise CompileError(
                f"the op '{tensor_.op}' (shape {tensor_.shape}) was recorded "
                "without a kernel (chainrule.ops.record); define it with "
                "chainrule.ops.apply to compile it"
            )
    return live


def _leaves(live: list[Tensor]) -> list[Tensor]:
    """The unrecorded inputs of the live nodes (parameters and constants), first use first."""
    leaves: dict[int, Tensor] = {}
    for tensor_ in live:
        for parent in _node_of(tensor_).parents:
            if parent._node is None:
                leaves.setdefault(id(parent), parent)
    return list(leaves.values())


def _signature(trace: _Trace, live: list[Tensor], params: set[int]) -> tuple[list[str], list[Any]]:
    """What must not change with the data: the ops and shapes, and the constants."""
    ops = [f"{t.op}{t.shape}{t.dtype}" for t in live]
    constants: list[Any] = [leaf.data for leaf in _leaves(live) if id(leaf) not in params]
    for tensor_ in live:
        constants.extend(
            v for v in _node_of(tensor_).kernel.params.values() if isinstance(v, np.ndarray)
        )
    return ops, constants


def compile_step(model: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> Program:
    """Trace the model's training step on (x, y), with the sample weights ``w`` when given,
    and compile it (``CompileError`` if not)."""
    optimizer = model.optimizer
    if getattr(optimizer, "requires_closure", False):
        raise CompileError(
            f"{type(optimizer).__name__} evaluates the loss several times per "
            "step (a closure); only single-gradient optimisers are compiled"
        )
    if hasattr(model, "build"):
        model.build(x.shape[1:])  # lazily built layers get their parameters first
    flatten_parameters(model)
    params = {id(p) for p in model.parameters()}
    first = _trace(model, x, y, w)
    live = _reachable(first)
    # A second trace on other data must give the same graph with the same constants: a
    # constant that changed was computed from the data outside the graph, and a compiled
    # program would freeze it.
    other_x = np.ascontiguousarray(x[::-1]) if len(x) > 1 else x + 1
    second = _trace(
        model,
        other_x + np.asarray(0.5, x.dtype),
        y[::-1] if len(y) > 1 else y,
        None if w is None else w[::-1] + np.asarray(0.5, w.dtype),
    )
    ops_1, constants_1 = _signature(first, live, params)
    ops_2, constants_2 = _signature(second, _reachable(second), params)
    if ops_1 != ops_2:
        raise CompileError(
            "the recorded graph changes with the data (data-dependent control "
            "flow in forward); it cannot be compiled"
        )
    for a, b in zip(constants_1, constants_2):
        if np.shape(a) != np.shape(b) or not np.array_equal(a, b, equal_nan=True):
            raise CompileError(
                f"a constant of shape {np.shape(a)} in the graph depends on the data (it was "
                "computed outside the recorded ops); it cannot be compiled"
            )
    del second
    program = _Lowering(model, first, live).program()
    if getattr(model, "kernels", "numpy") == "numba":
        from .dense_step import install

        install(model, program, x, y)
    return program


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """The same shape, dtype and bytes (NaN payloads and the sign of zero included)."""
    a, b = np.asarray(a), np.asarray(b)
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.ascontiguousarray(a).tobytes() == (np.ascontiguousarray(b).tobytes())
    )


def flatten_parameters(model: Any) -> np.ndarray | None:
    """Make every parameter a view of one contiguous array (values unchanged), so that an
    elementwise update can run over all of them in one call; the array, or None when the
    parameters have several dtypes. Idempotent."""
    params = model.parameters()
    if not params or len({p.dtype for p in params}) != 1:
        return None
    flat = getattr(model, "_flat_parameters", None)
    size = sum(p.size for p in params)
    if flat is not None and flat.size == size and all(p.data.base is flat for p in params):
        return flat
    flat = np.empty(size, params[0].dtype)
    for param, view in zip(params, _views_of(flat, params)):
        view[...] = param.data
        param.data = view
    object.__setattr__(model, "_flat_parameters", flat)
    return flat


def _views_of(flat: np.ndarray, params: list[Tensor]) -> list[np.ndarray]:
    """Consecutive views of ``flat``, one shaped like each parameter, in order."""
    views, offset = [], 0
    for param in params:
        views.append(flat[offset : offset + param.size].reshape(param.shape))
        offset += param.size
    return views


# ---------------------------------------------------------------------- lowering
_FIXED, _INPUT, _SOURCE, _OWNED, _FRESH = "fixed", "input", "source", "owned", "fresh"


@dataclass
class _Value:
    """One array of the program."""

    kind: str  # fixed (parameter or constant), input, source, owned (a buffer) or fresh
    shape: tuple[int, ...]
    dtype: np.dtype
    order: Literal["C", "F"] = "C"  # the layout of an owned buffer ("C" or "F", as eager's result)
    views: int | None = None  # the value whose memory this one may look into
    end: int = -1  # the last instruction that reads it (or a view of it)
    buffer: np.ndarray | None = None
    readers: list[int] = field(default_factory=list)


@dataclass
class _Instruction:
    tensor: Tensor
    inputs: tuple[int, ...]
    output: int
    phase: str
    note: str = ""


class _Lowering:
    """Values, instructions, buffers and the kernels' closures for one trace."""

    def __init__(self, model: Any, trace: _Trace, live: list[Tensor]) -> None:
        self.model, self.trace, self.live = model, trace, live
        self.params = model.parameters()
        self.values: list[_Value] = []
        self.arrays: list[Any] = []  # the slots: one array per value
        self.tensors: list[Tensor] = []  # the traced tensor of each value
        self.index: dict[int, int] = {}  # id(tensor) -> value
        self.instructions: list[_Instruction] = []
        self._hoisted: set[int] = set()  # values that are views made once (_hoist_views)
        param_ids = {id(p) for p in self.params}
        for leaf in _leaves(live):
            if leaf.requires_grad and id(leaf) not in param_ids:
                raise CompileError(
                    f"a tensor of shape {leaf.shape} requires grad but is not "
                    "a parameter of the model"
                )
            self._add(leaf, _FIXED, leaf.data)
        self.x = self._add(trace.inputs, _INPUT, trace.inputs.data)
        self.y = self._add(trace.target, _INPUT, trace.target.data)
        self.w = (
            None if trace.weights is None else self._add(trace.weights, _INPUT, trace.weights.data)
        )
        backward_ids = {id(t) for t in trace.tensors[trace.backward_from :]}
        for tensor_ in live:
            if tensor_ is trace.inputs or tensor_ is trace.target or tensor_ is trace.weights:
                continue
            node = _node_of(tensor_)
            if not node.parents:
                self._add(tensor_, _SOURCE, tensor_.data)
                continue
            inputs = tuple(self.index[id(p)] for p in node.parents)
            output = self._add(tensor_, self._kind(tensor_), tensor_.data, inputs)
            position = len(self.instructions)
            for place, value in enumerate(inputs):
                if place not in node.kernel.ignores:
                    self.values[value].readers.append(position)
            self.instructions.append(
                _Instruction(
                    tensor_,
                    inputs,
                    output,
                    "backward" if id(tensor_) in backward_ids else "forward",
                )
            )

    def _add(
        self, tensor_: Tensor, kind: str, data: np.ndarray, inputs: tuple[int, ...] = ()
    ) -> int:
        index = len(self.values)
        value = _Value(kind, data.shape, data.dtype)
        if kind == _OWNED:
            value.order = (
                "F"
                if (data.ndim > 1 and data.flags.f_contiguous and not data.flags.c_contiguous)
                else "C"
            )
        elif kind == _FRESH:
            for parent, parent_tensor in zip(inputs, _node_of(tensor_).parents):
                if np.may_share_memory(data, parent_tensor.data):
                    value.views = parent  # a view keeps the memory it looks into alive
                    break
        self.values.append(value)
        self.tensors.append(tensor_)
        self.arrays.append(data if kind in (_FIXED, _INPUT, _SOURCE) else None)
        self.index[id(tensor_)] = index
        return index

    @staticmethod
    def _kind(tensor_: Tensor) -> str:
        node = _node_of(tensor_)
        kernel, data, parents = node.kernel, tensor_.data, node.parents
        if (
            kernel.takes_out
            and isinstance(data, np.ndarray)
            and data.ndim > 0
            and (data.flags.c_contiguous or data.flags.f_contiguous)
            and data.flags.writeable
            and data.flags.owndata
            and not any(np.may_share_memory(data, p.data) for p in parents)
        ):
            return _OWNED
        return _FRESH

    # .................................................................. liveness, buffers
    def _root(self, value: int) -> int:
        while (looked_into := self.values[value].views) is not None:
            value = looked_into
        return value

    def _liveness(self, keep: set[int]) -> None:
        last = len(self.instructions)
        for index, value in enumerate(self.values):
            end = max(value.readers, default=-1)
            if index in keep:
                end = last
            root = index
            while True:  # a value's use is a use of every buffer it looks into
                node = self.values[root]
                node.end = max(node.end, end)
                if node.views is None:
                    break
                root = node.views

    def _allocate(self, keep: set[int], grad_buffers: dict[int, np.ndarray]) -> None:
        """Give every owned value a buffer: its gradient view, an input it may overwrite, a
        dead value's buffer of the same shape, or a new one."""
        free: dict[tuple[Any, ...], list[np.ndarray]] = {}
        holder: dict[int, int] = {}  # id(buffer) -> the value in it now
        for position, instruction in enumerate(self.instructions):
            out = self.values[instruction.output]
            if out.kind == _OWNED:
                key = (out.shape, out.dtype.str, out.order)
                buffer = grad_buffers.get(instruction.output)
                if buffer is not None:
                    instruction.note = "→ ∂L/∂θ (out=)"
                else:
                    buffer = self._in_place(instruction, position, keep)
                    if buffer is not None:
                        pass
                    elif free.get(key):
                        buffer = free[key].pop()
                        instruction.note = "(out=)"
                    else:
                        buffer = np.empty(out.shape, out.dtype, order=out.order)
                        instruction.note = "(out=)"
                out.buffer = buffer
                self.arrays[instruction.output] = buffer
                holder[id(buffer)] = instruction.output
            for value_index in {self._root(v) for v in instruction.inputs}:
                value = self.values[value_index]
                if (
                    value.kind == _OWNED
                    and value.end == position
                    and value.buffer is not None
                    and holder.get(id(value.buffer)) == value_index
                    and value_index not in keep
                ):
                    key = (value.shape, value.dtype.str, value.order)
                    if value.buffer is not out.buffer:
                        free.setdefault(key, []).append(value.buffer)

    def _in_place(
        self, instruction: _Instruction, position: int, keep: set[int]
    ) -> np.ndarray | None:
        """An input's buffer the elementwise kernel may overwrite (it dies here), or None."""
        node = _node_of(instruction.tensor)
        if not node.kernel.elementwise or instruction.output in keep:
            return None
        out = self.values[instruction.output]
        for value_index in instruction.inputs:
            value = self.values[value_index]
            if (
                value.kind == _OWNED
                and value.end == position
                and value_index not in keep
                and value.shape == out.shape
                and value.dtype == out.dtype
                and value.order == out.order
                and instruction.inputs.count(value_index) == 1
            ):
                if node.attrs and "activation" in node.attrs:
                    instruction.note = "in place: a overwrites z"
                else:
                    overwritten = self.tensors[value_index]
                    instruction.note = f"in place: overwrites {overwritten.op}{overwritten.shape}"
                return value.buffer
        return None

    # .................................................................. the program
    def program(self) -> Program:
        trace = self.trace
        total, prediction = self.index[id(trace.total)], self.index[id(trace.prediction)]
        grad_values = [None if g is None else self.index[id(g)] for g in trace.grads]
        updates = [
            (module, name, self.index[id(value)]) for module, name, value in trace.buffer_updates
        ]
        main = {total, *(v for v in grad_values if v is not None), *(v for _, _, v in updates)}
        tail = self._only_for(prediction, main)
        # The prediction's own kernels (a softmax output behind a loss computed from the
        # logits) run when the prediction is read, after the step: what they read is kept.
        keep = {
            prediction,
            *main,
            *(self.instructions[p].output for p in tail),
            *(v for p in tail for v in self.instructions[p].inputs),
        }
        # The gradients are views of one array: one check covers them all.
        dtypes = {p.dtype for p in self.params}
        flat = (
            np.empty(sum(p.size for p in self.params), dtypes.pop()) if len(dtypes) == 1 else None
        )
        views = (
            _views_of(flat, self.params)
            if flat is not None
            else [np.empty(p.shape, p.dtype) for p in self.params]
        )
        direct: dict[int, np.ndarray] = {}
        copies: list[tuple[int, np.ndarray]] = []
        for value_index, view in zip(grad_values, views):
            if value_index is None:
                continue
            value = self.values[value_index]
            if (
                value.kind == _OWNED
                and value.order == "C"
                and value_index not in direct
                and grad_values.count(value_index) == 1
                and value_index != prediction
            ):
                direct[value_index] = view
            else:
                copies.append((value_index, view))
        self._liveness(keep)
        self._allocate(keep, direct)
        for position in tail:
            self.instructions[position].phase = "on demand"
        fused_kernels = None
        if getattr(self.model, "kernels", "numpy") == "numba":
            from .fast import load

            fused_kernels = load()
        runs = self._hoist_views(set(tail))
        runs.update(self._fuse(fused_kernels, keep, set(tail)))
        if fused_kernels is not None:
            from .fused_loss import fuse

            runs.update(fuse(self, fused_kernels, keep, set(tail), set(runs)))
        phases: dict[str, list[Run]] = {"forward": [], "backward": [], "on demand": []}
        for position, instruction in enumerate(self.instructions):
            run = runs[position] if position in runs else self._closure(instruction)
            if run is not None:
                phases[instruction.phase].append(run)
        forward, backward, on_demand = phases["forward"], phases["backward"], phases["on demand"]
        arrays = self.arrays
        for value_index, view in copies:

            def copy(view: np.ndarray = view, index: int = value_index) -> None:
                np.copyto(view, arrays[index])

            backward.append(copy)
        sources = [
            (index, _node_of(self.tensors[index]).kernel)
            for index, value in enumerate(self.values)
            if value.kind == _SOURCE
        ]
        grads = [
            (param, None if value is None else Tensor._wrap(view))
            for param, value, view in zip(self.params, grad_values, views)
        ]
        loss, dummy = (
            self.model.loss,
            Tensor._wrap(np.empty(trace.prediction.shape, trace.prediction.dtype)),
        )

        def target_of(y: np.ndarray) -> np.ndarray:
            return loss.target(dummy, y).data

        weighting: tuple[int, Callable[[np.ndarray], np.ndarray]] | None = None
        if self.w is not None:
            ndim, dtype = len(self.values[self.w].shape), self.values[self.w].dtype

            def weights_of(w: np.ndarray) -> np.ndarray:
                return sample_weight_array(w, (len(w),) + (1,) * (ndim - 1), dtype)

            weighting = (self.w, weights_of)

        program = Program(
            arrays,
            self.x,
            self.y,
            total,
            prediction,
            sources,
            forward,
            backward,
            grads,
            updates,
            target_of,
            on_demand,
            weighting,
        )
        program.listing = [
            f"{i.phase:8} {i.tensor.op}{i.tensor.shape}" + (f" {i.note}" if i.note else "")
            for i in self.instructions
        ]
        program.kernels = len(forward) + len(backward) + len(on_demand) + len(copies)
        program.fused_kernels = fused_kernels
        gradient_buffers = {id(view) for view in direct.values()}
        program.buffers = len(
            {
                id(v.buffer)
                for v in self.values
                if v.buffer is not None and id(v.buffer) not in gradient_buffers
            }
        )
        if flat is not None and all(v is not None for v in grad_values):
            program._flat = flat  # (a parameter without gradient would leave stale entries)
            flat_parameters = getattr(self.model, "_flat_parameters", None)
            if flat_parameters is not None and all(
                p.data.base is flat_parameters for p in self.params
            ):
                program._flat_parameters = flat_parameters
                program._params = self.params
        return program

    # .................................................................. views, fusion
    def _stable(self, value_index: int, hoisted: set[int]) -> bool:
        """The value's array never changes while the program lives (a parameter, a constant,
        a preallocated buffer, or a view of one computed once)."""
        return self.values[value_index].kind in (_FIXED, _OWNED) or value_index in hoisted

    def _hoist_views(self, tail: set[int]) -> dict[int, Run | None]:
        """Views of arrays that never change (a transpose of a buffer) are computed once, here:
        a view's value is its memory, not its contents. position -> None (nothing to run)."""
        hoisted: set[int] = set()
        runs: dict[int, Run | None] = {}
        for position, instruction in enumerate(self.instructions):
            value = self.values[instruction.output]
            kernel = _node_of(instruction.tensor).kernel
            if (
                value.kind != _FRESH
                or value.views is None
                or position in tail
                or id(instruction.tensor) in self.trace.errstates
                or not all(
                    self._stable(i, hoisted)
                    for k, i in enumerate(instruction.inputs)
                    if k not in kernel.ignores
                )
            ):
                continue
            view = kernel.call(
                *[
                    None if k in kernel.ignores else self.arrays[i]
                    for k, i in enumerate(instruction.inputs)
                ]
            )
            looked_into = self.arrays[value.views]
            if (
                not isinstance(view, np.ndarray)
                or view.shape != value.shape
                or view.dtype != value.dtype
                or not np.shares_memory(view, looked_into)
            ):
                continue
            self.arrays[instruction.output] = view
            hoisted.add(instruction.output)
            instruction.note = "a view, made once"
            runs[position] = None
        self._hoisted = hoisted
        return runs

    def _fuse(
        self, kernels: dict[str, Any] | None, keep: set[int], tail: set[int]
    ) -> dict[int, Run | None]:
        """The fusion pass: chains of elementwise kernels that ``chainrule.fast`` has as one
        loop (``kernels="numba"``) become one call, position -> the fused run (None for the
        instructions it absorbed). Each fused kernel is run once on the traced step's own
        arrays and kept only when it gives the eager bits there (``chainrule.fast``'s
        contract: the same IEEE operations in the same order). Without Numba the NumPy kernels
        run as recorded: nothing is fused, so nothing can be slower."""
        runs: dict[int, Run | None] = {}
        if kernels is None:
            return runs
        instructions = self.instructions
        for position in range(len(instructions) - 1):
            first, second = instructions[position], instructions[position + 1]
            if (
                position in runs
                or position in tail
                or position + 1 in tail
                or first.phase != second.phase
                or any(id(i.tensor) in self.trace.errstates for i in (first, second))
            ):
                continue
            fused, summed = self._bias_activation(first, second, kernels), None
            if fused is None:
                found = self._slope_times(first, second, position + 1, kernels, keep, set(runs))
                if found is not None:
                    fused, summed = found
            if fused is not None:
                runs[position], runs[position + 1] = fused, None
                first.note = f"{first.note} + fused with the next (chainrule.fast)".lstrip()
                second.note = f"{second.note} (fused into the previous)".lstrip()
            if summed is not None:
                runs[summed] = None
                column_sum = self.instructions[summed]
                column_sum.note = f"{column_sum.note} (fused into {first.tensor.op})".lstrip()
        return runs

    def _column_sum(self, product: _Instruction, position: int, taken: set[int]) -> int | None:
        """A later Σ over the rows of the product at ``position`` (the bias's gradient) that
        the slope kernel can compute in the same pass: a sum over axis 0 of the 2-d product
        into a buffer that no other value uses (so writing it early is safe)."""
        shape = self.values[product.output].shape
        if len(shape) != 2:
            return None
        for reader in self.values[product.output].readers:
            instruction = self.instructions[reader]
            kernel = _node_of(instruction.tensor).kernel
            out = self.values[instruction.output]
            if (
                reader > position
                and reader not in taken
                and instruction.phase == product.phase
                and kernel.function is _sum_array
                and kernel.params.get("axes") == (0,)
                and not kernel.params.get("keepdims")
                and instruction.inputs == (product.output,)
                and out.shape == (shape[1],)
                and out.buffer is not None
                and id(instruction.tensor) not in self.trace.errstates
                and sum(v.buffer is out.buffer for v in self.values) == 1
            ):
                return reader
        return None

    def _bias_activation(
        self, linear: _Instruction, activation: _Instruction, kernels: dict[str, Any]
    ) -> Run | None:
        """linear (Z = X Wᵀ + b into a buffer) then a = g(Z) in place over it: Z = X Wᵀ by
        BLAS, then one pass a = g(Z + b)."""
        node, act_node = _node_of(linear.tensor), _node_of(activation.tensor)
        act = (act_node.attrs or {}).get("activation")
        fused = None if act is None else kernels["bias_activation"].get(act.name)
        out = self.values[linear.output]
        if (
            act is None
            or fused is None
            or node.kernel.function is not linear_forward
            or len(linear.inputs) != 3
            or activation.inputs != (linear.output,)
            or out.buffer is None
            or self.values[activation.output].buffer is not out.buffer
            or out.order != "C"
            or len(out.shape) != 2
            or act.params
            or not self._stable(linear.inputs[1], self._hoisted)
            or not self._stable(linear.inputs[2], self._hoisted)
        ):
            return None
        x, weight, bias = (p.data for p in node.parents)
        trial = fused(np.matmul(x, weight.T), bias)
        if not _same_bits(trial, activation.tensor.data):
            return None
        arrays, x_slot, buffer = self.arrays, linear.inputs[0], out.buffer
        weight_t, bias_array = self.arrays[linear.inputs[1]].T, self.arrays[linear.inputs[2]]
        matmul = np.matmul

        def run() -> None:
            fused(matmul(arrays[x_slot], weight_t, out=buffer), bias_array)

        return run

    def _slope_times(
        self,
        slope: _Instruction,
        product: _Instruction,
        position: int,
        kernels: dict[str, Any],
        keep: set[int],
        taken: set[int],
    ) -> tuple[Run, int | None] | None:
        """f'(a) (the slope written from the output) then g ⊙ f'(a): one pass, no temporary;
        with the later Σ over rows of the product (the bias's gradient) in the same pass when
        the kernel gives its bits too. The run, and that sum's position or None."""
        node = _node_of(slope.tensor)
        act = (node.attrs or {}).get("activation")
        fused = None if act is None else kernels["slope_times"].get(act.name)
        if (
            act is None
            or fused is None
            or not act.backward_reads_output
            or act.params
            or node.kernel.ignores != (0,)
            or _node_of(product.tensor).kernel.function is not np.multiply
            or product.inputs.count(slope.output) != 1
            or slope.output in keep
            or self.values[slope.output].end != position
        ):
            return None
        other = product.inputs[1 - product.inputs.index(slope.output)]
        a_slot = slope.inputs[1]
        out = self.values[product.output]
        operands = [self.values[i] for i in (other, a_slot)]
        if (
            out.buffer is None
            or out.order != "C"
            or not all(v.shape == out.shape and v.dtype == out.dtype for v in operands)
        ):
            return None
        slope_first = product.inputs[0] == slope.output
        one = out.dtype.type(1)
        g_traced, a_traced = self.tensors[other].data, self.tensors[a_slot].data
        trial = np.empty(out.shape, out.dtype)
        fused(np.ravel(g_traced), np.ravel(a_traced), trial.reshape(-1), one, slope_first)
        if not _same_bits(trial, product.tensor.data):
            return None
        result, arrays = out.buffer.reshape(-1), self.arrays
        g_slot, (g, a) = (
            other,
            (
                v.buffer.reshape(-1)
                if v.buffer is not None and v.kind == _OWNED and v.order == "C"
                else None
                for v in operands
            ),
        )
        ravel = np.ravel
        kernel: Any = fused
        tail: tuple[Any, ...] = (result, one, slope_first)
        column_sum = self._column_sum(product, position, taken)
        summing = kernels["slope_times_sum"].get(act.name)
        summed = None if column_sum is None else self.instructions[column_sum]
        sums = None if summed is None else self.values[summed.output].buffer
        if summed is not None and summing is not None and sums is not None:
            columns, trial_sum = out.shape[1], np.empty(sums.shape, sums.dtype)
            trial = trial.reshape(-1)
            summing(
                np.ravel(g_traced), np.ravel(a_traced), trial, one, slope_first, columns, trial_sum
            )
            if _same_bits(trial_sum, summed.tensor.data):
                kernel, tail = summing, (result, one, slope_first, columns, sums)
            else:
                column_sum = None
        else:
            column_sum = None
        if g is not None and a is not None:

            def run() -> None:
                kernel(g, a, *tail)
        elif g is not None:  # a fresh output (an activation not computed in place)

            def run() -> None:
                kernel(g, ravel(arrays[a_slot]), *tail)
        else:

            def run() -> None:
                kernel(ravel(arrays[g_slot]), ravel(arrays[a_slot]), *tail)

        return run, column_sum

    def _only_for(self, prediction: int, main: set[int]) -> list[int]:
        """The instructions that only the prediction needs (none when one of them reads a
        parameter, which the update changes before the prediction is read)."""
        producer = {instruction.output: p for p, instruction in enumerate(self.instructions)}

        def upstream(values: set[int]) -> set[int]:
            seen: set[int] = set()
            stack = list(values)
            while stack:
                value = stack.pop()
                if value not in seen:
                    seen.add(value)
                    if value in producer:
                        stack.extend(self.instructions[producer[value]].inputs)
            return seen

        needed = upstream(main)
        only = [producer[v] for v in upstream({prediction}) - needed if v in producer]
        if any(
            self.values[v].kind == _FIXED and self.tensors[v].requires_grad
            for p in only
            for v in self.instructions[p].inputs
        ):
            return []
        return only

    def _closure(self, instruction: _Instruction) -> Run:
        """The kernel call of one instruction, with everything that never changes bound."""
        kernel = _node_of(instruction.tensor).kernel
        arrays, output, inputs = self.arrays, instruction.output, instruction.inputs
        errstate = self.trace.errstates.get(id(instruction.tensor))
        ignores = kernel.ignores
        stable = all(
            self.values[i].kind in (_FIXED, _OWNED) or k in ignores for k, i in enumerate(inputs)
        )
        buffer = self.values[output].buffer
        call = kernel.call
        if buffer is not None and stable:
            bound = [None if k in ignores else arrays[i] for k, i in enumerate(inputs)]

            def run() -> None:
                call(*bound, out=buffer)
        elif buffer is not None:

            def run() -> None:
                call(*[arrays[i] for i in inputs], out=buffer)
        else:

            def run() -> None:
                arrays[output] = call(*[arrays[i] for i in inputs])

        if errstate is None:
            return run

        def run_with_errstate() -> None:
            with np.errstate(**errstate):
                run()

        return run_with_errstate


class Program:
    """A compiled step for one batch shape: ``forward(x, y)`` → loss, then ``backward()``."""

    def __init__(
        self,
        arrays: list[Any],
        x_slot: int,
        target_slot: int,
        total_slot: int,
        prediction_slot: int,
        sources: list[tuple[int, Any]],
        forward: list[Run],
        backward: list[Run],
        grads: list[tuple[Tensor, Tensor | None]],
        updates: list[tuple[Any, str, int]],
        target_of: Callable[[np.ndarray], np.ndarray],
        on_demand: list[Run],
        weights: tuple[int, Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> None:
        self._arrays = arrays
        self._weights = weights  # (slot, converter) of the sample weights, or None
        self._on_demand = on_demand
        self._prediction_stale = False
        self._x_slot, self._target_slot = x_slot, target_slot
        self._total_slot, self._prediction_slot = total_slot, prediction_slot
        self._sources = sources
        self._forward, self._backward = forward, backward
        self._grads = grads
        self._updates = updates
        self._target_of = target_of
        self._parameter_arrays = [(param, param.data) for param, _ in grads]
        self._flat: np.ndarray | None = None
        self._flat_parameters: np.ndarray | None = None  # the parameters as one array
        self._params: list[Tensor] = []
        # (optimizer, its (index, param, grad), flat update possible, len(params))
        self._work: tuple[Any, list[tuple[int, Tensor, np.ndarray]], bool, int] | None = None
        # chainrule.fast's kernels (compile(kernels="numba")) for the optimiser's update
        self.fused_kernels: dict[str, Any] | None = None
        self.dense_step = False  # forward and backward in one kernel (chainrule.dense_step)
        self.listing: list[str] = []  # one line per kernel: phase, op, shape, buffer use
        self.kernels = 0
        self.buffers = 0  # preallocated work arrays (after reuse)

    def current(self) -> bool:
        """False once a parameter's array was replaced (the program holds the old ones)."""
        return all(param.data is array for param, array in self._parameter_arrays)

    def forward(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
        """Run the forward kernels on a batch (with its sample weights ``w`` when the program
        was traced with weights); the total loss (penalties included). Layer buffers updated
        by the step (running statistics) are written back."""
        arrays = self._arrays
        if (w is None) != (self._weights is None):
            raise ValueError(
                "this program was compiled "
                + ("without sample weights" if self._weights is None else "with sample weights")
                + "; give w accordingly"
            )
        arrays[self._x_slot] = x
        arrays[self._target_slot] = self._target_of(y)
        if self._weights is not None and w is not None:  # both or neither (checked above)
            slot, weights_of = self._weights
            arrays[slot] = weights_of(w)
        for index, kernel in self._sources:
            arrays[index] = kernel()
        for run in self._forward:
            run()
        self._prediction_stale = bool(self._on_demand)
        for module, name, index in self._updates:
            module.set_buffer(name, np.array(arrays[index], copy=True))
        return float(arrays[self._total_slot])

    @property
    def prediction(self) -> np.ndarray:
        """The model's output for the last batch (computed on first reading when the loss
        did not need it, e.g. the softmax behind a cross-entropy computed from its logits)."""
        if self._prediction_stale:
            for run in self._on_demand:
                run()
            self._prediction_stale = False
        return self._arrays[self._prediction_slot]

    def backward(self) -> None:
        """Run the backward kernels; every parameter's ``.grad`` then holds ∂L/∂θ."""
        for run in self._backward:
            run()
        for param, grad in self._grads:
            param.grad = grad

    def update(self, optimizer: Any) -> None:
        """The optimiser's step on the gradients just computed (what ``optimizer.step()``
        does, with one finiteness check over all gradients, which share one array)."""
        work = self._work
        if work is None or work[0] is not optimizer or work[3] != len(optimizer.params):
            # All parameters at once, when they are the flat array's views in the optimiser's
            # order (decided once per optimiser, not per step).
            in_order = (
                self._flat_parameters is not None
                and len(optimizer.params) == len(self._params)
                and all(a is b for a, b in zip(optimizer.params, self._params))
            )
            work = self._work = (
                optimizer,
                [
                    (index, param, param.grad.data)
                    for index, param in enumerate(optimizer.params)
                    if param.grad is not None
                ],
                in_order,
                len(optimizer.params),
            )
        flat = self._flat
        kernels = self.fused_kernels
        finite = all_finite if kernels is None else kernels["all_finite"]
        if flat is None or not finite(flat):
            optimizer.step()  # checks each gradient and names the bad one
            return
        # The optimiser's own rule, elementwise over the flat arrays, so the same bits.
        if work[2] and optimizer._apply_flat(self._flat_parameters, flat, work[1], kernels):
            return
        optimizer._apply(work[1])


class CompiledStep:
    """A model's training step compiled per batch shape; see the module docstring.

    ``step(x, y)`` runs forward, backward and the optimiser's update and returns the loss and
    the prediction. ``traces`` counts the programs built (one per batch shape).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._programs: dict[tuple[Any, ...], Program] = {}
        self._last: tuple[Any, ...] = ()
        self.traces = 0

    def program(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> Program:
        """The program for this batch shape, with or without sample weights ``w`` (traced
        and compiled on first use, and again when the model's parameters were replaced)."""
        last = self._last
        weighted = w is not None
        if (
            last
            and last[0] == x.shape
            and last[1] == y.shape
            and last[2] is x.dtype
            and (last[3] is y.dtype)
            and last[5] == weighted
            and last[4].current()
        ):
            return last[4]
        key = (x.shape, x.dtype.str, y.shape, y.dtype.str, weighted)
        program = self._programs.get(key)
        if program is None or not program.current():
            program = self._programs[key] = compile_step(self.model, x, y, w)
            self.traces += 1
        self._last = (x.shape, y.shape, x.dtype, y.dtype, program, weighted)
        return program

    def __call__(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        program = self.program(x, y, w)
        loss = program.forward(x, y, w)
        program.backward()
        program.update(self.model.optimizer)
        return loss, program.prediction


def fallback_warning(reason: str) -> None:
    """Say once, as a ``JitFallbackWarning``, that fit trains eagerly and why."""
    warnings.warn(
        f"jit=True: the training step could not be compiled ({reason}); training eagerly instead",
        JitFallbackWarning,
        stacklevel=3,
    )


__all__ = ["CompileError", "CompiledStep", "JitFallbackWarning", "Program", "compile_step"]
