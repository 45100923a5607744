"""Gradient checking (docs/math.md §5): the formula, the verdicts, check_function, check_model.

The model checks run every activation of the catalog through a small MLP with dropout and an
L2 penalty, and show that a wrong VJP or a wrong registered derivative is caught and located.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.layers
import chainrule.ops
from chainrule import gradient_check
from chainrule.gradient_check import (
    GradCheckReport,
    GradientCheckError,
    NonFiniteError,
    check_function,
    check_model,
    relative_error,
    verdict,
)
from chainrule.models import Sequential
from chainrule.nn import BatchNorm, Dense, Dropout, Maxout, PReLU
from chainrule.ops import record

LAMBDA = 0.1


def _data(samples: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, 3))
    y = np.eye(2)[rng.integers(0, 2, samples)]
    return x, y


def _mlp(
    hidden: str = "tanh",
    seed: int = 0,
    dropout: float = 0.5,
    lam: float = LAMBDA,
    compile_it: bool = True,
) -> Sequential:
    """3 → 5 → 4 → 2 with ``hidden`` after both hidden layers, dropout, and L2 on every kernel.

    prelu is the PReLU layer (learned slopes) and maxout the Maxout layer (two pieces); the
    second hidden layer then uses tanh. Softmax cross-entropy from the logits.
    """
    l2 = cr.losses.L2(lam)
    if hidden == "prelu":
        first = [Dense(5, input_dim=3, kernel_regularizer=l2), PReLU()]
    elif hidden == "maxout":
        first = [Maxout(5, pieces=2, input_dim=3)]
    else:
        first = [Dense(5, activation=hidden, input_dim=3, kernel_regularizer=l2)]
    second = "tanh" if hidden in ("prelu", "maxout") else hidden
    model = Sequential(
        [
            *first,
            Dropout(dropout, seed=1),
            Dense(4, activation=second, kernel_regularizer=l2),
            Dense(2, kernel_regularizer=l2),
        ],
        seed=seed,
    )
    if compile_it:
        model.compile(
            loss=cr.losses.CategoricalCrossentropy(from_logits=True), optimizer=cr.optim.SGD(lr=0.1)
        )
    return model


# ---------------------------------------------------------------------- the formula
@pytest.mark.parametrize(
    ("numeric", "analytic", "expected"),
    [
        ([3.0, 4.0], [3.0, 4.0], 0.0),
        ([1.0, 0.0], [0.0, 1.0], math.sqrt(2) / 2),
        ([3.0, 4.0], [3.0, 4.5], 0.5 / (5.0 + math.sqrt(29.25))),
        ([1.0, -2.0], [-1.0, 2.0], 1.0),  # opposite directions
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.0),  # 0/0 is defined as 0
        ([0.0, 0.0], [1e-30, 0.0], 1.0),  # one zero, the other not
        ([[1.0, 2.0], [2.0, 0.0]], [[1.0, 2.0], [2.0, 3.0]], 3.0 / (3.0 + math.sqrt(18.0))),
    ],
)
def test_relative_error_is_the_spec_formula(numeric, analytic, expected):
    assert relative_error(numeric, analytic) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert relative_error(analytic, numeric) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_relative_error_of_non_finite_values_is_nan_and_shapes_must_match():
    assert math.isnan(relative_error([1.0, np.nan], [1.0, 2.0]))
    assert math.isnan(relative_error([1.0, 2.0], [np.inf, 2.0]))
    assert verdict(relative_error([np.nan], [1.0])) == "a bug"
    with pytest.raises(ValueError, match="same number of entries"):
        relative_error([1.0, 2.0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (0.0, "correct"),
        (9.99e-8, "correct"),
        (1e-7, "deserves a look"),
        (1e-6, "deserves a look"),
        (1e-5, "deserves a look"),
        (1.0001e-5, "suspicious"),
        (9.99e-4, "suspicious"),
        (1e-3, "a bug"),
        (0.5, "a bug"),
        (math.nan, "a bug"),
    ],
)
def test_verdict_bands(error, expected):
    assert verdict(error) == expected


# ---------------------------------------------------------------------- check_function
_RNG = np.random.default_rng(42)
_A = _RNG.standard_normal((3, 4))
_B = _RNG.standard_normal((4, 2))
_V = _RNG.uniform(0.5, 2.0, (3, 4))

COMPOSITIONS = {
    "product": (lambda a, v: (a * v * a).sum(), (_A, _V)),
    "quotient_power": (lambda a, v: ((a**2 + 1.0) / v).sum() ** 0.5, (_A, _V)),
    "exp_log": (lambda a, v: (cr.log(v) * cr.exp(0.5 * a)).sum() + cr.log(v.sum()), (_A, _V)),
    "matmul": (lambda a, b: ((a @ b).tanh() ** 2).mean(), (_A, _B)),
    "softmax": (lambda a, b: ((a @ b).softmax(axis=-1) * np.array([1.0, -2.0])).sum(), (_A, _B)),
    "log_softmax_nll": (
        lambda a, b: -(a @ b).log_softmax(axis=0)[1, 0] + (a @ b).sigmoid().sum(),
        (_A, _B),
    ),
    "broadcast_reduce": (
        lambda a, v, b: ((a + v.mean(axis=0)) @ b).max(axis=1).sum(),
        (_A, _V, _B),
    ),
}


@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
def test_check_function_passes_on_correct_compositions(name):
    fn, inputs = COMPOSITIONS[name]
    report = check_function(fn, *inputs)
    assert report.ok, str(report)
    assert report.verdict == "correct"
    assert report.relative_error < 1e-7
    assert all(p.relative_error < 1e-7 for p in report.parameters), str(report)
    assert [p.shape for p in report.parameters] == [np.shape(x) for x in inputs]


def _square_with_wrong_vjp(a: cr.Tensor) -> cr.Tensor:
    """a², recorded with the VJP 3a·g instead of 2a·g (wrong by the factor 1.5)."""
    return record(a.data**2, (a,), "bad_square", lambda g, out, needs: (g * a * 3.0,))


def test_check_function_flags_a_wrong_vjp_and_names_the_input():
    rng = np.random.default_rng(0)
    report = check_function(
        lambda a, b: (_square_with_wrong_vjp(a) * b).sum(),
        rng.standard_normal(3),
        rng.standard_normal(3),
    )
    assert not report.ok
    assert report.verdict == "a bug"
    assert [p.name for p in report.failing] == ["a"]
    assert report["a"].verdict == "a bug"
    # analytic = 1.5 × numeric, so ‖n − a‖/(‖n‖ + ‖a‖) = 0.5/2.5
    assert report["a"].relative_error == pytest.approx(0.2, rel=1e-6)
    assert report["b"].verdict == "correct" and report["b"].passed
    assert report.worst().name == "a"
    text = str(report)
    assert "a bug" in text and "Disagreeing: a." in text
    with pytest.raises(GradientCheckError, match="Disagreeing: a"):
        report.raise_if_failed()


def test_check_function_flags_a_monkeypatched_op_in_the_suspicious_band(monkeypatch):
    original_exp = chainrule.ops.exp

    def exp_with_slightly_wrong_vjp(a: cr.Tensor) -> cr.Tensor:
        value = original_exp(a.detach()).data
        return record(value, (a,), "exp", lambda g, out, needs: (g * out * 1.0001,))

    x = np.random.default_rng(1).standard_normal(5)
    assert check_function(lambda z: z.exp().sum(), x).ok  # before the patch
    monkeypatch.setattr(chainrule.ops, "exp", exp_with_slightly_wrong_vjp)
    report = check_function(lambda z: z.exp().sum(), x)
    # analytic = 1.0001 × numeric: relative error 1e-4 / 2.0001 ≈ 5e-5
    assert report.relative_error == pytest.approx(1e-4 / 2.0001, rel=1e-3)
    assert report.verdict == "suspicious" and not report.ok
    assert [p.name for p in report.failing] == ["z"]


def test_check_function_names_inputs_and_copies_them():
    a = np.array([0.3, -0.7], dtype=np.float32)
    t = cr.tensor([1.5, 2.0])
    report = check_function(lambda w, x: (w * x).sum(), a, t)
    assert [p.name for p in report.parameters] == ["w", "x"]
    assert a.tolist() == pytest.approx([0.3, -0.7]) and a.dtype == np.float32
    assert t.grad is None and t.dtype == np.float32
    named = check_function(lambda w, x: (w * x).sum(), a, t, names=["weights", "inputs"])
    assert [p.name for p in named.parameters] == ["weights", "inputs"]
    anonymous = check_function(lambda *xs: (xs[0] * xs[1]).sum(), a, t)
    assert [p.name for p in anonymous.parameters] == ["input_0", "input_1"]
    with pytest.raises(ValueError, match="1 names for 2 inputs"):
        check_function(lambda w, x: (w * x).sum(), a, t, names=["w"])


def test_check_function_refuses_non_scalar_outputs_and_random_functions():
    with pytest.raises(ValueError, match="scalar"):
        check_function(lambda z: z * 2.0, [1.0, 2.0])
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="not deterministic"):
        check_function(lambda z: (z * rng.standard_normal(2)).sum(), [1.0, 2.0])


def test_check_function_unused_input_has_zero_gradient():
    report = check_function(lambda a, unused: (a * a).sum(), [1.0, 2.0], [3.0])
    assert report.ok
    assert report["unused"].relative_error == 0.0
    assert np.all(report["unused"].analytic == 0.0) and np.all(report["unused"].numeric == 0.0)


def test_check_function_samples_entries_with_a_seed():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((10, 10)), rng.standard_normal((10, 10))

    def fn(a, b):
        return (_square_with_wrong_vjp(a) * b).sum()

    first = check_function(fn, a, b, max_entries=7, seed=5)
    again = check_function(fn, a, b, max_entries=7, seed=5)
    other = check_function(fn, a, b, max_entries=7, seed=6)
    assert [p.checked for p in first.parameters] == [7, 7]
    assert np.array_equal(first["a"].indices, again["a"].indices)
    assert not np.array_equal(first["a"].indices, other["a"].indices)
    assert [p.name for p in first.failing] == ["a"]
    assert check_function(fn, a, b)["a"].checked == 100  # default: every entry


# ---------------------------------------------------------------------- check_model
@pytest.fixture(scope="module")
def activation_sweep():
    """check_model on the MLP of every catalog activation: (model, report) by name, computed
    once for the tests that read it, whatever order they run in or which of them run."""
    x, y = _data()
    return {
        name: (model, check_model(model, x, y))
        for name, model in ((name, _mlp(name)) for name in cr.activations.names())
    }


@pytest.mark.parametrize("hidden", cr.activations.names())
def test_check_model_passes_for_every_activation(hidden, activation_sweep):
    model, report = activation_sweep[hidden]
    assert report.ok, str(report)
    assert report.verdict == "correct"
    assert report.relative_error < 1e-7
    assert [p.name for p in report.parameters] == [n for n, _ in model.named_parameters()]
    assert all(p.checked == p.size for p in report.parameters)


def test_check_model_includes_the_weight_penalty():
    x, y = _data()
    model = _mlp("sigmoid")
    report = check_model(model, x, y)
    assert report.ok, str(report)
    # f(θ) is model.total_loss in eval mode (dropout off), computed here in float32
    assert report.loss == pytest.approx(model.evaluate(x, y, batch_size=None), rel=1e-5)
    unregularised = _mlp("sigmoid", lam=0.0)
    assert report.loss > check_model(unregularised, x, y).loss + 1e-3
    # Removing λW (the penalty's gradient) from the analytic side makes the check fail.
    for name, parameter in model.named_parameters():
        if name.endswith("weight"):
            entry = report[name]
            without_penalty = entry.analytic - LAMBDA * parameter.data.astype(np.float64).ravel()
            assert relative_error(entry.numeric, without_penalty) > 1e-3


def test_check_model_turns_dropout_off_and_leaves_the_model_alone():
    x, y = _data()
    model = _mlp("relu", dropout=0.5)
    dropout = model[1]
    before = model.state_dict()
    generator_state = dropout._generator.bit_generator.state
    parameters = model.parameters()
    report = check_model(model, x, y)
    assert report.ok, str(report)
    after = model.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert after[key].dtype == before[key].dtype
        np.testing.assert_array_equal(after[key], before[key])
    assert all(p.dtype == np.float32 and p.grad is None for p in model.parameters())
    assert all(a is b for a, b in zip(model.parameters(), parameters))
    assert len(model.optimizer.params) == len(parameters)
    assert all(a is b for a, b in zip(model.optimizer.params, parameters))
    assert all(module.training for _, module in model.named_modules())
    assert dropout._generator.bit_generator.state == generator_state
    assert dropout.last_mask is None


def test_check_model_handles_batchnorm_in_both_modes_and_keeps_its_statistics():
    x, y = _data(samples=10)
    model = Sequential(
        [
            Dense(5, activation="tanh", input_dim=3),
            BatchNorm(),
            Dense(2, kernel_regularizer=LAMBDA),
        ],
        seed=0,
    )
    model.compile(loss=cr.losses.CategoricalCrossentropy(from_logits=True), optimizer="adam")
    model.fit(x, y, epochs=2, batch_size=5, verbose=0, seed=0)  # non-trivial running statistics
    before = model.state_dict()
    evaluation = check_model(model, x, y)
    training = check_model(model, x, y, batchnorm_train=True)
    assert evaluation.ok, str(evaluation)
    assert training.ok, str(training)
    assert {"batch_norm.weight", "batch_norm.bias"} <= {p.name for p in training.parameters}
    assert abs(evaluation.loss - training.loss) > 1e-6  # batch vs running statistics
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_check_model_applies_preprocessing_and_builds_lazy_models():
    x, y = _data()
    model = Sequential([Dense(4, activation="softplus"), Dense(2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    model.preprocessing = cr.datasets.Standardizer().fit(10.0 * x + 3.0)
    report = check_model(model, 10.0 * x + 3.0, y)
    assert report.ok, str(report)
    assert [p.name for p in report.parameters] == [
        "dense.weight",
        "dense.bias",
        "dense_1.weight",
        "dense_1.bias",
    ]
    assert model.parameters() == []  # the original stays unbuilt
    assert report.loss == pytest.approx(
        model.evaluate(10.0 * x + 3.0, y, batch_size=None), rel=1e-5
    )


def test_check_model_samples_entries_per_parameter():
    x, y = _data()
    model = _mlp("elu")
    report = check_model(model, x, y, max_entries_per_parameter=3, seed=1)
    assert report.ok, str(report)
    assert [p.checked for p in report.parameters] == [min(3, p.size) for p in model.parameters()]
    assert "3/15" in str(report)


@pytest.fixture
def wrong_tanh():
    """tanh registered with the derivative 1.5(1 − tanh²) — accepted only with check=False."""
    name = "gradcheck_wrong_tanh"
    with pytest.raises(cr.DerivativeCheckError):
        cr.activations.register(name, np.tanh, lambda z: 1.5 * (1 - np.tanh(z) ** 2))
    cr.activations.register(name, np.tanh, lambda z: 1.5 * (1 - np.tanh(z) ** 2), check=False)
    yield name
    cr.activations.remove(name)


def test_check_model_flags_a_wrong_activation_derivative_and_locates_it(wrong_tanh):
    x, y = _data()
    model = Sequential(
        [
            Dense(5, activation="tanh", input_dim=3, kernel_regularizer=LAMBDA),
            Dense(4, activation=wrong_tanh, kernel_regularizer=LAMBDA),
            Dense(2, kernel_regularizer=LAMBDA),
        ],
        seed=0,
    )
    model.compile(loss=cr.losses.CategoricalCrossentropy(from_logits=True), optimizer="sgd")
    report = check_model(model, x, y)
    assert not report.ok and report.verdict == "a bug"
    # the layer with the wrong g' (dense_1) and the one before it; dense_2 is above it
    assert [p.name for p in report.failing] == [
        "dense.weight",
        "dense.bias",
        "dense_1.weight",
        "dense_1.bias",
    ]
    assert all(p.verdict == "a bug" for p in report.failing)
    assert report["dense_2.weight"].relative_error < 1e-7
    assert report["dense_2.bias"].relative_error < 1e-7
    assert report.worst().layer in ("dense", "dense_1")
    text = str(report)
    assert "(in dense, dense_1)" in text
    assert "analytic" in text and "numeric" in text
    for parameter in report.failing:
        worst = parameter.worst_entries[0]
        assert f"{worst.analytic: .8e}" in text and f"{worst.numeric: .8e}" in text
        assert abs(worst.difference) > 1e-3
    # one row per parameter in the table
    for parameter in report.parameters:
        assert sum(line.startswith(parameter.name + " ") for line in text.splitlines()) == 1
    with pytest.raises(GradientCheckError, match="dense_1.weight"):
        report.raise_if_failed()


def test_check_model_needs_a_compiled_model():
    x, y = _data()
    with pytest.raises(RuntimeError, match="compile"):
        check_model(_mlp(compile_it=False), x, y)
    with pytest.raises(TypeError, match="Model"):
        check_model(Dense(2, input_dim=3), x, y)


def test_report_passes_round_trip_and_tolerances_are_stored(monkeypatch):
    x, y = _data()
    report = check_model(_mlp("silu"), x, y, tolerance=1e-12)
    assert isinstance(report, GradCheckReport)
    # nothing is that exact, but the error is within its noise floor: that passes
    assert report.tolerance == 1e-12 and report.relative_error > 1e-12
    assert report.relative_error <= gradient_check.NOISE_FACTOR * report.noise_floor
    assert report.ok and bool(report)
    monkeypatch.setattr(gradient_check, "NOISE_FACTOR", 0.0)  # a floor that excuses nothing
    strict = check_model(_mlp("silu"), x, y, tolerance=1e-12)
    assert not strict.ok and not strict
    assert strict.verdict == "correct"  # the verdict reads the error, not the tolerance
    monkeypatch.undo()
    passing = check_model(_mlp("silu"), x, y)
    assert passing.raise_if_failed() is passing
    assert "ok=True" in repr(passing) and "noise_floor=" in repr(passing)


def test_measured_errors_are_reported(activation_sweep):
    """Prints the largest error over the activation sweep (pytest -s shows it)."""
    errors = {name: report.relative_error for name, (_, report) in activation_sweep.items()}
    worst = max(errors, key=errors.get)
    print(f"\nlargest overall relative error: {errors[worst]:.2e} ({worst})")
    assert errors[worst] < 1e-7


# ---------------------------------------------------------------------- gradcheck, the function
def test_gradcheck_is_a_function_like_torchs():
    assert callable(cr.gradcheck) and cr.gradcheck is gradient_check.gradcheck
    x = np.array([0.5, -2.0, 1.5])
    single = cr.gradcheck(lambda z: (z.tanh() * z).sum(), x)
    assert single and single.ok and [p.name for p in single.parameters] == ["z"]
    pair = cr.gradcheck(lambda w, b: ((w * b).exp()).sum(), (x, cr.tensor([1.0, 2.0, 3.0])))
    assert pair.ok and [p.name for p in pair.parameters] == ["w", "b"]
    assert cr.gradcheck(lambda w, b: (w * b).sum(), [x, x], names=["p", "q"])["q"].checked == 3
    assert str(single).startswith("Gradient check of function") and "noise floor" in str(single)


def test_gradcheck_checks_non_scalar_functions_through_a_random_projection():
    x = np.random.default_rng(0).standard_normal((3, 2))
    assert cr.gradcheck(lambda z: z.sigmoid() * z, x).ok
    wrong = cr.gradcheck(lambda z: _square_with_wrong_vjp(z) - z, x)
    assert not wrong and wrong.verdict == "a bug"
    with pytest.raises(GradientCheckError, match="Disagreeing: z"):
        cr.gradcheck(lambda z: _square_with_wrong_vjp(z), x, raise_exception=True)


# ---------------------------------------------------------------------- the noise floor
def _normal_net(activation: str, loss: str, seed: int) -> tuple[Sequential, np.ndarray, Any]:
    """4 → 6 → 5 → out with ``activation``, every parameter drawn from N(0, 1) (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 4))
    if loss == "categorical":
        y, out = np.eye(3)[rng.integers(0, 3, 8)], 3
        objective = cr.losses.CategoricalCrossentropy(from_logits=True)
    elif loss == "binary":
        y, out = rng.integers(0, 2, (8, 1)).astype(np.float64), 1
        objective = cr.losses.BinaryCrossentropy(from_logits=True)
    else:
        y, out, objective = rng.standard_normal((8, 2)), 2, "mse"
    model = Sequential(
        [Dense(6, activation=activation, input_dim=4), Dense(5, activation=activation), Dense(out)],
        seed=seed,
    )
    model.compile(loss=objective, optimizer="sgd")
    for parameter in model.parameters():
        parameter.data = rng.standard_normal(parameter.shape).astype(parameter.dtype)
    return model, x, y


