"""Probability outputs computed from their logits (Keras-style), and loss misuse explained.

A sigmoid (softmax) output followed by binary (categorical) cross-entropy on probabilities is
computed from the logits z behind it: exact value, gradient ŷ − y w.r.t. z even at saturation.
Misuse raises a one-line ValueError that names the fix; legitimate edges never do.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses
from chainrule.activations import activation_input
from chainrule.compiler import JitFallbackWarning
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense

sigmoid = cr.activations.get("sigmoid")
softmax = cr.activations.get("softmax")


def _bce_from_logits_numpy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _log_softmax_numpy(z: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ---------------------------------------------------------------------- saturation
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_of_a_saturated_sigmoid_is_exact_with_unit_gradient(dtype):
    z = cr.tensor([40.0], requires_grad=True, dtype=dtype)
    loss = losses.get("binary_crossentropy")(sigmoid(z), np.array([0.0]))
    loss.backward()
    assert loss.item() == pytest.approx(40.0, rel=1e-6)  # the probability formula gave 100
    assert z.grad.numpy() == pytest.approx([1.0])  # it gave 0
    assert z.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_cross_entropy_of_a_saturated_softmax_is_exact_with_gradient_p_minus_y(name):
    z = cr.tensor([[50.0, -50.0], [-50.0, 50.0]], requires_grad=True, dtype="float64")
    labels = np.array([1, 1])
    target = labels if name.startswith("sparse") else np.eye(2)[labels]
    loss = losses.get(name)(softmax(z), target)
    loss.backward()
    assert loss.item() == pytest.approx(50.0)  # (100 + 0) / 2; clipped it was 8.06
    np.testing.assert_allclose(z.grad.numpy(), [[0.5, -0.5], [0.0, 0.0]], atol=1e-15)
    assert np.isfinite(z.grad.numpy()).all()


def _assert_second_order_matches_torch(torch, ours, theirs, z: np.ndarray, seed: int) -> None:
    """The loss, its gradient and a Hessian-vector product w.r.t. the logits z, against
    PyTorch's fused loss."""
    logits = cr.tensor(z, requires_grad=True, dtype="float64")
    value = ours(logits)
    (first,) = cr.gradients(value, [logits], create_graph=True)
    w = np.random.default_rng(seed).standard_normal(z.shape)
    (second,) = cr.gradients((first * cr.tensor(w, dtype="float64")).sum(), [logits])

    tz = torch.tensor(z, requires_grad=True)
    t_value = theirs(tz)
    (t_first,) = torch.autograd.grad(t_value, [tz], create_graph=True)
    (t_second,) = torch.autograd.grad((t_first * torch.tensor(w)).sum(), [tz])
    np.testing.assert_allclose(value.item(), t_value.item(), rtol=1e-12)
    np.testing.assert_allclose(first.numpy(), t_first.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(second.numpy(), t_second.numpy(), rtol=1e-9, atol=1e-13)


def test_sigmoid_output_matches_pytorch_bce_with_logits_to_second_order(torch):
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 3)) * 3
    y = rng.uniform(size=(5, 3))  # soft labels
    _assert_second_order_matches_torch(
        torch,
        lambda logits: losses.get("bce")(sigmoid(logits), y),
        lambda tz: F.binary_cross_entropy_with_logits(tz, torch.tensor(y)),
        z,
        seed=0,
    )


def test_softmax_output_matches_pytorch_cross_entropy_to_second_order(torch):
    import torch.nn.functional as F

    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    _assert_second_order_matches_torch(
        torch,
        lambda logits: losses.get("cce")(softmax(logits), labels),
        lambda tz: F.cross_entropy(tz, torch.tensor(labels)),
        z,
        seed=1,
    )


def test_from_logits_value_equals_the_probability_formula_where_it_is_not_clipped():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((8, 5))
    labels = rng.integers(0, 5, 8)
    y = (rng.uniform(size=(8, 5)) > 0.5).astype(float)
    logits = cr.tensor(z, requires_grad=True, dtype="float64")

    def plain_copy(probabilities: cr.Tensor) -> cr.Tensor:
        return cr.tensor(probabilities.numpy(), requires_grad=True, dtype="float64")

    bce = losses.get("bce", reduction="none")
    fused, plain = bce(sigmoid(logits), y), bce(plain_copy(sigmoid(logits)), y)
    assert fused.op == "bce_with_logits" and plain.op == "bce"
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12)
    cce = losses.get("cce", reduction="none")
    fused, plain = cce(softmax(logits), labels), cce(plain_copy(softmax(logits)), labels)
    assert fused.op == "softmax_cross_entropy" and plain.op != "softmax_cross_entropy"
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12)


