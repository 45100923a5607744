"""Optimisers against PyTorch (50-step float64 trajectories), their state, schedules, errors."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses, optim

SIZES = (5, 8, 6, 3)
STEPS = 50


# ---------------------------------------------------------------------- a 3-layer MLP, two ways
def _initial_weights(seed: int = 0, sizes: tuple[int, ...] = SIZES) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] with W of shape (out, in), as torch.nn.Linear stores them."""
    rng = np.random.default_rng(seed)
    arrays = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        arrays.append(rng.normal(0.0, 1.0 / np.sqrt(fan_in), (fan_out, fan_in)))
        arrays.append(rng.normal(0.0, 0.1, fan_out))
    return arrays


def _chainrule_params(arrays: list[np.ndarray], dtype: str = "float64") -> list[cr.Tensor]:
    return [cr.tensor(a, requires_grad=True, dtype=dtype) for a in arrays]


def _forward(params: list[cr.Tensor], x: np.ndarray) -> cr.Tensor:
    """z = a @ W.T + b per layer, tanh on the hidden layers, raw outputs (logits) at the end."""
    a = cr.tensor(x, dtype=params[0].dtype)
    layers = len(params) // 2
    for layer in range(layers):
        weight, bias = params[2 * layer], params[2 * layer + 1]
        a = a @ weight.T + bias
        if layer < layers - 1:
            a = a.tanh()
    return a


def _torch_model(torch, arrays: list[np.ndarray]):
    modules = []
    for layer in range(len(arrays) // 2):
        weight = arrays[2 * layer]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weight))
            linear.bias.copy_(torch.tensor(arrays[2 * layer + 1]))
        modules += [linear, torch.nn.Tanh()]
    return torch.nn.Sequential(*modules[:-1])


def _data(seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(24, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=24)
    targets = rng.normal(size=(24, SIZES[-1]))
    return x, labels, targets


LOSSES = {
    "cross_entropy": (
        lambda: losses.get("categorical_crossentropy", from_logits=True),
        lambda torch, out, labels, targets: torch.nn.functional.cross_entropy(
            out, torch.tensor(labels)
        ),
    ),
    "mse": (
        lambda: losses.get("mse"),
        lambda torch, out, labels, targets: torch.nn.functional.mse_loss(
            out, torch.tensor(targets)
        ),
    ),
}


def _run_chainrule(opt_factory, loss_name, steps=STEPS, arrays=None, before_step=None):
    x, labels, targets = _data()
    params = _chainrule_params(_initial_weights() if arrays is None else arrays)
    opt = opt_factory(params)
    loss_fn = LOSSES[loss_name][0]()
    target = labels if loss_name == "cross_entropy" else targets
    for step in range(steps):
        if before_step is not None:
            before_step(opt, step)
        opt.zero_grad()
        loss_fn(_forward(params, x), target).backward()
        opt.step()
    return params, opt


def _run_torch(torch, opt_factory, loss_name, steps=STEPS, before_step=None, clip=None):
    x, labels, targets = _data()
    model = _torch_model(torch, _initial_weights())
    params = list(model.parameters())
    opt = opt_factory(params)
    inputs = torch.tensor(x)
    for step in range(steps):
        if before_step is not None:
            before_step(opt, step)
        opt.zero_grad()
        LOSSES[loss_name][1](torch, model(inputs), labels, targets).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
    return [p.detach().numpy() for p in params], opt


def _assert_same_parameters(ours: list[cr.Tensor], theirs: list[np.ndarray]) -> None:
    initial = _initial_weights()
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            mine.data, reference, rtol=1e-8, atol=1e-12, err_msg=f"parameter {index}"
        )
    moved = max(np.abs(p.data - a).max() for p, a in zip(ours, initial))
    assert moved > 1e-3, "the parameters hardly moved; the comparison would prove nothing"


# ---------------------------------------------------------------------- trajectory parity
@dataclass(frozen=True)
class OptimizerCase:
    id: str
    ours: Callable  # params -> chainrule optimiser
    theirs: Callable  # (torch, params) -> torch optimiser
    settings: dict = field(default_factory=dict)


