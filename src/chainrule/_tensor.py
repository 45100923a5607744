"""The Tensor: a NumPy array that remembers how it was computed, and reverse-mode backward.

Every operation on tensors that require gradients records a ``Node``: the op's name, its
parent tensors and its vector-Jacobian product (VJP). ``backward`` walks the graph from the
output in reverse topological order and applies the chain rule: each node receives the
gradient of the output with respect to its own value, ``g = ∂L/∂out``, and its VJP turns it
into ``∂L/∂parent`` for every parent. When a value reaches the output along several paths,
the gradients of all paths are summed.

VJPs are written with tensor operations, so with ``create_graph=True`` the backward pass is
itself recorded and can be differentiated again (Hessian-vector products, g'').

Tensors are immutable: there is no in-place operation on a tensor the graph may still need.
``c += x`` rebinds ``c`` to a new node, which is always correct.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .dtypes import as_float_array, resolve_dtype
from .errors import GraphFreedError, ShapeError
from .grad_mode import no_grad, set_grad_enabled

# vjp(g, out, needs) -> one gradient (or None) per parent. ``out`` is the node's own output
# tensor, ``needs[i]`` says whether parent i wants a gradient (skip the work if not).
VJP = Callable[["Tensor", "Tensor", tuple[bool, ...]], Sequence["Tensor | None"]]


class Node:
    """How a tensor was computed: the op's name, its parents, its VJP and its attributes.

    ``kernel`` recomputes the node's value from its parents' arrays (``kernel(*arrays)``, see
    ``chainrule.ops.Kernel``): the eager op computed its value with it, and
    ``chainrule.compiler`` replays it, so a compiled step runs the same code. ``attrs`` holds
    descriptive settings (an axis, the activation) for drawings and diagnostics.
    """

    __slots__ = ("op", "parents", "vjp", "attrs", "kernel")

    def __init__(
        self,
        op: str,
        parents: tuple[Tensor, ...],
        vjp: VJP | None,
        attrs: dict[str, Any] | None = None,
        kernel: Any = None,
    ) -> None:
        self.op = op
        self.parents = parents
        self.vjp: VJP | None = vjp
        self.attrs = attrs
        self.kernel = kernel

    def free(self) -> None:
        """Drop the VJP, the parents and the attributes (and with them the saved arrays)."""
        self.vjp = None
        self.parents = ()
        self.attrs = None
        self.kernel = None


class Tensor:
    """A float32/float64 NumPy array with an optional gradient and the graph that produced it.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    Tensor([2., 4., 6.], dtype=float32)
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_node",
        "_retains_grad",
        "_activation_input",
        "__weakref__",
    )
    # NumPy defers binary operators to Tensor (ndarray * tensor -> Tensor.__rmul__).
    __array_ufunc__ = None
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        array = as_float_array(data, dtype)
        # Copy what the caller still holds, so that changing it later cannot change the tensor.
        self.data: np.ndarray = array.copy() if array is data else array
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._node: Node | None = None
        self._retains_grad = False
        # (activation, its input) when an activation of the catalog made this tensor, in any
        # grad mode: a loss on probabilities finds the logits behind a softmax/sigmoid here.
        self._activation_input: tuple[Any, Tensor] | None = None

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an ndarray the library computed itself, without conversion or checks."""
        tensor = object.__new__(cls)
        tensor.data = data
        tensor.grad = None
        tensor.requires_grad = requires_grad
        tensor._node = None
        tensor._retains_grad = False
        tensor._activation_input = None
        return tensor

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements (NumPy's meaning of ``size``)."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (no recorded op behind them)."""
        return self._node is None

    @property
    def op(self) -> str | None:
        """Name of the operation that produced this tensor (None for leaves)."""
        return None if self._node is None else self._node.op

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (empty for leaves or after backward)."""
        return () if self._node is None else self._node.parents

    @property
    def T(self) -> Tensor:  # NumPy's name
        return _ops.transpose(self)

    # ------------------------------------------------------------------ conversion
    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a read-only ndarray view (copy it to modify it)."""
        view = self.data.view()
        view.flags.writeable = False
        return view

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self.data if dtype is None else self.data.astype(dtype)
        return array.copy() if copy else array

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def detach(self) -> Tensor:
        """The same data as a new leaf that does not require grad (no copy)."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf tensor and return it."""
        if self._node is not None:
            raise ValueError("requires_grad can only be set on leaf tensors; use detach() first")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor during backward (leaves always keep it)."""
        self._retains_grad = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def astype(self, dtype: Any) -> Tensor:
        """Cast to float32 or float64; the gradient is cast back."""
        return _ops.astype(self, resolve_dtype(dtype))

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = [f"dtype={self.dtype.name}"]
        if self._node is not None:
            extras.append(f"op={self._node.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(extras)})"

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "tensors are immutable (the graph may still need their values); build a new tensor "
            "with where(), concatenate() or stack(), or change .data outside any graph"
        )

    # ------------------------------------------------------------------ backward
    def backward(
        self,
        grad: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is ∂L/∂self (needed when self is not a scalar). The graph is freed afterwards
        unless ``retain_graph`` (default: ``create_graph``). With ``create_graph=True`` the
        gradients are themselves differentiable.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad; create an input with "
                "requires_grad=True (and compute outside no_grad) to get gradients"
            )
        run_backward(
            [self],
            [grad],
            retain_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph,
        )

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # Comparisons give boolean tensors that carry no gradient.
    def __lt__(self, other: Any) -> Tensor:
        return _ops.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.compare(np.not_equal, self, other)

    # ------------------------------------------------------------------ methods
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def flatten(self) -> Tensor:
        return _ops.reshape(self, (-1,))

    def transpose(self, *axes: int) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis, keepdims)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def clip(self, lower: float | None = None, upper: float | None = None) -> Tensor:
        return _ops.clip(self, lower, upper)

    # The common activations; their definitions live in chainrule.activations (one place).
    def relu(self) -> Tensor:
        return _activation("relu")(self)

    def sigmoid(self) -> Tensor:
        return _activation("sigmoid")(self)

    def tanh(self) -> Tensor:
        return _activation("tanh")(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return _activation("softmax", axis=axis)(self)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _activation("log_softmax", axis=axis)(self)


# The activation catalog sits above this module; it hands us its lookup when it is imported.
_activation_lookup: Callable[..., Callable[[Tensor], Tensor]] | None = None


def install_activation_lookup(lookup: Callable[..., Callable[[Tensor], Tensor]]) -> None:
    """Called by ``chainrule.activations`` so that ``Tensor.relu()`` & co. find the catalog."""
    global _activation_lookup
    _activation_lookup = lookup


def _activation(name: str, **params: Any) -> Callable[[Tensor], Tensor]:
    if _activation_lookup is None:  # pragma: no cover - chainrule/__init__ always installs it
        raise RuntimeError("import chainrule (not chainrule._tensor alone) to use activations")
    return _activation_lookup(name, **params)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Make a tensor from a scalar, nested list, ndarray or tensor; the data is copied.

    ``dtype=None`` means the default dtype (float32 unless ``set_default_dtype`` changed it),
    for float64 arrays too. Integer and boolean data are converted to float; a conversion that
    would change a value is an error. Object, string and complex data are refused.

    >>> import chainrule as cr
    >>> cr.tensor([[1, 2], [3, 4]]).dtype
    dtype('float32')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# ---------------------------------------------------------------------- the backward engine
def _topological_order(roots: Iterable[Tensor]) -> list[Tensor]:
    """Tensors reachable from ``roots`` that require grad, each after all of its parents."""
    order: list[Tensor] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack: list[tuple[Tensor, int]] = [(root, 0)]
        while stack:
            tensor_, next_parent = stack.pop()
            parents = tensor_.parents
            while next_parent < len(parents):
                parent = parents[next_parent]
                next_parent += 1
                if parent.requires_grad and id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((tensor_, next_parent))
                    stack.append((parent, 0))
                    break
            else:
                order.append(tensor_)
    return order


def _root_gradient(root: Tensor, grad: Any) -> Tensor:
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() on a non-scalar tensor of shape {root.shape} needs a grad argument "
                "(∂L/∂tensor, same shape); call .sum() first to differentiate the sum"
            )
        return Tensor._wrap(np.ones_like(root.data))
    grad_tensor = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=root.dtype)
    if grad_tensor.shape != root.shape:
        raise ShapeError(
            f"backward(): grad has shape {grad_tensor.shape} but the tensor has shape {root.shape}"
        )
    return grad_tensor


def _accumulate(existing: Tensor | None, new: Tensor, create_graph: bool) -> Tensor:
    if existing is None:
        # A fresh, writable array that no other tensor shares (VJPs may return views).
        return new if create_graph else Tensor._wrap(np.array(new.data, copy=True))
    if create_graph:
        return existing + new
    return Tensor._wrap(existing.data + new.data)


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """The reverse sweep shared by ``Tensor.backward`` and ``chainrule.autograd.grad``.

    Without ``inputs``, gradients are accumulated into ``.grad`` of the leaves; with ``inputs``,
    the gradients with respect to those tensors are returned and no ``.grad`` is touched.
    """
    pending: dict[int, Tensor] = {}
    for root, grad in zip(roots, root_grads):
        if not root.requires_grad:
            raise RuntimeError("grad(): an output does not require grad")
        root_grad = _root_gradient(root, grad)
        previous = pending.get(id(root))
        pending[id(root)] = root_grad if previous is None else previous + root_grad
    wanted: dict[int, list[int]] | None = None
    if inputs is not None:
        wanted = {}
        for position, input_ in enumerate(inputs):
            wanted.setdefault(id(input_), []).append(position)
    results: list[Tensor | None] = [None] * (len(inputs) if inputs is not None else 0)
    order = _topological_order(roots)
    with set_grad_enabled(create_graph):
        for tensor_ in reversed(order):
            grad = pending.pop(id(tensor_), None)
            if grad is None:
                continue
            if wanted is not None:
                for position in wanted.get(id(tensor_), ()):
                    results[position] = _accumulate(results[position], grad, create_graph)
            elif tensor_._node is None or tensor_._retains_grad:
                tensor_.grad = _accumulate(tensor_.grad, grad, create_graph)
            node = tensor_._node
            if node is None:
                continue
            if node.vjp is None:
                raise GraphFreedError(
                    f"backward through the graph a second time (at op '{node.op}'): its saved "
                    "values were freed by the first backward; pass retain_graph=True to the first"
                )
            needs = tuple(parent.requires_grad for parent in node.parents)
            parent_grads = node.vjp(grad, tensor_, needs)
            for parent, parent_grad in zip(node.parents, parent_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:  # a bug in a VJP, never the user's fault
                    raise ShapeError(
                        f"internal: VJP of '{node.op}' gave a gradient of shape "
                        f"{parent_grad.shape} for an input of shape {parent.shape}"
                    )
                if parent_grad.dtype != parent.dtype:  # float32 ⊙ float64 promoted it
                    parent_grad = parent_grad.astype(parent.dtype)
                previous = pending.get(id(parent))
                pending[id(parent)] = parent_grad if previous is None else previous + parent_grad
            if not retain_graph:
                node.free()
    if inputs is None:
        return None
    return results


def gradients(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """∂(outputs)/∂(inputs) without touching ``.grad`` (``torch.autograd.grad``'s contract).

    ``inputs`` may be any tensors of the graph, leaves or not. An input the outputs do not
    depend on is an error unless ``allow_unused`` (then its gradient is None).
    """
    output_list = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    input_list = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_list: list[Any] = [None] * len(output_list)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_list = [grad_outputs]
    else:
        grad_list = list(grad_outputs)
    if len(grad_list) != len(output_list):
        raise ValueError(f"{len(grad_list)} grad_outputs for {len(output_list)} outputs")
    for index, input_ in enumerate(input_list):
        if not isinstance(input_, Tensor) or not input_.requires_grad:
            raise RuntimeError(f"grad(): input {index} is not a tensor that requires grad")
    results = run_backward(
        output_list,
        grad_list,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph,
        inputs=input_list,
    )
    assert results is not None
    if not allow_unused:
        for index, result in enumerate(results):
            if result is None:
                raise RuntimeError(
                    f"grad(): input {index} (shape {input_list[index].shape}) was not used to "
                    "compute the outputs; pass allow_unused=True to get None for it"
                )
    if not create_graph:
        results = [None if r is None else r.detach() for r in results]
    return tuple(results)


__all__ = ["Tensor", "Node", "tensor", "no_grad", "run_backward", "gradients"]

from . import ops as _ops  # noqa: E402  (ops needs Tensor; Tensor's operators need ops)
