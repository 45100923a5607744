"""The compiled training step: one forward + backward traced once into a static program.

SPEC section 4: a static graph can be optimised before it runs. ``CompiledStep`` runs the
model's forward pass and loss once on a real batch with the ordinary engine, reads the recorded
graph (op names, parents and each node's ``attrs``) and turns it into a flat list of NumPy
kernels over preallocated buffers:

- **topological order**: the forward ops in the order the engine recorded them, the backward
  ops in exactly the order ``Tensor.backward`` visits them (so sums of gradients from several
  paths are added in the same order and the results are bit-identical to eager training);
- **dead-node elimination**: no gradient is computed for a value no parameter depends on (the
  input's gradient, the first layer's ∂L/∂X), and nothing is recorded while the program runs;
- **in-place kernels with ``out=``**: matrix products, the bias add and the activation write into
  buffers allocated once; the activation overwrites its own input (z → a, one stored array per
  layer) when the backward pass only needs the output (σ' = a(1 − a), tanh' = 1 − a², ReLU),
  and its backward multiplies the incoming gradient in place;
- **buffer reuse**: a buffer whose value is dead is handed to the next value of the same shape.

The parameters' gradients land in persistent arrays that ``param.grad`` wraps, and the
optimiser's own ``step`` updates the parameters, exactly as in eager mode.

A program is kept per input shape (the last, smaller batch of an epoch gets its own). What the
compiler cannot trace raises ``CompileError`` with the reason: ops it has no kernel for, layers
with side effects outside the graph (BatchNorm's running statistics), optimisers that need a
closure (L-BFGS, CG), or anything whose trace depends on the data. ``Model.fit`` then trains
eagerly and says why once (``JitFallbackWarning``).

>>> import numpy as np, chainrule as cr
>>> from chainrule.nn import Dense, Sequential
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
from typing import Any

import numpy as np

from . import activations as _activations
from .activations.classic import sigmoid_from_exp
from .dtypes import all_finite
from .grad_mode import enable_grad
from .losses import cross_entropy_slope, keepdims_shape
from .ops import dropout_scale, linear_forward, sum_to_array
from .optim import SGD
from .tensor import Tensor, _topological_order

Kernel = Callable[[], None]


class CompileError(Exception):
    """The training step cannot be compiled; the message says what stopped the tracer."""


class JitFallbackWarning(UserWarning):
    """``jit=True`` was asked for but the step runs eagerly (the message says why)."""


# Activations whose forward can overwrite its input with the same values bit for bit, and
# whose backward needs only the output a (checked by tests against the eager forms).
_INPLACE_FORWARD: dict[str, Callable[[np.ndarray], None]] = {
    "relu": lambda z: np.maximum(z, 0, out=z),
    "tanh": lambda z: np.tanh(z, out=z),
    "identity": lambda z: None,
}


@dataclass
class _Value:
    """One array of the program: a forward value, a gradient or a constant."""

    shape: tuple[int, ...]
    dtype: np.dtype
    root: int  # the value whose buffer this one shares (itself when it owns one)
    hot: bool = False  # written by an out= kernel into a buffer of its own
    readers: list[int] = field(default_factory=list)  # instruction positions


@dataclass
class _Instruction:
    build: Callable[[list[Any]], Kernel]  # slots -> kernel
    reads: tuple[int, ...]
    writes: tuple[int, ...]
    phase: str  # "forward" or "backward"
    label: str = ""  # what it computes, for Program.listing


class _Builder:
    """Collects values and instructions; allocates buffers; emits the kernels."""

    def __init__(self) -> None:
        self.values: list[_Value] = []
        self.instructions: list[_Instruction] = []
        self.fixed: dict[int, np.ndarray] = {}  # constants and persistent buffers
        self.constants: set[int] = set()  # the fixed values that never change

    def value(self, shape: tuple[int, ...], dtype: np.dtype, hot: bool = False,
              alias_of: int | None = None) -> int:
        index = len(self.values)
        root = index if alias_of is None else self.values[alias_of].root
        self.values.append(_Value(tuple(shape), np.dtype(dtype), root, hot))
        return index

    def constant(self, array: np.ndarray, folds: bool = True) -> int:
        """A value whose array is fixed: a true constant (``folds``: its value never changes,
        so VJPs of constants can be folded), or a persistent buffer such as a parameter."""
        index = self.value(np.shape(array), np.asarray(array).dtype)
        self.fixed[index] = array
        if folds:
            self.constants.add(index)
        return index

    def emit(self, build: Callable[[list[Any]], Kernel], reads: tuple[int, ...],
             writes: tuple[int, ...], phase: str, label: str = "") -> None:
        position = len(self.instructions)
        for index in reads:
            self.values[index].readers.append(position)
        self.instructions.append(_Instruction(build, reads, writes, phase, label))

    def allocate(self, keep: set[int]) -> list[Any]:
        """One slot per value; buffers for hot roots, reused once their values are dead."""
        slots: list[Any] = [None] * len(self.values)
        for index, array in self.fixed.items():
            slots[index] = array
        end: dict[int, int] = {}
        start: dict[int, int] = {}
        for position, instruction in enumerate(self.instructions):
            for index in instruction.writes:
                start.setdefault(self.values[index].root, position)
        last = len(self.instructions)
        for index, value in enumerate(self.values):
            used = max(value.readers, default=start.get(value.root, 0))
            if index in keep or value.root in keep:
                used = last
            end[value.root] = max(end.get(value.root, 0), used)
        free: dict[tuple[tuple[int, ...], str], list[np.ndarray]] = {}
        released: dict[int, list[int]] = {}
        for root, position in end.items():
            released.setdefault(position, []).append(root)
        for position in range(last + 1):
            for index, value in enumerate(self.values):
                if (value.hot and value.root == index and index not in self.fixed
                        and start.get(index) == position):
                    pool = free.get((value.shape, value.dtype.str), [])
                    slots[index] = pool.pop() if pool else np.empty(value.shape, value.dtype)
            for root in released.get(position, ()):
                value = self.values[root]
                if value.hot and root not in self.fixed and slots[root] is not None:
                    free.setdefault((value.shape, value.dtype.str), []).append(slots[root])
        for index, value in enumerate(self.values):  # aliases share their root's buffer
            if value.root != index and self.values[value.root].hot and slots[index] is None:
                slots[index] = slots[value.root]
        return slots


# ---------------------------------------------------------------------- mirrors of eager VJPs
@dataclass
class _Trace:
    total: Tensor
    prediction: Tensor
    inputs: Tensor
    target: Tensor
    order: list[Tensor]
    constants: list[np.ndarray]
    signature: list[str]


class Program:
    """A compiled step for one input shape: ``forward(x, y)`` → loss, then ``backward()``."""

    def __init__(self, forward: list[Kernel], backward: list[Kernel], slots: list[Any],
                 x_slot: int, target_slot: int, total_slot: int, prediction_slot: int,
                 grads: list[tuple[Tensor, Tensor | None]],
                 target_of: Callable[[np.ndarray], np.ndarray], kernels: int) -> None:
        self._forward = forward
        self._backward = backward
        self._slots = slots
        self._x_slot, self._target_slot = x_slot, target_slot
        self._total_slot, self._prediction_slot = total_slot, prediction_slot
        self._grads = grads
        self._target_of = target_of
        self.kernels = kernels
        self._arrays = [(param, param.data) for param, _ in grads]
        self._flat: np.ndarray | None = None
        self._flat_parameters: np.ndarray | None = None  # the parameters as one array
        self._params: list[Tensor] = []
        self._scratch: np.ndarray | None = None
        self.listing: list[str] = []  # one line per kernel: phase and what it computes
        self.buffers = 0  # preallocated work arrays (after reuse)
        self._work: tuple[Any, list[tuple[int, Tensor, np.ndarray]]] | None = None

    def current(self) -> bool:
        """False once a parameter's array was replaced (the program holds the old ones)."""
        return all(param.data is array for param, array in self._arrays)

    def forward(self, x: np.ndarray, y: np.ndarray) -> float:
        """Run the forward kernels on a batch; the total loss (penalties included)."""
        slots = self._slots
        slots[self._x_slot] = x
        slots[self._target_slot] = self._target_of(y)
        for kernel in self._forward:
            kernel()
        return float(slots[self._total_slot])

    @property
    def prediction(self) -> np.ndarray:
        """The model's output for the last batch (the loss's input)."""
        return self._slots[self._prediction_slot]

    def backward(self) -> None:
        """Run the backward kernels; every parameter's ``.grad`` then holds ∂L/∂θ."""
        for kernel in self._backward:
            kernel()
        for param, grad in self._grads:
            param.grad = grad

    def update(self, optimizer: Any) -> None:
        """The optimiser's step on the gradients just computed (what ``optimizer.step()``
        does, with one finiteness check over all gradients, which share one array)."""
        if self._work is None or self._work[0] is not optimizer:
            self._work = (optimizer, [(index, param, param.grad.data)
                                      for index, param in enumerate(optimizer.params)
                                      if param.grad is not None])
        flat = self._flat
        if flat is None or not all_finite(flat):
            optimizer.step()  # checks each gradient and names the bad one
            return
        if self._plain_sgd(optimizer):
            # θ −= α·g for all parameters at once: SGD's own two operations, elementwise,
            # so the same bits as parameter by parameter.
            scratch = self._scratch
            if scratch is None:
                scratch = self._scratch = np.empty_like(flat)
            np.subtract(self._flat_parameters, np.multiply(flat, optimizer.lr, out=scratch),
                        out=self._flat_parameters)
            optimizer.iterations += 1
            return
        optimizer._apply(self._work[1])

    def _plain_sgd(self, optimizer: Any) -> bool:
        return (self._flat_parameters is not None and type(optimizer) is SGD
                and optimizer.momentum == 0 and optimizer.weight_decay == 0
                and optimizer.clipnorm is None and len(optimizer.params) == len(self._params)
                and all(a is b for a, b in zip(optimizer.params, self._params)))


