"""What every activation is: a record of its math, and how it joins the autodiff graph.

An elementwise activation subclass defines, in one place:

- ``_forward(z)``: a = g(z), in a numerically stable form;
- ``_derivative(z, a)``: g'(z), with the framework-default value at each kink;
- ``_second_derivative(z, a)``: g''(z);
- optionally ``_derivative_from_output(a)``: g' written from the output (σ' = a(1 − a));
- ``kinks`` (the z where g is not differentiable), ``one_sided_slopes`` (g' just left and just
  right of each kink: a subgradient must lie between them) and ``default_subgradients`` (g' used
  there);
- metadata: formulas, output range, zero-centred, monotonic, saturating;
- the facts the rest of the library reads from the record: ``recommended_init`` (Dense's
  ``kernel_init="auto"``), ``display_name`` (reports), ``dead_below`` (units that can die, for
  health reports), ``onnx_op`` or ``to_onnx`` (ONNX export), ``inplace_forward`` with
  ``_forward_into`` (the compiled step's in-place a), and ``backward_reads_output``.

The public methods wrap these with the common rules: any array-like input, the caller's float
dtype kept, NaN in → NaN out, and a user-chosen ``subgradient`` applied at the kinks.

Applied to a tensor, an activation records one graph node whose VJP is g · g'(z), computed from
the stored output a where a from-output form exists. With ``create_graph=True`` the g'(z) factor
is itself a node whose VJP uses g''(z), so second derivatives through the engine are analytic.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from .._tensor import Tensor
from ..dtypes import as_float_array
from ..ops import Kernel, apply
from ..selection import select


def as_input_array(z: Any) -> np.ndarray:
    """Float arrays keep their dtype; anything else becomes an array of the default dtype."""
    if isinstance(z, Tensor):
        return z.data
    if isinstance(z, np.ndarray) and z.dtype.kind == "f":
        return z
    return as_float_array(z)


def restore_nan(source: np.ndarray, result: np.ndarray) -> np.ndarray:
    """Put NaN back where ``source`` is NaN (piecewise formulas built on comparisons drop it)."""
    nan = np.isnan(source)
    if nan.any():
        result = np.where(nan, np.nan, result)
    return result


def _plain(value: Any) -> Any:
    """A number or a list of numbers (a per-neuron parameter), for ``describe``."""
    return np.asarray(value).tolist() if np.ndim(value) else float(value)


def _number_text(value: Any) -> str:
    """A slope for a message: ``0.25``, or ``[0.1, 0.3]`` for one slope per neuron."""
    if np.ndim(value):
        return "[" + ", ".join(f"{v:g}" for v in np.ravel(value)) + "]"
    return f"{float(value):g}"


class OnnxGraph(Protocol):
    """The ONNX graph an activation writes its nodes into (``chainrule.onnx_export`` builds it).

    ``op`` appends a node and returns the name of its output (``since``: the lowest opset where
    the op means what is wanted); ``constant`` adds an initializer and returns its name.
    """

    def op(self, op_type: str, inputs: list[str], since: int = ..., **attributes: Any) -> str: ...

    def constant(self, label: str, value: Any, dtype: Any = ...) -> str: ...


class Activation:
    """Base class of the catalog. Subclasses are records; instances carry the parameters."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    formula: ClassVar[str]
    derivative_formula: ClassVar[str]
    second_derivative_formula: ClassVar[str]
    derivative_from_output_formula: ClassVar[str | None] = None
    output_range: ClassVar[str]
    zero_centered: ClassVar[str]  # "yes", "no", "roughly" (outputs of both signs, mean not 0)
    monotonic: ClassVar[bool]
    saturating: ClassVar[str]  # "no", "left", "right", "both": where g' → 0
    elementwise: ClassVar[bool] = True
    # True when the derivative formulas use comparisons (NaN must be put back explicitly).
    piecewise: ClassVar[bool] = False
    #: the one ONNX op that computes g (with no attributes); activations that need more write
    #: ``to_onnx`` themselves; None and no ``to_onnx``: g has no ONNX form
    onnx_op: ClassVar[str | None] = None
    #: the initialiser that suits a Dense layer whose units g follows (docs/math.md §3): He
    #: ("he_normal") for the ReLU family, LeCun ("lecun_normal") for SELU, Xavier otherwise
    recommended_init: ClassVar[str] = "xavier_uniform"
    #: how reports name g ("ReLU units"); None: the catalog name (``label`` reads it)
    display_name: ClassVar[str | None] = None
    #: g(z) = g'(z) = 0 for every z < dead_below (relu: 0, hard_sigmoid: −3), so a unit whose
    #: z stays there gets no gradient and never recovers (it is dead); None: g has no flat zero
    dead_below: ClassVar[float | None] = None

    def __init__(self, subgradient: float | list[float] | tuple[float, ...] | None = None) -> None:
        self.subgradient = subgradient
        self._subgradient_values: tuple[Any, ...] | None = None
        if subgradient is not None:
            kinks = self.kinks
            if not kinks:
                raise ValueError(
                    f"{self.name} is differentiable everywhere; it has no kink for a subgradient"
                )
            values = (
                tuple(subgradient)
                if isinstance(subgradient, (list, tuple))
                else (subgradient,) * len(kinks)
            )
            if len(values) != len(kinks):
                raise ValueError(
                    f"{self.name} has {len(kinks)} kinks (at z = {list(kinks)}); "
                    f"give one subgradient value or {len(kinks)}, not {len(values)}"
                )
            self._subgradient_values = tuple(float(v) for v in values)
            self._check_subgradients(self._subgradient_values)

    def _check_subgradients(self, values: tuple[float, ...]) -> None:
        """Refuse a subgradient outside [min(left, right), max(left, right)] at its kink."""
        for kink, value, (left, right) in zip(self.kinks, values, self.one_sided_slopes):
            low, high = np.minimum(left, right), np.maximum(left, right)
            if not (np.all(low <= value) and np.all(value <= high)):
                raise ValueError(
                    f"{self.name}: subgradient {value:g} at z = {kink:g} is not between the "
                    f"one-sided slopes {_number_text(left)} and {_number_text(right)}"
                )

    # ------------------------------------------------------------------ description
    @property
    def kinks(self) -> tuple[float, ...]:
        """The z where g is not differentiable (g' jumps)."""
        return ()

    @property
    def one_sided_slopes(self) -> tuple[tuple[Any, Any], ...]:
        """(left, right) = (g'(k⁻), g'(k⁺)) for each kink k: the limits of g' from either side.

        Every value between them is a valid subgradient at k (docs/math.md §1).
        """
        return ()

    @property
    def default_subgradients(self) -> tuple[Any, ...]:
        """g' used at each kink unless ``subgradient`` says otherwise (PyTorch's values)."""
        return ()

    @property
    def second_derivatives_at_kinks(self) -> tuple[float, ...]:
        """g'' returned at each kink: 0, as PyTorch's double backward gives.

        g' jumps at a kink, so g'' there is a Dirac delta, which no number represents; 0 keeps
        second-order methods finite and agrees with the oracle.
        """
        return (0.0,) * len(self.kinks)

    @property
    def smooth(self) -> bool:
        """True when g is differentiable everywhere (no kink)."""
        return not self.kinks

    @property
    def label(self) -> str:
        """The name reports use for g: ``display_name``, or the catalog name."""
        return self.display_name or self.name

    @property
    def can_die(self) -> bool:
        """True when g has a flat zero part (``dead_below``) where its units can die."""
        return self.dead_below is not None

    @property
    def has_derivative_from_output(self) -> bool:
        return type(self)._derivative_from_output is not Activation._derivative_from_output

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters (enough to rebuild the activation with ``get``)."""
        params = self._params()
        if self.subgradient is not None:
            params["subgradient"] = self.subgradient
        return params

    def _params(self) -> dict[str, Any]:
        return {}

    def describe(self) -> dict[str, Any]:
        """Everything the catalog knows about this activation, as plain data."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "params": self.params,
            "formula": self.formula,
            "derivative_formula": self.derivative_formula,
            "second_derivative_formula": self.second_derivative_formula,
            "derivative_from_output_formula": self.derivative_from_output_formula,
            "output_range": self.output_range,
            "zero_centered": self.zero_centered,
            "monotonic": self.monotonic,
            "saturating": self.saturating,
            "smooth": self.smooth,
            "kinks": list(self.kinks),
            "one_sided_slopes": [
                [_plain(left), _plain(right)] for left, right in self.one_sided_slopes
            ],
            "subgradients_at_kinks": list(self.subgradients_at_kinks),
            "second_derivatives_at_kinks": list(self.second_derivatives_at_kinks),
            "elementwise": self.elementwise,
            "recommended_init": self.recommended_init,
            "label": self.label,
            "dead_below": self.dead_below,
        }

    @property
    def subgradients_at_kinks(self) -> tuple[Any, ...]:
        if self._subgradient_values is not None:
            return self._subgradient_values
        return self.default_subgradients

    def __repr__(self) -> str:
        inside = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({inside})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def to_onnx(
        self, graph: OnnxGraph, x: str, shape: tuple[int, ...], slopes: np.ndarray | None
    ) -> str:
        """Append the ONNX nodes computing a = g(x) to ``graph``; returns the output's name.

        ``shape`` is x's shape without the batch axis, ``slopes`` a PReLU layer's learned γ
        (None elsewhere). Raises ``NotImplementedError`` when g has no ONNX form and
        ``ValueError`` when these parameters have none.
        """
        if self.onnx_op is None:
            raise NotImplementedError(
                f"the activation {self.name!r} ({type(self).__name__}) has no ONNX form"
            )
        return graph.op(self.onnx_op, [x])

    # ------------------------------------------------------------------ NumPy interface
    def forward(self, z: Any) -> np.ndarray:
        """a = g(z) for an array (the input's float dtype is kept)."""
        z = as_input_array(z)
        return np.asarray(self._forward(z), dtype=z.dtype)

    def derivative(self, z: Any, a: Any = None) -> np.ndarray:
        """g'(z); at a kink, the subgradient (``subgradients_at_kinks``). ``a`` may save work."""
        z = as_input_array(z)
        a = None if a is None else as_input_array(a)
        result = np.asarray(self._derivative(z, a), dtype=z.dtype)
        if self._subgradient_values is not None:
            for kink, value in zip(self.kinks, self._subgradient_values):
                at_kink = z == kink
                if at_kink.any():
                    result = select(at_kink, value, result, z.dtype)
        return restore_nan(z, result) if self.piecewise else result

    def second_derivative(self, z: Any, a: Any = None) -> np.ndarray:
        """g''(z) (0 on the linear pieces of piecewise-linear functions)."""
        z = as_input_array(z)
        a = None if a is None else as_input_array(a)
        result = np.asarray(self._second_derivative(z, a), dtype=z.dtype)
        return restore_nan(z, result) if self.piecewise else result

    def derivative_from_output(self, a: Any) -> np.ndarray:
        """g' written from the output a = g(z) (exact away from kinks; defaults at kinks)."""
        if not self.has_derivative_from_output:
            raise NotImplementedError(
                f"{self.name}: g' cannot be written from the output a alone "
                "(g is not invertible); use derivative(z)"
            )
        a = as_input_array(a)
        result = np.asarray(self._derivative_from_output(a), dtype=a.dtype)
        return restore_nan(a, result) if self.piecewise else result

    # ------------------------------------------------------------------ the math (subclasses)
    def _forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _second_derivative(self, z: np.ndarray, a: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ the graph
    def __call__(self, x: Any) -> Tensor:
        """Apply to a tensor; the result's VJP is g · g'(z) (analytic, from the output)."""
        x = x if isinstance(x, Tensor) else Tensor(x)

        def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
            return (g * _slope_tensor(self, x, out),)

        out = apply(self.name, self._forward_kernel(), (x,), vjp, {"activation": self})
        out._activation_input = (self, x)
        return out

    def _forward_checked(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self._forward(z), dtype=z.dtype)

    def _forward_into(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """g(z) written into ``out`` (which may be z itself) with the same bits as ``_forward``;
        activations with an in-place form override it and set ``inplace_forward``."""
        raise NotImplementedError

    #: True where ``_forward_into`` is defined (the compiled step then overwrites z with a).
    inplace_forward: ClassVar[bool] = False

    def _forward_kernel(self) -> Kernel:
        if self.inplace_forward:
            return Kernel(_forward_with_out, takes_out=True, elementwise=True, activation=self)
        return Kernel(self._forward_checked)

    @property
    def backward_reads_output(self) -> bool:
        """True when the backward pass needs only the output a (g' written from a)."""
        return self.has_derivative_from_output and self._subgradient_values is None

    def _backward_slope(self, z: np.ndarray | None, a: np.ndarray) -> np.ndarray:
        """g' for the backward pass: from the stored output when that form is exact (then z
        is not read and may be None)."""
        if self.backward_reads_output:
            return self.derivative_from_output(a)
        return self.derivative(z, a)


def _forward_with_out(
    z: np.ndarray, activation: Activation, out: np.ndarray | None = None
) -> np.ndarray:
    if out is None:
        return activation._forward_checked(z)
    return activation._forward_into(z, out)


def activation_input(tensor: Tensor) -> tuple[Activation, Tensor] | None:
    """(activation, z) when ``tensor`` is a = g(z) made by an activation of the catalog (in any
    grad mode, so a loss on probabilities can reach the logits behind a softmax or sigmoid)."""
    return tensor._activation_input


def _slope(z: np.ndarray | None, a: np.ndarray, activation: Activation) -> np.ndarray:
    return activation._backward_slope(z, a)


def _slope_tensor(activation: Activation, x: Tensor, out: Tensor) -> Tensor:
    """g'(z) as a tensor, from the output a where that form is exact (z is then a parent only
    for the VJP, which uses g'': the slope is differentiable in z, for second-order backward)."""

    def vjp(g: Tensor, out_: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor | None, ...]:
        return (g * _curvature_tensor(activation, x), None)

    ignores = (0,) if activation.backward_reads_output else ()
    return apply(
        f"{activation.name}'",
        Kernel(_slope, ignores=ignores, activation=activation),
        (x, out),
        vjp,
        {"activation": activation},
    )


def _curvature(z: np.ndarray, activation: Activation) -> np.ndarray:
    return activation.second_derivative(z)


def _curvature_tensor(activation: Activation, x: Tensor) -> Tensor:
    """g''(z) as a tensor; a third derivative through it is refused with a clear error."""

    def vjp(g: Tensor, out: Tensor, needs: tuple[bool, ...]) -> tuple[Tensor]:
        raise NotImplementedError(
            f"third derivatives of {activation.name} are not defined by the catalog "
            "(it gives g, g' and g'')"
        )

    return apply(
        f"{activation.name}''",
        Kernel(_curvature, activation=activation),
        (x,),
        vjp,
        {"activation": activation},
    )


__all__ = ["Activation", "activation_input", "as_input_array", "restore_nan"]
