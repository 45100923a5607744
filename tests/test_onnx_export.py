"""ONNX export: onnxruntime runs every catalog activation and trained models as ``predict`` does;
the opset is the lowest the ops need; the CLI command; the errors.

Tolerance: |onnxruntime − predict| ≤ 1e-6 + 1e-6·|predict| in float32, for every activation and
model (onnxruntime's kernels and NumPy round differently by a few ulp: the largest difference
measured over the activations uses about a quarter of that, 4.8e-7 for silu and gelu_tanh);
1e-12 + 1e-12·|predict| in float64 (measured worst: 1.5e-15, silu and mish).
Skipped without onnx/onnxruntime, except in CI (CHAINRULE_REQUIRE_ONNX=1), where they must be
there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import activations, onnx_export
from chainrule.cli import main
from chainrule.models import Sequential
from chainrule.nn import Activation, BatchNorm, Dense, Dropout, Flatten, Maxout, PReLU
from chainrule.onnx_export import FLOOR_OPSET, OnnxExportError, OpsetError

RTOL = ATOL = 1e-6
ROOT = Path(__file__).resolve().parents[1]


def import_onnxruntime():
    """onnxruntime (with onnx), or a skip — except in CI, where both must be installed."""
    if os.environ.get("CHAINRULE_REQUIRE_ONNX") == "1":
        import onnx  # noqa: F401
        import onnxruntime
    else:
        pytest.importorskip("onnx")
        onnxruntime = pytest.importorskip("onnxruntime")
    return onnxruntime


@pytest.fixture(scope="module")
def ort():
    return import_onnxruntime()


RTOL64 = ATOL64 = 1e-12


def run_onnx(ort, proto_or_path, x: np.ndarray, dtype=np.float32) -> np.ndarray:
    source = (
        proto_or_path.SerializeToString()
        if hasattr(proto_or_path, "SerializeToString")
        else os.fspath(proto_or_path)
    )
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x.astype(dtype)})[0]


def assert_matches_predict(
    ort, model, x: np.ndarray, opset: int | None = None, dtype=np.float32
) -> None:
    proto = onnx_export.to_onnx(model, opset)
    expected = model.predict(x)
    got = run_onnx(ort, proto, x, dtype)
    assert got.shape == expected.shape and got.dtype == dtype == expected.dtype
    tolerance = RTOL if dtype == np.float32 else RTOL64
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def opset_of(proto) -> int:
    return proto.opset_import[0].version


# ---------------------------------------------------------------------- every activation
# Pre-activations with negatives, every kink of the catalog (0, ±1, ±3, 6), the softplus
# threshold, and large magnitudes; 48 per row (divisible by maxout's pieces).
KINKS = [
    -1000.0,
    -100.0,
    -20.5,
    -20.0,
    -6.0,
    -3.0,
    -1.0,
    -0.5,
    -1e-3,
    0.0,
    1e-3,
    0.5,
    1.0,
    3.0,
    6.0,
    10.0,
    20.0,
    20.5,
    100.0,
    1000.0,
]
PARAMETERS = {
    "leaky_relu": {"gamma": 0.2},
    "elu": {"alpha": 0.5},
    "celu": {"alpha": 2.0},
    "softplus": {"beta": 2.0, "threshold": 10.0},
    "maxout": {"pieces": 3},
    "prelu": {"gamma": 0.3},
}


def pre_activations() -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = [np.concatenate([KINKS, 4 * rng.standard_normal(48 - len(KINKS))]) for _ in range(3)]
    return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize("name", activations.names())
@pytest.mark.parametrize("with_parameters", [False, True], ids=["defaults", "parameters"])
def test_every_catalog_activation_matches_predict(ort, name, with_parameters):
    params = PARAMETERS.get(name, {}) if with_parameters else {}
    if name == "maxout" and not with_parameters:
        params = {}  # two pieces: 48 inputs, 24 outputs
    model = Sequential([Activation(name, **params)], input_shape=(48,))
    assert_matches_predict(ort, model, pre_activations())


@pytest.mark.parametrize("name", activations.names())
def test_every_activation_on_a_dense_layer_matches_predict(ort, name):
    model = Sequential([Dense(12, input_dim=5, activation=name)], seed=1)
    x = 3 * np.random.default_rng(2).standard_normal((16, 5)).astype(np.float32)
    assert_matches_predict(ort, model, x)


def test_every_catalog_class_has_an_onnx_form():
    no_form = [
        cls.__name__
        for cls in activations.CATALOG
        if cls.onnx_op is None and cls.to_onnx is activations.Activation.to_onnx
    ]
    assert no_form == []


@pytest.mark.parametrize("name", activations.names())
@pytest.mark.parametrize("with_parameters", [False, True], ids=["defaults", "parameters"])
def test_every_catalog_activation_matches_predict_in_float64(ort, name, with_parameters):
    cr.set_default_dtype("float64")
    params = PARAMETERS.get(name, {}) if with_parameters else {}
    model = Sequential([Activation(name, **params)], input_shape=(48,))
    assert_matches_predict(ort, model, pre_activations().astype(np.float64), dtype=np.float64)


@pytest.mark.parametrize("name", activations.names())
def test_every_activation_on_a_float64_dense_layer_matches_predict(ort, name):
    cr.set_default_dtype("float64")
    model = Sequential([Dense(12, input_dim=5, activation=name)], seed=1)
    x = 3 * np.random.default_rng(2).standard_normal((16, 5))
    assert_matches_predict(ort, model, x, dtype=np.float64)


def test_float64_graphs_use_no_op_without_a_float64_kernel(ort):
    cr.set_default_dtype("float64")
    for name in activations.names():
        proto = onnx_export.to_onnx(Sequential([Activation(name)], input_shape=(6,)))
        ops = {node.op_type for node in proto.graph.node}
        assert not ops & set(onnx_export.FLOAT64_DECOMPOSITIONS), name
        since = {op: v for op, v in onnx_export.FLOAT64_SINCE.items() if op in ops}
        assert all(opset_of(proto) >= v for v in since.values()), (name, since)
        element = proto.graph.input[0].type.tensor_type.elem_type
        assert element == proto.graph.output[0].type.tensor_type.elem_type == 11  # DOUBLE


def test_hard_sigmoid_is_ours_not_keras_2(ort):
    proto = onnx_export.to_onnx(Sequential([Activation("hard_sigmoid")], input_shape=(3,)))
    (node,) = proto.graph.node
    attributes = {a.name: a.f for a in node.attribute}
    assert node.op_type == "HardSigmoid"
    assert attributes["alpha"] == pytest.approx(1 / 6) and attributes["beta"] == 0.5


def test_learned_prelu_slopes_are_exported(ort):
    model = Sequential(
        [Dense(4, input_dim=3, activation="prelu"), PReLU(), PReLU(shared=True)], seed=0
    )
    model.layers[0].alpha.data[:] = [0.1, -0.5, 2.0, 0.0]
    model.layers[1].alpha.data[:] = [0.3, 0.7, 1.5, -0.2]
    model.layers[2].alpha.data[:] = [0.05]
    x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    assert_matches_predict(ort, model, x)


# ---------------------------------------------------------------------- trained models
def test_trained_digits_model_with_preprocessing_batchnorm_and_dropout(ort):
    data = cr.datasets.load_digits()
    x, y = data.x[:600], data.y[:600]
    model = Sequential(
        [
            Dense(32, input_dim=64),
            BatchNorm(),
            Activation("relu"),
            Dropout(0.2),
            Dense(16, activation="tanh"),
            BatchNorm(),
            Dense(10),
            Activation("softmax"),
        ],
        seed=0,
    )
    model.preprocessing = cr.datasets.Standardizer().fit(x)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=64, verbose=0, seed=0)
    proto = onnx_export.to_onnx(model)
    ops = [node.op_type for node in proto.graph.node]
    assert "Dropout" not in ops
    assert ops.count("BatchNormalization") == 1  # the first is folded into its Dense
    assert ops[:4] == ["Cast", "Sub", "Div", "Cast"]  # the Standardizer, on raw rows
    assert_matches_predict(ort, model, data.x[600:900])


def test_trained_float64_model_with_preprocessing_batchnorm_and_dropout(ort, tmp_path, capsys):
    cr.set_default_dtype("float64")
    data = cr.datasets.load_digits()
    x, y = data.x[:600], data.y[:600]
    model = Sequential(
        [
            Dense(32, input_dim=64),
            BatchNorm(),
            Activation("elu"),
            Dropout(0.2),
            Dense(16, activation="gelu"),
            PReLU(),
            Dense(12, activation="softplus"),
            Maxout(10, pieces=2),
            Activation("softmax"),
        ],
        seed=0,
    )
    model.preprocessing = cr.datasets.Standardizer().fit(x)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(x, y, epochs=3, batch_size=64, verbose=0, seed=0)
    assert model.parameters()[0].dtype == np.float64
    proto = onnx_export.to_onnx(model)
    ops = [node.op_type for node in proto.graph.node]
    # standardised as Standardizer.transform does, rounded to float32, then widened again
    assert ops[:4] == ["Sub", "Div", "Cast", "Cast"]
    assert "BatchNormalization" not in ops  # folded into its Dense
    assert_matches_predict(ort, model, data.x[600:900], dtype=np.float64)
    model.save(tmp_path / "m64.npz")
    assert main(["export", str(tmp_path / "m64.npz"), str(tmp_path / "m64.onnx")]) == 0
    assert "raw float64 rows" in capsys.readouterr().out
    got = run_onnx(ort, tmp_path / "m64.onnx", data.x[600:900], np.float64)
    np.testing.assert_allclose(got, model.predict(data.x[600:900]), rtol=RTOL64, atol=ATOL64)


def test_trained_xor_model_with_prelu_maxout_and_front_batchnorm(ort):
    data = cr.datasets.xor(n=200, seed=0)
    y = data.y.reshape(-1, 1).astype(np.float32)
    model = Sequential(
        [
            BatchNorm(),
            Maxout(6, pieces=3),
            PReLU(),
            Dense(4, activation="prelu"),
            Dense(1, activation="sigmoid"),
        ],
        input_shape=(2,),
        seed=0,
    )
    model.compile(loss="bce", optimizer="adam")
    model.fit(data.x, y, epochs=5, batch_size=32, verbose=0, seed=0)
    proto = onnx_export.to_onnx(model)
    assert [n.op_type for n in proto.graph.node][0] == "BatchNormalization"  # no Dense before
    assert_matches_predict(ort, model, data.x)


def test_logits_stay_logits_when_the_loss_takes_logits(ort, tmp_path):
    data = cr.datasets.xor(n=100, seed=1)
    model = Sequential([Dense(8, input_dim=2, activation="relu"), Dense(2)], seed=0)
    model.compile(loss=cr.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    model.fit(data.x, data.y, epochs=3, verbose=0, seed=0)
    written = model.export_onnx(tmp_path / "logits.onnx")
    got = run_onnx(ort, tmp_path / "logits.onnx", data.x)
    np.testing.assert_allclose(got, model.predict(data.x), rtol=RTOL, atol=ATOL)
    assert (got < 0).any() and not np.allclose(got.sum(axis=1), 1.0)  # logits, not softmax
    assert written.output.startswith("logits") and "softmax" in written.output


def test_flatten_of_images(ort):
    model = Sequential([Flatten(), Dense(5, activation="softsign")], input_shape=(4, 4), seed=0)
    x = np.random.default_rng(0).standard_normal((6, 4, 4)).astype(np.float32)
    assert_matches_predict(ort, model, x)


def test_dropout_alone_is_the_identity_and_batchnorm_folds_across_dropout(ort):
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    identity = onnx_export.to_onnx(Sequential([Dropout(0.5)], input_shape=(3,)))
    assert [node.op_type for node in identity.graph.node] == ["Identity"]
    np.testing.assert_array_equal(run_onnx(ort, identity, x), x)
    model = Sequential(
        [Dense(4, input_dim=3), Dropout(0.3), BatchNorm(), Activation("relu")], seed=0
    )
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, np.ones((6, 4), dtype=np.float32), epochs=2, batch_size=3, verbose=0, seed=0)
    assert [node.op_type for node in onnx_export.to_onnx(model).graph.node] == ["Gemm", "Relu"]
    assert_matches_predict(ort, model, x)


def test_model_wrapping_one_layer_and_dense_without_bias(ort):
    model = cr.Model(Dense(3, input_dim=4, use_bias=False, activation="elu", seed=0))
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    proto = onnx_export.to_onnx(model)
    assert opset_of(proto) == 11  # Gemm's bias is optional from opset 11
    assert_matches_predict(ort, model, x)


# ---------------------------------------------------------------------- opset and IR version
@pytest.mark.parametrize(
    "name, expected",
    [
        ("relu", FLOOR_OPSET),
        ("tanh", FLOOR_OPSET),
        ("softmax", FLOOR_OPSET),
        ("hard_sigmoid", FLOOR_OPSET),
        ("softplus", 9),
        ("relu6", 11),
        ("celu", 12),
        ("hard_swish", 14),
        ("mish", 18),
        ("gelu", 20),
        ("gelu_tanh", 20),
    ],
)
def test_the_opset_is_the_lowest_the_model_needs(ort, name, expected):
    model = Sequential([Dense(4, input_dim=3, activation=name), Dense(2)], seed=0)
    proto = onnx_export.to_onnx(model)
    assert opset_of(proto) == expected
    onnx = onnx_export.import_onnx()
    floor = onnx.helper.find_min_ir_version_for(list(proto.opset_import))
    assert proto.ir_version == max(onnx_export.FLOOR_IR_VERSION, floor) < onnx.IR_VERSION
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_matches_predict(ort, model, x)
    if expected > FLOOR_OPSET:  # one opset lower cannot hold the op
        with pytest.raises(OpsetError, match=f"needs opset {expected}"):
            onnx_export.to_onnx(model, opset=expected - 1)


def test_softmax_over_a_middle_axis_needs_opset_13(ort):
    model = Sequential([Activation("softmax", axis=1), Flatten()], input_shape=(3, 4))
    assert opset_of(onnx_export.to_onnx(model)) == 13
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    assert_matches_predict(ort, model, x)


def test_a_higher_opset_can_be_asked_for(ort):
    model = Sequential([Dense(4, input_dim=3, activation="relu"), BatchNorm(), Dense(2)], seed=0)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert opset_of(onnx_export.to_onnx(model, opset=17)) == 17
    assert_matches_predict(ort, model, x, opset=17)
    with pytest.raises(OpsetError, match="out of range"):
        onnx_export.to_onnx(model, opset=FLOOR_OPSET - 1)


# ---------------------------------------------------------------------- errors and files
def test_what_cannot_be_exported_is_named(ort):
    activations.register("cube_export_demo", lambda z: z**3, lambda z: 3 * z**2, replace=True)
    try:
        model = Sequential([Dense(2, input_dim=2, activation="cube_export_demo")])
        with pytest.raises(OnnxExportError, match="'cube_export_demo'.*no ONNX form"):
            onnx_export.to_onnx(model)
    finally:
        activations.remove("cube_export_demo")

    class Doubling(cr.nn.Layer):
        def forward(self, x):
            return x * 2

    with pytest.raises(OnnxExportError, match="'doubling'.*Doubling.*no ONNX form"):
        onnx_export.to_onnx(Sequential([Dense(2, input_dim=2), Doubling(name="doubling")]))
    with pytest.raises(OnnxExportError, match="not built"):
        onnx_export.to_onnx(Sequential([Dense(2)]))
    with pytest.raises(OnnxExportError, match="softmax along axis 0"):
        onnx_export.to_onnx(Sequential([Activation("softmax", axis=0)], input_shape=(3,)))
    mixed = Sequential([Dense(2, input_dim=2)], seed=0)
    mixed.layers[0].bias.data = mixed.layers[0].bias.data.astype(np.float64)
    with pytest.raises(
        OnnxExportError,
        match="float32 or float64 models; this model has float32 and float64 parameters",
    ):
        onnx_export.to_onnx(mixed)


def test_the_file_is_written_atomically_and_keeps_the_old_one_on_failure(ort, tmp_path):
    path = tmp_path / "model.onnx"
    model = Sequential([Dense(3, input_dim=2, activation="relu")], seed=0)
    written = model.export_onnx(path)
    assert written.path == os.fspath(path) and written.opset == FLOOR_OPSET
    assert (written.input_shape, written.output_shape) == ((2,), (3,))
    before = path.read_bytes()
    with pytest.raises(OpsetError):
        Sequential([Dense(3, input_dim=2, activation="mish")]).export_onnx(path, opset=14)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary left


def test_import_chainrule_does_not_import_onnx():
    code = "import sys, chainrule, chainrule.onnx_export; print('onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_without_onnx_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[onnx\]"'):
        onnx_export.to_onnx(Sequential([Dense(2, input_dim=2)]))


# ---------------------------------------------------------------------- the command
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: "), err
    return lines[0]


@pytest.fixture
def digits_model_file(tmp_path) -> Path:
    data = cr.datasets.load_digits()
    model = Sequential(
        [Dense(16, input_dim=64, activation="mish"), Dense(10, activation="softmax")], seed=0
    )
    model.preprocessing = cr.datasets.Standardizer().fit(data.x)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(data.x[:300], data.y[:300], epochs=2, verbose=0, seed=0)
    path = tmp_path / "digits.npz"
    model.save(path)
    return path


def test_export_command_writes_a_model_onnxruntime_runs(ort, capsys, tmp_path, digits_model_file):
    out = tmp_path / "digits.onnx"
    code, stdout, err = run_cli(capsys, "export", str(digits_model_file), str(out))
    assert code == 0, err
    assert f"Wrote {out} (ONNX opset 18" in stdout and "(N, 64)" in stdout
    x = cr.datasets.load_digits().x[:50]
    np.testing.assert_allclose(
        run_onnx(ort, out, x), cr.load(digits_model_file).predict(x), rtol=RTOL, atol=ATOL
    )
    code, stdout, err = run_cli(capsys, "export", str(digits_model_file), str(out), "--opset", "20")
    assert code == 0 and "opset 20" in stdout, err


def test_export_command_errors(ort, capsys, tmp_path, digits_model_file):
    model, out = str(digits_model_file), str(tmp_path / "m.onnx")
    code, _, err = run_cli(capsys, "export", str(tmp_path / "missing.npz"), out)
    assert code == 2 and "no model file" in one_error_line(err)  # a missing input: usage
    code, _, err = run_cli(capsys, "export", model, str(tmp_path / "no" / "m.onnx"))
    assert code == 1 and "does not exist" in one_error_line(err)
    code, _, err = run_cli(capsys, "export", model, str(tmp_path))
    assert code == 1 and "is a directory" in one_error_line(err)
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"not a model")
    code, _, err = run_cli(capsys, "export", str(damaged), out)
    assert code == 1 and "cannot load the model" in one_error_line(err)
    code, _, err = run_cli(capsys, "export", model, out, "--opset", "14")
    assert code == 2 and "needs opset 18 (ONNX Mish)" in one_error_line(err)
    code, _, err = run_cli(capsys, "export", model, out, "--opset", "zero")
    assert code == 2
    assert not (tmp_path / "m.onnx").exists()


def test_every_export_passes_the_full_onnx_check_and_a_broken_graph_is_refused(ort, monkeypatch):
    import onnx

    checked = []
    real = onnx.checker.check_model

    def spy(proto, *args, **kwargs):
        checked.append(kwargs.get("full_check"))
        return real(proto, *args, **kwargs)

    monkeypatch.setattr(onnx.checker, "check_model", spy)
    model = Sequential([Dense(4, input_dim=3, activation="gelu"), Dense(2)], seed=0)
    proto = onnx_export.to_onnx(model)
    assert checked == [True]  # to_onnx ran the full check before returning the graph
    broken = onnx.ModelProto()
    broken.CopyFrom(proto)
    broken.graph.node[0].input[0] = "nowhere"  # an input no node or initialiser makes
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(broken, full_check=True)
