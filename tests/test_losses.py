"""Losses against PyTorch in float64 (value, gradient, second order) and their error messages."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses
from chainrule.models import Sequential
from chainrule.nn import Dense


@dataclass(frozen=True)
class LossCase:
    id: str
    name: str
    params: dict
    oracle: object  # (torch, F, prediction, target, reduction) -> torch tensor
    prediction: str = "real"  # real | probability | log_probability
    target: str = "same"  # same | binary | onehot | soft | labels
    extra: dict = field(default_factory=dict)


def _torch_target(torch, target):
    return torch.tensor(target)


CASES = [
    LossCase("mse", "mse", {}, lambda t, F, p, y, r: F.mse_loss(p, y, reduction=r)),
    LossCase("mae", "mae", {}, lambda t, F, p, y, r: F.l1_loss(p, y, reduction=r)),
    LossCase("huber", "huber", {}, lambda t, F, p, y, r: F.huber_loss(p, y, reduction=r)),
    LossCase(
        "huber_delta",
        "huber",
        {"delta": 0.3},
        lambda t, F, p, y, r: F.huber_loss(p, y, reduction=r, delta=0.3),
    ),
    LossCase(
        "bce_probabilities",
        "binary_crossentropy",
        {},
        lambda t, F, p, y, r: F.binary_cross_entropy(p, y, reduction=r),
        prediction="probability",
        target="binary",
    ),
    LossCase(
        "bce_logits",
        "binary_crossentropy",
        {"from_logits": True},
        lambda t, F, p, y, r: F.binary_cross_entropy_with_logits(p, y, reduction=r),
        target="binary",
    ),
    LossCase(
        "cce_logits_onehot",
        "categorical_crossentropy",
        {"from_logits": True},
        lambda t, F, p, y, r: F.cross_entropy(p, y, reduction=r),
        target="onehot",
    ),
    LossCase(
        "cce_logits_soft",
        "categorical_crossentropy",
        {"from_logits": True},
        lambda t, F, p, y, r: F.cross_entropy(p, y, reduction=r),
        target="soft",
    ),
    LossCase(
        "cce_logits_labels",
        "categorical_crossentropy",
        {"from_logits": True},
        lambda t, F, p, y, r: F.cross_entropy(p, y.long(), reduction=r),
        target="labels",
    ),
    LossCase(
        "sparse_cce_logits",
        "sparse_categorical_crossentropy",
        {"from_logits": True},
        lambda t, F, p, y, r: F.cross_entropy(p, y.long(), reduction=r),
        target="labels",
    ),
    LossCase(
        "cce_probabilities",
        "categorical_crossentropy",
        {},
        lambda t, F, p, y, r: F.nll_loss(t.log(p / p.sum(1, keepdim=True)), y.long(), reduction=r),
        prediction="probability_rows",
        target="labels",
    ),
    LossCase(
        "nll",
        "nll",
        {},
        lambda t, F, p, y, r: F.nll_loss(p, y.long(), reduction=r),
        prediction="log_probability",
        target="labels",
    ),
]


def _data(case: LossCase, rng: np.random.Generator):
    shape = (6, 4)
    z = rng.standard_normal(shape) * 2
    if case.prediction == "probability":
        prediction = rng.uniform(0.02, 0.98, shape)
    elif case.prediction == "probability_rows":
        e = np.exp(z)
        prediction = e / e.sum(axis=1, keepdims=True)
    elif case.prediction == "log_probability":
        prediction = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    else:
        prediction = z
    if case.target == "same":
        target = rng.standard_normal(shape)
    elif case.target == "binary":
        target = (rng.uniform(size=shape) > 0.5).astype(float)
    elif case.target == "onehot":
        target = np.eye(4)[rng.integers(0, 4, 6)]
    elif case.target == "soft":
        raw = rng.uniform(size=shape)
        target = raw / raw.sum(axis=1, keepdims=True)
    else:
        target = rng.integers(0, 4, 6).astype(float)
    return prediction, target


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_loss_matches_pytorch(torch, case: LossCase, reduction: str):
    import torch.nn.functional as F

    rng = np.random.default_rng(abs(hash(case.id)) % 2**32)
    prediction, target = _data(case, rng)
    loss = losses.get(case.name, **case.params, reduction=reduction)
    p = cr.tensor(prediction, requires_grad=True, dtype="float64")
    value = loss(p, target)
    v = rng.standard_normal(value.shape)
    w = rng.standard_normal(prediction.shape)
    (first,) = cr.gradients((value * cr.tensor(v, dtype="float64")).sum(), [p], create_graph=True)

    tp = torch.tensor(prediction, requires_grad=True)
    t_value = case.oracle(torch, F, tp, torch.tensor(target), reduction)
    (t_first,) = torch.autograd.grad((t_value * torch.tensor(v)).sum(), [tp], create_graph=True)
    np.testing.assert_allclose(value.numpy(), t_value.detach().numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(first.numpy(), t_first.detach().numpy(), rtol=1e-10, atol=1e-13)

    if t_first.requires_grad:
        (t_second,) = torch.autograd.grad(
            (t_first * torch.tensor(w)).sum(), [tp], allow_unused=True
        )
        t_second = np.zeros_like(w) if t_second is None else t_second.numpy(force=True)
    else:
        t_second = np.zeros_like(w)
    if first.requires_grad:
        (second,) = cr.gradients(
            (first * cr.tensor(w, dtype="float64")).sum(), [p], allow_unused=True
        )
        second = np.zeros_like(w) if second is None else second.numpy()
    else:
        second = np.zeros_like(w)
    np.testing.assert_allclose(second, t_second, rtol=1e-9, atol=1e-12)


def test_fused_softmax_cross_entropy_gradient_is_prediction_minus_target():
    z = np.random.default_rng(0).standard_normal((5, 3))
    y = np.eye(3)[[0, 2, 1, 1, 0]]
    logits = cr.tensor(z, requires_grad=True, dtype="float64")
    losses.get("categorical_crossentropy", from_logits=True)(logits, y).backward()
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad.numpy(), (softmax - y) / 5, rtol=1e-13)
    unreduced = losses.get("cce", from_logits=True, reduction="none")
    assert unreduced(cr.tensor(z, requires_grad=True), y).op == "softmax_cross_entropy"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logit_losses_are_stable_at_extremes(dtype):
    z = np.array([[-1000.0, 1000.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss, target, expected in [
            # mean of 1000, 1000 and log 2
            (
                losses.get("binary_crossentropy", from_logits=True),
                np.array([[1.0, 0.0, 1.0]]),
                (2000 + np.log(2)) / 3,
            ),
            # logsumexp(z) − z₀ = 1000 + 1000
            (losses.get("categorical_crossentropy", from_logits=True), np.array([0]), 2000.0),
        ]:
            logits = cr.tensor(z, requires_grad=True, dtype=dtype)
            value = loss(logits, target)
            value.backward()
            assert value.item() == pytest.approx(expected, rel=1e-6)
            assert np.isfinite(logits.grad.numpy()).all()
            assert logits.grad.dtype == np.dtype(dtype)


def test_bce_from_probabilities_stays_finite_at_zero_and_one():
    p = cr.tensor([0.0, 1.0], requires_grad=True, dtype="float64")
    value = losses.get("bce")(p, np.array([1.0, 0.0]))
    value.backward()
    assert value.item() == pytest.approx(100.0)
    assert np.isfinite(p.grad.numpy()).all()


def test_penalties_match_spec():
    w = cr.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True, dtype="float64")
    losses.L2(0.1)(w).backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.1 * w.numpy())
    assert losses.L2(0.1)(w).item() == pytest.approx(0.05 * (1 + 4 + 9 + 0.25))
    w.zero_grad()
    losses.L1(0.1)(w).backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.1 * np.sign(w.numpy()))
    with pytest.raises(ValueError, match="λ"):
        losses.L2(-1)


def test_registry_names_aliases_and_errors():
    assert losses.names()[0] == "mse"
    assert isinstance(losses.get("mean_squared_error"), losses.MeanSquaredError)
    assert isinstance(losses.get("CrossEntropy"), losses.CategoricalCrossentropy)
    with pytest.raises(ValueError, match="did you mean 'mse'.*valid names: mse, mae"):
        losses.get("msee")
    with pytest.raises(TypeError, match="huber"):
        losses.get("huber", gamma=1)
    with pytest.raises(ValueError, match="reduction"):
        losses.get("mse", reduction="average")


@pytest.mark.parametrize(
    ("name", "prediction", "target", "error", "match"),
    [
        ("mse", np.zeros((4, 2)), np.zeros(4), cr.ShapeError, r"\(4, 2\).*\(4,\)"),
        ("cce", np.zeros((4, 3)), np.zeros((4, 2)), cr.ShapeError, "integer labels of shape"),
        (
            "cce",
            np.zeros((4, 3)),
            np.array([0, 1, 2, 3]),
            ValueError,
            r"label 3 is out of range for a model with 3 outputs \(labels must be 0\.\.2",
        ),
        ("cce", np.zeros((4, 3)), np.array([0, 1, -1, 2]), ValueError, "label -1 is out of range"),
        (
            "cce",
            np.zeros((4, 3)),
            np.array([0, -(2**62), 1, 2], dtype=np.int64),
            ValueError,
            "label -4611686018427387904 is out of range",
        ),
        ("cce", np.zeros((4, 3)), np.array([0, 1.5, 2, 1]), ValueError, "non-integer"),
        ("sparse_cce", np.zeros((4, 3)), np.eye(3)[[0, 1, 2, 0]], cr.ShapeError, "one-hot"),
    ],
)
def test_bad_targets_are_explained(name, prediction, target, error, match):
    with pytest.raises(error, match=match):
        losses.get(name)(cr.tensor(prediction), target)


def test_one_hot_targets_from_labels_are_fresh_arrays_every_time():
    """The identity whose rows are the one-hot targets is made once per size; what a call
    returns is its own array, so changing it changes no later target."""
    loss = losses.get("sparse_cce", from_logits=True)
    prediction = cr.tensor(np.zeros((3, 4), np.float32))
    first = loss.target(prediction, np.array([2, 0, 3])).data
    np.testing.assert_array_equal(first, np.eye(4, dtype=np.float32)[[2, 0, 3]])
    first[:] = 7
    again = loss.target(prediction, np.array([1, 1, 0])).data
    np.testing.assert_array_equal(again, np.eye(4, dtype=np.float32)[[1, 1, 0]])
    assert again.dtype == np.float32 and again.flags.writeable


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "bce"])
def test_one_value_per_row_fits_one_output(name):
    """y of shape (N,) against a single output unit (N, 1): the natural way to give it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([Dense(4, input_dim=2, activation="tanh"), Dense(1)], seed=0)
    model.compile(
        loss=losses.get(name, from_logits=True) if name == "bce" else name, optimizer="adam"
    )
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, health=False)
    column = Sequential([Dense(4, input_dim=2, activation="tanh"), Dense(1)], seed=0)
    column.compile(loss=model.loss, optimizer="adam")
    assert (
        history.history
        == column.fit(x, y[:, None], epochs=3, batch_size=8, verbose=0, health=False).history
    )
