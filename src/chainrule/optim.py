"""Optimisers: how the gradients g = ∂R/∂θ become updates of the parameters θ (docs/math.md §3).

Every optimiser updates each parameter's ``.data`` in place and keeps its state (momentum
buffers, moment estimates) as arrays of the parameter's own dtype. The first-order rules are
PyTorch's (``torch.optim``), operation for operation (Adam's in the efficient form below, equal up
to rounding), so that PyTorch can serve as the oracle.
With learning rate α, weight decay λ and t the parameter's step count (1 on its first update):

SGD (momentum μ, dampening τ)
    g ← g + λθ;  b ← g on the first step, then b ← μb + (1 − τ)g;
    d ← g + μb (Nesterov) or b (momentum) or g (plain);  θ ← θ − α·d
RMSprop (smoothing ρ = ``alpha``)
    g ← g + λθ;  v ← ρv + (1 − ρ)g²;  centred: ḡ ← ρḡ + (1 − ρ)g, s = √(v − ḡ²) + ε,
    otherwise s = √v + ε;  with momentum μ: b ← μb + g/s, θ ← θ − α·b;  else θ ← θ − α·g/s
Adam (β₁, β₂)
    g ← g + λθ;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  AMSGrad: v̂ ← max(v̂, v)
    (v̂ = v otherwise);  θ ← θ − (α/(1 − β₁ᵗ))·m/(√v̂/√(1 − β₂ᵗ) + ε), computed as
    θ ← θ − (α√(1 − β₂ᵗ)/(1 − β₁ᵗ))·m/(√v̂ + ε√(1 − β₂ᵗ)) (one division per entry, not two)
AdamW
    θ ← θ(1 − αλ) first (decoupled decay), then Adam's update with g unchanged
Adagrad (decay κ = ``lr_decay``)
    g ← g + λθ;  G ← G + g² (G starts at ``initial_accumulator_value``);
    θ ← θ − (α/(1 + (t − 1)κ))·g/(√G + ε)

``clipnorm=c`` rescales all gradients together before the update when their global norm
‖g‖ = √(Σₚ‖gₚ‖²) is too large: g ← g·min(1, c/(‖g‖ + 10⁻⁶)) (``clip_grad_norm``'s formula,
PyTorch's ``clip_grad_norm_``). A gradient holding NaN or ±inf is never applied: ``step()`` raises
``FloatingPointError`` and updates nothing.

Learning-rate schedules map (epoch, α₀) to α; ``set_epoch`` applies one. ``LBFGS`` and
``ConjugateGradient`` minimise the full-batch loss over the flattened parameter vector with SciPy.

Two ways to use an optimiser:

>>> import chainrule as cr
>>> w = cr.tensor([1.0, -2.0], requires_grad=True)
>>> opt = SGD([w], lr=0.1)                 # PyTorch style: parameters first
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
Tensor([ 0.8, -1.6], dtype=float32, requires_grad=True)
>>> opt = get("adam", learning_rate=0.01)   # Keras style: configure now, bind later
>>> opt.bind([w]).lr
0.01
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from ._tensor import Tensor
from .dtypes import all_finite
from .errors import ShapeError
from .grad_mode import enable_grad
from .naming import NameIndex, accepted_parameters, check_parameters, not_a_name, returned_as_is

Schedule = Callable[[int, float], float]
Closure = Callable[[], Any]

# The global-norm formula's guard against division by zero (PyTorch's value).
CLIP_EPSILON = 1e-6


# ---------------------------------------------------------------------- helpers
def _parameter_list(params: Any) -> list[Tensor]:
    """Validate an iterable of tensors that require grad; duplicates dropped, order kept."""
    if isinstance(params, Tensor):
        raise TypeError("params must be an iterable of tensors, got a single tensor; pass [tensor]")
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()  # a model: take its parameters
    try:
        items = list(params)
    except TypeError:
        hint = f" (did you mean lr={params!r}?)" if isinstance(params, (int, float)) else ""
        raise TypeError(
            f"params must be an iterable of tensors, got {type(params).__name__}{hint}"
        ) from None
    if not items:
        raise ValueError("the optimiser got an empty parameter list; there is nothing to train")
    unique: list[Tensor] = []
    seen: set[int] = set()
    for index, item in enumerate(items):
        if isinstance(item, dict):
            raise TypeError("parameter groups (dicts) are not supported; pass the tensors")
        if not isinstance(item, Tensor):
            raise TypeError(f"parameter {index} is a {type(item).__name__}, not a Tensor")
        if not item.requires_grad:
            raise ValueError(
                f"parameter {index} (shape {item.shape}) does not require grad, so it never "
                "gets a gradient; create it with requires_grad=True or leave it out"
            )
        if not item.is_leaf:
            raise ValueError(
                f"parameter {index} (shape {item.shape}) is not a leaf tensor (it was computed "
                f"by '{item.op}'); optimise the tensors it was computed from"
            )
        if id(item) not in seen:
            seen.add(id(item))
            unique.append(item)
    return unique


def _gradient_array(index: int, param: Tensor) -> np.ndarray | None:
    """``param.grad`` as an ndarray of the parameter's dtype and shape (None if no gradient)."""
    grad = param.grad
    if grad is None:
        return None
    array = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
    if array.shape == param.data.shape and array.dtype == param.data.dtype:
        return array  # the usual case, checked first: step() runs this for every parameter
    if array.shape != param.shape:
        raise ShapeError(
            f"parameter {index} has shape {param.shape} but its gradient has shape {array.shape}"
        )
    return array.astype(param.dtype, copy=False)