CASES = [
    OptimizerCase("sgd", lambda p: optim.SGD(p, lr=0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    OptimizerCase(
        "sgd_momentum",
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    OptimizerCase(
        "sgd_momentum_dampening",
        lambda p: optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3),
    ),
    OptimizerCase(
        "sgd_nesterov",
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    OptimizerCase(
        "sgd_weight_decay",
        lambda p: optim.SGD(p, lr=0.1, weight_decay=0.05),
        lambda t, p: t.optim.SGD(p, lr=0.1, weight_decay=0.05),
    ),
    OptimizerCase(
        "sgd_momentum_weight_decay",
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
    ),
    OptimizerCase(
        "rmsprop", lambda p: optim.RMSprop(p, lr=0.01), lambda t, p: t.optim.RMSprop(p, lr=0.01)
    ),
    OptimizerCase(
        "rmsprop_centered_momentum",
        lambda p: optim.RMSprop(
            p, lr=0.005, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01
        ),
        lambda t, p: t.optim.RMSprop(
            p, lr=0.005, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01
        ),
    ),
    OptimizerCase("adam", lambda p: optim.Adam(p, lr=0.01), lambda t, p: t.optim.Adam(p, lr=0.01)),
    OptimizerCase(
        "adam_amsgrad_weight_decay",
        lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.01),
        lambda t, p: t.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.01),
    ),
    OptimizerCase(
        "adamw",
        lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
        lambda t, p: t.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    ),
    OptimizerCase(
        "adamw_amsgrad",
        lambda p: optim.AdamW(p, lr=0.01, amsgrad=True),
        lambda t, p: t.optim.AdamW(p, lr=0.01, amsgrad=True),
    ),
    OptimizerCase(
        "adagrad", lambda p: optim.Adagrad(p, lr=0.1), lambda t, p: t.optim.Adagrad(p, lr=0.1)
    ),
    OptimizerCase(
        "adagrad_decay_accumulator",
        lambda p: optim.Adagrad(
            p, lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1
        ),
        lambda t, p: t.optim.Adagrad(
            p, lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1
        ),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_trajectory_matches_pytorch(torch, case, loss_name):
    ours, _ = _run_chainrule(case.ours, loss_name)
    theirs, _ = _run_torch(torch, lambda p: case.theirs(torch, p), loss_name)
    _assert_same_parameters(ours, theirs)


@pytest.mark.slow
@pytest.mark.parametrize("loss_name", list(LOSSES))
def test_clipnorm_matches_clip_grad_norm_then_sgd(torch, loss_name):
    norms = []

    def record_norm(opt, step):
        if step:
            norms.append(optim._global_norm(p.grad.data for p in opt.params))

    ours, _ = _run_chainrule(
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, clipnorm=0.2),
        loss_name,
        before_step=record_norm,
    )
    theirs, _ = _run_torch(
        torch, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), loss_name, clip=0.2
    )
    assert min(norms) < 0.2 < max(norms), "clipping should act on some steps, not all"
    _assert_same_parameters(ours, theirs)


def test_clip_grad_norm_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(4, 3)), rng.normal(size=5), rng.normal(size=(2, 2, 2))]
    for max_norm in (0.5, 100.0):
        ours = [cr.tensor(a, requires_grad=True, dtype="float64") for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        for mine, reference, a in zip(ours, theirs, arrays):
            mine.grad = cr.tensor(3 * a, dtype="float64")
            reference.grad = torch.tensor(3 * a)
        norm = optim.clip_grad_norm(ours, max_norm)
        expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm).item()
        assert isinstance(norm, float)
        np.testing.assert_allclose(norm, expected, rtol=1e-12)
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-12)
    # The norm was above 0.5 and below 100: the first call clipped, the second did not.
    assert norm > 0.5
    np.testing.assert_array_equal(ours[0].grad.data, 3 * arrays[0])


