"""Layers: Dense, Activation, PReLU, Maxout, Dropout, BatchNorm, Flatten.

A batch is stored as rows (N × features). ``Dense`` computes Z = A Wᵀ + b with W of shape
(out, in) — docs/math.md §2's z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ for every row, PyTorch's Linear layout.
Layers whose input width is not given build their parameters on the first call.

An activation given by name — ``Dense(units, activation=...)`` or an ``Activation`` layer —
is applied by the same two helpers: ``learned_slopes`` (PReLU's slope γᵢ per unit, a parameter
of the layer) and ``activated_width`` (maxout's k pieces per unit narrow the output width).
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import numpy as np

from .. import activations, init
from .. import model_file_schema as schema
from .._tensor import Tensor
from ..dtypes import get_default_dtype
from ..errors import ShapeError
from ..naming import with_keyword_suggestions
from ..ops import dropout, linear, mask, reshape
from .module import Module, Parameter
from .registry import register_layer

Stored = tuple[dict[str, schema.StoredArray], tuple[int, ...]]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _as_input(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# ---------------------------------------------------------------------- named activations
def learns_slopes(activation: activations.Activation | None) -> TypeGuard[activations.PReLU]:
    """True for PReLU, the catalog's activation with a parameter learned per unit (γᵢ)."""
    return isinstance(activation, activations.PReLU)


def learned_slopes(activation: activations.PReLU, width: int) -> Parameter:
    """PReLU's learnable slopes γ, ``width`` of them, starting at the activation's own γ
    (0.25 unless given: PyTorch's initial value)."""
    start = np.asarray(activation.gamma, dtype=get_default_dtype())
    if start.ndim and start.shape != (width,):
        raise ValueError(
            f"prelu gamma has {start.size} values for a layer of {width} units; "
            "give one value, or one per unit"
        )
    return Parameter(np.broadcast_to(start, (width,)).copy())


def activated_width(activation: activations.Activation | None, width: int) -> int:
    """The number of outputs of ``activation`` on ``width`` inputs: width // k for maxout
    with k pieces (which must divide width), width for every elementwise activation."""
    if not isinstance(activation, activations.Maxout):
        return width
    if width % activation.pieces:
        raise ValueError(
            f"maxout with {activation.pieces} pieces needs a number of units "
            f"divisible by {activation.pieces}, got {width}"
        )
    return width // activation.pieces


def apply_activation(
    activation: activations.Activation, z: Tensor, slopes: Parameter | None
) -> Tensor:
    """a = g(z); a PReLU uses the layer's learned ``slopes`` γ: max(0, z) + γᵢ·min(0, z)."""
    if slopes is None:
        return activation(z)
    if not learns_slopes(activation):
        raise TypeError(f"{activation.name} learns no slopes; only prelu takes them")
    return activation(z, slopes)


def _stored_slopes(
    activation: activations.Activation | None, width: int
) -> dict[str, schema.StoredArray]:
    """PReLU's slopes in a model file: ``alpha``, optional (older files ran with a fixed γ)."""
    return (
        {"alpha": schema.StoredArray((width,), optional=True)} if learns_slopes(activation) else {}
    )


def _checked_width(
    activation: activations.Activation | None, shape: tuple[int, ...], where: str
) -> tuple[int, ...]:
    """``activated_width`` for a model file's layer: a bad width is a ``DescriptionError``."""
    try:
        return shape[:-1] + (activated_width(activation, shape[-1]),)
    except ValueError as error:
        raise schema.DescriptionError(f"{where}: {error}") from None


def _check_input_dim(config: dict[str, Any], inputs: int, where: str) -> None:
    if (
        "input_dim" in config
        and schema.check_int(config["input_dim"], f"{where}: input_dim") != inputs
    ):
        raise schema.DescriptionError(
            f"{where}: input_dim {config['input_dim']} differs from its input width {inputs}"
        )


