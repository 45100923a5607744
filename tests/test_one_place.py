"""One place per fact: what the library knows about an activation or a layer sits on its record.

Each test here registers a new activation or layer inside the test, with its facts on the
record and no other table edited, and checks that every part of the library that reads the
fact sees it.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import activations, diagnostics, init
from chainrule.errors import DerivativeCheckError
from chainrule.models import Sequential
from chainrule.nn import Dense
from chainrule.serialization import load_model


@pytest.fixture
def registered():
    names: list[str] = []
    yield names
    for name in names:
        if name in activations.names():
            activations.remove(name)


def _flat_zero_far_left(activation: activations.Activation) -> bool:
    """g(z) = g'(z) = 0 at z = −50, −5, −4 (what ``dead_below`` claims, measured)."""
    z = np.array([-50.0, -5.0, -4.0])
    return bool(np.all(activation.forward(z) == 0) and np.all(activation.derivative(z) == 0))


@pytest.mark.parametrize("name", activations.names())
def test_dead_below_agrees_with_the_function(name):
    activation = activations.get(name)
    assert activation.can_die == (activation.elementwise and _flat_zero_far_left(activation))
    if activation.can_die:
        activations.check_derivatives(activation)  # g = g' = 0 at every point below it
        edge = activation.dead_below
        above = np.array([edge + 0.5])
        assert activation.forward(above)[0] != 0 or activation.derivative(above)[0] != 0


@pytest.mark.parametrize("name", activations.names())
def test_every_record_names_a_registered_initialiser(name):
    activation = activations.get(name)
    assert activation.recommended_init in init.names()
    assert init.recommended_for(name) == activation.recommended_init
    assert activation.describe()["recommended_init"] == activation.recommended_init
    assert activation.label == (activation.display_name or activation.name)


def test_a_wrong_dead_below_is_refused_at_registration(registered):
    registered.append("shifted_relu_demo")
    with pytest.raises(DerivativeCheckError, match="dead_below = 0 says"):
        activations.register(
            "shifted_relu_demo",
            lambda z: np.maximum(z + 1.0, 0.0),
            lambda z: (z > -1.0).astype(z.dtype),
            dead_below=0.0,
        )


def _register_cut(registered: list[str]) -> type[activations.Activation]:
    """cut(z) = z² for z > 0, 0 otherwise: ReLU-like, with every fact given on its record."""
    registered.append("cut_demo")
    return activations.register(
        "cut_demo",
        lambda z: np.where(z > 0, z * z, 0.0),
        lambda z: np.where(z > 0, 2 * z, 0.0),
        lambda z: np.where(z > 0, 2.0, 0.0),
        recommended_init="he_uniform",
        display_name="Cut",
        dead_below=0.0,
        saturating="left",
    )


def test_a_registered_activation_shows_up_everywhere(registered, tmp_path):
    _register_cut(registered)
    record = activations.get("cut_demo")
    # the initialiser Dense picks for it
    assert init.recommended_for("cut_demo") == "he_uniform"
    dense = Dense(3, activation="cut_demo", input_dim=2, seed=0)
    expected = init.get("he_uniform")((3, 2), np.random.default_rng(0))
    np.testing.assert_array_equal(dense.weight.data, expected)
    # the health report's display name, dead-unit count and remedies
    model = Sequential([Dense(4, input_dim=2, activation="cut_demo", bias_init="zeros")], seed=0)
    model.layers[0].bias.data[...] = -100.0  # every unit off on every sample
    report = diagnostics.health_report(model, np.random.default_rng(0).normal(size=(50, 2)))
    assert report.rows[0].dead == 1.0
    message = report.warnings[0]
    assert "of its Cut units are dead" in message and "he_normal" in message
    assert record.describe()["label"] == "Cut"
    # the walk, and a model file
    x = np.random.default_rng(1).normal(size=(7, 2))
    (signals,) = cr.nn.walk(model, x)
    np.testing.assert_array_equal(signals.a, 0.0)
    model.layers[0].bias.data[...] = 0.5
    model.save(tmp_path / "cut.npz")
    loaded = load_model(tmp_path / "cut.npz")
    assert loaded.layers[0].activation.name == "cut_demo"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_an_activation_without_a_flat_zero_has_no_dead_count(registered):
    registered.append("soft_demo")
    activations.register(
        "soft_demo", lambda z: np.log1p(np.exp(z)), lambda z: 1.0 / (1.0 + np.exp(-z))
    )
    model = Sequential([Dense(4, input_dim=2, activation="soft_demo")], seed=0)
    report = diagnostics.health_report(model, np.random.default_rng(0).normal(size=(20, 2)))
    assert report.rows[0].dead is None
    assert cr.activations.get("soft_demo").label == "soft_demo"