SCHEDULES = {
    "exponential": (
        lambda: optim.ExponentialDecay(0.8),
        lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
    ),
    "step": (
        lambda: optim.StepDecay(3, gamma=0.5),
        lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    ),
    "inverse_time": (
        lambda: optim.InverseTimeDecay(0.5),
        lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + 0.5 * e)),
    ),
    "cosine": (
        lambda: optim.CosineDecay(8, min_lr=0.002),
        lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.002),
    ),
}


SCHEDULED = {  # momentum buffers that must not absorb the learning rate
    "sgd_momentum": (
        lambda p, s: optim.SGD(p, lr=0.2, momentum=0.5, schedule=s),
        lambda t, p: t.optim.SGD(p, lr=0.2, momentum=0.5),
    ),
    "rmsprop_momentum": (
        lambda p, s: optim.RMSprop(p, lr=0.01, momentum=0.5, schedule=s),
        lambda t, p: t.optim.RMSprop(p, lr=0.01, momentum=0.5),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", list(SCHEDULED))
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_pytorch_scheduler(torch, name, optimizer):
    ours_schedule, torch_scheduler = SCHEDULES[name]
    our_optimizer, torch_optimizer = SCHEDULED[optimizer]
    epochs, steps_per_epoch = 8, 4
    our_rates, torch_rates = [], []

    def our_epoch(opt, step):
        if step % steps_per_epoch == 0:
            our_rates.append(opt.set_epoch(step // steps_per_epoch))

    scheduler = []

    def torch_epoch(opt, step):
        if not scheduler:
            scheduler.append(torch_scheduler(torch, opt))
        elif step % steps_per_epoch == 0:
            scheduler[0].step()
        if step % steps_per_epoch == 0:
            torch_rates.append(opt.param_groups[0]["lr"])

    steps = epochs * steps_per_epoch
    ours, opt = _run_chainrule(
        lambda p: our_optimizer(p, ours_schedule()),
        "cross_entropy",
        steps=steps,
        before_step=our_epoch,
    )
    theirs, _ = _run_torch(
        torch,
        lambda p: torch_optimizer(torch, p),
        "cross_entropy",
        steps=steps,
        before_step=torch_epoch,
    )
    np.testing.assert_allclose(our_rates, torch_rates, rtol=1e-12)
    assert len(set(our_rates)) > 2, "the learning rate never changed"
    assert opt.initial_lr == our_rates[0] and opt.lr == our_rates[-1]
    _assert_same_parameters(ours, theirs)


# ---------------------------------------------------------------------- schedules
def test_schedule_formulas():
    assert optim.InverseTimeDecay(0.5)(0, 0.1) == 0.1
    assert optim.InverseTimeDecay(0.5)(4, 0.1) == pytest.approx(0.1 / 3)
    assert optim.ExponentialDecay(0.9)(2, 0.5) == pytest.approx(0.405)
    assert [optim.StepDecay(3, 0.1)(e, 1.0) for e in (0, 2, 3, 5, 6)] == pytest.approx(
        [1.0, 1.0, 0.1, 0.1, 0.01]
    )
    cosine = optim.CosineDecay(10, min_lr=0.1)
    assert cosine(0, 1.1) == pytest.approx(1.1)
    assert cosine(5, 1.1) == pytest.approx(0.6)
    assert cosine(10, 1.1) == pytest.approx(0.1)
    assert cosine(25, 1.1) == pytest.approx(0.1)  # clipped at total_epochs
    assert cosine(2, 1.1) == pytest.approx(0.1 + 0.5 * (1 + np.cos(np.pi * 0.2)))
    with pytest.raises(ValueError, match="epoch"):
        optim.ExponentialDecay(0.9)(-1, 0.5)
    with pytest.raises(ValueError, match="step_size"):
        optim.StepDecay(0)


def test_set_epoch_applies_the_schedule_only_when_there_is_one():
    w = cr.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.4, schedule=optim.InverseTimeDecay(1.0))
    assert opt.set_epoch(3) == pytest.approx(0.1)
    assert opt.lr == pytest.approx(0.1) and opt.initial_lr == 0.4 and opt.epoch == 3
    assert opt.set_epoch(0) == pytest.approx(0.4)
    plain = optim.SGD([w], lr=0.4)
    assert plain.set_epoch(7) == 0.4
    with pytest.raises(TypeError, match="schedule must be callable"):
        optim.SGD([w], schedule=0.5)


# ---------------------------------------------------------------------- dtype and in-place
FIRST_ORDER_SETTINGS = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.RMSprop, {"momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    (optim.Adam, {"amsgrad": True, "weight_decay": 0.01}),
    (optim.AdamW, {"amsgrad": True}),
    (optim.Adagrad, {"lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
]
FIRST_ORDER = [lambda p, c=cls, s=settings: c(p, **s) for cls, settings in FIRST_ORDER_SETTINGS]
FIRST_ORDER_IDS = ["sgd", "rmsprop", "adam", "adamw", "adagrad"]


@pytest.mark.parametrize("cls, settings", FIRST_ORDER_SETTINGS, ids=FIRST_ORDER_IDS)
def test_float32_parameters_and_state_stay_float32_and_are_updated_in_place(cls, settings):
    params = _chainrule_params(_initial_weights(), dtype="float32")
    arrays = [p.data for p in params]
    before = [a.copy() for a in arrays]
    # NumPy float64 settings (as from a config file) must not upcast the float32 state.
    numpy_settings = {k: np.float64(v) if type(v) is float else v for k, v in settings.items()}
    opt = cls(params, lr=np.float64(0.01), **{k: v for k, v in numpy_settings.items() if k != "lr"})
    x, labels, _ = _data()
    for _ in range(3):
        opt.zero_grad()
        losses.get("cce", from_logits=True)(_forward(params, x), labels).backward()
        opt.step()
    for param, array, old in zip(params, arrays, before):
        assert param.data is array
        assert param.data.dtype == np.float32
        assert not np.array_equal(param.data, old)
    buffers = [v for state in opt.state for v in state.values() if isinstance(v, np.ndarray)]
    assert len(buffers) >= len(params)
    assert all(b.dtype == np.float32 for b in buffers), {b.dtype for b in buffers}


def test_float32_trajectory_is_close_to_float64():
    ours32, _ = _run_chainrule(
        lambda p: optim.Adam(p, lr=0.01),
        "mse",
        steps=10,
        arrays=[a.astype(np.float32) for a in _initial_weights()],
    )
    ours64, _ = _run_chainrule(lambda p: optim.Adam(p, lr=0.01), "mse", steps=10)
    for p32, p64 in zip(ours32, ours64):
        np.testing.assert_allclose(p32.data, p64.data, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------------- gradients
def test_zero_grad_clears_every_gradient():
    params = _chainrule_params(_initial_weights())
    opt = optim.SGD(params)
    x, labels, _ = _data()
    losses.get("cce", from_logits=True)(_forward(params, x), labels).backward()
    assert all(p.grad is not None for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("factory", FIRST_ORDER, ids=FIRST_ORDER_IDS)
def test_parameters_without_gradient_are_skipped(factory):
    used = cr.tensor([1.0, 2.0], requires_grad=True)
    unused = cr.tensor([3.0, 4.0], requires_grad=True)
    opt = factory([used, unused])
    for _ in range(2):
        opt.zero_grad()
        (used * used).sum().backward()
        opt.step()
    np.testing.assert_array_equal(unused.data, [3.0, 4.0])
    assert not np.array_equal(used.data, [1.0, 2.0])
    assert opt.state[1] == {}
    assert opt.iterations == 2


def test_skipped_parameter_keeps_its_own_step_count(torch):
    """A parameter without gradient does not advance its Adam step (as in PyTorch)."""
    ours = [cr.tensor([1.0, -1.0], requires_grad=True, dtype="float64") for _ in range(2)]
    theirs = [torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True) for _ in range(2)]
    our_opt, their_opt = optim.Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    for step in range(6):
        active = [0] if step < 3 else [0, 1]
        our_opt.zero_grad()
        their_opt.zero_grad()
        sum((ours[i] * ours[i] * (i + 1.0)).sum() for i in active).backward()
        sum((theirs[i] * theirs[i] * (i + 1.0)).sum() for i in active).backward()
        our_opt.step()
        their_opt.step()
    assert our_opt.state[1]["step"] == 3
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_gradient_raises_and_changes_nothing(bad):
    first = cr.tensor([1.0, 2.0], requires_grad=True)
    second = cr.tensor([[3.0, 4.0, 5.0]], requires_grad=True)
    opt = optim.SGD([first, second], lr=0.1, momentum=0.9)
    first.grad = cr.tensor([1.0, 1.0])
    second.grad = cr.tensor([[1.0, bad, 1.0]])
    with pytest.raises(FloatingPointError, match=r"parameter 1 \(shape \(1, 3\)\)"):
        opt.step()
    np.testing.assert_array_equal(first.data, [1.0, 2.0])
    assert opt.state[0] == {} and opt.iterations == 0
    with pytest.raises(FloatingPointError, match="parameter 1"):
        optim.clip_grad_norm([first, second], 1.0)


def test_gradient_of_the_wrong_shape_is_an_error():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w])
    w.grad = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(cr.ShapeError, match="parameter 0 has shape"):
        opt.step()


def test_step_with_closure_returns_the_loss():
    w = cr.tensor([3.0], requires_grad=True, dtype="float64")
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.data[0] == pytest.approx(1.5)


# ---------------------------------------------------------------------- construction and binding
def test_constructor_errors():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="parameter 1 .* does not require grad"):
        optim.Adam([w, cr.tensor([2.0])])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.Adam([w * 2])
    with pytest.raises(TypeError, match="single tensor"):
        optim.SGD(w)
    with pytest.raises(TypeError, match=r"did you mean lr=0\.1"):
        optim.SGD(0.1)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], momentum=0.0, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta2"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([w], lr=-1.0)
    with pytest.raises(ValueError, match="norm limit"):
        optim.SGD([w], clipnorm=0.0)


def test_duplicates_are_removed_keeping_order():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    opt = optim.SGD([b, a, b, a], lr=1.0)
    assert [id(p) for p in opt.params] == [id(b), id(a)]
    b.grad = cr.tensor([1.0])
    opt.step()
    assert b.data[0] == 1.0  # updated once, not twice


def test_a_model_can_be_given_for_its_parameters():
    class Model:
        def __init__(self):
            self.weight = cr.tensor([1.0], requires_grad=True)

        def parameters(self):
            return iter([self.weight])

    model = Model()
    assert optim.Adam(model).params[0] is model.weight


def test_learning_rate_alias():
    w = cr.tensor([1.0], requires_grad=True)
    assert optim.Adam([w], learning_rate=0.05).lr == 0.05
    assert optim.SGD(learning_rate=0.3).initial_lr == 0.3
    with pytest.raises(TypeError, match="not both"):
        optim.SGD(lr=0.2, learning_rate=0.3)
    opt = optim.SGD([w], lr=0.2)
    opt.learning_rate = 0.7
    assert opt.lr == 0.7


def test_keras_style_unbound_then_bind():
    opt = optim.SGD(lr=0.5, momentum=0.5)
    assert not opt.bound and opt.params == []
    with pytest.raises(RuntimeError, match=r"bind\(params\)"):
        opt.step()
    w = cr.tensor([2.0], requires_grad=True, dtype="float64")
    assert opt.bind([w]) is opt
    (w * w).sum().backward()
    opt.step()
    assert w.data[0] == pytest.approx(0.0)
    momentum = opt.state[0]["momentum"]
    opt.bind([w])  # the same parameters: the state survives
    assert opt.state[0]["momentum"] is momentum and opt.iterations == 1
    v = cr.tensor([1.0, 1.0], requires_grad=True)
    opt.bind([v])  # other parameters: fresh state
    assert len(opt.params) == 1 and opt.params[0] is v
    assert opt.state == [{}] and opt.iterations == 0


def test_repr_shows_the_settings():
    w = cr.tensor([1.0], requires_grad=True)
    text = repr(optim.Adam([w], lr=0.01, clipnorm=1.0))
    assert text == (
        "Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, "
        "amsgrad=False, clipnorm=1.0)"
    )
    assert repr(optim.SGD(schedule=optim.StepDecay(2))) == (
        "SGD(lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0, "
        "schedule=StepDecay(step_size=2, gamma=0.1))"
    )


# ---------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("factory", FIRST_ORDER, ids=FIRST_ORDER_IDS)
def test_state_dict_round_trip_continues_the_same_trajectory(factory):
    uninterrupted, _ = _run_chainrule(factory, "cross_entropy", steps=50)

    first_part, opt = _run_chainrule(factory, "cross_entropy", steps=20)
    saved = opt.state_dict()
    params = _chainrule_params([p.data.copy() for p in first_part])
    assert all(isinstance(v, (float, int, np.ndarray)) for v in saved.values()), saved
    assert any(key.startswith("param5.") for key in saved)
    file = io.BytesIO()  # through np.savez and back, as a user would store it
    np.savez(file, **saved)
    file.seek(0)
    with np.load(file) as stored:
        restored = {key: stored[key] for key in stored.files}
    opt.step()  # the saved dict holds copies: later steps do not change it
    for key, value in saved.items():
        np.testing.assert_array_equal(restored[key], value)

    fresh = factory(params)
    fresh.load_state_dict(restored)
    assert fresh.iterations == 20 and type(fresh.iterations) is int
    steps = [state["step"] for state in fresh.state if "step" in state]
    assert all(type(step) is int for step in steps)  # not NumPy ints (they promote to float64)
    x, labels, _ = _data()
    for _ in range(30):
        fresh.zero_grad()
        losses.get("cce", from_logits=True)(_forward(params, x), labels).backward()
        fresh.step()
    for continued, reference in zip(params, uninterrupted):
        np.testing.assert_array_equal(continued.data, reference.data)


def test_state_dict_restores_settings_and_counters():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    source = optim.Adam([w], lr=0.02, betas=(0.5, 0.6), amsgrad=True, clipnorm=2.0)
    source.set_epoch(4)
    w.grad = cr.tensor([0.1, 0.2])
    source.step()
    target = optim.Adam([w])
    target.load_state_dict(source.state_dict())
    assert (target.lr, target.betas, target.amsgrad, target.clipnorm) == (
        0.02,
        (0.5, 0.6),
        True,
        2.0,
    )
    assert (target.epoch, target.iterations, target.state[0]["step"]) == (4, 1, 1)
    assert type(target.state[0]["step"]) is int
    np.testing.assert_array_equal(target.state[0]["exp_avg"], source.state[0]["exp_avg"])
    assert target.state[0]["exp_avg"] is not source.state[0]["exp_avg"]


def test_load_state_dict_errors():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], momentum=0.9)
    w.grad = cr.tensor([1.0, 1.0])
    opt.step()
    good = opt.state_dict()
    with pytest.raises(ValueError, match=r"'param0.momentum' has shape \(3,\).*shape \(2,\)"):
        opt.load_state_dict({**good, "param0.momentum": np.zeros(3)})
    with pytest.raises(ValueError, match="unknown keys 'beta1'"):
        opt.load_state_dict({**good, "beta1": 0.9})
    with pytest.raises(ValueError, match="lacks lr"):
        opt.load_state_dict({k: v for k, v in good.items() if k != "lr"})
    with pytest.raises(ValueError, match="has 1 parameters"):
        opt.load_state_dict({**good, "param1.momentum": np.zeros(2)})
    # Nothing was changed by the failed loads.
    np.testing.assert_array_equal(opt.state[0]["momentum"], good["param0.momentum"])