def _check_finite(index: int, shape: tuple[int, ...], grad: np.ndarray) -> None:
    if all_finite(grad):
        return
    finite = np.isfinite(grad)
    nan = int(np.isnan(grad).sum())
    infinite = grad.size - int(finite.sum()) - nan
    raise FloatingPointError(
        f"the gradient of parameter {index} (shape {shape}) has {nan} NaN and {infinite} "
        "infinite entries; nothing was updated (lower the learning rate, clip gradients with "
        "clipnorm=..., or look for a log of 0 or an overflow in the loss)"
    )


def _global_norm(grads: Iterable[np.ndarray]) -> float:
    """√(Σₚ‖gₚ‖²), computed as the norm of the per-tensor norms (as PyTorch does)."""
    norms = [float(np.linalg.norm(grad.ravel())) for grad in grads]
    return float(np.linalg.norm(np.array(norms, dtype=np.float64))) if norms else 0.0


def _clip_coefficient(norm: float, max_norm: float) -> float:
    """min(1, max_norm/(norm + 10⁻⁶)): the factor that brings the global norm to max_norm."""
    return min(1.0, max_norm / (norm + CLIP_EPSILON))


def _check_max_norm(max_norm: Any) -> float:
    value = float(max_norm)
    if not value > 0:
        raise ValueError(f"the gradient norm limit must be > 0, got {max_norm}")
    return value


