"""Modules and layers: shapes, parameters, state, and agreement with PyTorch's layers."""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import init
from chainrule.models import Sequential
from chainrule.nn import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    Maxout,
    Module,
    Parameter,
    PReLU,
)


def test_dense_layout_is_spec_and_pytorch_linear(torch):
    layer = Dense(3, input_dim=4, seed=0)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    x = np.random.default_rng(1).standard_normal((5, 4))
    linear = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(layer.weight.numpy()))
        linear.bias.copy_(torch.tensor(layer.bias.numpy()))
    ours = layer(cr.tensor(x, dtype="float64"))
    np.testing.assert_allclose(ours.numpy(), linear(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_dense_infers_its_input_width_on_first_call():
    layer = Dense(2, seed=0)
    assert layer.parameters() == [] and not layer.built
    out = layer(np.ones((3, 7)))
    assert out.shape == (3, 2) and layer.weight.shape == (2, 7)
    with pytest.raises(cr.ShapeError, match="7 features"):
        layer(np.ones((3, 6)))


def test_dense_gradients_follow_spec_backprop():
    # ∂L/∂W = δ aᵀ, ∂L/∂b = δ for L = Σ z, so δ = 1 for every unit and sample.
    layer = Dense(2, input_dim=3, seed=0)
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((2, 2)) @ x, rtol=1e-6)
    np.testing.assert_allclose(layer.bias.grad.numpy(), [2.0, 2.0])


def test_zero_initialisation_warns_about_symmetry():
    with pytest.warns(init.SymmetryWarning, match="symmetry"):
        Dense(4, input_dim=3, kernel_init="zeros")


def test_auto_initialisation_follows_the_activation():
    relu = Dense(400, input_dim=500, activation="relu", seed=0)
    tanh = Dense(400, input_dim=500, activation="tanh", seed=0)
    assert np.var(relu.weight.numpy()) == pytest.approx(2 / 500, rel=0.05)  # He
    assert np.var(tanh.weight.numpy()) == pytest.approx(2 / 900, rel=0.05)  # Xavier
    model = Sequential([Dense(400, input_dim=500), Activation("relu")], seed=0)
    assert np.var(model[0].weight.numpy()) == pytest.approx(2 / 500, rel=0.05)


def test_sequential_seed_makes_initialisation_reproducible():
    def build(seed):
        return Sequential([Dense(8, input_dim=3), Activation("tanh"), Dense(2)], seed=seed)

    first, second, other = build(5), build(5), build(6)
    for a, b in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(first.parameters()[0].numpy(), other.parameters()[0].numpy())


def test_sequential_names_parameters_and_state_dict_round_trip():
    model = Sequential([Dense(4, input_dim=3), Activation("relu"), Dense(2), BatchNorm()], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "dense.weight",
        "dense.bias",
        "dense_1.weight",
        "dense_1.bias",
        "batch_norm.weight",
        "batch_norm.bias",
    ]
    state = model.state_dict()
    assert "batch_norm.running_mean" in state
    before = model.parameters()[0]
    copy = Sequential([Dense(4, input_dim=3), Activation("relu"), Dense(2), BatchNorm()], seed=1)
    copy.load_state_dict(state)
    assert copy.parameters()[0] is not before
    for key, value in copy.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    data_object = copy.parameters()[0].data
    copy.load_state_dict(state)
    assert copy.parameters()[0].data is data_object  # in place: optimisers keep their references
    with pytest.raises(KeyError, match="missing"):
        copy.load_state_dict({"dense.weight": state["dense.weight"]})
    bad = dict(state, **{"dense.weight": np.zeros((5, 3))})
    with pytest.raises(cr.ShapeError, match=r"dense.weight.*\(5, 3\)"):
        copy.load_state_dict(bad)


def test_summary_lists_layers_shapes_and_counts():
    model = Sequential(
        [Dense(64, input_dim=100), Activation("relu"), Dense(10), Activation("softmax")]
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert "dense (Dense)" in text and "(None, 64)" in text and "6,464" in text
    assert "dense_1 (Dense)" in text and "(None, 10)" in text and "650" in text
    assert "Total parameters: 7,114" in text


def test_unbuilt_summary_says_so_and_forward_builds():
    model = Sequential([Dense(3), Activation("tanh")], seed=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert "not built" in lines[0]
    assert model(np.ones((2, 5))).shape == (2, 3)
    assert model.built


def test_batchnorm_matches_pytorch_in_train_and_eval(torch):
    rng = np.random.default_rng(0)
    ours = BatchNorm(momentum=0.2)
    theirs = torch.nn.BatchNorm1d(4, momentum=0.2).double()
    batches = [rng.standard_normal((8, 4)) * 3 + 1 for _ in range(3)]
    for batch in batches:
        x = cr.tensor(batch, requires_grad=True, dtype="float64")
        tx = torch.tensor(batch, requires_grad=True)
        out, t_out = ours(x), theirs(tx)
        np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
        v = rng.standard_normal(batch.shape)
        (out * cr.tensor(v, dtype="float64")).sum().backward()
        (t_out * torch.tensor(v)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-6)
    ours.eval()
    theirs.eval()
    test = rng.standard_normal((5, 4))
    np.testing.assert_allclose(
        ours(cr.tensor(test, dtype="float64")).numpy(),
        theirs(torch.tensor(test)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="more than one sample"):
        ours.train()
        ours(np.ones((1, 4)))


def test_batchnorm_parameters_match_pytorch_gradients(torch):
    rng = np.random.default_rng(3)
    batch = rng.standard_normal((6, 3))
    cr.set_default_dtype("float64")
    ours = BatchNorm()
    out = ours(cr.tensor(batch))
    theirs = torch.nn.BatchNorm1d(3).double()
    t_out = theirs(torch.tensor(batch))
    v = rng.standard_normal(batch.shape)
    (out * cr.tensor(v)).sum().backward()
    (t_out * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-10)


def test_dropout_is_inverted_and_off_in_eval(torch):
    layer = Dropout(0.4, seed=0)
    x = np.random.default_rng(1).standard_normal((50, 20))
    out = layer(cr.tensor(x, dtype="float64"))
    mask = layer.last_mask
    assert 0.5 < mask.mean() < 0.7
    # PyTorch's dropout with the same mask: x · mask / (1 − p)
    expected = torch.tensor(x) * torch.tensor(mask, dtype=torch.float64) / (1 - 0.4)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)
    layer.eval()
    assert layer(cr.tensor(x)).numpy() is not None
    np.testing.assert_array_equal(layer(cr.tensor(x, dtype="float64")).numpy(), x)
    torch_layer = torch.nn.Dropout(0.4).eval()
    np.testing.assert_array_equal(torch_layer(torch.tensor(x)).numpy(), x)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)


def test_prelu_layer_learns_one_slope_per_unit():
    layer = PReLU()
    x = cr.tensor([[-1.0, 2.0, -3.0], [-1.0, -2.0, 1.0]])
    layer(x).sum().backward()
    assert layer.alpha.shape == (3,)
    np.testing.assert_allclose(layer.alpha.grad.numpy(), [-2.0, -2.0, -3.0])
    shared = PReLU(shared=True)
    shared(x)
    assert shared.alpha.shape == (1,)


def test_maxout_layer_has_units_times_pieces_linear_outputs():
    layer = Maxout(3, pieces=4, input_dim=5, seed=0)
    assert layer.linear.weight.shape == (12, 5)
    out = layer(np.random.default_rng(0).standard_normal((2, 5)))
    assert out.shape == (2, 3)
    z = layer.linear(np.random.default_rng(0).standard_normal((2, 5))).numpy()
    np.testing.assert_allclose(out.numpy(), z.reshape(2, 3, 4).max(axis=-1))


def test_flatten_and_activation_layers():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert Flatten()(x).shape == (2, 12)
    assert Flatten().output_shape((3, 4)) == (12,)
    act = Activation("leaky_relu", gamma=0.2)
    np.testing.assert_allclose(act(np.array([[-1.0, 1.0]])).numpy(), [[-0.2, 1.0]])
    with pytest.raises(ValueError, match="did you mean"):
        Activation("rleu")


def test_regularizer_adds_the_spec_penalty():
    layer = Dense(2, input_dim=2, kernel_regularizer=cr.losses.L2(0.5), seed=0)
    weight = layer.weight.numpy()
    assert layer.penalty().item() == pytest.approx(0.25 * (weight**2).sum(), rel=1e-6)
    assert Dense(2, input_dim=2, seed=0).penalty() is None


def test_module_registration_train_eval_and_custom_modules():
    class Residual(Module):
        def __init__(self):
            super().__init__()
            self.inner = Dense(3, input_dim=3, seed=0)
            self.scale = Parameter([2.0])

        def forward(self, x):
            return x + self.inner(x) * self.scale

    block = Residual()
    assert [n for n, _ in block.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    block.eval()
    assert not block.inner.training
    block.train()
    assert block.inner.training
    assert block(np.ones((1, 3))).shape == (1, 3)


# ---------------------------------------------------------------------- prelu and maxout by name
def _prelu_gradient(z, upstream):
    """∂(Σ upstream·a)/∂γᵢ = Σ over the batch of upstream·min(0, z) (docs/math.md §1:
    ∂a/∂γ = min(0, z))."""
    return (upstream * np.minimum(z, 0.0)).sum(axis=0)


def test_dense_prelu_learns_one_slope_per_unit(torch):
    rng = np.random.default_rng(0)
    x, upstream = rng.standard_normal((6, 3)), rng.standard_normal((6, 4))
    model = Sequential([Dense(4, input_dim=3, activation="prelu"), Dense(1)], seed=0)
    dense = model[0]
    names = [name for name, _ in model.named_parameters()]
    assert names == ["dense.weight", "dense.bias", "dense.alpha", "dense_1.weight", "dense_1.bias"]
    np.testing.assert_array_equal(dense.alpha.numpy(), np.full(4, 0.25, dtype=np.float32))
    a = dense(cr.tensor(x, dtype="float64"))
    (a * cr.tensor(upstream, dtype="float64")).sum().backward()
    z = x @ dense.weight.numpy().T.astype(np.float64) + dense.bias.numpy()
    assert (z < 0).any() and (z > 0).any()
    np.testing.assert_allclose(dense.alpha.grad.numpy(), _prelu_gradient(z, upstream), rtol=1e-5)
    # PyTorch's Linear + PReLU(num_parameters=units) as the oracle
    linear, prelu = torch.nn.Linear(3, 4).double(), torch.nn.PReLU(4).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(dense.weight.numpy()))
        linear.bias.copy_(torch.tensor(dense.bias.numpy()))
    expected = prelu(linear(torch.tensor(x)))
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.numpy(), expected.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(dense.alpha.grad.numpy(), prelu.weight.grad.numpy(), rtol=1e-5)


def test_activation_layer_prelu_learns_one_slope_per_input_unit():
    x = np.array([[-1.0, 2.0, -3.0], [-1.0, -2.0, 1.0]])
    layer = Activation("prelu")
    assert not layer.built and layer.parameters() == []
    upstream = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    (layer(cr.tensor(x)) * cr.tensor(upstream)).sum().backward()
    assert layer.alpha.shape == (3,)
    np.testing.assert_allclose(layer.alpha.grad.numpy(), _prelu_gradient(x, upstream))
    model = Sequential([Dense(5, input_dim=2), Activation("prelu", gamma=0.1), Dense(1)])
    assert [name for name, _ in model.named_parameters()][2] == "activation.alpha"
    np.testing.assert_allclose(model[1].alpha.numpy(), np.full(5, 0.1))
    lines = []
    model.summary(print_fn=lines.append)
    assert re.search(r"activation \(Activation\) +\(None, 5\) +5\n", lines[0])
    assert f"Total parameters: {15 + 5 + 6}" in lines[0]
    with pytest.raises(ValueError, match="prelu gamma has 2 values for a layer of 5 units"):
        Sequential([Dense(5, input_dim=2), Activation("prelu", gamma=[0.1, 0.2])])


def test_prelu_slopes_by_name_change_during_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = np.abs(x[:, :1]) - x[:, 1:]
    model = Sequential(
        [Dense(8, input_dim=2, activation="prelu"), Dense(8), Activation("prelu"), Dense(1)], seed=0
    )
    model.compile(loss="mse", optimizer=cr.optim.Adam(lr=0.05))
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for slopes in (model[0].alpha, model[2].alpha):
        assert np.abs(slopes.numpy() - 0.25).max() > 1e-2


def test_gradcheck_of_a_dense_prelu_network_passes():
    from chainrule.gradient_check import check_model

    rng = np.random.default_rng(1)
    x, labels = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    model = Sequential(
        [
            Dense(5, input_dim=3, activation="prelu"),
            Dense(4),
            Activation("prelu", gamma=0.5),
            Dense(2),
        ],
        seed=0,
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True), optimizer="sgd"
    )
    report = check_model(model, x, labels)
    assert report.ok, str(report)
    assert report["dense.alpha"].relative_error < 1e-7
    assert report["activation.alpha"].relative_error < 1e-7
    assert np.abs(report["dense.alpha"].analytic).max() > 0


def test_dense_maxout_narrows_the_width_for_the_next_layer():
    model = Sequential([Dense(8, input_dim=3, activation="maxout"), Dense(1)], seed=0)
    assert model[0].output_shape((3,)) == (4,) and model[1].weight.shape == (1, 4)
    assert model.output_shapes() == [(4,), (1,)]
    lines = []
    model.summary(print_fn=lines.append)
    assert "dense (Dense)    (None, 4)" in lines[0]
    four = Dense(8, input_dim=3, activation=cr.activations.get("maxout", pieces=4))
    assert four.output_shape((3,)) == (2,)
    model = Sequential([Dense(8, input_dim=3), Activation("maxout", pieces=4), Dense(1)])
    assert model.output_shapes() == [(8,), (2,), (1,)] and model[2].weight.shape == (1, 2)
    unbuilt = Sequential([Dense(8, activation="maxout"), Dense(1)], seed=0)
    assert unbuilt(np.ones((5, 3))).shape == (5, 1) and unbuilt[1].weight.shape == (1, 4)


def test_maxout_units_not_divisible_by_pieces_fail_at_construction():
    with pytest.raises(
        ValueError, match="maxout with 2 pieces needs a number of units divisible by 2, got 7"
    ):
        Dense(7, activation="maxout")
    with pytest.raises(ValueError, match="divisible by 4, got 6"):
        Sequential([Dense(6), Activation("maxout", pieces=4)])
    with pytest.raises(ValueError, match="divisible by 4, got 6"):
        Sequential([Dense(6, input_dim=2), Activation("maxout", pieces=4)])


def test_eager_fit_of_a_dense_maxout_network():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = np.abs(x[:, :1]) + x[:, 1:]
    model = Sequential([Dense(8, input_dim=2, activation="maxout"), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=cr.optim.Adam(lr=0.05))
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0, seed=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.predict(x).shape == (64, 1)


def test_health_report_reads_a_dense_prelu_with_its_learned_slopes():
    # a = |z| with slopes −1: the relu unit after it sees −x₁ − x₂ > 0 on negative inputs and is
    # alive; with the fixed γ = 0.25 it would see 0.25(x₁ + x₂) < 0 and look dead.
    model = Sequential(
        [Dense(2, input_dim=2, activation="prelu"), Dense(1, activation="relu")], seed=0
    )
    model[0].weight.data[:] = np.eye(2)
    model[1].weight.data[:] = 1.0
    model[0].alpha.data[:] = -1.0
    x = -np.abs(np.random.default_rng(0).standard_normal((50, 2))) - 0.1
    assert (model.predict(x) > 0).all()
    report = model.health(x)
    assert report.rows[1].layer == "dense_1" and report.rows[1].dead == 0.0


@pytest.mark.parametrize(
    ("keyword", "meant"),
    [
        ("kernel_initializer", "kernel_init"),
        ("bias_initializer", "bias_init"),
        ("input_shape", "input_dim"),
        ("activaton", "activation"),
    ],
)
def test_an_unknown_keyword_gets_a_did_you_mean(keyword, meant):
    with pytest.raises(
        TypeError,
        match=rf"Dense has no parameter '{keyword}' \(did you mean "
        rf"{meant}=\?\); its parameters are: units, ",
    ):
        Dense(3, **{keyword: None})


def test_sequential_is_a_model_and_its_old_path_warns_and_gives_the_same_class():
    import chainrule.nn

    assert issubclass(Sequential, cr.Model) and "Sequential" not in chainrule.nn.__all__
    with pytest.warns(DeprecationWarning, match=r"chainrule\.models\.Sequential"):
        from chainrule.nn import Sequential as old
    assert old is Sequential
    with pytest.raises(AttributeError, match="has no attribute 'Sequentail'"):
        chainrule.nn.Sequentail  # noqa: B018


def test_apply_activation_takes_slopes_for_prelu_only():
    from chainrule.nn.layers import apply_activation

    z = cr.Tensor(np.array([[-2.0, 1.0]]))
    slopes = cr.nn.Parameter(np.array([0.5, 0.5]))
    got = apply_activation(cr.activations.get("prelu"), z, slopes).data
    np.testing.assert_allclose(got, [[-1.0, 1.0]])
    with pytest.raises(TypeError, match="relu learns no slopes; only prelu takes them"):
        apply_activation(cr.activations.get("relu"), z, slopes)