NORMAL_NETS = [
    (a, loss)
    for a in ("relu", "tanh", "sigmoid", "gelu")
    for loss in ("categorical", "binary", "mse")
]


@pytest.mark.slow
@pytest.mark.parametrize(("activation", "loss"), NORMAL_NETS)
def test_correct_gradients_of_nets_with_normal_weights_pass_over_20_seeds(activation, loss):
    for seed in range(20):
        model, x, y = _normal_net(activation, loss, seed)
        report = check_model(model, x, y)
        assert report.ok, f"seed {seed}\n{report}"
        assert report.verdict == "correct"
        assert report.noise_floor < 1e-7 and report.kinks == []


def test_the_noise_floor_is_rounding_over_eps_and_explains_the_old_failures():
    x, y = _data()
    model = _mlp("tanh")
    fine, coarse = check_model(model, x, y, eps=1e-6), check_model(model, x, y, eps=1e-7)
    # rounding error ∝ 1/ε: ten times smaller steps, about ten times the floor
    assert 4 < coarse.noise_floor / fine.noise_floor < 25
    assert coarse.ok and fine.ok  # each error is within its own floor
    for report in (fine, coarse):
        assert report.relative_error <= gradient_check.NOISE_FACTOR * report.noise_floor + 1e-7


def test_a_gradient_below_the_noise_floor_is_not_called_a_bug():
    """f = 1e6 + 1e-9·Σw²: the rounding of f (≈ 1e-10 per value) swamps a gradient of 1e-9."""
    w = np.array([0.3, -0.8, 1.1])
    report = cr.gradcheck(lambda w: 1e6 + 1e-9 * (w * w).sum(), w)
    assert report.relative_error > 1e-3  # a bug, by the bands alone
    assert report.noise_floor > report.relative_error / gradient_check.NOISE_FACTOR
    assert report.ok and report.verdict == "correct" and report["w"].unresolved
    assert "Below what finite differences resolve" in str(report) and "w" in str(report)
    assert verdict(report.relative_error) == "a bug"
    assert verdict(report.relative_error, report.noise_floor) == "correct"


