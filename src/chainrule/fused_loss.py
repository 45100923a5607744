"""A compiled step's softmax cross-entropy from logits as ``chainrule.fast`` kernels (Numba).

In the engine's graph the mean cross-entropy of a classifier trained from its logits z is nine
kernels over a small array (rows × classes), each one or more NumPy calls:

    forward   log_softmax(z) = L · softmax_cross_entropy −Σ y·L per row · sum · × 1/rows
    backward  exp(L) = p · Σ y per row · p·Σy · − y · g ⊙ (the upstream gradient g of each row)

At batch 128 with 10 classes they take ~40–70 µs of a ~1.1 ms step here: calls, not
arithmetic. ``fuse`` finds exactly that chain in a program being lowered and replaces it by
``chainrule.fast``'s kernels: in the forward phase ``shift_by_max`` (s = z − max z), NumPy's
exp and ``softmax_cross_entropy`` (the loss; the softmax p is left in a buffer of its own),
~5.5 µs together; where the gradient is due in the backward phase
``softmax_cross_entropy_grad`` (∂L/∂z = g·(p·Σy − y), and the output bias's gradient, its Σ
over the rows in NumPy's order, when that is the next use), ~1 µs.

The contract is not bit-identity: the kernels call Numba's log, sum in loop order (NumPy sums
pairwise) and take p = e^s/Σe^s rather than exp(log_softmax). Before the program uses them
they run once on the traced step beside the NumPy kernels: the loss must agree within
``ULPS`` epsilons of its size and every gradient entry within ``ULPS`` epsilons of the
largest one (NaN where the NumPy kernels give NaN), or the program keeps the NumPy kernels.
The tests hold them to 16 ε on random batches (1–300 rows, 2–40 classes, logits up to ±100,
one-hot and soft targets, float32 and float64); ~6 ε on the loss and ~5 ε on the gradient
measured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .losses import cross_entropy_values
from .ops import _sum_array

ULPS = 64  # the agreement asked of the kernels on the traced step, in epsilons
ENABLED = True  # False keeps the NumPy kernels (tests of the fused programs' bit-identity)

Run = Callable[[], None]


def _op(lowering: Any, position: int, name: str, function: Any = None) -> bool:
    tensor = lowering.instructions[position].tensor
    node = tensor._node
    return tensor.op == name and (function is None or node.kernel.function is function)


def _only_reader(lowering: Any, value: int) -> int:
    """The one instruction that reads ``value``, or -1."""
    readers = lowering.values[value].readers
    return readers[0] if len(readers) == 1 else -1


def _chain(lowering: Any, position: int) -> dict[str, int] | None:
    """The positions (and values) of the nine kernels, found from the cross-entropy at
    ``position``, or None when the program's graph is not exactly that chain."""
    instructions, values = lowering.instructions, lowering.values
    if not _op(lowering, position, "softmax_cross_entropy", cross_entropy_values):
        return None
    z, log_p, y = instructions[position].inputs
    producer = {instruction.output: p for p, instruction in enumerate(instructions)}
    found = {"z": z, "y": y, "ce": position, "log_softmax": producer.get(log_p, -1)}
    z_value = values[z]
    if (
        y != lowering.y
        or found["log_softmax"] < 0
        or not _op(lowering, found["log_softmax"], "log_softmax")
        or instructions[found["log_softmax"]].inputs != (z,)
        or len(z_value.shape) != 2
        or values[y].shape != z_value.shape
        or values[y].dtype != z_value.dtype
        or z_value.dtype not in (np.float32, np.float64)
        or instructions[position].tensor._node.kernel.params.get("axis", 0) % 2 != 1
    ):
        return None
    activation = (instructions[found["log_softmax"]].tensor._node.attrs or {}).get("activation")
    if activation is None or activation.axis % 2 != 1:
        return None
    # forward: the sum of the rows' losses, times a constant (the mean's 1/rows)
    found["sum"] = _only_reader(lowering, instructions[position].output)
    if (
        found["sum"] < 0
        or not _op(lowering, found["sum"], "sum", _sum_array)
        or values[instructions[found["sum"]].output].shape != ()
    ):
        return None
    found["scale_mul"] = _only_reader(lowering, instructions[found["sum"]].output)
    if found["scale_mul"] < 0 or not _op(lowering, found["scale_mul"], "mul", np.multiply):
        return None
    mul_inputs = instructions[found["scale_mul"]].inputs
    scale = [v for v in mul_inputs if v != instructions[found["sum"]].output]
    if len(scale) != 1 or values[scale[0]].kind != "fixed" or values[scale[0]].shape != ():
        return None
    found["scale"] = scale[0]
    # backward: p = exp(L), Σy per row, p·Σy, − y, g ⊙ that
    readers = [r for r in values[log_p].readers if r != position]
    if len(readers) != 1 or not _op(lowering, readers[0], "exp"):
        return None
    found["exp"] = readers[0]
    found["times_sum"] = _only_reader(lowering, instructions[found["exp"]].output)
    if found["times_sum"] < 0 or not _op(lowering, found["times_sum"], "mul", np.multiply):
        return None
    exp_out, row_sum = instructions[found["times_sum"]].inputs
    if exp_out != instructions[found["exp"]].output:
        return None
    found["row_sum"] = producer.get(row_sum, -1)
    if (
        found["row_sum"] < 0
        or not _op(lowering, found["row_sum"], "sum", _sum_array)
        or instructions[found["row_sum"]].inputs != (y,)
        or values[row_sum].shape != (z_value.shape[0], 1)
        or _only_reader(lowering, row_sum) != found["times_sum"]
    ):
        return None
    found["minus_y"] = _only_reader(lowering, instructions[found["times_sum"]].output)
    if (
        found["minus_y"] < 0
        or not _op(lowering, found["minus_y"], "sub", np.subtract)
        or instructions[found["minus_y"]].inputs != (instructions[found["times_sum"]].output, y)
    ):
        return None
    found["grad"] = _only_reader(lowering, instructions[found["minus_y"]].output)
    if found["grad"] < 0 or not _op(lowering, found["grad"], "mul", np.multiply):
        return None
    upstream, difference = instructions[found["grad"]].inputs
    if (
        difference != instructions[found["minus_y"]].output
        or values[upstream].kind != "fixed"
        or values[upstream].shape != (z_value.shape[0], 1)
    ):
        return None
    found["upstream"] = upstream
    return found