def test_only_an_output_of_the_matching_activation_and_axis_is_computed_from_logits():
    z = cr.tensor(
        np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True, dtype="float64"
    )
    labels = np.array([0, 1, 2, 1])
    column_softmax = cr.activations.get("softmax", axis=0)
    along_columns = losses.get("cce", axis=0, reduction="none")
    assert along_columns(column_softmax(z), np.array([0, 1, 3])).op == "softmax_cross_entropy"
    cce = losses.get("cce", reduction="none")
    assert cce(softmax(z) * 1.0, labels).op != "softmax_cross_entropy"  # not made by softmax
    with pytest.raises(ValueError, match="must sum to 1"):  # softmax along the other axis
        cce(column_softmax(z), labels)
    bce = losses.get("bce", reduction="none")
    assert bce(sigmoid(z) * 1.0, np.zeros((4, 3))).op == "bce"
    assert bce(cr.activations.get("hard_sigmoid")(z), np.zeros((4, 3))).op == "bce"
    assert bce(softmax(z), np.zeros((4, 3))).op == "bce"  # probabilities, but not a sigmoid's


def test_the_fused_form_is_used_under_no_grad():
    z = cr.tensor([[40.0, -40.0]])
    with cr.no_grad():
        assert losses.get("bce")(sigmoid(z), np.array([[0.0, 1.0]])).item() == pytest.approx(40)
        assert losses.get("cce")(softmax(z), np.array([1])).item() == pytest.approx(80)


# ---------------------------------------------------------------------- whole models
def _saturated_model(output: str) -> tuple[Sequential, np.ndarray, np.ndarray]:
    """A moons classifier whose output layer starts with weights ×1000 (saturated)."""
    data = cr.datasets.moons(n=200, noise=0.1, seed=0)
    x, labels = data.x.astype(np.float32), data.y.astype(np.int64)
    if output == "sigmoid":
        head = [Dense(1), Activation("sigmoid")]
        loss, y = "binary_crossentropy", labels.reshape(-1, 1).astype(np.float32)
    else:
        head = [Dense(2, activation="softmax")]
        loss, y = output, labels if output.startswith("sparse") else np.eye(2)[labels]
    model = Sequential([Dense(16, input_dim=2, activation="tanh"), *head], seed=0)
    model.compile(loss=loss, optimizer=cr.optim.Adam(lr=0.05), metrics=["accuracy"])
    model.build((2,))
    model.layers[1].weight.data *= 1000
    return model, x, y


@pytest.mark.parametrize(
    "output", ["sigmoid", "categorical_crossentropy", "sparse_categorical_crossentropy"]
)
def test_a_saturated_network_learns(output):
    """With the probability formulas this model ended at 86% (sigmoid) and 33% (softmax)."""
    model, x, y = _saturated_model(output)
    initial = model.evaluate(x, y, return_dict=True)
    assert initial["loss"] > 100  # beyond what the clipped probability formulas can report
    model.fit(x, y, epochs=30, batch_size=32, verbose=0, seed=0, health=False)
    # 0.94-0.97 depending on rounding in the optimiser; the broken formulas end at 0.33/0.86
    assert model.evaluate(x, y, return_dict=True)["accuracy"] >= 0.9


def test_evaluate_reports_the_loss_from_the_logits_and_predict_probabilities():
    model, x, y = _saturated_model("sigmoid")
    with cr.no_grad():
        output = model(x)
    z = activation_input(output)[1].numpy()
    expected = _bce_from_logits_numpy(z, y).mean()
    assert model.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-5)
    probabilities = model.predict(x)
    np.testing.assert_array_equal(probabilities, sigmoid.forward(z))
    assert probabilities.min() >= 0 and probabilities.max() <= 1


def test_compiled_sigmoid_output_trains_bit_for_bit_like_eager():
    histories, parameters = [], []
    for jit in (False, True):
        model, x, y = _saturated_model("sigmoid")
        model.compile(loss="bce", optimizer=cr.optim.Adam(lr=0.05), metrics=["accuracy"], jit=jit)
        with warnings.catch_warnings():
            warnings.simplefilter("error", JitFallbackWarning)
            histories.append(
                model.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=0, health=False).history
            )
        parameters.append([p.data.copy() for p in model.parameters()])
    assert model.compiled_step.traces == 2  # batches of 32 and the last one of 8
    assert histories[0] == histories[1]
    for eager, compiled in zip(*parameters):
        np.testing.assert_array_equal(eager, compiled)