# ---------------------------------------------------------------------- broken derivatives
def _tanh_slope_times(factor: float) -> Callable[[Any, Any], Any]:
    from chainrule.activations.classic import Tanh

    right = Tanh._backward_slope
    return lambda self, z, a: factor * right(self, z, a)


def _linear_without_bias_gradient(x, weight, bias=None):
    z = chainrule.ops.linear(x, weight, None)
    if bias is None:
        return z
    return z + record(bias.data, (bias,), "bias_without_gradient", lambda g, out, needs: (g * 0.0,))


BREAKAGES = {
    "tanh' × 1.01": ("_backward_slope", lambda: _tanh_slope_times(1.01)),
    "tanh' × 2": ("_backward_slope", lambda: _tanh_slope_times(2.0)),
    "tanh' sign flipped": ("_backward_slope", lambda: _tanh_slope_times(-1.0)),
    "bias gradient dropped": ("linear", lambda: _linear_without_bias_gradient),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deliberately_broken_derivatives_are_caught(monkeypatch, breakage, seed):
    from chainrule.activations.classic import Tanh

    attribute, make = BREAKAGES[breakage]
    model, x, y = _normal_net("tanh", "categorical", seed)
    assert check_model(model, x, y).ok  # before the breakage
    if attribute == "linear":
        monkeypatch.setattr(chainrule.nn.layers, "linear", make())
    else:
        monkeypatch.setattr(Tanh, attribute, make())
    report = check_model(model, x, y)
    assert not report.ok and report.verdict != "correct", str(report)
    assert report.failing
    if breakage == "bias gradient dropped":
        assert {p.name for p in report.failing} >= {"dense.bias", "dense_1.bias", "dense_2.bias"}
        assert all(report[name].verdict == "a bug" for name in ("dense.bias", "dense_2.bias"))


# ---------------------------------------------------------------------- kinks
@pytest.mark.parametrize("subgradient", [None, 0.5, 1.0])
def test_relu_at_exactly_zero_is_a_valid_subgradient(subgradient):
    relu = (
        cr.activations.get("relu")
        if subgradient is None
        else cr.activations.get("relu", subgradient=subgradient)
    )
    report = cr.gradcheck(
        lambda z: (relu(z) * np.array([1.0, 2.0, 3.0])).sum(), np.array([0.0, 1.5, -0.5])
    )
    assert report.ok and report.verdict == "correct", str(report)
    (kink,) = report["z"].kinks
    assert kink.index == (0,) and kink.valid
    assert kink.analytic == (0.0 if subgradient is None else subgradient)
    assert kink.backward == pytest.approx(0.0, abs=1e-9)
    assert kink.forward == pytest.approx(1.0, rel=1e-9)
    text = (
        f"at a kink: analytic {kink.analytic:g} lies between the one-sided slopes 0 and 1 "
        "— a valid subgradient"
    )
    assert kink.describe() == text and text in str(report)
    assert report["z"].kink_count == 1 and not report["z"].at_kink[1:].any()


@pytest.mark.parametrize("wrong_value", [2.0, -0.5])
def test_a_kink_value_outside_the_one_sided_slopes_is_a_bug(monkeypatch, wrong_value):
    from chainrule.activations.classic import ReLU

    right = ReLU._backward_slope
    monkeypatch.setattr(
        ReLU, "_backward_slope", lambda self, z, a: np.where(z == 0, wrong_value, right(self, z, a))
    )
    report = cr.gradcheck(lambda z: z.relu().sum(), np.array([0.0, 1.5, -0.5]))
    assert not report.ok and report.verdict == "a bug"
    (kink,) = report["z"].kinks
    assert not kink.valid and report.failing == [report["z"]]
    assert (
        f"at a kink: analytic {wrong_value:g} lies outside the one-sided slopes 0 and 1 — a bug"
    ) in str(report)


@pytest.mark.parametrize(
    ("fn", "point"),
    [
        (lambda z: cr.activations.get("leaky_relu", gamma=0.1)(z).sum(), 0.0),
        (lambda z: cr.abs(z).sum(), 0.0),
        (lambda z: cr.activations.get("hard_tanh")(z).sum(), 1.0),
        (lambda z: cr.activations.get("relu6")(z).sum(), 6.0),
        (lambda z: cr.max(z * np.array([1.0, 1.0])), 0.7),  # a tie between the two entries
    ],
)
def test_other_kinks_are_recognised(fn, point):
    report = cr.gradcheck(fn, np.array([point, point]))
    assert report.ok, str(report)
    assert report["z"].kink_count >= 1 and all(k.valid for k in report["z"].kinks)


def test_a_model_with_kinks_passes_and_names_them():
    """Zero biases and a row of zero inputs: every first-layer ReLU sits at z = 0 for that
    row, so moving a bias by ±ε crosses the kink."""
    x, y = _data()
    x[0] = 0.0
    model = Sequential([Dense(5, activation="relu", input_dim=3), Dense(2)], seed=0)
    model.compile(loss=cr.losses.CategoricalCrossentropy(from_logits=True), optimizer="sgd")
    report = check_model(model, x, y)
    assert report.ok, str(report)
    assert report["dense.bias"].kink_count >= 1
    assert report["dense.weight"].kink_count == 0
    assert all(name == "dense.bias" and kink.valid for name, kink in report.kinks)
    assert "dense.bias(" in str(report) and "a valid subgradient" in str(report)


# ---------------------------------------------------------------------- NaN and infinity
def test_non_finite_inputs_weights_and_values_are_named():
    with pytest.raises(NonFiniteError, match=r"b holds NaN at \[1\]"):
        check_function(lambda a, b: (a * b).sum(), [1.0, 2.0], [3.0, np.nan])
    with pytest.raises(NonFiniteError, match=r"f\(θ\)|is -inf at θ"):
        cr.gradcheck(lambda z: cr.log(z).sum(), np.array([0.0, 1.0]))
    with pytest.raises(NonFiniteError, match=r"gradient of z holds \+inf at \[0\]"):
        cr.gradcheck(lambda z: cr.sqrt(z).sum(), np.array([0.0, 1.0]))
    with pytest.raises(NonFiniteError, match=r"f is NaN when z\[0\] is moved .* by -1ε"):
        cr.gradcheck(lambda z: cr.sqrt(z).sum(), np.array([1e-7, 1.0]))
    x, y = _data()
    model = _mlp("tanh")
    model.build((3,))
    model.named_parameters()[2][1].data[1, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"dense_1.weight holds \+inf at \[1, 0\]"):
        check_model(model, x, y)
    x[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"x holds NaN at \[2, 1\]"):
        check_model(_mlp("tanh"), x, y)


@pytest.mark.parametrize("eps", [0.0, -1e-6, math.nan, math.inf])
def test_eps_must_be_positive_and_finite(eps):
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        cr.gradcheck(lambda z: (z * z).sum(), np.array([1.0]), eps=eps)
