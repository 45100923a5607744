"""chainrule.plot: every figure is written as a non-blank PNG of the expected size, atomically,
and the misuses are clear errors."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

if os.environ.get("CHAINRULE_REQUIRE_PLOT") == "1":
    import matplotlib  # in CI the plot extra must be installed
else:
    pytest.importorskip("matplotlib")

import matplotlib.image

import chainrule as cr
from chainrule import plot
from chainrule.models import Sequential
from chainrule.nn import Activation, Dense

# ---------------------------------------------------------------------- helpers
DPI = 40  # small images keep the tests fast; the size check still uses figsize × dpi


def check_png(path, figure, dpi: float = DPI) -> None:
    """The file at ``path`` is a PNG of figsize × dpi pixels whose pixels are not blank, and no
    temporary file was left beside it."""
    pixels = matplotlib.image.imread(os.fspath(path))
    width, height = figure.get_size_inches() * dpi
    assert pixels.shape[:2] == (round(height), round(width))
    assert float(pixels.std()) > 0
    assert (pixels != pixels[0, 0]).any(axis=-1).any()  # more than one distinct colour
    leftovers = [name for name in os.listdir(os.path.dirname(path)) if name.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture(scope="module")
def classifier():
    """A small trained binary classifier on 2-D moons, with its history."""
    data = cr.datasets.moons(n=80, noise=0.1, seed=0)
    x = data.x.astype(np.float32)
    y = data.y.reshape(-1, 1).astype(np.float32)
    model = Sequential(
        [Dense(8, input_dim=2), Activation("tanh"), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile(loss="bce", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, seed=0)
    return model, x, y, history


@pytest.fixture(scope="module")
def multiclass():
    """A small trained 3-class softmax model on 2-D blobs (integer labels)."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    labels = np.repeat(np.arange(3), 20)
    x = (centres[labels] + 0.5 * rng.standard_normal((60, 2))).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[labels]
    model = Sequential(
        [Dense(8, activation="relu", input_dim=2), Dense(3, activation="softmax")], seed=1
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    model.fit(x, y, epochs=3, verbose=0, seed=0)
    return model, x, labels


# ---------------------------------------------------------------------- activations
def test_activations_png(tmp_path):
    path = tmp_path / "activations.png"
    figure = plot.activations(["sigmoid", "tanh", "relu", "gelu"], path=path, dpi=DPI)
    check_png(path, figure)
    axes = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["sigmoid", "tanh", "relu", "gelu"]
    assert [len(ax.get_lines()) for ax in axes] == [2 + 2] * 4  # g, g′ and the two axes lines
    styles = [line.get_linestyle() for line in axes[0].get_lines()[:2]]
    assert styles == ["-", "--"]


def test_activations_second_derivative_and_range(tmp_path):
    path = tmp_path / "second.png"
    figure = plot.activations("softplus", z=(-3, 3), second=True, path=path, dpi=DPI)
    check_png(path, figure)
    (ax,) = figure.axes
    g, first, second = ax.get_lines()[:3]
    assert [g.get_linestyle(), first.get_linestyle(), second.get_linestyle()] == ["-", "--", ":"]
    z = g.get_xdata()
    assert z[0] == -3 and z[-1] == 3
    np.testing.assert_allclose(first.get_ydata(), 1 / (1 + np.exp(-z)), atol=1e-6)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["g(z)", "g′(z)", "g″(z)"]


def test_activations_without_path_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figure = plot.activations(["relu"])
    assert figure.axes and os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_activations_refuses_vector_activations(name):
    with pytest.raises(ValueError, match="vector activation"):
        plot.activations(["relu", name])


def test_activations_unknown_name():
    with pytest.raises(cr.activations.UnknownActivationError):
        plot.activations(["relu", "no_such_activation"])


# ---------------------------------------------------------------------- history
def test_history_png(tmp_path, classifier):
    _, _, _, history = classifier
    path = tmp_path / "history.png"
    figure = plot.history(history, path=path, dpi=DPI)
    check_png(path, figure)
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert titles == ["loss", "accuracy"]  # no health/ or lr panels
    loss_axis = figure.axes[0]
    assert [t.get_text() for t in loss_axis.get_legend().get_texts()] == ["train", "validation"]
    np.testing.assert_allclose(loss_axis.get_lines()[0].get_ydata(), history.history["loss"])


def test_history_accepts_a_plain_dict_and_refuses_an_empty_one(tmp_path):
    path = tmp_path / "dict.png"
    figure = plot.history({"loss": [1.0, 0.5, 0.3], "lr": [0.1] * 3}, path=path, dpi=DPI)
    check_png(path, figure)
    assert [ax.get_title() for ax in figure.axes if ax.get_visible()] == ["loss"]
    with pytest.raises(ValueError, match="nothing to plot"):
        plot.history({"health/dense/grad_norm": [1.0]})


# ---------------------------------------------------------------------- decision boundary
def test_decision_boundary_binary_png(tmp_path, classifier):
    model, x, y, _ = classifier
    path = tmp_path / "boundary.png"
    figure = plot.decision_boundary(model, x, y, path=path, resolution=50, dpi=DPI)
    check_png(path, figure)


def test_decision_boundary_multiclass_applies_argmax(tmp_path, multiclass):
    model, x, labels = multiclass
    path = tmp_path / "multi.png"
    figure = plot.decision_boundary(model, x, labels, path=path, resolution=40, dpi=DPI)
    check_png(path, figure)
    (ax,) = figure.axes
    assert len(ax.collections) >= 2  # the filled contour and the points


@pytest.mark.parametrize("shape", [(10, 3), (10, 1), (10,)])
def test_decision_boundary_needs_two_features(classifier, shape):
    model = classifier[0]
    with pytest.raises(ValueError, match="2-feature"):
        plot.decision_boundary(model, np.zeros(shape), np.zeros(10))


# ---------------------------------------------------------------------- gradient flow
def test_gradient_flow_png(tmp_path, classifier):
    _, _, _, history = classifier
    path = tmp_path / "flow.png"
    figure = plot.gradient_flow(history, path=path, dpi=DPI)
    check_png(path, figure)
    (ax,) = figure.axes
    assert ax.get_yscale() == "log"
    layers = {
        key.split("/")[1]
        for key in history.history
        if key.startswith("health/") and key.endswith("/grad_norm")
    }
    assert {t.get_text() for t in ax.get_legend().get_texts()} == layers


def test_gradient_flow_without_health_entries(classifier):
    model, x, y, _ = classifier
    with pytest.raises(ValueError, match="health=True"):
        plot.gradient_flow({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]})
    history = model.fit(x, y, epochs=1, verbose=0, health=False)
    with pytest.raises(ValueError, match="health=True"):
        plot.gradient_flow(history)