class Layer(Module):
    """A module with a name, an optional lazy ``build`` from the input width, and a summary line."""

    kind = "layer"
    #: True for a layer that keeps its input's units one to one (Dropout, BatchNorm): a Dense
    #: layer's activation may come after it, and still acts on the Dense's units
    preserves_units: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # Dense(3, kernel_initializer=...): "did you mean ...?"
            cls.__init__ = with_keyword_suggestions(cls.__init__)  # type: ignore[method-assign]

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.built = False

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        """Create the parameters for inputs of ``input_shape`` (without the batch axis)."""
        self.built = True

    def ensure_built(
        self, input_shape: tuple[int, ...], rng: np.random.Generator | None = None
    ) -> None:
        if not self.built:
            self.build(tuple(input_shape), rng if rng is not None else self._default_rng())

    def _default_rng(self) -> np.random.Generator:
        return _rng(getattr(self, "seed", None))

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape (without the batch axis) for inputs of ``input_shape``."""
        return input_shape

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (for model files)."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any], name: str | None = None) -> Layer:
        """The layer ``config()`` describes (a model file's, checked by ``check_config``)."""
        return cls(**config, name=name)

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        """Check a model file's untrusted ``config`` for inputs of ``shape`` (without the batch
        axis) before anything is built: the arrays the layer stores, by state-dict name, and
        its output shape. Every problem is one ``DescriptionError`` line starting ``where``.
        A layer class that model files may hold defines it and is registered
        (``register_layer``)."""
        raise schema.DescriptionError(
            f"{where}: {cls.__name__} layers cannot be read from a "
            "model file (the class defines no check_config)"
        )

    def __repr__(self) -> str:
        inside = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({inside})"


# ---------------------------------------------------------------------- Dense
@register_layer
class Dense(Layer):
    """Fully connected layer: z = x Wᵀ + b, then the activation if one is given.

    ``weight`` has shape (units, inputs) and ``bias`` shape (units,). ``kernel_init="auto"``
    picks the rule of thumb for the activation that follows (He for the ReLU family, LeCun for
    SELU, Xavier otherwise: ``chainrule.init.recommended_for``). A weight initialised with
    identical rows (zeros, a constant) warns about the symmetry problem.

    ``activation="prelu"`` adds ``alpha``, the learned slope γᵢ of each unit (shape (units,),
    starting at 0.25). ``activation="maxout"`` groups the units k at a time (k = ``pieces``, 2
    unless given in ``activations.get("maxout", pieces=k)``): the layer has units // k outputs.

    Args:
        units: the number of units (rows of W).
        activation: a catalog name ("relu"), an ``Activation`` object, or none (z itself).
        input_dim: the input width, to build at once (otherwise on first use, or by the
            model from the previous layer).
        use_bias: whether the layer has b.
        kernel_init: W's initialiser: a name ("he_normal"), an initialiser, or "auto" (by
            the activation).
        bias_init: b's initialiser.
        kernel_regularizer: a penalty on W added to the loss (``L2(λ)``, ``L1(λ)``).
        seed: seeds this layer's initialisation (default: the model's generator).
        name: the layer's name in summaries and model files (default: made unique by the model).

    Raises:
        TypeError: an unknown keyword (with the closest accepted one: ``kernel_initializer``
            → ``kernel_init``).
        ValueError: units < 1, an unknown activation or initialiser name (with close names).

    >>> layer = Dense(3, input_dim=2, seed=0)
    >>> layer.weight.shape, layer.bias.shape
    ((3, 2), (3,))
    >>> Dense(3, input_dim=2, activation="prelu").alpha
    Parameter([0.25, 0.25, 0.25], dtype=float32, requires_grad=True)
    """

    kind = "dense"

    def __init__(
        self,
        units: int,
        activation: Any = None,
        input_dim: int | None = None,
        use_bias: bool = True,
        kernel_init: Any = "auto",
        bias_init: Any = "zeros",
        kernel_regularizer: Any = None,
        seed: int | np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if int(units) != units or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = None if activation is None else activations.get(activation)
        self.output_width = activated_width(self.activation, self.units)
        self.input_dim = None if input_dim is None else int(input_dim)
        self.use_bias = bool(use_bias)
        self.kernel_init = kernel_init
        self.bias_init = bias_init
        self.kernel_regularizer = _regularizer(kernel_regularizer)
        self.seed = seed
        # set by Sequential from a following Activation layer (its g, whose record says the init)
        self.activation_hint: activations.Activation | None = None
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        self.alpha: Parameter | None = None  # PReLU's learned slopes
        if self.input_dim is not None:
            self.build((self.input_dim,), _rng(seed))

    def _kernel_initializer(self) -> init.Initializer:
        if isinstance(self.kernel_init, str) and self.kernel_init == "auto":
            follower = self.activation if self.activation is not None else self.activation_hint
            return init.get(init.recommended_for(follower or "identity"))
        return init.get(self.kernel_init)

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        if len(input_shape) != 1:
            raise ShapeError(
                f"{self.name or 'Dense'}: expects rows of features (N × inputs), got inputs of "
                f"shape (N, {', '.join(map(str, input_shape))}); add a Flatten layer first"
            )
        self.input_dim = int(input_shape[0])
        shape = (self.units, self.input_dim)
        weight = self._kernel_initializer()(shape, rng)
        init.warn_if_symmetric(weight, self.name or "Dense")
        self.weight = Parameter(weight, dtype=weight.dtype)
        if self.use_bias:
            bias = init.get(self.bias_init)((self.units,), rng)
            self.bias = Parameter(bias, dtype=bias.dtype)
        if learns_slopes(self.activation):
            self.alpha = learned_slopes(self.activation, self.units)
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        self.ensure_built(x.shape[1:])
        if x.shape[-1] != self.input_dim:
            raise ShapeError(
                f"{self.name or 'Dense'}: expects inputs with {self.input_dim} features on the "
                f"last axis, got shape {x.shape}"
            )
        assert self.weight is not None  # ensure_built made it
        z = linear(x, self.weight, self.bias)
        return z if self.activation is None else apply_activation(self.activation, z, self.alpha)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape[:-1] + (self.output_width,)

    def _own_penalty(self) -> Tensor | None:
        if self.kernel_regularizer is None or self.weight is None:
            return None
        return self.kernel_regularizer(self.weight)

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"units": self.units}
        if self.activation is not None:
            config["activation"] = self.activation.name
            if self.activation.params:
                config["activation_params"] = self.activation.params
        if self.input_dim is not None:
            config["input_dim"] = self.input_dim
        if not self.use_bias:
            config["use_bias"] = False
        if self.kernel_regularizer is not None:
            lam = getattr(self.kernel_regularizer, "lam", None)
            if lam is None:
                raise TypeError("only L1/L2 kernel regularizers can be described in a model file")
            config["kernel_regularizer"] = {
                "class": type(self.kernel_regularizer).__name__,
                "lam": lam,
            }
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], name: str | None = None) -> Layer:
        config = dict(config)
        if "activation_params" in config:
            params = config.pop("activation_params")
            config["activation"] = activations.get(config["activation"], **params)
        if "kernel_regularizer" in config:
            from .. import losses

            kind, lam = schema.check_regularizer(
                config["kernel_regularizer"], "the kernel regularizer"
            )
            config["kernel_regularizer"] = {"L1": losses.L1, "L2": losses.L2}[kind](lam)
        return cls(**config, name=name)

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        schema.check_only(
            config,
            (
                "units",
                "activation",
                "activation_params",
                "input_dim",
                "use_bias",
                "kernel_regularizer",
            ),
            where,
        )
        units = schema.check_int(config.get("units"), f"{where}: units")
        inputs = schema.check_rows(shape, where)
        _check_input_dim(config, inputs, where)
        if "activation_params" in config and "activation" not in config:
            raise schema.DescriptionError(f"{where} has activation_params but no activation")
        activation = None
        if "activation" in config:
            activation = schema.check_activation(
                config["activation"], config.get("activation_params", {}), where
            )
        if "kernel_regularizer" in config:
            schema.check_regularizer(config["kernel_regularizer"], where)
        stored = {"weight": schema.StoredArray((units, inputs))}
        if schema.check_bool(config.get("use_bias", True), f"{where}: use_bias"):
            stored["bias"] = schema.StoredArray((units,))
        stored.update(_stored_slopes(activation, units))
        return stored, _checked_width(activation, (units,), where)