def clip_grad_norm(params: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    """Rescale the gradients in place so that their global norm is at most ``max_norm``.

    The global norm is ‖g‖ = √(Σₚ‖gₚ‖²) over every parameter that has a gradient; when
    c = max_norm/(‖g‖ + 10⁻⁶) < 1, every gradient is multiplied by c (PyTorch's
    ``clip_grad_norm_``). Returns ‖g‖ before clipping. A NaN or infinite gradient raises
    ``FloatingPointError`` (PyTorch would scale every gradient by NaN).

    >>> import chainrule as cr
    >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()              # gradient (6, 8), norm 10
    >>> clip_grad_norm([w], 5.0)
    10.0
    >>> w.grad                                # scaled by 5/(10 + 1e-6)
    Tensor([2.9999995, 3.9999995], dtype=float32)
    """
    limit = _check_max_norm(max_norm)
    tensors = [params] if isinstance(params, Tensor) else list(params)
    gradients = [(t, _gradient_array(i, t)) for i, t in enumerate(tensors)]
    pairs = [(t, g) for t, g in gradients if g is not None]
    for index, (tensor_, grad) in enumerate(pairs):
        _check_finite(index, tensor_.shape, grad)
    norm = _global_norm(g for _, g in pairs)
    coefficient = _clip_coefficient(norm, limit)
    if coefficient < 1.0:
        for tensor_, grad in pairs:
            owned = isinstance(tensor_.grad, Tensor) and tensor_.grad.data is grad
            if owned and grad.flags.writeable:
                grad *= coefficient
            else:  # a cast copy or a read-only array: give the tensor a new gradient
                tensor_.grad = Tensor._wrap(grad * coefficient)
    return norm


def _scipy_optimize() -> Any:
    """``scipy.optimize``, imported on first use (SciPy is an optional dependency)."""
    try:
        from scipy import optimize
    except ImportError as error:
        raise ImportError(
            'LBFGS and ConjugateGradient need SciPy: pip install "chainrule[scipy]"'
        ) from error
    return optimize


def _check(name: str, value: Any, condition: Callable[[float], bool], rule: str) -> float:
    number = float(value)
    if not condition(number):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return number


def _non_negative(name: str, value: Any) -> float:
    return _check(name, value, lambda v: v >= 0, "≥ 0")


# ---------------------------------------------------------------------- the base class
class Optimizer:
    """Base class: parameters, learning rate and schedule, gradient checks, clipping, state.

    ``Optimizer(params, lr)`` binds at once (PyTorch style); ``Optimizer(lr=...)`` waits for
    ``bind(params)`` (Keras style, what ``model.compile`` calls). ``learning_rate`` is an alias
    of ``lr``. Subclasses implement ``_update(theta, grad, state)`` for one parameter.

    Args:
        params: the parameters to update (``model.parameters()``), or none to bind later.
        lr: the learning rate α.
        learning_rate: another name for ``lr`` (Keras'); give one of the two.
        clipnorm: rescale the gradients so that their global L2 norm is at most this.
        schedule: a function (epoch, initial_lr) → lr, called at the start of each epoch
            (``InverseTimeDecay``, ``ExponentialDecay``, ``StepDecay``, ``CosineDecay``).

    Raises:
        ValueError: a learning rate or setting outside its range (named in the message).
        TypeError: both ``lr`` and ``learning_rate``, or a schedule that is not callable.
    """

    name: ClassVar[str] = "optimizer"
    # Scalar settings that state_dict saves and __repr__ shows (attributes of the same name).
    hyperparameters: ClassVar[tuple[str, ...]] = ()
    # Per-parameter state entries that state_dict saves as "param{i}.{name}".
    buffers: ClassVar[tuple[str, ...]] = ()
    # True where step() needs a closure that re-evaluates the loss (LBFGS, ConjugateGradient).
    requires_closure: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        lr: float = 0.01,
        *,
        learning_rate: float | None = None,
        clipnorm: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        if learning_rate is not None:
            import inspect  # imported on use: it is slow to import

            default = inspect.signature(type(self).__init__).parameters["lr"].default
            if lr != default:
                raise TypeError("give the learning rate as lr or as learning_rate, not both")
            lr = learning_rate
        self._lr = 0.0
        self.lr = lr
        self.initial_lr: float = self.lr
        self.clipnorm = None if clipnorm is None else _check_max_norm(clipnorm)
        if schedule is not None and not callable(schedule):
            raise TypeError(
                f"schedule must be callable (epoch, initial_lr) -> lr, not {schedule!r}"
            )
        self.schedule = schedule
        self.epoch = 0
        self.iterations = 0  # number of step() calls (Keras' name)
        self.params: list[Tensor] = []
        self.state: list[dict[str, Any]] = []
        self._scratch: dict[tuple[int, int], np.ndarray] = {}
        if params is not None:
            self.bind(params)

    # ------------------------------------------------------------------ learning rate
    @property
    def lr(self) -> float:
        """The current learning rate α (a Python float)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check(
            "the learning rate", value, lambda v: math.isfinite(v) and v >= 0, "finite and ≥ 0"
        )

    @property
    def learning_rate(self) -> float:
        """Alias of ``lr`` (Keras' name)."""
        return self.lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.lr = value

    def set_epoch(self, epoch: int) -> float:
        """Record the epoch and, with a schedule, set lr = schedule(epoch, initial_lr)."""
        epoch = operator.index(epoch)
        if epoch < 0:
            raise ValueError(f"epoch must be ≥ 0, got {epoch}")
        self.epoch = epoch
        if self.schedule is not None:
            self.lr = self.schedule(epoch, self.initial_lr)
        return self.lr

    # ------------------------------------------------------------------ parameters
    @property
    def bound(self) -> bool:
        """True once the optimiser has parameters."""
        return bool(self.params)

    def bind(self, params: Iterable[Tensor]) -> Optimizer:
        """Attach the parameters to train; binding other parameters resets the state."""
        new = _parameter_list(params)
        if [id(p) for p in new] != [id(p) for p in self.params]:
            self.params = new
            self.state = [{} for _ in new]
            self.iterations = 0
            self._scratch = {}
        return self

    def _scratch_for(self, theta: np.ndarray, which: int = 0) -> np.ndarray:
        """A work array shaped like ``theta``, kept between steps (updates allocate nothing)."""
        key = (id(theta), which)
        scratch = self._scratch.get(key)
        if scratch is None or scratch.shape != theta.shape or scratch.dtype != theta.dtype:
            scratch = self._scratch[key] = np.empty_like(theta)
        return scratch

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for param in self.params:
            param.grad = None

    def _require_bound(self) -> list[Tensor]:
        if not self.params:
            cls = type(self).__name__
            raise RuntimeError(
                f"{cls} has no parameters yet: pass them when you create it "
                f"({cls}(params, ...)) or call bind(params) (model.compile does)"
            )
        return self.params

    # ------------------------------------------------------------------ the update
    def step(self, closure: Closure | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given.

        ``closure`` (optional) recomputes the loss and its gradients before the update.
        Gradients are checked first: a NaN or infinite entry raises ``FloatingPointError``
        and no parameter changes. With ``clipnorm`` the gradients are rescaled together.
        """
        params = self._require_bound()
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work: list[tuple[int, Tensor, np.ndarray]] = []
        for index, param in enumerate(params):
            grad = _gradient_array(index, param)
            if grad is not None:
                _check_finite(index, param.shape, grad)
                work.append((index, param, grad))
        self._apply(work)
        return loss

    def _apply(self, work: list[tuple[int, Any, np.ndarray]]) -> None:
        """Clip (with ``clipnorm``) and apply the update to checked (index, param, grad)."""
        if self.clipnorm is not None and work:
            coefficient = _clip_coefficient(_global_norm(g for _, _, g in work), self.clipnorm)
            if coefficient < 1.0:
                work = [(i, p, g * coefficient) for i, p, g in work]
        for index, param, grad in work:
            self._update(param.data, grad, self.state[index])
        self.iterations += 1

    def _update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        """Change ``theta`` in place from its gradient (never modify ``grad``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def _apply_flat(
        self,
        theta: np.ndarray,
        grad: np.ndarray,
        work: list[tuple[int, Any, np.ndarray]],
        kernels: dict[str, Any] | None = None,
    ) -> bool:
        """``_apply`` in one pass when every parameter is a consecutive view of ``theta`` and
        its gradient the same view of ``grad`` (the compiled step lays them out so): the same
        elementwise rule over all entries at once, so the same bits as parameter by parameter.
        The per-parameter state becomes views of one flat state (``state_dict`` unchanged).
        False (nothing done) when the parameters' states differ, e.g. one was never updated.
        """
        state = self._flat_state(theta, len(work) == len(self.params))
        if state is None:
            return False
        if self.clipnorm is not None:
            coefficient = _clip_coefficient(_global_norm(g for _, _, g in work), self.clipnorm)
            if coefficient < 1.0:
                grad = grad * coefficient
        if kernels is None or not self._update_fused(theta, grad, state, kernels):
            self._update(theta, grad, state)
        self._share_flat_state(state)
        self.iterations += 1
        return True

    def _update_fused(
        self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any], kernels: dict[str, Any]
    ) -> bool:
        """``_update`` as one fused loop (``chainrule.fast``), the same bits; False where the
        rule has no fused form."""
        return False

    def _flat_state(self, theta: np.ndarray, complete: bool) -> dict[str, Any] | None:
        """The flat state for ``theta``, built from the parameters' own states if needed."""
        flat = self.__dict__.get("_flat")
        if flat is not None and flat[0] is theta and not flat[1]:
            return flat[1]  # no state to check (plain SGD): what the test below would find
        if (
            flat is not None
            and flat[0] is theta
            and all(
                state.get(key) is view
                for state, views in zip(self.state, flat[2])
                for key, view in views.items()
            )
            and all(
                state.get(key) == value
                for state in self.state
                for key, value in flat[1].items()
                if not isinstance(value, np.ndarray)
            )
        ):
            return flat[1]
        if not complete:
            return None
        keys = set(self.state[0])
        if any(set(state) != keys for state in self.state):
            return None
        merged: dict[str, Any] = {}
        for key in keys:
            values = [state[key] for state in self.state]
            if isinstance(values[0], np.ndarray):
                merged[key] = np.concatenate([v.reshape(-1) for v in values]).astype(
                    theta.dtype, copy=False
                )
            elif any(v != values[0] for v in values):
                return None  # e.g. step counts that differ
            else:
                merged[key] = values[0]
        self.__dict__["_flat"] = (theta, merged, [{} for _ in self.params])
        self._share_flat_state(merged)
        return merged

    def _share_flat_state(self, flat_state: dict[str, Any]) -> None:
        """Every parameter's state: views of the flat arrays, copies of the counters."""
        if not flat_state:
            return
        _, _, views = self.__dict__["_flat"]
        for index, (param, state) in enumerate(zip(self.params, self.state)):
            for key, value in flat_state.items():
                if not isinstance(value, np.ndarray):
                    state[key] = value
                elif key not in views[index]:
                    start = sum(p.size for p in self.params[:index])
                    view = value[start : start + param.size].reshape(param.shape)
                    state[key] = views[index][key] = view

    # ------------------------------------------------------------------ state
    def _scalar_keys(self) -> tuple[str, ...]:
        return ("lr", "initial_lr", "epoch", "iterations", *self.hyperparameters)

    def state_dict(self) -> dict[str, Any]:
        """Settings, counters and per-parameter buffers as plain floats, ints and ndarrays.

        Buffers are copies keyed ``"param{i}.{name}"`` (i the parameter's position), so the
        dict can go to ``np.savez`` and back into ``load_state_dict``.
        """
        state: dict[str, Any] = {key: getattr(self, key) for key in self._scalar_keys()}
        if self.clipnorm is not None:
            state["clipnorm"] = self.clipnorm
        for index, buffers in enumerate(self.state):
            for name, value in buffers.items():
                copied = value.copy() if isinstance(value, np.ndarray) else value
                state[f"param{index}.{name}"] = copied
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved; shapes and keys are checked before any change."""
        cls = type(self).__name__
        missing = [key for key in self._scalar_keys() if key not in state]
        if missing:
            raise ValueError(f"{cls}.load_state_dict: the state lacks {', '.join(missing)}")
        buffers: list[dict[str, Any]] = [{} for _ in self.params]
        unknown = []
        for key, value in state.items():
            if key in self._scalar_keys() or key == "clipnorm":
                continue
            prefix, _, name = key.partition(".")
            if not (prefix.startswith("param") and prefix[5:].isdigit() and name in self.buffers):
                unknown.append(key)
                continue
            index = int(prefix[5:])
            if index >= len(self.params):
                raise ValueError(
                    f"{cls}.load_state_dict: the state has {key!r} but this optimiser has "
                    f"{len(self.params)} parameters" + ("" if self.params else " (bind first)")
                )
            param = self.params[index]
            if name == "step":
                buffers[index][name] = int(value)
                continue
            array = np.asarray(value)
            if array.shape != param.shape:
                raise ValueError(
                    f"{cls}.load_state_dict: {key!r} has shape {array.shape} but parameter "
                    f"{index} has shape {param.shape}"
                )
            buffers[index][name] = np.array(array, dtype=param.dtype, copy=True)
        if unknown:
            raise ValueError(
                f"{cls}.load_state_dict: unknown keys {', '.join(map(repr, sorted(unknown)))} "
                f"(saved by another optimiser?); {cls} saves {', '.join(self._scalar_keys())} "
                f"and per parameter {', '.join(self.buffers) or 'nothing'}"
            )
        for key in self._scalar_keys():
            current = getattr(self, key)
            kind = bool if isinstance(current, bool) else type(current)
            setattr(self, key, kind(state[key]))
        self.clipnorm = None if state.get("clipnorm") is None else float(state["clipnorm"])
        self.state = buffers

    # ------------------------------------------------------------------ display
    def _settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.hyperparameters}

    def __repr__(self) -> str:
        settings: dict[str, Any] = {"lr": self.lr, **self._settings()}
        if self.clipnorm is not None:
            settings["clipnorm"] = self.clipnorm
        if self.schedule is not None:
            settings["schedule"] = self.schedule
        inside = ", ".join(f"{key}={value!r}" for key, value in settings.items())
        return f"{type(self).__name__}({inside})"


# ---------------------------------------------------------------------- first-order methods
class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    g ← g + λθ;  b ← g on the first step, then b ← μb + (1 − τ)g;
    θ ← θ − α·(g + μb) with Nesterov, θ ← θ − α·b with momentum, θ ← θ − α·g without.
    Exactly ``torch.optim.SGD`` (λ = weight_decay, μ = momentum, τ = dampening).

    Args:
        lr: the learning rate α.
        momentum: μ ≥ 0 (0: plain SGD).
        nesterov: Nesterov momentum (needs momentum > 0 and no dampening).
        weight_decay: λ ≥ 0, an L2 term λθ added to the gradient.
        dampening: τ, the share of the new gradient left out of the momentum.
        params, learning_rate, clipnorm, schedule: as for ``Optimizer``.
    """

    name = "sgd"
    hyperparameters = ("momentum", "nesterov", "weight_decay", "dampening")
    buffers = ("momentum",)

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        *,
        learning_rate: float | None = None,
        clipnorm: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.momentum = _non_negative("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.dampening = float(dampening)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(
            params, lr, learning_rate=learning_rate, clipnorm=clipnorm, schedule=schedule
        )

    def _update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * theta
        scratch = self._scratch_for(theta)
        if self.momentum != 0:
            buffer = state.get("momentum")
            if buffer is None:
                buffer = state["momentum"] = grad.copy()
            else:
                buffer *= self.momentum
                buffer += np.multiply(grad, 1 - self.dampening, out=scratch)
            if self.nesterov:  # g + μb
                grad = np.add(grad, np.multiply(buffer, self.momentum, out=scratch), out=scratch)
            else:
                grad = buffer
        theta -= np.multiply(grad, self.lr, out=scratch)

    def _update_fused(
        self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any], kernels: dict[str, Any]
    ) -> bool:
        scalar = theta.dtype.type
        first = self.momentum != 0 and "momentum" not in state
        if first:
            state["momentum"] = np.empty_like(theta)
        kernels["sgd"](
            theta,
            grad,
            state.get("momentum", theta),
            scalar(self.lr),
            scalar(self.weight_decay),
            scalar(self.momentum),
            scalar(1 - self.dampening),
            self.weight_decay != 0,
            self.momentum != 0,
            self.nesterov,
            first,
        )
        return True


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    g ← g + λθ;  v ← ρv + (1 − ρ)g²;  s = √v + ε, or centred s = √(v − ḡ²) + ε with
    ḡ ← ρḡ + (1 − ρ)g;  θ ← θ − α·g/s, or with momentum b ← μb + g/s, θ ← θ − α·b.
    Exactly ``torch.optim.RMSprop`` (ρ = alpha).

    Args:
        lr: the learning rate α.
        alpha: ρ, the decay of the running mean of g².
        eps: ε added to the root mean square.
        momentum: μ ≥ 0.
        centered: divide by the running standard deviation instead (subtracts ḡ²).
        weight_decay: λ ≥ 0.
        params, learning_rate, clipnorm, schedule: as for ``Optimizer``.
    """

    name = "rmsprop"
    hyperparameters = ("alpha", "eps", "momentum", "centered", "weight_decay")
    buffers = ("step", "square_avg", "grad_avg", "momentum")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | None = None,
        clipnorm: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.alpha = _non_negative("alpha", alpha)
        self.eps = _non_negative("eps", eps)
        self.momentum = _non_negative("momentum", momentum)
        self.centered = bool(centered)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        super().__init__(
            params, lr, learning_rate=learning_rate, clipnorm=clipnorm, schedule=schedule
        )

    def _start_step(self, theta: np.ndarray, state: dict[str, Any]) -> None:
        """The state on the first step (zeros), then one more step counted."""
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(theta)
            if self.centered:
                state["grad_avg"] = np.zeros_like(theta)
            if self.momentum > 0:
                state["momentum"] = np.zeros_like(theta)
        state["step"] += 1

    def _update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        self._start_step(theta, state)
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * theta
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * grad * grad
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - self.alpha) * (grad - grad_avg)
            scale = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            scale = np.sqrt(square_avg)
        scale += self.eps
        if self.momentum > 0:
            buffer = state["momentum"]
            buffer *= self.momentum
            buffer += grad / scale
            theta -= self.lr * buffer
        else:
            theta -= self.lr * grad / scale

    def _update_fused(
        self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any], kernels: dict[str, Any]
    ) -> bool:
        self._start_step(theta, state)
        scalar = theta.dtype.type
        kernels["rmsprop"](
            theta,
            grad,
            state["square_avg"],
            state.get("grad_avg", theta),
            state.get("momentum", theta),
            scalar(self.alpha),
            scalar(1 - self.alpha),
            scalar(self.eps),
            scalar(self.lr),
            scalar(self.momentum),
            scalar(self.weight_decay),
            self.weight_decay != 0,
            self.centered,
            self.momentum > 0,
        )
        return True


class Adam(Optimizer):
    """Adam: bias-corrected moving averages of the gradient and of its square.

    g ← g + λθ (L2 decay);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  v̂ = max(v̂, v) with
    AMSGrad, else v;  θ ← θ − (α/(1 − β₁ᵗ))·m/(√v̂/√(1 − β₂ᵗ) + ε).
    ``torch.optim.Adam``'s rule, computed in Kingma & Ba's efficient form (the corrections
    folded into the step size and ε, one division per entry): the same values up to rounding.

    Args:
        lr: the learning rate α.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε.
        weight_decay: λ ≥ 0 (added to the gradient; ``AdamW`` decouples it).
        amsgrad: keep the maximum v̂ of the second moments.
        params, learning_rate, clipnorm, schedule: as for ``Optimizer``.
    """

    name = "adam"
    hyperparameters = ("beta1", "beta2", "eps", "weight_decay", "amsgrad")
    buffers = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled_weight_decay: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        learning_rate: float | None = None,
        clipnorm: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        beta1, beta2 = betas
        self.beta1 = _check("beta1", beta1, lambda v: 0 <= v < 1, "in [0, 1)")
        self.beta2 = _check("beta2", beta2, lambda v: 0 <= v < 1, "in [0, 1)")
        self.eps = _non_negative("eps", eps)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)
        super().__init__(
            params, lr, learning_rate=learning_rate, clipnorm=clipnorm, schedule=schedule
        )

    @property
    def betas(self) -> tuple[float, float]:
        return (self.beta1, self.beta2)

    def _settings(self) -> dict[str, Any]:
        return {
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "amsgrad": self.amsgrad,
        }

    def _start_step(self, theta: np.ndarray, state: dict[str, Any]) -> None:
        """The state on the first step (zeros), then one more step counted."""
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(theta)
            state["exp_avg_sq"] = np.zeros_like(theta)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(theta)
        state["step"] += 1

    def _update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        self._start_step(theta, state)
        step = state["step"]
        if self.weight_decay != 0:
            if self.decoupled_weight_decay:
                theta *= 1 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * theta
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        work, denominator = self._scratch_for(theta), self._scratch_for(theta, 1)
        # The same operations, in the same order, as the textbook lines in the comments, but
        # into two kept work arrays instead of fresh temporaries.
        np.subtract(grad, exp_avg, out=work)  # m += (1 − β₁)(g − m)
        work *= 1 - self.beta1
        exp_avg += work
        exp_avg_sq *= self.beta2  # v = β₂v + (1 − β₂)g·g
        np.multiply(grad, 1 - self.beta2, out=work)
        work *= grad
        exp_avg_sq += work
        second_moment = exp_avg_sq
        if self.amsgrad:
            second_moment = state["max_exp_avg_sq"]
            np.maximum(second_moment, exp_avg_sq, out=second_moment)
        step_size, eps = self._corrected(step)
        np.sqrt(second_moment, out=denominator)  # √v̂ + ε√(1 − β₂ᵗ)
        denominator += eps
        np.multiply(exp_avg, step_size, out=work)  # θ −= (α√(1 − β₂ᵗ)/(1 − β₁ᵗ))·m / denominator
        work /= denominator
        theta -= work

    def _corrected(self, step: int) -> tuple[float, float]:
        """The bias corrections folded into two scalars (Kingma & Ba's efficient form):
        α√(1 − β₂ᵗ)/(1 − β₁ᵗ) and ε√(1 − β₂ᵗ), so that the update divides once per entry:
        α/(1 − β₁ᵗ)·m/(√v̂/√(1 − β₂ᵗ) + ε) = α√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/(√v̂ + ε√(1 − β₂ᵗ))."""
        bias_correction2_sqrt = (1 - self.beta2**step) ** 0.5
        return (
            self.lr * bias_correction2_sqrt / (1 - self.beta1**step),
            self.eps * bias_correction2_sqrt,
        )

    def _update_fused(
        self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any], kernels: dict[str, Any]
    ) -> bool:
        self._start_step(theta, state)
        step_size, eps = self._corrected(state["step"])
        scalar = theta.dtype.type
        decay = self.weight_decay != 0
        kernels["adam"](
            theta,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state.get("max_exp_avg_sq", theta),
            scalar(1 - self.beta1),
            scalar(self.beta2),
            scalar(1 - self.beta2),
            scalar(step_size),
            scalar(eps),
            scalar(self.weight_decay),
            scalar(1 - self.lr * self.weight_decay),
            decay and not self.decoupled_weight_decay,
            decay and self.decoupled_weight_decay,
            self.amsgrad,
        )
        return True


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 − αλ) first, then Adam's update (λ = 0.01).

    ``torch.optim.AdamW``'s rule (Adam's efficient form: equal up to rounding).

    Args:
        lr, betas, eps, amsgrad: as for ``Adam``.
        weight_decay: λ ≥ 0, applied as θ ← θ(1 − αλ).
        params, learning_rate, clipnorm, schedule: as for ``Optimizer``.
    """

    name = "adamw"
    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        *,
        learning_rate: float | None = None,
        clipnorm: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            learning_rate=learning_rate,
            clipnorm=clipnorm,
            schedule=schedule,
        )


class Adagrad(Optimizer):
    """Adagrad: per-entry learning rates shrinking with the sum of squared gradients.

    g ← g + λθ;  G ← G + g²;  θ ← θ − (α/(1 + (t − 1)κ))·g/(√G + ε), G₀ =
    initial_accumulator_value, κ = lr_decay. Exactly ``torch.optim.Adagrad``.

    Args:
        lr: the learning rate α.
        lr_decay: κ ≥ 0.
        weight_decay: λ ≥ 0.
        initial_accumulator_value: G₀ ≥ 0.
        eps: ε.
        params, learning_rate, clipnorm, schedule: as for ``Optimizer``.
    """

    name = "adagrad"
    hyperparameters = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    buffers = ("step", "sum")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        learning_rate: float | None = None,
        clipnorm: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.lr_decay = _non_negative("lr_decay", lr_decay)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.initial_accumulator_value = _non_negative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.eps = _non_negative("eps", eps)
        super().__init__(
            params, lr, learning_rate=learning_rate, clipnorm=clipnorm, schedule=schedule
        )

    def _decayed_lr(self, step: int) -> float:
        """α/(1 + (t − 1)κ) for step t."""
        return self.lr / (1 + (step - 1) * self.lr_decay)

    def _start_step(self, theta: np.ndarray, state: dict[str, Any]) -> None:
        """The accumulator on the first step, then one more step counted."""
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(theta, self.initial_accumulator_value)
        state["step"] += 1

    def _update(self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        self._start_step(theta, state)
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * theta
        decayed_lr = self._decayed_lr(state["step"])
        accumulator = state["sum"]
        accumulator += grad * grad
        scale = np.sqrt(accumulator)
        scale += self.eps
        theta -= decayed_lr * grad / scale

    def _update_fused(
        self, theta: np.ndarray, grad: np.ndarray, state: dict[str, Any], kernels: dict[str, Any]
    ) -> bool:
        self._start_step(theta, state)
        scalar = theta.dtype.type
        decayed_lr = self._decayed_lr(state["step"])
        kernels["adagrad"](
            theta,
            grad,
            state["sum"],
            scalar(decayed_lr),
            scalar(self.eps),
            scalar(self.weight_decay),
            self.weight_decay != 0,
        )
        return True


# ---------------------------------------------------------------------- full-batch, via SciPy
class _ScipyMinimizer(Optimizer):
    """Minimise the full-batch loss over the flattened parameters with ``scipy.optimize``."""

    method: ClassVar[str]
    requires_closure = True

    def __init__(self, params: Iterable[Tensor] | None, max_iter: int, tol: float) -> None:
        _scipy_optimize()  # fail now, not in the middle of training
        self.max_iter = operator.index(max_iter)
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be ≥ 1, got {max_iter}")
        self.tol = _check("tol", tol, lambda v: v > 0, "> 0")
        super().__init__(params, lr=1.0)

    def _options(self) -> dict[str, Any]:
        return {"maxiter": self.max_iter}

    def step(self, closure: Closure | None = None) -> Any:
        """Same as ``minimize(closure)`` (PyTorch's name); the closure is required."""
        if closure is None:
            raise TypeError(
                f"{type(self).__name__}.step() needs a closure: a function that zeroes the "
                "gradients, computes the loss, calls loss.backward() and returns the loss "
                "(these methods evaluate the loss many times per step)"
            )
        return self.minimize(closure)

    def _write(self, vector: np.ndarray) -> None:
        offset = 0
        for param in self.params:
            size = param.data.size
            param.data[...] = vector[offset : offset + size].reshape(param.shape)
            offset += size

    def _flat_gradient(self) -> np.ndarray:
        parts = []
        for index, param in enumerate(self.params):
            grad = _gradient_array(index, param)
            parts.append(np.zeros(param.data.size) if grad is None else grad.ravel())
        if all(param.grad is None for param in self.params):
            raise RuntimeError(
                "the closure left no gradient: it must compute the loss, call loss.backward() "
                "and return the loss"
            )
        return np.concatenate(parts).astype(np.float64)

    def minimize(self, closure: Closure) -> Any:
        """Run SciPy's minimiser from the current parameters; returns its ``OptimizeResult``.

        ``closure()`` must compute the loss tensor, call ``backward()`` and return the loss
        (gradients are zeroed before each call). The parameters end at the point of lowest loss
        seen, written in place in their own dtype; ``result.x``/``result.fun`` describe it.
        """
        optimize = _scipy_optimize()
        params = self._require_bound()
        start = np.concatenate([p.data.ravel() for p in params]).astype(np.float64)
        best: dict[str, Any] = {"fun": math.inf}

        def objective(vector: np.ndarray) -> tuple[float, np.ndarray]:
            self._write(vector)
            self.zero_grad()
            with enable_grad():
                loss = closure()
            if loss is None:
                raise TypeError("the closure must return the loss (a one-element tensor)")
            value = float(loss.item() if isinstance(loss, Tensor) else loss)
            gradient = self._flat_gradient()
            if value < best["fun"] and np.isfinite(gradient).all():
                best.update(fun=value, x=vector.copy(), jac=gradient.copy())
            return value, gradient

        first_value, first_gradient = objective(start)
        if not (math.isfinite(first_value) and np.isfinite(first_gradient).all()):
            raise FloatingPointError(
                "the loss or its gradient is NaN/inf at the starting parameters"
            )
        result = optimize.minimize(
            objective, start, jac=True, method=self.method, tol=self.tol, options=self._options()
        )
        if best["fun"] < result.fun or not np.isfinite(result.fun):
            result.x, result.fun, result.jac = best["x"], best["fun"], best["jac"]
        self._write(result.x)
        self.iterations += int(result.nit)
        return result


class LBFGS(_ScipyMinimizer):
    """Limited-memory BFGS (``scipy.optimize.minimize(method="L-BFGS-B")``), full batch.

    Builds an approximation of the inverse Hessian from the last ``history_size`` pairs
    (Δθ, Δg) and searches along −H⁻¹g with a line search. ``tol`` bounds the relative decrease
    of the loss and the projected gradient at convergence.
    """

    name = "lbfgs"
    method = "L-BFGS-B"
    hyperparameters = ("max_iter", "tol", "history_size")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        max_iter: int = 100,
        tol: float = 1e-9,
        history_size: int = 10,
    ) -> None:
        self.history_size = operator.index(history_size)
        if self.history_size < 1:
            raise ValueError(f"history_size must be ≥ 1, got {history_size}")
        super().__init__(params, max_iter, tol)

    def _options(self) -> dict[str, Any]:
        return {"maxiter": self.max_iter, "maxcor": self.history_size}


class ConjugateGradient(_ScipyMinimizer):
    """Non-linear conjugate gradient, Polak–Ribière (``scipy.optimize.minimize(method="CG")``).

    Each direction is the negative gradient plus β times the previous direction,
    β = gₖᵀ(gₖ − gₖ₋₁)/‖gₖ₋₁‖²; stops when ‖g‖∞ < ``tol`` or after ``max_iter`` iterations.
    """

    name = "cg"
    method = "CG"
    hyperparameters = ("max_iter", "tol")

    def __init__(
        self, params: Iterable[Tensor] | None = None, max_iter: int = 100, tol: float = 1e-9
    ) -> None:
        super().__init__(params, max_iter, tol)


# ---------------------------------------------------------------------- learning-rate schedules
class InverseTimeDecay:
    """α = α₀/(1 + decay·epoch) (the learning-rate decay of docs/math.md §3).

    >>> InverseTimeDecay(0.5)(2, 0.1)
    0.05
    """

    def __init__(self, decay: float) -> None:
        self.decay = _non_negative("decay", decay)

    def __call__(self, epoch: int, initial_lr: float) -> float:
        return initial_lr / (1 + self.decay * _epoch(epoch))

    def __repr__(self) -> str:
        return f"InverseTimeDecay(decay={self.decay!r})"


class ExponentialDecay:
    """α = α₀·γ^epoch.

    >>> ExponentialDecay(0.5)(3, 1.0)
    0.125
    """

    def __init__(self, gamma: float) -> None:
        self.gamma = _check("gamma", gamma, lambda v: v > 0, "> 0")

    def __call__(self, epoch: int, initial_lr: float) -> float:
        return initial_lr * self.gamma ** _epoch(epoch)

    def __repr__(self) -> str:
        return f"ExponentialDecay(gamma={self.gamma!r})"


class StepDecay:
    """α = α₀·γ^⌊epoch/step_size⌋ (multiply by γ every ``step_size`` epochs).

    >>> [StepDecay(2, gamma=0.5)(epoch, 1.0) for epoch in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = operator.index(step_size)
        if self.step_size < 1:
            raise ValueError(f"step_size must be ≥ 1, got {step_size}")
        self.gamma = _check("gamma", gamma, lambda v: v > 0, "> 0")

    def __call__(self, epoch: int, initial_lr: float) -> float:
        return initial_lr * self.gamma ** (_epoch(epoch) // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay(step_size={self.step_size!r}, gamma={self.gamma!r})"


class CosineDecay:
    """α = α_min + ½(α₀ − α_min)(1 + cos(π·e/E)), e = min(epoch, E), E = total_epochs.

    Falls from α₀ at epoch 0 to α_min at epoch E and stays there.

    >>> CosineDecay(4)(2, 1.0)
    0.5
    """

    def __init__(self, total_epochs: int, min_lr: float = 0.0) -> None:
        self.total_epochs = operator.index(total_epochs)
        if self.total_epochs < 1:
            raise ValueError(f"total_epochs must be ≥ 1, got {total_epochs}")
        self.min_lr = _non_negative("min_lr", min_lr)

    def __call__(self, epoch: int, initial_lr: float) -> float:
        progress = min(_epoch(epoch), self.total_epochs) / self.total_epochs
        return self.min_lr + 0.5 * (initial_lr - self.min_lr) * (1 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return f"CosineDecay(total_epochs={self.total_epochs!r}, min_lr={self.min_lr!r})"


def _epoch(epoch: int) -> int:
    value = operator.index(epoch)
    if value < 0:
        raise ValueError(f"epoch must be ≥ 0, got {epoch}")
    return value


# ---------------------------------------------------------------------- registry
# name -> (class, preset parameters)
_CATALOG: dict[str, tuple[type[Optimizer], dict[str, Any]]] = {}
_index = NameIndex("optimizer")


def register(
    name: str,
    cls: type[Optimizer],
    preset: dict[str, Any] | None = None,
    aliases: tuple[str, ...] = (),
    replace: bool = False,
) -> type[Optimizer]:
    """Make ``get(name)`` build ``cls(**preset, **params)``; returns the class.

    ``preset`` fixes defaults of a named variant ("momentum" is SGD with momentum 0.9);
    ``aliases`` are other accepted spellings. A taken name is an error unless ``replace``.
    """
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"an optimiser class is a subclass of Optimizer, not {cls!r}")
    check_parameters(name, accepted_parameters(cls), dict(preset or {}))
    _index.add(name, tuple(aliases), replace=replace)
    _CATALOG[name] = (cls, dict(preset or {}))
    return cls


def unregister(name: str) -> None:
    """Take the optimiser ``name`` (and its aliases) out of the registry."""
    del _CATALOG[_index.remove(name)]


register("sgd", SGD, aliases=("gradient_descent",))
register("momentum", SGD, {"momentum": 0.9})
register("nesterov", SGD, {"momentum": 0.9, "nesterov": True})
register("rmsprop", RMSprop)
register("adam", Adam)
register("adamw", AdamW)
register("adagrad", Adagrad)
register("lbfgs", LBFGS, aliases=("l-bfgs", "l-bfgs-b"))
register("cg", ConjugateGradient, aliases=("conjugate_gradient",))


def names() -> list[str]:
    """The canonical optimiser names ``get`` accepts (aliases aside)."""
    return _index.names()


def optimizer_class(name: str) -> type[Optimizer]:
    """The class of the optimiser called ``name`` (as ``get`` resolves it), without building
    one: L-BFGS and CG need SciPy only when they are built.

    >>> optimizer_class("nesterov").__name__
    'SGD'
    """
    if not isinstance(name, str):
        raise not_a_name("an optimizer is a name or an Optimizer object", name)
    return _CATALOG[_index.resolve(name)][0]


def get(name: str | Optimizer | type[Optimizer], **params: Any) -> Optimizer:
    """The optimiser called ``name`` (case, '_' and '-' ignored), built with ``params``.

    "momentum" is SGD with momentum 0.9 and "nesterov" adds Nesterov's look-ahead (both
    overridable). An ``Optimizer`` object is returned as it is; a class is instantiated.

    >>> get("Nesterov", lr=0.05)
    SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.0, dampening=0.0)
    """
    if isinstance(name, Optimizer):
        return returned_as_is(name, params, "an optimiser")
    preset: dict[str, Any]
    if isinstance(name, type) and issubclass(name, Optimizer):
        cls, preset, label = name, {}, name.__name__
    elif isinstance(name, str):
        label = _index.resolve(name)
        cls, preset = _CATALOG[label]
    else:
        raise not_a_name("an optimizer is a name or an Optimizer object", name)
    check_parameters(label, accepted_parameters(cls), params)
    return cls(**{**preset, **params})


__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "ConjugateGradient",
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LBFGS",
    "Optimizer",
    "RMSprop",
    "StepDecay",
    "clip_grad_norm",
    "get",
    "optimizer_class",
    "names",
    "register",
    "unregister",
]