def test_a_registered_activation_with_an_onnx_op_is_exported(registered):
    onnxruntime = pytest.importorskip("onnxruntime")
    from chainrule import onnx_export

    registered.append("soft_sign_demo")
    activations.register(
        "soft_sign_demo",
        lambda z: z / (1 + np.abs(z)),
        lambda z: 1 / (1 + np.abs(z)) ** 2,
        onnx_op="Softsign",
    )
    model = Sequential([Dense(3, input_dim=2, activation="soft_sign_demo")], seed=0)
    proto = onnx_export.to_onnx(model)
    assert [node.op_type for node in proto.graph.node] == ["Gemm", "Softsign"]
    session = onnxruntime.InferenceSession(proto.SerializeToString())
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    (out,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- the walk
def _walked_model() -> Sequential:
    from chainrule.nn import Activation, BatchNorm, Dropout

    return Sequential(
        [
            Dense(5, input_dim=3, activation="relu", seed=0),
            Dense(4, seed=1),
            Dropout(0.5, seed=2),
            BatchNorm(),
            Activation("tanh"),
            Dense(3, activation="prelu", seed=3),
            Dense(2, seed=4),
        ],
        seed=0,
    )


def test_walk_gives_each_dense_its_z_a_and_slope():
    from chainrule.nn import walk

    model = _walked_model()
    model.layers[5].alpha.data[...] = np.array([0.1, 0.2, 0.3])  # learned PReLU slopes
    x = np.random.default_rng(0).normal(size=(8, 3))
    model.train()
    signals = walk(model, x)
    assert model.training  # the mode is put back
    assert [s.activation_name for s in signals] == ["relu", "tanh", "prelu", "identity"]
    assert [s.dense for s in signals] == [model.layers[i] for i in (0, 1, 5, 6)]
    with cr.no_grad():
        model.eval()
        hidden = model.layers[3](model.layers[2](model.layers[1](model.layers[0](x)))).numpy()
        expected_out = model(x).numpy()
    np.testing.assert_allclose(signals[1].z, hidden, rtol=1e-6)  # what reaches tanh: after BN
    np.testing.assert_allclose(signals[1].a, np.tanh(hidden), rtol=1e-6)
    np.testing.assert_allclose(signals[1].slope, 1 - np.tanh(hidden) ** 2, rtol=1e-5)
    np.testing.assert_array_equal(signals[0].slope, (signals[0].z > 0).astype(np.float32))
    z = signals[2].z
    np.testing.assert_allclose(signals[2].slope, np.where(z > 0, 1.0, [0.1, 0.2, 0.3]), rtol=1e-6)
    np.testing.assert_array_equal(signals[3].a, expected_out)  # the bits of the forward pass
    np.testing.assert_array_equal(signals[3].slope, np.ones_like(signals[3].z))


def test_walk_refuses_what_is_not_a_sequential():
    from chainrule.nn import walk

    with pytest.raises(TypeError, match="walk needs a Sequential model"):
        walk(Dense(2, input_dim=2), np.ones((1, 2)))
    with pytest.raises(ValueError, match="non-empty batch of rows"):
        walk(_walked_model(), np.ones(3))


# ---------------------------------------------------------------------- a new layer
def _scale_class():
    """A layer defined here, with its config, file check and rebuild on the class alone."""
    from chainrule import model_file_schema as schema
    from chainrule.nn import Layer, Parameter

    class Scale(Layer):
        """y = x ⊙ s with a learned scale s per feature (starting at ``start``)."""

        kind = "scale"
        preserves_units = True

        def __init__(self, start: float = 1.0, name: str | None = None) -> None:
            super().__init__(name)
            self.start = float(start)
            self.scale = None

        def build(self, input_shape, rng):
            self.scale = Parameter(np.full(input_shape[-1], self.start, dtype=np.float32))
            self.built = True

        def forward(self, x):
            x = x if isinstance(x, cr.Tensor) else cr.tensor(x)
            self.ensure_built(x.shape[1:])
            return x * self.scale

        def config(self):
            return {"start": self.start}

        def to_onnx(self, graph, x, shape):
            return graph.op("Mul", [x, graph.constant("scale", self.scale.data)])

        @classmethod
        def check_config(cls, config, shape, where):
            schema.check_only(config, ("start",), where)
            schema.check_float(config.get("start", 1.0), f"{where}: start")
            return {"scale": schema.StoredArray((schema.check_rows(shape, where),))}, shape

    return Scale


@pytest.fixture
def scale_layer():
    from chainrule.nn import register_layer, unregister_layer

    cls = register_layer(_scale_class())
    yield cls
    unregister_layer("Scale")


def test_a_registered_layer_round_trips_through_a_model_file(scale_layer, tmp_path):
    from chainrule.nn import Activation

    model = Sequential(
        [Dense(4, input_dim=3, seed=0), scale_layer(2.0), Activation("relu"), Dense(1, seed=1)],
        seed=0,
    )
    model.layers[1].scale.data[...] = np.array([0.5, 1.0, 2.0, -1.0], dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert type(loaded.layers[1]) is scale_layer and loaded.layers[1].start == 2.0
    np.testing.assert_array_equal(loaded.layers[1].scale.data, model.layers[1].scale.data)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_the_walk_looks_through_a_registered_layer_that_preserves_units(scale_layer):
    from chainrule.nn import Activation, walk

    model = Sequential(
        [Dense(4, input_dim=3, seed=0), scale_layer(-1.0), Activation("relu"), Dense(1, seed=1)],
        seed=0,
    )
    x = np.random.default_rng(0).normal(size=(6, 3))
    first = walk(model, x)[0]
    assert first.activation_name == "relu"
    with cr.no_grad():
        dense_z = model.layers[0](x.astype(np.float32)).numpy()
    np.testing.assert_allclose(first.z, -dense_z, rtol=1e-6)  # what reaches relu
    report = diagnostics.health_report(model, x)
    assert [row.activation for row in report.rows] == ["relu"]


def test_a_layer_class_must_be_registered_to_be_saved_and_once_per_name(scale_layer, tmp_path):
    from chainrule.nn import register_layer

    other = _scale_class()
    with pytest.raises(TypeError, match="register the class with chainrule.nn.register_layer"):
        Sequential([other(1.0)], input_shape=(2,)).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="'Scale' is already registered"):
        register_layer(other)


# ---------------------------------------------------------------------- a new optimiser
def test_a_registered_optimiser_is_built_by_name_and_kept_in_model_files(tmp_path):
    from chainrule import optim

    class SignSGD(optim.Optimizer):
        """θ ← θ − α·sign(g)."""

        name = "sign_sgd_demo"
        hyperparameters = ()
        buffers = ()

        def _update(self, theta, grad, state):
            theta -= self.lr * np.sign(grad)

    optim.register("sign_sgd_demo", SignSGD, aliases=("signsgd_demo",))
    try:
        model = Sequential([Dense(2, input_dim=3, seed=0)], seed=0)
        model.compile(loss="mse", optimizer=optim.get("SignSGD-demo", lr=0.5))
        before = model.layers[0].weight.data.copy()
        x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
        model.fit(x, np.ones((8, 2), np.float32), epochs=1, batch_size=8, verbose=0, health=False)
        step = np.abs(model.layers[0].weight.data - before)
        np.testing.assert_allclose(step[step > 0], 0.5, rtol=1e-6)
        model.save(tmp_path / "m.npz")
        loaded = load_model(tmp_path / "m.npz")
        assert type(loaded.optimizer) is SignSGD and loaded.optimizer.lr == 0.5
        with pytest.raises(ValueError, match="'sign_sgd_demo' is taken"):
            optim.register("sign_sgd_demo", SignSGD)
    finally:
        optim.unregister("sign_sgd_demo")
    assert "sign_sgd_demo" not in optim.names()


def test_every_built_in_activation_is_exported_in_catalog_order():
    assert all(getattr(activations, cls.__name__) is cls for cls in activations.CATALOG)
    assert [cls.name for cls in activations.CATALOG] == activations.names()[
        : len(activations.CATALOG)
    ]
    assert set(activations.__all__) >= {cls.__name__ for cls in activations.CATALOG}


def test_a_registered_layer_with_an_onnx_form_is_exported(scale_layer):
    onnxruntime = pytest.importorskip("onnxruntime")
    from chainrule import onnx_export
    from chainrule.nn import Activation

    model = Sequential(
        [Dense(4, input_dim=3, seed=0), scale_layer(-0.5), Activation("relu"), Dense(1, seed=1)],
        seed=0,
    )
    proto = onnx_export.to_onnx(model)
    assert [node.op_type for node in proto.graph.node] == ["Gemm", "Mul", "Relu", "Gemm"]
    session = onnxruntime.InferenceSession(proto.SerializeToString())
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    (out,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-5, atol=1e-6)


def test_an_activation_object_outside_the_catalog_picks_its_own_initialiser():
    from chainrule.nn import Activation

    class CubeDemo(activations.Activation):
        name = "cube_unregistered_demo"
        formula = derivative_formula = second_derivative_formula = "z³ (test)"
        output_range, zero_centered, monotonic, saturating = "ℝ", "yes", True, "no"
        recommended_init = "he_uniform"

        def _forward(self, z):
            return z**3

        def _derivative(self, z, a):
            return 3 * z**2

    he_bound, xavier_bound = np.sqrt(6 / 50), np.sqrt(6 / 250)  # U(±bound), fan_in 50
    for model in (
        Sequential([Dense(200, input_dim=50), Activation(CubeDemo())], seed=0),
        Sequential([Dense(200, input_dim=50, activation=CubeDemo())], seed=0),
    ):
        assert "cube_unregistered_demo" not in activations.names()
        largest = np.abs(model.layers[0].weight.data).max()
        assert 0.95 * he_bound < largest <= he_bound and largest > 2 * xavier_bound
    assert init.recommended_for(CubeDemo()) == "he_uniform"


def test_explain_and_info_pair_a_dense_with_its_activation_through_dropout(tmp_path, capsys):
    from chainrule.cli import main
    from chainrule.explain import _stages
    from chainrule.nn import Activation, Dropout

    model = Sequential(
        [
            Dense(4, input_dim=2, seed=0, name="hidden"),
            Dropout(0.5),
            Activation("tanh", name="act"),
            Dense(1, seed=1, name="out"),
        ],
        seed=0,
    )
    assert [stage.activation.name for stage in _stages(model)] == ["tanh", "identity"]
    model.save(tmp_path / "m.npz")
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "tanh (layer act)" in out and "none (linear outputs)" in out
    with pytest.raises(TypeError, match="'stray' does not follow a Dense layer"):
        _stages(
            Sequential([Dense(2, input_dim=2, activation="relu"), Activation("tanh", name="stray")])
        )