def test_compiled_softmax_output_trains_like_eager():
    """It may still run eagerly (JitFallbackWarning) until the compiler has a softmax kernel."""
    histories = []
    for jit in (False, True):
        model, x, y = _saturated_model("categorical_crossentropy")
        model.compile(
            loss="categorical_crossentropy",
            optimizer=cr.optim.Adam(lr=0.05),
            metrics=["accuracy"],
            jit=jit,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JitFallbackWarning)
            histories.append(
                model.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=0, health=False).history
            )
    assert histories[0] == histories[1]


# ---------------------------------------------------------------------- misuse
def _logits(rows: list[list[float]]) -> cr.Tensor:
    return cr.tensor(rows, dtype="float64")


MISUSES = [
    (
        "logits into CCE",
        lambda: losses.get("cce")([[-1.0, 2.0]], [[0.0, 1.0]]),
        r"^categorical_crossentropy: predictions must be probabilities in \[0, 1\], got -1; "
        r"did you mean from_logits=True, or a softmax output\?$",
    ),
    (
        "logits into sparse CCE",
        lambda: losses.get("sparse_cce")([[0.5, 3.0]], [1]),
        r"sums to 3\.5; did you mean from_logits=True, or a softmax output\?$",
    ),
    (
        "rows not summing to 1",
        lambda: losses.get("cce")([[0.2, 0.2, 0.2]], [0]),
        r"each row of probabilities must sum to 1 \(within 3e-05\), one sums to 0\.6; "
        r"did you mean from_logits=True",
    ),
    (
        "logits into BCE",
        lambda: losses.get("bce")([[0.5, 2.5]], [[0.0, 1.0]]),
        r"^binary_crossentropy: predictions must be probabilities in \[0, 1\], got 2\.5; "
        r"did you mean from_logits=True, or a sigmoid output\?$",
    ),
    ("negative into BCE", lambda: losses.get("bce")([-0.25], [0.0]), r"got -0\.25; did you mean"),
    (
        "sigmoid output from logits",
        lambda: losses.get("bce", from_logits=True)(sigmoid(_logits([[1.0]])), [[1.0]]),
        r"^binary_crossentropy: the outputs are already probabilities \(made by a sigmoid\): "
        r"drop from_logits=True or the sigmoid$",
    ),
    (
        "softmax output from logits",
        lambda: losses.get("cce", from_logits=True)(softmax(_logits([[1.0, 2.0]])), [1]),
        r"^categorical_crossentropy: the outputs are already probabilities \(made by a softmax\): "
        r"drop from_logits=True or the softmax$",
    ),
    (
        "softmax output from logits, sparse",
        lambda: losses.get("sparse_cce", from_logits=True)(softmax(_logits([[1.0, 2.0]])), [1]),
        r"drop from_logits=True or the softmax$",
    ),
    (
        "double softmax",
        lambda: losses.get("cce")(softmax(softmax(_logits([[1.0, 2.0]]))), [1]),
        r"^categorical_crossentropy: the output is a softmax of a softmax output "
        r"\(a double softmax\), which already is probabilities; remove one of them$",
    ),
    (
        "double softmax from logits",
        lambda: losses.get("cce", from_logits=True)(softmax(softmax(_logits([[1.0, 2.0]]))), [1]),
        r"\(a double softmax\)",
    ),
    (
        "double sigmoid",
        lambda: losses.get("bce")(sigmoid(sigmoid(_logits([[1.0]]))), [[1.0]]),
        r"a sigmoid of a sigmoid output \(a double sigmoid\)",
    ),
    (
        "BCE label 2",
        lambda: losses.get("bce")([0.5, 0.5], [1.0, 2.0]),
        r"^binary_crossentropy: label 2 is outside \[0, 1\]; binary targets are 0 or 1 \(or soft "
        r"labels in between\): for class indices use sparse_categorical_crossentropy$",
    ),
    (
        "BCE label -1",
        lambda: losses.get("bce", from_logits=True)([3.0], [-1.0]),
        r"label -1 is outside \[0, 1\]",
    ),
]
for _name, _index in (("cce", 0), ("sparse_cce", 1), ("nll", 2)):
    MISUSES += [
        (
            f"{_name} label 7",
            lambda n=_name: losses.get(n)(cr.tensor(np.full((2, 3), 1 / 3)), [0, 7]),
            r"label 7 is out of range for a model with 3 outputs \(labels must be 0\.\.2; for 8 "
            r"classes give the output layer 8 units\)$",
        ),
        (
            f"{_name} label -1",
            lambda n=_name: losses.get(n)(cr.tensor(np.full((2, 3), 1 / 3)), [-1, 0]),
            r"label -1 is out of range for a model with 3 outputs \(labels must be 0\.\.2\)$",
        ),
    ]