def _agrees(fused: Any, eager: Any, epsilon: float, ulps: int) -> bool:
    """Equal NaN positions and, elsewhere, within ``ulps`` epsilons of the largest |eager|."""
    fused, eager = np.asarray(fused, np.float64), np.asarray(eager, np.float64)
    nan = np.isnan(eager)
    if fused.shape != eager.shape or not np.array_equal(nan, np.isnan(fused)):
        return False
    finite = ~nan
    if not finite.any():
        return True
    size = float(np.max(np.abs(eager[finite])))
    if not np.isfinite(size):
        return bool(np.array_equal(fused[finite], eager[finite]))
    return bool(np.max(np.abs(fused[finite] - eager[finite])) <= ulps * epsilon * size)


def fuse(
    lowering: Any, kernels: dict[str, Any], keep: set[int], tail: set[int], taken: set[int]
) -> dict[int, Run | None]:
    """Position → run for the chain's nine kernels (the forward call at the log-softmax, the
    gradient call where the gradient is due, None for the rest), or {} when the program has
    no such chain, a kernel of it is needed elsewhere, or the fused kernels disagree."""
    if not ENABLED or "softmax_cross_entropy" not in kernels:
        return {}
    for position in range(len(lowering.instructions)):
        found = _chain(lowering, position)
        if found is not None:
            return _install(lowering, kernels, keep, tail, taken, found)
    return {}


