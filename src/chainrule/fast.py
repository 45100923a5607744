"""Fused elementwise kernels compiled with Numba: the optional ``fast`` extra.

``compile(..., kernels="numba")`` makes the compiled step update all parameters with one loop
per optimiser step instead of a NumPy call per operation (Adam is nine passes over the
parameters in NumPy, one here). The contract is **bit-identity** with the NumPy rules in
``chainrule.optim``: every kernel performs the same IEEE operations in the same order on the
same dtype (float32 scalars for float32 parameters, as NumPy's weak Python scalars give), with
no fast-math (no reassociation, no fused multiply-add), so the tests compare every optimiser's
parameters after many steps with ``np.array_equal``.

Numba is imported only when these kernels are asked for (``load()``), never by
``import chainrule``; the kernels are compiled on first use and cached on disk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_KERNELS: dict[str, Any] | None = None


def load() -> dict[str, Any]:
    """The compiled kernels by name (``ImportError`` naming the extra without Numba)."""
    global _KERNELS
    if _KERNELS is None:
        try:
            import numba
        except ImportError as error:
            raise ImportError('kernels="numba" needs Numba: pip install "chainrule[fast]"'
                              ) from error
        _KERNELS = _compile(numba)
    return _KERNELS


def _compile(numba: Any) -> dict[str, Any]:
    jit = numba.njit(cache=True, error_model="numpy", nogil=True)

    @jit
    def sgd(theta, grad, buffer, lr, weight_decay, momentum, damped, decay, with_momentum,
            nesterov, first):  # pragma: no cover - compiled by Numba
        """g ← g + λθ; b ← g (first) or μb + (1 − τ)g; d ← g + μb or b or g; θ ← θ − α·d."""
        for i in range(theta.size):
            g = grad[i]
            if decay:
                g = g + weight_decay * theta[i]
            if with_momentum:
                if first:
                    b = g
                else:
                    b = buffer[i] * momentum + g * damped
                buffer[i] = b
                if nesterov:
                    g = g + b * momentum
                else:
                    g = b
            theta[i] = theta[i] - g * lr

    @jit
    def adam(theta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1, beta2,
             one_minus_beta2, step_size, bias_correction2_sqrt, eps, weight_decay, shrink,
             coupled, decoupled, amsgrad):  # pragma: no cover - compiled by Numba
        """θ ← θ(1 − αλ) (AdamW) or g ← g + λθ; m += (1 − β₁)(g − m); v = β₂v + (1 − β₂)g·g;
        v̂ = max(v̂, v) (AMSGrad); θ −= (α/(1 − β₁ᵗ))·m / (√v̂/√(1 − β₂ᵗ) + ε)."""
        for i in range(theta.size):
            t = theta[i]
            if decoupled:
                t = t * shrink
            g = grad[i]
            if coupled:
                g = g + weight_decay * t
            m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
            exp_avg[i] = m
            v = exp_avg_sq[i] * beta2 + (g * one_minus_beta2) * g
            exp_avg_sq[i] = v
            if amsgrad:
                if max_exp_avg_sq[i] >= v:
                    v = max_exp_avg_sq[i]
                max_exp_avg_sq[i] = v
            denominator = np.sqrt(v) / bias_correction2_sqrt + eps
            theta[i] = t - (m * step_size) / denominator

    @jit
    def rmsprop(theta, grad, square_avg, grad_avg, buffer, alpha, one_minus_alpha, eps, lr,
                momentum, weight_decay, decay, centered,
                with_momentum):  # pragma: no cover - compiled by Numba
        """g ← g + λθ; v ← ρv + (1 − ρ)g²; ḡ ← ḡ + (1 − ρ)(g − ḡ) (centred); s = √(v − ḡ²) + ε
        or √v + ε; b ← μb + g/s, θ ← θ − α·b, or θ ← θ − α·g/s."""
        for i in range(theta.size):
            g = grad[i]
            if decay:
                g = g + weight_decay * theta[i]
            v = square_avg[i] * alpha + (one_minus_alpha * g) * g
            square_avg[i] = v
            if centered:
                mean = grad_avg[i] + one_minus_alpha * (g - grad_avg[i])
                grad_avg[i] = mean
                scale = np.sqrt(v - mean * mean) + eps
            else:
                scale = np.sqrt(v) + eps
            if with_momentum:
                b = buffer[i] * momentum + g / scale
                buffer[i] = b
                theta[i] = theta[i] - lr * b
            else:
                theta[i] = theta[i] - (lr * g) / scale

    @jit
    def adagrad(theta, grad, accumulator, decayed_lr, eps, weight_decay,
                decay):  # pragma: no cover - compiled by Numba
        """g ← g + λθ; G ← G + g²; θ ← θ − (α/(1 + (t − 1)κ))·g/(√G + ε)."""
        for i in range(theta.size):
            g = grad[i]
            if decay:
                g = g + weight_decay * theta[i]
            total = accumulator[i] + g * g
            accumulator[i] = total
            theta[i] = theta[i] - (decayed_lr * g) / (np.sqrt(total) + eps)

    return {"sgd": sgd, "adam": adam, "rmsprop": rmsprop, "adagrad": adagrad}


__all__ = ["load"]