def _regularizer(value: Any) -> Any:
    """A penalty object: None, an L1/L2 object or callable, or a number meaning L2(λ)."""
    from .. import losses

    if value is None or callable(value):
        return value
    if isinstance(value, (int, float)):
        return losses.L2(float(value))
    raise TypeError(f"kernel_regularizer must be a penalty such as losses.L2(1e-4), not {value!r}")


# ---------------------------------------------------------------------- activations
@register_layer
class Activation(Layer):
    """Applies an activation from the catalog (a name, with parameters, or an object).

    ``Activation("prelu")`` learns a slope γᵢ per input unit: the parameter ``alpha``, built
    from the input width (starting at the activation's γ, 0.25 unless given). A maxout with k
    pieces has width // k outputs.

    Args:
        activation: a catalog name (``chainrule activations`` lists them) or an
            ``Activation`` object.
        name: the layer's name in summaries and model files (default: made unique by the model).
        **params: the activation's parameters (``gamma=0.2`` for leaky_relu, ...).

    >>> Activation("leaky_relu", gamma=0.2)
    Activation(activation='leaky_relu', gamma=0.2)
    """

    kind = "activation"

    def __init__(self, activation: Any, name: str | None = None, **params: Any) -> None:
        super().__init__(name)
        self.activation = activations.get(activation, **params)
        self.alpha: Parameter | None = None  # PReLU's learned slopes
        self.built = not learns_slopes(self.activation)

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        if learns_slopes(self.activation):
            self.alpha = learned_slopes(self.activation, input_shape[-1])
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        self.ensure_built(x.shape[1:])
        return apply_activation(self.activation, x, self.alpha)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape[:-1] + (activated_width(self.activation, input_shape[-1]),)

    def config(self) -> dict[str, Any]:
        return {"activation": self.activation.name, **self.activation.params}

    @classmethod
    def from_config(cls, config: dict[str, Any], name: str | None = None) -> Layer:
        params = dict(config)
        return cls(params.pop("activation"), name=name, **params)

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        params = {key: value for key, value in config.items() if key != "activation"}
        activation = schema.check_activation(config.get("activation"), params, where)
        return _stored_slopes(activation, shape[-1]), _checked_width(activation, shape, where)