@pytest.mark.parametrize(("case", "call", "message"), MISUSES, ids=[m[0] for m in MISUSES])
def test_misuse_is_refused_with_the_fix_in_the_message(case, call, message):
    with pytest.raises(ValueError, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


def test_a_linear_output_into_a_loss_on_probabilities_stops_fit_evaluate_and_jit():
    x = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    for jit in (False, True):
        model = Sequential([Dense(3, input_dim=2)], seed=0)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", jit=jit)
        model.layers[0].weight.data *= 10
        with pytest.raises(ValueError, match="did you mean from_logits=True"):
            model.fit(x, labels, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="did you mean from_logits=True"):
            model.evaluate(x, labels)


# ---------------------------------------------------------------------- legitimate edges
def test_probabilities_of_exactly_zero_and_one_are_accepted():
    p = cr.tensor([[0.0, 1.0], [1.0, 0.0]], requires_grad=True, dtype="float64")
    value = losses.get("bce")(p, np.array([[0.0, 1.0], [0.0, 1.0]]))
    value.backward()
    assert value.item() == pytest.approx(50.0)  # two clamped logs of −100 over four entries
    assert np.isfinite(p.grad.numpy()).all()
    one_hot = cr.tensor([[0.0, 1.0, 0.0]])
    assert losses.get("cce")(one_hot, np.array([1])).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("classes", [2, 10, 1000])
def test_float32_rows_within_the_tolerance_are_accepted_and_beyond_refused(classes):
    rng = np.random.default_rng(classes)
    p = rng.uniform(size=(4, classes)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    cce = losses.get("cce")
    labels = np.zeros(4, dtype=np.int64)
    assert np.isfinite(cce(cr.tensor(p), labels).item())
    tolerance = losses.ROW_SUM_TOLERANCE * classes
    near = p.copy()
    near[:, 0] += 0.9 * tolerance
    assert np.isfinite(cce(cr.tensor(near), labels).item())
    far = p.copy()
    far[:, 0] += 1.5 * tolerance
    with pytest.raises(ValueError, match="must sum to 1"):
        cce(cr.tensor(far), labels)


def test_a_float32_softmax_of_many_classes_passes_the_probability_checks():
    z = np.random.default_rng(4).standard_normal((16, 5000)).astype(np.float32)
    probabilities = softmax.forward(z)  # an array: no logits behind it, the probability formula
    value = losses.get("cce")(cr.tensor(probabilities), np.arange(16))
    np.testing.assert_allclose(
        value.item(), -_log_softmax_numpy(z)[np.arange(16), np.arange(16)].mean(), rtol=1e-3
    )


def test_soft_labels_are_accepted():
    assert np.isfinite(losses.get("bce")([0.2, 0.9], [0.3, 1.0]).item())
    assert np.isfinite(losses.get("bce", from_logits=True)([-3.0, 2.0], [0.0, 0.7]).item())
    soft = np.array([[0.25, 0.75]])
    value = losses.get("cce")(softmax(_logits([[0.0, 1.0]])), soft)
    assert value.item() == pytest.approx(-(soft * _log_softmax_numpy(np.array([[0.0, 1.0]]))).sum())


def test_log_softmax_outputs_are_valid_logits():
    z = _logits([[1.0, 2.0, 0.5]])
    log_probabilities = cr.activations.get("log_softmax")(z)
    expected = -_log_softmax_numpy(z.numpy())[0, 1]
    assert losses.get("cce", from_logits=True)(log_probabilities, [1]).item() == pytest.approx(
        expected
    )
    assert losses.get("nll")(log_probabilities, [1]).item() == pytest.approx(expected)