class CompiledStep:
    """A model's training step compiled per input shape; see the module docstring.

    ``step(x, y)`` runs forward, backward and the optimiser's update and returns the loss and
    the prediction. ``traces`` counts the programs built (one per batch shape).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._programs: dict[tuple[Any, ...], Program] = {}
        self._last: tuple[Any, ...] = ()
        self.traces = 0

    def program(self, x: np.ndarray, y: np.ndarray) -> Program:
        """The program for this batch shape (traced and compiled on first use, and again
        when the model's parameters were replaced)."""
        last = self._last
        if last and last[0] == x.shape and last[1] == y.shape and last[2] is x.dtype and (
                last[3] is y.dtype) and last[4].current():
            return last[4]
        key = (x.shape, x.dtype.str, y.shape, y.dtype.str)
        program = self._programs.get(key)
        if program is None or not program.current():
            program = self._programs[key] = compile_step(self.model, x, y)
            self.traces += 1
        self._last = (x.shape, y.shape, x.dtype, y.dtype, program)
        return program

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        program = self.program(x, y)
        loss = program.forward(x, y)
        program.backward()
        program.update(self.model.optimizer)
        return loss, program.prediction


# ---------------------------------------------------------------------- tracing
def _generator_states(model: Any) -> list[tuple[Any, Any]]:
    return [(module, module._generator.bit_generator.state)
            for _, module in model.named_modules() if hasattr(module, "_generator")]


def _trace(model: Any, x: np.ndarray, y: np.ndarray) -> _Trace:
    """Run forward + loss once with the engine (random generators restored afterwards)."""
    saved = _generator_states(model)
    try:
        with enable_grad():
            inputs = Tensor._wrap(x, requires_grad=True)  # so every x-dependent op is recorded
            prediction = model(inputs)
            if not isinstance(prediction, Tensor):
                raise CompileError("the model's forward must return a tensor")
            target = model.loss.target(prediction, y)
            total = model.loss.reduce(model.loss.values(prediction, target))
            penalty = model.penalty()
            if penalty is not None:
                total = total + penalty
    finally:
        for module, state in saved:
            module._generator.bit_generator.state = state
    if total.shape != ():
        raise CompileError(f"the loss must be a scalar, got shape {total.shape} "
                           "(reduction='none' cannot be trained)")
    # The prediction too: a cross-entropy on a sigmoid/softmax output reads the logits behind
    # it, so the output op is not on the loss's graph but metrics read the prediction.
    order = _topological_order([total, prediction])
    constants: list[np.ndarray] = []
    signature: list[str] = []
    known = {id(t) for t in order} | {id(inputs), id(target)}
    for tensor_ in order:
        node = tensor_._node
        if node is None:
            continue
        signature.append(f"{node.op}{tensor_.shape}")
        for parent in node.parents:
            if id(parent) not in known:
                constants.append(parent.data)
    return _Trace(total, prediction, inputs, target, order, constants, signature)


def _check_traceable(model: Any) -> None:
    optimizer = model.optimizer
    if getattr(optimizer, "requires_closure", False):
        raise CompileError(f"{type(optimizer).__name__} evaluates the loss several times per "
                           "step (a closure); only single-gradient optimisers are compiled")
    for name, module in model.named_modules():
        if module._buffers:
            raise CompileError(
                f"layer {name or type(module).__name__} ({type(module).__name__}) updates "
                f"state outside the graph ({', '.join(module._buffers)}) while it trains")


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
        views.append(flat[offset:offset + param.size].reshape(param.shape))
        offset += param.size
    return views


def compile_step(model: Any, x: np.ndarray, y: np.ndarray) -> Program:
    """Trace the model's training step on (x, y) and compile it (``CompileError`` if not)."""
    _check_traceable(model)
    flatten_parameters(model)
    first = _trace(model, x, y)
    # A second trace on other data must give the same graph with the same constants: a
    # constant that changed was computed from the data outside the graph, and a compiled
    # program would freeze it.
    other_x = np.ascontiguousarray(x[::-1]) if len(x) > 1 else x + 1
    second = _trace(model, other_x + np.asarray(0.5, x.dtype), y[::-1] if len(y) > 1 else y)
    if first.signature != second.signature:
        raise CompileError("the recorded graph changes with the data (data-dependent control "
                           "flow in forward); it cannot be compiled")
    for a, b in zip(first.constants, second.constants):
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            raise CompileError(
                f"a constant of shape {a.shape} in the graph depends on the data (it was "
                "computed outside the recorded ops); it cannot be compiled")
    return _Compiler(model, first).build()


class _Compiler:
    def __init__(self, model: Any, trace: _Trace) -> None:
        self.model = model
        self.trace = trace
        self.b = _Builder()
        self.slot: dict[int, int] = {}  # id(tensor) -> value index
        self.depends: dict[int, bool] = {}  # id(tensor) -> a parameter is upstream
        self.param_grad: dict[int, int] = {}  # id(param) -> value index of its grad buffer
        self.redirects: dict[int, Callable[[int], None]] = {}  # value -> "write it there"
        # id(output) -> an array the op's forward keeps for its VJP (dropout's scale, the
        # cross-entropies' log-softmax or e^(−|z|))
        self.saved_slots: dict[int, int] = {}
        self.activation_info: dict[int, tuple[Any, bool]] = {}
        # The parameters' gradients are views of one array: one check covers them all.
        params = model.parameters()
        dtypes = {p.dtype for p in params}
        self.flat = np.empty(sum(p.size for p in params), dtypes.pop()) if len(
            dtypes) == 1 else None
        self.flat_views: dict[int, np.ndarray] = {} if self.flat is None else {
            id(param): view for param, view in zip(params, _views_of(self.flat, params))}
        self.consumers: dict[int, int] = {}  # id(tensor) -> how many ops read it
        for tensor_ in trace.order:
            if tensor_._node is not None:
                for parent in tensor_._node.parents:
                    self.consumers[id(parent)] = self.consumers.get(id(parent), 0) + 1

    # .................................................................. values
    def _slot_of(self, tensor_: Tensor) -> int:
        key = id(tensor_)
        if key not in self.slot:
            self.slot[key] = self.b.constant(tensor_.data)
            self.depends[key] = False
        return self.slot[key]

    def build(self) -> Program:
        trace, b = self.trace, self.b
        params = self.model.parameters()
        param_ids = {id(p) for p in params}
        x_slot = self.slot[id(trace.inputs)] = b.value(trace.inputs.shape, trace.inputs.dtype)
        self.depends[id(trace.inputs)] = False
        target_slot = self.slot[id(trace.target)] = b.value(trace.target.shape,
                                                            trace.target.dtype)
        self.depends[id(trace.target)] = False
        for tensor_ in trace.order:
            if tensor_._node is not None or tensor_ is trace.inputs:
                continue
            if id(tensor_) not in param_ids:
                raise CompileError(f"a tensor of shape {tensor_.shape} requires grad but is not "
                                   "a parameter of the model")
            self.slot[id(tensor_)] = b.constant(tensor_.data, folds=False)  # updated in place
            self.depends[id(tensor_)] = True
        for tensor_ in trace.order:
            if tensor_._node is not None:
                self._forward(tensor_)
        self._backward()
        keep = {self.slot[id(trace.total)], self.slot[id(trace.prediction)],
                *self.param_grad.values()}
        slots = b.allocate(keep)
        forward = [i.build(slots) for i in b.instructions if i.phase == "forward"]
        backward = [i.build(slots) for i in b.instructions if i.phase == "backward"]
        grads = []
        for param in params:
            index = self.param_grad.get(id(param))
            grads.append((param, None if index is None else Tensor._wrap(slots[index])))
        loss, dummy = self.model.loss, Tensor._wrap(np.empty(trace.prediction.shape,
                                                             trace.prediction.dtype))

        def target_of(y: np.ndarray) -> np.ndarray:
            return loss.target(dummy, y).data

        program = Program(forward, backward, slots, x_slot, target_slot,
                          self.slot[id(trace.total)], self.slot[id(trace.prediction)], grads,
                          target_of, len(b.instructions))
        program.listing = [f"{i.phase:8} {i.label}" for i in b.instructions]
        program.buffers = len({id(a) for i, a in enumerate(slots)
                               if b.values[i].hot and isinstance(a, np.ndarray)})
        if self.flat is not None and len(self.param_grad) == len(params):
            program._flat = self.flat  # (a parameter without gradient leaves stale entries)
            flat_parameters = getattr(self.model, "_flat_parameters", None)
            if flat_parameters is not None and all(p.data.base is flat_parameters
                                                   for p in params):
                program._flat_parameters = flat_parameters
                program._params = params
        return program

    # .................................................................. forward
    def _forward(self, out: Tensor) -> None:
        node, b = out._node, self.b
        op, attrs = node.op, node.attrs or {}
        ins = [self._slot_of(p) for p in node.parents]
        self.depends[id(out)] = any(self.depends[id(p)] for p in node.parents)
        if op == "linear":
            v = self.slot[id(out)] = b.value(out.shape, out.dtype, hot=True)
            has_bias = len(ins) == 3

            def build(s: list[Any], x: int = ins[0], w: int = ins[1],
                      bias: int | None = ins[2] if has_bias else None, o: int = v) -> Kernel:
                xs, ws, bs, os_ = s, s[w], None if bias is None else s[bias], s[o]
                return lambda: linear_forward(xs[x], ws, bs, os_)
            b.emit(build, tuple(ins), (v,), "forward",
                   f"linear: Z{out.shape} = X Wᵀ{' + b' if has_bias else ''} (out=)")
            return
        activation = attrs.get("activation")
        if activation is not None and activation.elementwise:
            self._activation_forward(out, activation, ins[0])
            return
        v = self.slot[id(out)] = b.value(out.shape, out.dtype, alias_of=ins[0])
        kernel = _FORWARD.get(op)
        if kernel is None:
            raise CompileError(f"no compiled kernel for the op '{op}' (shape {out.shape}); "
                               f"compiled ops: {', '.join(sorted(_SUPPORTED))}")
        if op in ("softmax_cross_entropy", "bce_with_logits") and (
                attrs["target"] is not self.trace.target):
            raise CompileError(f"'{op}' with a target that is not the loss's target")
        node_attrs = dict(attrs)
        node_attrs["shape"] = out.shape
        node_attrs["target_slot"] = self.slot[id(self.trace.target)]
        if op in _SAVES_FOR_BACKWARD:
            node_attrs["saved_slot"] = self.saved_slots[id(out)] = b.value(out.shape, out.dtype)

        def build(s: list[Any], o: int = v, i: tuple[int, ...] = tuple(ins),
                  a: dict[str, Any] = node_attrs, f: Any = kernel) -> Kernel:
            return f(s, o, i, a)
        saved = (self.saved_slots[id(out)],) if id(out) in self.saved_slots else ()
        writes = (v, *saved)
        b.emit(build, tuple(ins), writes, "forward", f"{op}{out.shape}")

    def _activation_forward(self, out: Tensor, activation: Any, z: int) -> None:
        b = self.b
        needs_z = not (activation.has_derivative_from_output and
                       activation._subgradient_values is None)
        inplace = _INPLACE_FORWARD.get(activation.name)
        z_tensor = out._node.parents[0]
        if (inplace is not None and not needs_z and b.values[z].hot and b.values[z].root == z
                and self.consumers.get(id(z_tensor)) == 1
                and z_tensor is not self.trace.prediction):
            v = self.slot[id(out)] = b.value(out.shape, out.dtype, hot=True, alias_of=z)

            def build(s: list[Any], i: int = z, f: Any = inplace) -> Kernel:
                buffer = s[i]
                return lambda: f(buffer)
        else:
            v = self.slot[id(out)] = b.value(out.shape, out.dtype)
            forward = activation._forward_checked

            def build(s: list[Any], i: int = z, o: int = v, f: Any = forward) -> Kernel:
                def kernel() -> None:
                    s[o] = f(s[i])
                return kernel
        b.emit(build, (z,), (v,), "forward", f"{activation.name}{out.shape}"
               + (" in place: a overwrites z" if b.values[v].root == z else ""))
        self.activation_info[id(out)] = (activation, needs_z)

    # .................................................................. backward
    def _backward(self) -> None:
        """Reverse-mode over the trace, in ``run_backward``'s order, mirroring its VJPs."""
        b, trace = self.b, self.trace
        pending: dict[int, int] = {}
        total = trace.total
        root = b.constant(np.ones_like(total.data))
        pending[id(total)] = root
        for tensor_ in reversed(trace.order):
            grad = pending.pop(id(tensor_), None)
            if grad is None:
                continue
            node = tensor_._node
            if node is None:  # a parameter: its gradient is complete
                continue
            needs = tuple(self.depends[id(p)] for p in node.parents)
            if not any(needs):
                continue
            contributions = self._vjp(tensor_, grad, needs)
            for parent, contribution in zip(node.parents, contributions):
                if contribution is None or not self.depends[id(parent)]:
                    continue
                self._accumulate(parent, contribution, pending)

    def _accumulate(self, parent: Tensor, contribution: int, pending: dict[int, int]) -> None:
        """pending[parent] = previous + contribution (eager's order); parameters add into a
        persistent buffer."""
        b = self.b
        value = b.values[contribution]
        if value.dtype != parent.dtype:
            cast = b.value(parent.shape, parent.dtype)

            def build_cast(s: list[Any], i: int = contribution, o: int = cast,
                           d: np.dtype = parent.dtype) -> Kernel:
                def kernel() -> None:
                    s[o] = s[i].astype(d)
                return kernel
            b.emit(build_cast, (contribution,), (cast,), "backward", f"cast to {parent.dtype}")
            contribution = cast
        if parent._node is None:  # a parameter
            index = self.param_grad.get(id(parent))
            if index is None:
                buffer = self.flat_views.get(id(parent))
                index = self.param_grad[id(parent)] = b.constant(
                    np.empty(parent.shape, parent.dtype) if buffer is None else buffer,
                    folds=False)
                if self._redirect(contribution, index):
                    return

                def build_copy(s: list[Any], i: int = contribution, o: int = index) -> Kernel:
                    target = s[o]
                    return lambda: np.copyto(target, s[i])
                b.emit(build_copy, (contribution,), (index,), "backward",
                       f"∂L/∂θ{parent.shape} (copy)")
            else:
                def build_add(s: list[Any], i: int = contribution, o: int = index) -> Kernel:
                    target = s[o]
                    return lambda: np.add(target, s[i], out=target)
                b.emit(build_add, (contribution, index), (index,), "backward",
                       f"∂L/∂θ{parent.shape} += another path (out=)")
            return
        previous = pending.get(id(parent))
        if previous is None:
            pending[id(parent)] = contribution
            return
        total = b.value(parent.shape, parent.dtype)

        def build_sum(s: list[Any], a: int = previous, c: int = contribution,
                      o: int = total) -> Kernel:
            def kernel() -> None:
                s[o] = s[a] + s[c]
            return kernel
        b.emit(build_sum, (previous, contribution), (total,), "backward",
               f"sum of two paths{parent.shape}")
        pending[id(parent)] = total

    def _redirect(self, contribution: int, target: int) -> bool:
        """Let the out= kernel that made ``contribution`` write straight into ``target``."""
        writer = self.redirects.pop(contribution, None)
        if writer is None:
            return False
        writer(target)
        return True

    def _vjp(self, out: Tensor, grad: int, needs: tuple[bool, ...]) -> list[int | None]:
        node, b = out._node, self.b
        op, attrs = node.op, node.attrs or {}
        ins = [self.slot[id(p)] for p in node.parents]
        if op == "linear":
            return self._linear_backward(node, grad, ins, needs)
        info = self.activation_info.get(id(out))
        if info is not None:
            return [self._activation_backward(out, info, grad, ins[0])]
        rule = _BACKWARD[op]
        results: list[int | None] = []
        extra = dict(attrs)
        extra["target_slot"] = self.slot[id(self.trace.target)]
        if op == "sum":
            extra["kept"] = tuple(1 if d in attrs["axes"] else size
                                  for d, size in enumerate(node.parents[0].shape))
        saved = (self.saved_slots[id(out)],) if id(out) in self.saved_slots else ()
        if saved:
            extra["saved_slot"] = saved[0]
        extra["shapes"] = [p.shape for p in node.parents]
        extra["out"] = self.slot[id(out)]
        for position, parent in enumerate(node.parents):
            if not needs[position]:
                results.append(None)
                continue
            folded = self._fold(op, grad, ins, position, extra)
            if folded is not None:
                results.append(folded)
                continue
            v = b.value(parent.shape, parent.dtype, alias_of=grad)

            def build(s: list[Any], g: int = grad, i: tuple[int, ...] = tuple(ins),
                      o: int = v, k: int = position, a: dict[str, Any] = extra,
                      f: Any = rule) -> Kernel:
                return f(s, g, i, o, k, a)
            reads = (grad, *ins, *saved, extra["out"])
            b.emit(build, reads, (v,), "backward", f"{op} VJP → input {position}"
                   f"{parent.shape}")
            results.append(v)
        return results

    def _fold(self, op: str, grad: int, ins: list[int], position: int,
              extra: dict[str, Any]) -> int | None:
        """Constant folding: a VJP whose gradient and operands are all constants (the root's
        1, the mean's 1/N) is computed once, here, instead of on every step."""
        used = _OPERANDS_USED.get(op)
        fixed, constants = self.b.fixed, self.b.constants
        if used is None or grad not in constants:
            return None
        operands = [ins[j] for j in used(position)]
        if not all(j in constants for j in operands):
            return None
        inputs = [fixed.get(j) for j in ins]
        result = _VJPS[op](fixed[grad], inputs, position, extra["shapes"], extra, [])
        return self.b.constant(np.array(result))  # a copy: never a view of the operands

    def _linear_backward(self, node: Any, grad: int, ins: list[int], needs: tuple[bool, ...]
                         ) -> list[int | None]:
        """∂L/∂X = G W, ∂L/∂W = Gᵀ X, ∂L/∂b = Σ_rows G, each into its own buffer (∂L/∂W and
        ∂L/∂b straight into the parameter's gradient buffer when nothing else adds to it)."""
        b = self.b
        x, w = ins[0], ins[1]
        parents = node.parents
        results: list[int | None] = [None] * len(ins)
        if needs[0]:
            v = results[0] = b.value(parents[0].shape, parents[0].dtype, hot=True)

            def build_x(s: list[Any], g: int = grad, wi: int = w, o: int = v) -> Kernel:
                gs, ws, os_ = s, s[wi], s[o]
                return lambda: np.matmul(gs[g], ws, out=os_)
            b.emit(build_x, (grad, w), (v,), "backward",
                   f"linear VJP: ∂L/∂X{parents[0].shape} = G W (out=)")
        for position in (1, 2):
            if position >= len(ins) or not needs[position]:
                continue
            v = results[position] = b.value(parents[position].shape, parents[position].dtype,
                                            hot=True)
            holder = {"o": v}
            if position == 1:
                def build(s: list[Any], g: int = grad, xi: int = x, h: dict = holder
                          ) -> Kernel:
                    os_ = s[h["o"]]
                    return lambda: np.matmul(s[g].T, s[xi], out=os_)
                reads: tuple[int, ...] = (grad, x)
            else:
                def build(s: list[Any], g: int = grad, h: dict = holder) -> Kernel:
                    os_ = s[h["o"]]
                    return lambda: np.add.reduce(s[g], axis=0, out=os_)
                reads = (grad,)
            at = len(b.instructions)
            b.emit(build, reads, (v,), "backward",
                   f"linear VJP: ∂L/∂W{parents[1].shape} = Gᵀ X (out=)" if position == 1 else
                   f"linear VJP: ∂L/∂b{parents[2].shape} = Σ_rows G (out=)")

            def redirect(target: int, h: dict = holder, at: int = at, old: int = v) -> None:
                h["o"] = target
                b.instructions[at].writes = (target,)
                b.values[old].hot = False
                b.values[old].root = target
            self.redirects[v] = redirect
        return results

    def _activation_backward(self, out: Tensor, info: tuple[Any, bool], grad: int, z: int
                             ) -> int:
        activation, needs_z = info
        b = self.b
        a = self.slot[id(out)]
        value = b.values[grad]
        inplace = value.hot and value.root == grad and not value.readers
        v = b.value(out.shape, out.dtype, hot=not inplace, alias_of=grad if inplace else None)
        if activation.name == "relu" and not needs_z:
            def build(s: list[Any], g: int = grad, ai: int = a, o: int = v) -> Kernel:
                os_ = s[o]  # a buffer (this value's own, or the gradient's it overwrites)
                mask = np.empty(os_.shape, dtype=bool)

                def kernel() -> None:
                    np.greater(s[ai], 0, out=mask)
                    np.multiply(s[g], mask, out=os_)
                return kernel
        elif needs_z:
            def build(s: list[Any], g: int = grad, ai: int = a, zi: int = z, o: int = v,
                      f: Any = activation.derivative) -> Kernel:
                return lambda: np.multiply(s[g], f(s[zi], s[ai]), out=s[o])
        else:
            def build(s: list[Any], g: int = grad, ai: int = a, o: int = v,
                      f: Any = activation.derivative_from_output) -> Kernel:
                return lambda: np.multiply(s[g], f(s[ai]), out=s[o])
        reads = (grad, a, z) if needs_z else (grad, a)
        b.emit(build, reads, (v,), "backward", f"{activation.name} VJP: G·g'("
               + ("z" if needs_z else "a") + ")" + (" in place" if inplace else " (out=)"))
        return v


# ---------------------------------------------------------------------- generic kernels
# Each forward kernel: (slots, out, inputs, attrs) -> callable; each backward kernel:
# (slots, grad, inputs, out, parent position, attrs) -> callable. They repeat the eager ops'
# NumPy expressions exactly (same operations, same order), so the results are bit-identical.
def _binary(function: Callable[[Any, Any], Any]) -> Callable[..., Kernel]:
    def make(s: list[Any], o: int, i: tuple[int, ...], a: dict[str, Any]) -> Kernel:
        first, second = i

        def kernel() -> None:
            s[o] = function(s[first], s[second])
        return kernel
    return make


def _unary(function: Callable[[Any, dict[str, Any]], Any]) -> Callable[..., Kernel]:
    def make(s: list[Any], o: int, i: tuple[int, ...], a: dict[str, Any]) -> Kernel:
        only = i[0]

        def kernel() -> None:
            s[o] = function(s[only], a)
        return kernel
    return make


def _dropout_forward(s: list[Any], o: int, i: tuple[int, ...], a: dict[str, Any]) -> Kernel:
    layer, rate, only, scale_slot = a["source"], a["rate"], i[0], a["saved_slot"]
    if layer is None or not hasattr(layer, "draw_mask"):
        raise CompileError("a dropout op without its layer cannot draw new masks")

    def kernel() -> None:
        x = s[only]
        scale = s[scale_slot] = dropout_scale(layer.draw_mask(x.shape), rate, x.dtype)
        s[o] = x * scale
    return kernel


def _softmax_cross_entropy(s: list[Any], o: int, i: tuple[int, ...], a: dict[str, Any]
                           ) -> Kernel:
    only, axis, target, saved = i[0], a["axis"], a["target_slot"], a["saved_slot"]
    log_softmax = _activations.get("log_softmax", axis=axis)

    def kernel() -> None:
        log_probabilities = s[saved] = log_softmax.forward(s[only])  # kept for the VJP
        s[o] = -(s[target] * log_probabilities).sum(axis=axis)
    return kernel


def _bce_with_logits(s: list[Any], o: int, i: tuple[int, ...], a: dict[str, Any]) -> Kernel:
    only, saved = i[0], a["saved_slot"]

    def kernel() -> None:
        z, y = s[only], s[a["target_slot"]]
        e = s[saved] = np.exp(-np.abs(z))  # kept: σ(z) in the backward pass needs it again
        s[o] = np.maximum(z, 0) - z * y + np.log1p(e)
    return kernel


# Ops whose forward kernel keeps an array for the backward pass (in attrs["saved_slot"]).
_SAVES_FOR_BACKWARD = ("dropout", "softmax_cross_entropy", "bce_with_logits")
_FORWARD: dict[str, Callable[..., Kernel]] = {
    "add": _binary(lambda a, b: a + b),
    "sub": _binary(lambda a, b: a - b),
    "mul": _binary(lambda a, b: a * b),
    "div": _binary(lambda a, b: a / b),
    "matmul": _binary(lambda a, b: a @ b),
    "neg": _unary(lambda a, _: -a),
    "sum": _unary(lambda a, at: a.sum(axis=at["axes"], keepdims=at["keepdims"])),
    "reshape": _unary(lambda a, at: a.reshape(at["shape"])),
    "transpose": _unary(lambda a, at: a.transpose(at["axes"])),
    "dropout": _dropout_forward,
    "softmax_cross_entropy": _softmax_cross_entropy,
    "bce_with_logits": _bce_with_logits,
}


def _backward_rule(function: Callable[..., Any]) -> Callable[..., Kernel]:
    def make(s: list[Any], g: int, i: tuple[int, ...], o: int, k: int, a: dict[str, Any]
             ) -> Kernel:
        shapes = a["shapes"]

        def kernel() -> None:
            s[o] = function(s[g], [s[j] for j in i], k, shapes, a, s)
        return kernel
    return make


def _add_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return sum_to_array(g, shapes[k])


def _sub_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return sum_to_array(g if k == 0 else -g, shapes[k])


def _mul_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return sum_to_array(g * x[1 - k], shapes[k])


def _div_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    if k == 0:
        return sum_to_array(g / x[1], shapes[0])
    return sum_to_array(-g * x[0] / (x[1] * x[1]), shapes[1])


def _matmul_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return g @ x[1].swapaxes(-1, -2) if k == 0 else x[0].swapaxes(-1, -2) @ g


def _sum_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    shape = shapes[0]
    kept = a["kept"]
    reshaped = g if g.shape == kept else g.reshape(kept)
    if reshaped.shape == shape:
        return reshaped
    if reshaped.size == 1:  # the same values as np.broadcast_to's view, made faster
        return np.full(shape, reshaped.reshape(()), dtype=reshaped.dtype)
    return np.broadcast_to(reshaped, shape)


def _reshape_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return g if g.shape == shapes[0] else g.reshape(shapes[0])


def _transpose_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return g.transpose(tuple(int(i) for i in np.argsort(a["axes"])))


def _dropout_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict, s: list) -> Any:
    return g * s[a["saved_slot"]]