@register_layer
class PReLU(Layer):
    """PReLU with a learned slope γᵢ per unit (``shared=True``: one slope for the layer).

    a = z for z > 0, γᵢ·z otherwise; ∂a/∂γᵢ = min(0, z). γ starts at ``alpha_init`` (0.25).

    Args:
        alpha_init: the slopes' starting value.
        shared: one slope for the whole layer instead of one per unit.
        name: the layer's name in summaries and model files (default: made unique by the model).
    """

    kind = "prelu"

    def __init__(
        self, alpha_init: float = 0.25, shared: bool = False, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.alpha_init = float(alpha_init)
        self.shared = bool(shared)
        self.alpha: Parameter | None = None
        self._activation = activations.PReLU(gamma=self.alpha_init)

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        self.alpha = learned_slopes(self._activation, 1 if self.shared else input_shape[-1])
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        self.ensure_built(x.shape[1:])
        return apply_activation(self._activation, x, self.alpha)

    def config(self) -> dict[str, Any]:
        return {"alpha_init": self.alpha_init, "shared": self.shared}

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        schema.check_only(config, ("alpha_init", "shared"), where)
        schema.check_float(config.get("alpha_init", 0.25), f"{where}: alpha_init")
        shared = schema.check_bool(config.get("shared", False), f"{where}: shared")
        return {"alpha": schema.StoredArray((1,) if shared else (shape[-1],))}, shape


@register_layer
class Maxout(Layer):
    """Maxout unit layer: a linear map to units·pieces values, then the max of each group.

    aᵤ = maxⱼ (x Wᵀ + b)_(u·pieces + j); g' is 1 for the winning piece (first on a tie).

    Args:
        units: the outputs (each the max of ``pieces`` linear pieces).
        pieces: k, the linear pieces per unit.
        input_dim: the input width, to build at once.
        kernel_init: W's initialiser (W has shape (units·pieces, inputs)).
        seed: seeds this layer's initialisation.
        name: the layer's name in summaries and model files (default: made unique by the model).
    """

    kind = "maxout"

    def __init__(
        self,
        units: int,
        pieces: int = 2,
        input_dim: int | None = None,
        kernel_init: Any = "xavier_uniform",
        seed: int | np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.units = int(units)
        self.pieces = int(pieces)
        self.linear = Dense(
            self.units * self.pieces,
            input_dim=input_dim,
            kernel_init=kernel_init,
            seed=seed,
            name=name,
        )
        self._maxout = activations.get("maxout", pieces=self.pieces)
        self.seed = seed
        self.built = self.linear.built

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        self.linear.build(input_shape, rng)
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        self.ensure_built(x.shape[1:])
        return self._maxout(self.linear(x))

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape[:-1] + (self.units,)

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"units": self.units, "pieces": self.pieces}
        if self.linear.input_dim is not None:
            config["input_dim"] = self.linear.input_dim
        return config

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        schema.check_only(config, ("units", "pieces", "input_dim"), where)
        units = schema.check_int(config.get("units"), f"{where}: units")
        pieces = schema.check_int(config.get("pieces", 2), f"{where}: pieces")
        inputs = schema.check_rows(shape, where)
        _check_input_dim(config, inputs, where)
        width = schema.check_int(units * pieces, f"{where}: units × pieces")
        return (
            {
                "linear.weight": schema.StoredArray((width, inputs)),
                "linear.bias": schema.StoredArray((width,)),
            },
            (units,),
        )


# ---------------------------------------------------------------------- regularisation
@register_layer
class Dropout(Layer):
    """Inverted dropout: in training, each value is zeroed with probability ``rate`` and the
    survivors are scaled by 1/(1 − rate), so eval mode (identity) needs no rescaling.

    The mask of the last call is kept in ``last_mask`` (for inspection and tests).

    Args:
        rate: the probability p of zeroing a value, 0 ≤ p < 1.
        seed: seeds the masks (default: drawn from the model's seed).
        name: the layer's name in summaries and model files (default: made unique by the model).
    """

    kind = "dropout"
    preserves_units = True

    def __init__(
        self, rate: float, seed: int | np.random.Generator | None = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.seed = seed
        self._generator = _rng(seed)
        self.last_mask: np.ndarray | None = None
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        if not self.training or self.rate == 0.0:
            return x
        return dropout(x, self.draw_mask, self.rate)

    def draw_mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """The next keep-mask (True: kept) from the layer's generator; kept in ``last_mask``."""
        keep = self._generator.random(shape) >= self.rate
        self.last_mask = keep
        return keep

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        schema.check_only(config, ("rate",), where)
        schema.check_float(config.get("rate"), f"{where}: rate", lambda v: 0 <= v < 1, "in [0, 1)")
        return {}, shape


@register_layer
class BatchNorm(Layer):
    """Batch normalisation per feature, as PyTorch's BatchNorm1d.

    Training: x̂ = (x − μ_B)/√(σ²_B + ε) with the batch mean and biased variance, y = γx̂ + β,
    and running_mean/var ← (1 − m)·running + m·batch (unbiased variance). Eval: the running
    statistics replace the batch ones.

    Args:
        momentum: m, the weight of each batch in the running statistics.
        eps: ε in the denominator.
        affine: whether the layer learns γ (``weight``) and β (``bias``).
        name: the layer's name in summaries and model files (default: made unique by the model).
    """

    kind = "batch_norm"
    preserves_units = True
    # buffers, set by build through register_buffer
    running_mean: np.ndarray
    running_var: np.ndarray
    num_batches_tracked: np.ndarray

    def __init__(
        self, momentum: float = 0.1, eps: float = 1e-5, affine: bool = True, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.affine = bool(affine)
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None

    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        if len(input_shape) != 1:
            raise ShapeError(f"BatchNorm expects (N, features) inputs, got (N, {input_shape})")
        features = input_shape[0]
        if self.affine:
            self.weight = Parameter(np.ones(features))
            self.bias = Parameter(np.zeros(features))
        dtype = get_default_dtype()
        self.register_buffer("running_mean", np.zeros(features, dtype=dtype))
        self.register_buffer("running_var", np.ones(features, dtype=dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        self.ensure_built(x.shape[1:])
        if self.training:
            count = x.shape[0]
            if count < 2:
                raise ValueError(
                    "BatchNorm needs more than one sample per batch in training mode "
                    f"(got a batch of shape {x.shape})"
                )
            mean = x.mean(axis=0)
            centred = x - mean
            variance = (centred * centred).mean(axis=0)
            m = self.momentum
            unbiased = variance * (count / (count - 1))
            for name, batch in (("running_mean", mean), ("running_var", unbiased)):
                running = self.buffer_tensor(name)
                self.update_buffer(name, ((1 - m) * running + m * batch).astype(running.dtype))
            self.update_buffer(
                "num_batches_tracked",
                mask("count", _plus_one, self.buffer_tensor("num_batches_tracked")),
            )
            normalised = centred / (variance + self.eps).sqrt()
        else:
            mean = self.running_mean.astype(x.dtype)
            inverse = (1.0 / np.sqrt(self.running_var + self.eps)).astype(x.dtype)
            normalised = (x - Tensor._wrap(mean)) * Tensor._wrap(inverse)
        if self.affine:
            return normalised * self.weight + self.bias
        return normalised

    def config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "eps": self.eps, "affine": self.affine}

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        schema.check_only(config, ("momentum", "eps", "affine"), where)
        schema.check_float(config.get("momentum", 0.1), f"{where}: momentum")
        schema.check_float(
            config.get("eps", 1e-5), f"{where}: eps", lambda v: v > 0, "a number > 0"
        )
        features = schema.check_rows(shape, where)
        stored = {}
        if schema.check_bool(config.get("affine", True), f"{where}: affine"):
            stored = {
                "weight": schema.StoredArray((features,)),
                "bias": schema.StoredArray((features,)),
            }
        stored.update(
            {
                "running_mean": schema.StoredArray((features,)),
                "running_var": schema.StoredArray((features,)),
                "num_batches_tracked": schema.StoredArray((), kinds="iu"),
            }
        )
        return stored, shape


def _plus_one(count: np.ndarray) -> np.ndarray:
    return count + 1


@register_layer
class Flatten(Layer):
    """Reshape (N, d₁, d₂, …) to (N, d₁·d₂·…).

    Args:
        name: the layer's name in summaries and model files (default: made unique by the model).
    """

    kind = "flatten"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self.built = True

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x)
        return reshape(x, (x.shape[0], -1))

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)

    @classmethod
    def check_config(cls, config: dict[str, Any], shape: tuple[int, ...], where: str) -> Stored:
        schema.check_only(config, (), where)
        return {}, (schema.check_int(math.prod(shape), f"{where}: the flattened width"),)


__all__ = ["Activation", "BatchNorm", "Dense", "Dropout", "Flatten", "Layer", "Maxout", "PReLU"]