# ---------------------------------------------------------------------- L-BFGS and CG
def test_lbfgs_fits_linear_least_squares():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 4))
    y = x @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.7 + 0.1 * rng.normal(size=60)
    weight = cr.tensor(np.zeros((1, 4)), requires_grad=True, dtype="float64")
    bias = cr.tensor(np.zeros(1), requires_grad=True, dtype="float64")
    inputs = cr.tensor(x, dtype="float64")
    mse = losses.get("mse")

    def closure():
        loss = mse(inputs @ weight.T + bias, y[:, None])
        loss.backward()
        return loss

    weight_array = weight.data
    result = optim.LBFGS([weight, bias]).minimize(closure)
    solution = np.linalg.lstsq(np.hstack([x, np.ones((60, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(weight.data[0], solution[:4], rtol=0, atol=1e-6)
    np.testing.assert_allclose(bias.data, solution[4:], rtol=0, atol=1e-6)
    assert weight.data is weight_array
    assert result.fun == pytest.approx(float(mse(inputs @ weight.T + bias, y[:, None]).item()))


def _regression_problem():
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, size=(40, 2))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:] ** 2
    return x, y, _initial_weights(seed=11, sizes=(2, 8, 1))


def _regression_loss(params, x, y):
    return losses.get("mse")(_forward(params, x), y)


@pytest.mark.parametrize("cls", [optim.LBFGS, optim.ConjugateGradient])
def test_full_batch_methods_beat_plain_sgd(cls):
    x, y, initial = _regression_problem()
    sgd_params = _chainrule_params(initial)
    sgd = optim.SGD(sgd_params, lr=0.1)
    for _ in range(100):
        sgd.zero_grad()
        _regression_loss(sgd_params, x, y).backward()
        sgd.step()
    sgd_loss = _regression_loss(sgd_params, x, y).item()

    params = _chainrule_params(initial)
    start_loss = _regression_loss(params, x, y).item()
    opt = cls(params, max_iter=100)

    def closure():
        opt.zero_grad()
        loss = _regression_loss(params, x, y)
        loss.backward()
        return loss

    result = opt.step(closure)
    final_loss = _regression_loss(params, x, y).item()
    assert final_loss == pytest.approx(result.fun, rel=1e-12)
    assert final_loss < sgd_loss < start_loss
    assert opt.iterations == result.nit > 0


def test_full_batch_methods_keep_float32_and_need_a_closure():
    x, y, initial = _regression_problem()
    params = _chainrule_params(initial, dtype="float32")
    arrays = [p.data for p in params]
    opt = optim.get("cg", max_iter=20)
    with pytest.raises(RuntimeError, match="bind"):
        opt.step(lambda: None)
    opt.bind(params)
    assert opt.requires_closure and not optim.SGD.requires_closure  # what Model.fit reads
    with pytest.raises(TypeError, match="needs a closure"):
        opt.step()

    def closure():
        loss = _regression_loss(params, x, y)
        loss.backward()
        return loss

    start = _regression_loss(params, x, y).item()
    opt.minimize(closure)
    assert all(p.data is a and p.data.dtype == np.float32 for p, a in zip(params, arrays))
    assert _regression_loss(params, x, y).item() < start
    assert opt.state_dict() == {
        "lr": 1.0,
        "initial_lr": 1.0,
        "epoch": 0,
        "iterations": opt.iterations,
        "max_iter": 20,
        "tol": 1e-9,
    }


def test_full_batch_methods_keep_the_best_point_seen(monkeypatch):
    """The parameters end at the lowest loss evaluated, even if SciPy reports a later point."""
    scipy_optimize = pytest.importorskip("scipy.optimize")

    def fake_minimize(objective, start, jac, method, tol, options):
        for shift in (0.0, 1.0, 5.0):  # loss 1, 0, 16 per entry: the best is in the middle
            value, gradient = objective(start + shift)
        return scipy_optimize.OptimizeResult(x=start + 5.0, fun=value, jac=gradient, nit=2)

    class FakeScipy:
        minimize = staticmethod(fake_minimize)

    monkeypatch.setattr(optim, "_scipy_optimize", lambda: FakeScipy)
    w = cr.tensor([0.0, 0.0], requires_grad=True, dtype="float64")
    opt = optim.LBFGS([w])
    result = opt.minimize(lambda: _backward(((w - 1.0) * (w - 1.0)).sum()))
    np.testing.assert_array_equal(w.data, [1.0, 1.0])
    np.testing.assert_array_equal(result.x, [1.0, 1.0])
    assert result.fun == 0.0 and opt.iterations == 2


def _backward(loss):
    loss.backward()
    return loss


def test_full_batch_closure_must_backward():
    w = cr.tensor([1.0], requires_grad=True, dtype="float64")
    opt = optim.LBFGS([w])
    with pytest.raises(RuntimeError, match="backward"):
        opt.minimize(lambda: (w * w).sum())
    with pytest.raises(FloatingPointError, match="starting parameters"):
        opt.minimize(lambda: _nan_gradient(w))


def _nan_gradient(w):
    loss = (w * w).sum()
    loss.backward()
    w.grad = cr.tensor([np.nan], dtype="float64")
    return loss


def test_missing_scipy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[scipy\]"'):
        optim.LBFGS()
    optim.SGD(lr=0.1)  # the first-order methods do not need SciPy
    assert optim.optimizer_class("L-BFGS") is optim.LBFGS  # nor naming one's class


def test_optimizer_class_resolves_names_as_get_does():
    assert optim.optimizer_class("Nesterov") is optim.SGD
    assert optim.optimizer_class("conjugate_gradient") is optim.ConjugateGradient
    for name in set(optim.names()) - {"lbfgs", "cg"}:  # (building those needs SciPy)
        assert optim.optimizer_class(name) is type(optim.get(name))
    with pytest.raises(ValueError, match="valid names: sgd, momentum"):
        optim.optimizer_class("adamm")
    with pytest.raises(TypeError):
        optim.optimizer_class(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- registry
def test_registry_names_and_aliases():
    assert optim.names() == [
        "sgd",
        "momentum",
        "nesterov",
        "rmsprop",
        "adam",
        "adamw",
        "adagrad",
        "lbfgs",
        "cg",
    ]
    assert type(optim.get("SGD")) is optim.SGD and optim.get("sgd").momentum == 0.0
    momentum = optim.get("Momentum", lr=0.1)
    assert (momentum.momentum, momentum.nesterov, momentum.lr) == (0.9, False, 0.1)
    assert optim.get("momentum", momentum=0.5).momentum == 0.5
    nesterov = optim.get("NESTEROV")
    assert nesterov.nesterov and nesterov.momentum == 0.9
    assert type(optim.get("RMSProp")) is optim.RMSprop
    assert type(optim.get("adam")) is optim.Adam
    assert type(optim.get("Adam_W")) is optim.AdamW
    assert type(optim.get("ada-grad")) is optim.Adagrad
    for name in ("lbfgs", "L-BFGS", "l_bfgs", "L-BFGS-B"):
        assert type(optim.get(name)) is optim.LBFGS
    for name in ("cg", "CG", "conjugate_gradient", "Conjugate-Gradient"):
        assert type(optim.get(name)) is optim.ConjugateGradient
    assert optim.get(optim.Adam, lr=0.5).lr == 0.5
    w = cr.tensor([1.0], requires_grad=True)
    assert optim.get("adam", params=[w]).params[0] is w


def test_registry_errors():
    with pytest.raises(ValueError, match=r"did you mean 'adam'.*valid names: sgd, momentum"):
        optim.get("adamm")
    with pytest.raises(ValueError, match="valid names: .*lbfgs, cg") as info:
        optim.get("newton")
    assert "did you mean" not in str(info.value)
    with pytest.raises(TypeError, match="adam has no parameter momentum; .*betas"):
        optim.get("adam", momentum=0.9)
    with pytest.raises(TypeError, match="lbfgs has no parameter lr; .*history_size"):
        optim.get("lbfgs", lr=0.1)
    opt = optim.SGD()
    assert optim.get(opt) is opt
    with pytest.raises(TypeError, match="not an object"):
        optim.get(opt, lr=0.1)
    with pytest.raises(TypeError, match="not int"):
        optim.get(3)