def _softmax_cross_entropy_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict,
                               s: list) -> Any:
    axis, y, z = a["axis"], s[a["target_slot"]], x[0]
    kept = keepdims_shape(z.shape, axis)
    g = g if g.shape == kept else g.reshape(kept)
    return cross_entropy_slope(g, s[a["saved_slot"]], y, axis)


def _bce_with_logits_vjp(g: Any, x: list[Any], k: int, shapes: list[Any], a: dict,
                         s: list) -> Any:
    # σ(z) as the sigmoid activation computes it, from the forward's e = exp(−|z|).
    return g * (sigmoid_from_exp(x[0], s[a["saved_slot"]]) - s[a["target_slot"]])


_VJPS: dict[str, Callable[..., Any]] = {
    "add": _add_vjp,
    "sub": _sub_vjp,
    "mul": _mul_vjp,
    "div": _div_vjp,
    "matmul": _matmul_vjp,
    "neg": lambda g, x, k, shapes, a, s: -g,
    "sum": _sum_vjp,
    "reshape": _reshape_vjp,
    "transpose": _transpose_vjp,
    "dropout": _dropout_vjp,
    "softmax_cross_entropy": _softmax_cross_entropy_vjp,
    "bce_with_logits": _bce_with_logits_vjp,
}
_BACKWARD: dict[str, Callable[..., Kernel]] = {op: _backward_rule(f) for op, f in _VJPS.items()}
# Which operands each VJP reads, for constant folding (ops missing here are never folded).
_OPERANDS_USED: dict[str, Callable[[int], tuple[int, ...]]] = {
    "add": lambda k: (), "sub": lambda k: (), "neg": lambda k: (), "sum": lambda k: (),
    "reshape": lambda k: (), "transpose": lambda k: (), "mul": lambda k: (1 - k,),
    "div": lambda k: (1,) if k == 0 else (0, 1), "matmul": lambda k: (1 - k,),
}
_SUPPORTED = {"linear", "every elementwise activation", *_FORWARD}


def fallback_warning(reason: str) -> None:
    """Say once, as a ``JitFallbackWarning``, that fit trains eagerly and why."""
    warnings.warn(f"jit=True: the training step could not be compiled ({reason}); training "
                  "eagerly instead", JitFallbackWarning, stacklevel=3)


__all__ = ["CompileError", "CompiledStep", "JitFallbackWarning", "Program", "compile_step"]