def _install(
    lowering: Any,
    kernels: dict[str, Any],
    keep: set[int],
    tail: set[int],
    taken: set[int],
    found: dict[str, int],
) -> dict[int, Run | None]:
    instructions, values, tensors = lowering.instructions, lowering.values, lowering.tensors
    absorbed = ["log_softmax", "ce", "sum", "exp", "row_sum", "times_sum", "minus_y"]
    positions = [found[name] for name in (*absorbed, "scale_mul", "grad")]
    inside = {instructions[found[name]].output for name in absorbed}
    z, y, grad_value = found["z"], found["y"], instructions[found["grad"]].output
    total_value = instructions[found["scale_mul"]].output
    grad_buffer = values[grad_value].buffer
    z_root = lowering._root(z)
    if (
        any(p in tail or p in taken for p in positions)
        or any(id(instructions[p].tensor) in lowering.trace.errstates for p in positions)
        or inside & keep
        or grad_buffer is None
        or values[grad_value].order != "C"
        or grad_buffer.shape != values[z].shape
        or values[z_root].end < found["grad"]  # z's buffer must hold z until the gradient
        or (values[z_root].buffer is not None and values[z_root].buffer is grad_buffer)
    ):
        return {}
    dtype = values[z].dtype
    epsilon = float(np.finfo(dtype).eps)
    scale = dtype.type(tensors[found["scale"]].data)
    upstream = np.ascontiguousarray(tensors[found["upstream"]].data)
    loss_of, grad_of = kernels["softmax_cross_entropy"], kernels["softmax_cross_entropy_grad"]
    # The trial on the traced step, beside the NumPy kernels' values.
    shift = kernels["shift_by_max"]
    z_traced, y_traced = tensors[z].data, tensors[y].data
    shifted, probabilities = np.empty(values[z].shape, dtype), np.empty(values[z].shape, dtype)
    trial_grad = np.empty(values[z].shape, dtype)
    with np.errstate(under="ignore"):
        shift(z_traced, shifted)
        np.exp(shifted, out=probabilities)
    trial_loss = loss_of(shifted, probabilities, y_traced, scale)
    # The output bias's gradient (Σ of ∂L/∂z over the rows) in the same pass, when it is one.
    bias_sum = lowering._column_sum(instructions[found["grad"]], found["grad"], taken)
    sums = np.empty(0, dtype) if bias_sum is None else values[instructions[bias_sum].output].buffer
    trial_sums = np.empty(sums.shape, dtype)
    grad_of(y_traced, upstream, probabilities, trial_grad, trial_sums)
    if not (
        _agrees(trial_loss, tensors[total_value].data, epsilon, ULPS)
        and _agrees(trial_grad, tensors[grad_value].data, epsilon, ULPS)
    ):
        return {}
    if bias_sum is not None:
        # NumPy's own sum of the fused gradient, bit for bit (the same order)
        if not np.array_equal(trial_sums, trial_grad.sum(axis=0), equal_nan=True) or not (
            _agrees(trial_sums, tensors[instructions[bias_sum].output].data, epsilon, ULPS)
        ):
            bias_sum, sums = None, np.empty(0, dtype)
    arrays, scalar = lowering.arrays, dtype.type

    exp = np.exp

    def forward() -> None:
        shift(arrays[z], shifted)
        exp(shifted, out=probabilities)
        arrays[total_value] = scalar(loss_of(shifted, probabilities, arrays[y], scale))

    def backward() -> None:
        grad_of(arrays[y], upstream, probabilities, grad_buffer, sums)

    if bias_sum is not None:
        positions.append(bias_sum)
    runs: dict[int, Run | None] = {p: None for p in positions}
    runs[found["log_softmax"]] = forward
    runs[found["grad"]] = backward
    for p in positions:
        instructions[p].note = (
            f"{instructions[p].note} (fused: softmax_cross_entropy_grad, chainrule.fast)"
            if p == bias_sum
            else "(fused: softmax_cross_entropy, chainrule.fast)"
        )
    instructions[
        found["log_softmax"]
    ].note = "+ the loss: softmax_cross_entropy (chainrule.fast, equal to rounding)"
    instructions[
        found["grad"]
    ].note = "→ softmax_cross_entropy_grad (chainrule.fast, equal to rounding)"
    return runs


__all__ = ["ENABLED", "ULPS", "fuse"]