# ---------------------------------------------------------------------- activation histograms
def test_activation_histograms_png(tmp_path, classifier):
    model, x, _, _ = classifier
    path = tmp_path / "hist.png"
    figure = plot.activation_histograms(model, x, path=path, bins=20, dpi=DPI)
    check_png(path, figure)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["dense: z", "dense: a = tanh(z)", "dense_1: z", "dense_1: a = sigmoid(z)"]
    assert model.training  # the mode is restored after the eval-mode pass


def test_activation_histograms_match_the_forward_pass(classifier):
    model, x, _, _ = classifier
    figure = plot.activation_histograms(model, x, bins=10)
    counts = [sum(patch.get_height() for patch in ax.patches) for ax in figure.axes]
    assert counts == [len(x) * 8, len(x) * 8, len(x), len(x)]
    # the last a is the model's output
    outputs = model.predict(x).ravel()
    heights, edges = np.histogram(outputs, bins=10)
    drawn = [patch.get_height() for patch in figure.axes[-1].patches]
    np.testing.assert_array_equal(drawn, heights)


def test_activation_histograms_of_a_dense_prelu_use_its_learned_slopes():
    model = Sequential([Dense(3, input_dim=2, activation="prelu")], seed=0)
    model[0].alpha.data[:] = [-1.0, 0.5, 2.0]
    x = np.random.default_rng(0).standard_normal((40, 2))
    ((_, name, _, a),) = plot._dense_signals(model, x)
    assert name == "prelu"
    np.testing.assert_array_equal(a, model.predict(x))


def test_activation_histograms_needs_a_sequential():
    with pytest.raises(TypeError, match="Sequential"):
        plot.activation_histograms(cr.Model(Dense(1, input_dim=2)), np.zeros((4, 2)))


# ---------------------------------------------------------------------- files and imports
def test_overwrites_atomically(tmp_path):
    path = tmp_path / "sub" / "figure.png"
    plot.activations(["relu"], path=path, dpi=DPI)
    first = path.read_bytes()
    figure = plot.activations(["tanh", "sigmoid"], path=path, dpi=DPI)
    assert path.read_bytes() != first
    check_png(path, figure)
    assert os.listdir(path.parent) == ["figure.png"]


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "figure.png"
    plot.activations(["relu"], path=path, dpi=DPI)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        plot.activations(["tanh"], path=path, dpi=DPI)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["figure.png"]


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    for name in (
        "matplotlib",
        "matplotlib.figure",
        "matplotlib.backends",
        "matplotlib.backends.backend_agg",
    ):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[plot\]"'):
        plot.activations(["relu"])


def test_the_global_backend_is_left_alone():
    backend = matplotlib.get_backend()
    plot.activations(["relu"])
    assert matplotlib.get_backend() == backend
