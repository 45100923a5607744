"""Fused elementwise kernels compiled with Numba: the optional ``fast`` extra.

``compile(..., kernels="numba")`` makes the compiled step update all parameters with one loop
per optimiser step instead of a NumPy call per operation (Adam is nine passes over the
parameters in NumPy, one here), and fuses the elementwise chains of the program itself
(``chainrule.compiler``'s fusion pass):

- **bias + activation** (forward): Z = X Wᵀ by BLAS, then one pass a = g(Z + b) in place,
  for ReLU: ``max(z + b, 0)`` (NaN kept, ``max(−0.0, 0) = +0.0`` as ``np.maximum``);
- **the finiteness check** of the flat gradient before the update (one boolean pass instead
  of BLAS's Σg², which the NumPy path uses);
- **g ⊙ f'(a)** (backward) for the slopes written from the output: ReLU 1[a > 0] (NaN where
  a is NaN), tanh 1 − a·a, sigmoid a(1 − a), one pass instead of the slope's temporaries and
  the product; when the layer's bias gradient is the Σ over rows of that product, the same
  pass sums it too (``slope_times_sum``, in NumPy's order for a sum over axis 0: 0 + row 0,
  then each next row).

The contract is **bit-identity** with the NumPy rules (``chainrule.optim``, the activation
catalog): every kernel performs the same IEEE operations in the same order on the same dtype
(float32 scalars for float32 arrays, as NumPy's weak Python scalars give), with no fast-math
(no reassociation, no fused multiply-add), so the tests compare every optimiser's parameters
after many steps, and every fused kernel against its NumPy twin, with ``np.array_equal``.
Nothing that calls a transcendental function (exp, log, tanh itself) is fused: Numba's libm
and NumPy's SIMD versions may differ by an ulp, so those stay NumPy calls. The compiler also
runs each fused kernel once on the traced step and keeps it only when it reproduces the eager
bits there.

Two kinds of kernel are outside that contract, by design. The softmax cross-entropy from
logits, ``shift_by_max`` → NumPy's exp → ``softmax_cross_entropy`` (the loss, leaving the
softmax) and ``softmax_cross_entropy_grad`` (g·(p·Σy − y)), replaces the loss's nine NumPy
kernels (``chainrule.fused_loss`` decides where): it calls Numba's log and sums in loop
order, so it agrees with them to rounding (within 16 ε in the tests; ~6 ε measured), not bit
for bit. And ``dense_network``, the whole forward and
backward pass of a small Dense network in one call (``chainrule.dense_step`` decides where it
is used). For such networks the step is made of calls, not arithmetic (XOR's 2-8-1 step:
~16 NumPy calls, ~50 µs; the kernel ~2 µs), so it sums products in loop order and calls
Numba's tanh and exp: its gradients agree with the NumPy kernels to rounding (checked on the
traced step within ``dense_step.ULPS`` epsilons of the largest gradient), not bit for bit.

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
            raise ImportError(
                'kernels="numba" needs Numba: pip install "chainrule[fast]"'
            ) from error
        _KERNELS = _compile(numba)
    return _KERNELS


def _compile(numba: Any) -> dict[str, Any]:
    jit = numba.njit(cache=True, error_model="numpy", nogil=True)

    @jit
    def sgd(
        theta,
        grad,
        buffer,
        lr,
        weight_decay,
        momentum,
        damped,
        decay,
        with_momentum,
        nesterov,
        first,
    ):  # pragma: no cover - compiled by Numba
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
    def adam(
        theta,
        grad,
        exp_avg,
        exp_avg_sq,
        max_exp_avg_sq,
        one_minus_beta1,
        beta2,
        one_minus_beta2,
        step_size,
        eps,
        weight_decay,
        shrink,
        coupled,
        decoupled,
        amsgrad,
    ):  # pragma: no cover - compiled by Numba
        """θ ← θ(1 − αλ) (AdamW) or g ← g + λθ; m += (1 − β₁)(g − m); v = β₂v + (1 − β₂)g·g;
        v̂ = max(v̂, v) (AMSGrad); θ −= s·m / (√v̂ + ε̂) with the corrected step size
        s = α√(1 − β₂ᵗ)/(1 − β₁ᵗ) and ε̂ = ε√(1 − β₂ᵗ) (``Adam._corrected``)."""
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
            denominator = np.sqrt(v) + eps
            theta[i] = t - (m * step_size) / denominator

    @jit
    def rmsprop(
        theta,
        grad,
        square_avg,
        grad_avg,
        buffer,
        alpha,
        one_minus_alpha,
        eps,
        lr,
        momentum,
        weight_decay,
        decay,
        centered,
        with_momentum,
    ):  # pragma: no cover - compiled by Numba
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
    def adagrad(
        theta, grad, accumulator, decayed_lr, eps, weight_decay, decay
    ):  # pragma: no cover - compiled by Numba
        """g ← g + λθ; G ← G + g²; θ ← θ − (α/(1 + (t − 1)κ))·g/(√G + ε)."""
        for i in range(theta.size):
            g = grad[i]
            if decay:
                g = g + weight_decay * theta[i]
            total = accumulator[i] + g * g
            accumulator[i] = total
            theta[i] = theta[i] - (decayed_lr * g) / (np.sqrt(total) + eps)

    @jit
    def all_finite(values):  # pragma: no cover - compiled by Numba
        """True when every entry is finite: v − v is 0 exactly then (NaN for ±∞ and NaN), an
        AND over booleans, which vectorises (a float sum would need reassociation)."""
        finite = True
        for i in range(values.size):
            finite &= (values[i] - values[i]) == 0
        return finite

    @jit
    def shift_by_max(z, s):  # pragma: no cover - compiled by Numba
        """Per row m = max z (NaN if a NaN is among them) and sⱼ = 0 where zⱼ = m, else
        zⱼ − m (the log-softmax's shift: also right when m is ±∞)."""
        rows, classes = z.shape
        zero = s.dtype.type(0)
        for r in range(rows):
            top = z[r, 0]
            for j in range(1, classes):
                v = z[r, j]
                if top == top and (v > top or v != v):
                    top = v
            for j in range(classes):
                v = z[r, j]
                s[r, j] = v - top if v != top else zero

    @jit
    def softmax_cross_entropy(s, p, y, scale):  # pragma: no cover - compiled by Numba
        """Mean softmax cross-entropy from the shifted logits s and p = e^s (NumPy's exp, one
        call between this kernel and ``shift_by_max``): per row ℓ = log Σⱼ pⱼ and
        lossᵣ = −Σⱼ yⱼ(sⱼ − ℓ); returns scale·Σᵣ lossᵣ (scale = 1/rows) and leaves the
        softmax pⱼ/Σₖpₖ in ``p`` for the gradient."""
        rows, classes = s.shape
        zero = scale - scale
        total = zero
        for r in range(rows):
            exps = zero
            for j in range(classes):
                exps += p[r, j]
            log_total = np.log(exps)
            loss = zero
            for j in range(classes):
                loss += y[r, j] * (s[r, j] - log_total)
                p[r, j] = p[r, j] / exps
            total += -loss
        return total * scale

    @jit
    def softmax_cross_entropy_grad(y, g, p, out, column_sum):  # pragma: no cover - Numba
        """∂L/∂z = g·(p·Σⱼyⱼ − y), with p the softmax from the forward call and g the upstream
        gradient of each row's loss (rows × 1), in the order of the NumPy kernels; unless
        ``column_sum`` is empty, also its Σ over the rows (the output bias's gradient) in
        NumPy's order for a sum over axis 0 (0 + row 0, then each next row)."""
        rows, classes = y.shape
        summing = column_sum.size > 0
        total = np.zeros(classes if summing else 0, out.dtype)
        for r in range(rows):
            total_y = y[r, 0] - y[r, 0]
            for j in range(classes):
                total_y += y[r, j]
            for j in range(classes):
                v = g[r, 0] * (p[r, j] * total_y - y[r, j])
                out[r, j] = v
                if summing:
                    total[j] += v
        if summing:
            column_sum[:] = total

    @jit
    def dense_network(
        x, target, theta, grad, layout, codes, loss_code, scale, one, outputs, deltas, prediction
    ):  # pragma: no cover - compiled by Numba
        """Forward, loss and backward of a Dense network in one call; returns the loss.

        Layer l (a row of ``layout``: offsets of W and b in θ and in the gradient, n_in, n_out,
        the columns of its input and output in ``outputs``) computes aₗ = g(aₗ₋₁Wᵀ + b) with
        g coded 0 identity, 1 ReLU, 2 tanh, 3 σ; the last is the identity (logits z). Loss 0:
        mean (z − t)² with δ = 2(z − t)/N; 1: binary cross-entropy from logits,
        mean max(z, 0) − zt + log1p(e^(−|z|)) with δ = (σ(z) − t)/N; 2: softmax cross-entropy
        from logits, mean over rows of logsumexp(z)·Σt − ⟨t, z⟩ with δ = (softmax(z)·Σt − t)/n
        (``scale`` is 1/N). Backward: ∂W = δᵀaₗ₋₁, ∂b = Σ δ, δₗ₋₁ = (δW) ⊙ g'(aₗ₋₁) from the
        output (1[a > 0], 1 − a², a(1 − a)). Products are summed in loop order, not BLAS's,
        and tanh, exp, log1p are Numba's: the result agrees with the NumPy program to
        rounding, not bit for bit (``chainrule.dense_step`` checks it on the traced step).
        """
        rows = x.shape[0]
        zero = one - one
        outputs[:, : x.shape[1]] = x
        layers = layout.shape[0]
        for layer in range(layers):
            w, b, n_in, n_out = (
                layout[layer, 0],
                layout[layer, 1],
                layout[layer, 4],
                layout[layer, 5],
            )
            first, out = layout[layer, 6], layout[layer, 7]
            code = codes[layer]
            for r in range(rows):
                for j in range(n_out):
                    total = zero
                    for i in range(n_in):
                        total += outputs[r, first + i] * theta[w + j * n_in + i]
                    z = total + theta[b + j]
                    if code == 1:
                        z = z if (z > zero or z != z) else zero  # NaN kept, as np.maximum
                    elif code == 2:
                        z = np.tanh(z)
                    elif code == 3:
                        e = np.exp(-abs(z))
                        z = (one if z >= zero else e) / (one + e)
                    outputs[r, out + j] = z
        n_out, out = layout[layers - 1, 5], layout[layers - 1, 7]
        delta = deltas[0]
        loss = zero
        for r in range(rows):
            top, exps, mass = zero, one, zero
            if loss_code == 2:
                top = outputs[r, out]
                for j in range(1, n_out):
                    top = max(top, outputs[r, out + j])
                exps = zero
                inner = zero
                for j in range(n_out):
                    exps += np.exp(outputs[r, out + j] - top)
                    mass += target[r, j]
                    inner += target[r, j] * outputs[r, out + j]
                loss += (top + np.log(exps)) * mass - inner
            for j in range(n_out):
                z = outputs[r, out + j]
                prediction[r, j] = z
                t = target[r, j]
                if loss_code == 0:
                    loss += (z - t) * (z - t)
                    delta[r, j] = (z - t) * (one + one) * scale
                elif loss_code == 1:
                    e = np.exp(-abs(z))
                    loss += max(z, zero) - z * t + np.log1p(e)
                    delta[r, j] = ((one if z >= zero else e) / (one + e) - t) * scale
                else:
                    delta[r, j] = (np.exp(z - top) / exps * mass - t) * scale
        current = 0
        for layer in range(layers - 1, -1, -1):
            w, b, gw, gb = layout[layer, 0], layout[layer, 1], layout[layer, 2], layout[layer, 3]
            n_in, n_out, first = layout[layer, 4], layout[layer, 5], layout[layer, 6]
            delta = deltas[current]
            for j in range(n_out):
                total = zero
                for r in range(rows):
                    total += delta[r, j]
                grad[gb + j] = total
                for i in range(n_in):
                    total = zero
                    for r in range(rows):
                        total += delta[r, j] * outputs[r, first + i]
                    grad[gw + j * n_in + i] = total
            if layer:
                below = deltas[1 - current]
                code = codes[layer - 1]
                for r in range(rows):
                    for i in range(n_in):
                        total = zero
                        for j in range(n_out):
                            total += delta[r, j] * theta[w + j * n_in + i]
                        a = outputs[r, first + i]
                        if code == 1:  # NaN where a is NaN, as the catalog's slope
                            total = total * (one if a > zero else (a if a != a else zero))
                        elif code == 2:
                            total = total * (one - a * a)
                        elif code == 3:
                            total = total * (a * (one - a))
                        below[r, i] = total
                current = 1 - current
        return loss * scale

    @jit
    def bias_relu(z, bias):  # pragma: no cover - compiled by Numba
        """z ← max(z + b, 0) in place, row by row (b per column), as np.add then np.maximum:
        NaN stays NaN, −0.0 and negatives become +0.0."""
        rows, columns = z.shape
        for i in range(rows):
            for j in range(columns):
                v = z[i, j] + bias[j]
                z[i, j] = v if (v > 0 or v != v) else 0
        return z

    @numba.njit(inline="always")
    def relu_slope(v, one, zero, nan):  # pragma: no cover - compiled by Numba
        return one if v > 0 else (nan if v != v else zero)

    @numba.njit(inline="always")
    def tanh_slope(v, one, zero, nan):  # pragma: no cover - compiled by Numba
        return one - v * v

    @numba.njit(inline="always")
    def sigmoid_slope(v, one, zero, nan):  # pragma: no cover - compiled by Numba
        return v * (one - v)

    def slope_times(slope: Any) -> Any:
        """out = g·s(a) (or s(a)·g), one pass; ``one``: 1 in the arrays' dtype. With ``out``
        being ``g`` itself the loop still vectorises (one array written, none aliased)."""

        @jit
        def times(g, a, out, one, slope_first):  # pragma: no cover - compiled by Numba
            zero = one - one
            nan = np.full(1, np.nan, a.dtype)[0]  # np.nan's bits, as restore_nan writes it
            if out is g:
                for i in range(g.size):
                    s = slope(a[i], one, zero, nan)
                    g[i] = s * g[i] if slope_first else g[i] * s
            else:
                for i in range(out.size):
                    s = slope(a[i], one, zero, nan)
                    out[i] = s * g[i] if slope_first else g[i] * s

        return times

    def slope_times_sum(slope: Any) -> Any:
        """``slope_times`` over rows of ``columns`` entries that also sums the product over
        the rows into ``column_sum`` (the bias's gradient), in NumPy's order for a sum over
        axis 0 of a C-ordered array: 0 + row 0, then each next row added."""

        @numba.njit(inline="always")
        def rows(g, a, dest, one, slope_first, columns, total):  # pragma: no cover
            zero = one - one
            nan = np.full(1, np.nan, a.dtype)[0]
            for row in range(g.size // columns):
                start = row * columns
                for j in range(columns):
                    i = start + j
                    s = slope(a[i], one, zero, nan)
                    v = s * g[i] if slope_first else g[i] * s
                    dest[i] = v
                    total[j] += v

        @jit
        def times_sum(g, a, out, one, slope_first, columns, column_sum):  # pragma: no cover
            # A fresh accumulator: the compiler then knows it aliases nothing, and the loop
            # over a row vectorises; in place, g is passed as the destination itself (then
            # one array is written, as in slope_times).
            total = np.zeros(columns, out.dtype)
            if out is g:
                rows(g, a, g, one, slope_first, columns, total)
            else:
                rows(g, a, out, one, slope_first, columns, total)
            column_sum[:] = total

        return times_sum

    return {
        "all_finite": all_finite,
        "dense_network": dense_network,
        "shift_by_max": shift_by_max,
        "softmax_cross_entropy": softmax_cross_entropy,
        "softmax_cross_entropy_grad": softmax_cross_entropy_grad,
        "sgd": sgd,
        "adam": adam,
        "rmsprop": rmsprop,
        "adagrad": adagrad,
        "bias_activation": {"relu": bias_relu},
        # the slopes written from the output a: 1[a > 0] (NaN where a is NaN), 1 − a·a,
        # a(1 − a), as the catalog's derivative_from_output computes them
        "slope_times": {
            "relu": slope_times(relu_slope),
            "tanh": slope_times(tanh_slope),
            "sigmoid": slope_times(sigmoid_slope),
        },
        # the same, with the bias's gradient Σ over rows in the same pass
        "slope_times_sum": {
            "relu": slope_times_sum(relu_slope),
            "tanh": slope_times_sum(tanh_slope),
            "sigmoid": slope_times_sum(sigmoid_slope),
        },
    }


__all__ = ["load"]
