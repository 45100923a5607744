"""Bias and variance: the basic recipe's verdict, on Ng's numbers and on real networks."""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import bias_variance, datasets
from chainrule.callbacks import History
from chainrule.cli import build_parser
from chainrule.models import Sequential
from chainrule.nn import Dense


@pytest.mark.parametrize(
    "train, dev, baseline, verdict",
    [
        (0.01, 0.11, 0.0, "high_variance"),  # the course's four cases
        (0.15, 0.16, 0.0, "high_bias"),
        (0.15, 0.30, 0.0, "both"),
        (0.005, 0.01, 0.0, "fine"),
        (0.15, 0.16, 0.15, "fine"),  # blurry images: 15% is the best anyone does
        (0.08, 0.10, 0.01, "both"),  # human 1%: 7 points of bias, 2 of variance
        (0.08, 0.10, 0.075, "high_variance"),  # human 7.5%: the variance is what is left
        (0.05, 0.04, 0.0, "high_bias"),  # better on validation: no variance
    ],
)
def test_the_verdict_follows_the_two_gaps(train, dev, baseline, verdict):
    result = bias_variance.diagnose(train, dev, baseline)
    assert result.verdict == verdict
    assert result.avoidable_bias == pytest.approx(train - baseline)
    assert result.variance == pytest.approx(dev - train)
    assert result.remedies == bias_variance.VERDICTS[verdict]


def test_the_module_is_reachable_from_the_package():
    assert cr.bias_variance is bias_variance and "bias_variance" in dir(cr)


def test_the_thresholds_are_stated_and_can_be_changed():
    result = bias_variance.diagnose(0.0, 0.03)
    assert "high from 2 points of avoidable bias, 2 points of variance" in str(result)
    assert bias_variance.diagnose(0.0, 0.03, variance_threshold=0.05).verdict == "fine"


@pytest.mark.parametrize(
    "arguments, named",
    [
        ((float("nan"), 0.1), "training error"),
        ((0.1, -0.2), "validation error"),
        ((0.1, 0.2, "high"), "baseline error"),
        ((0.1, 0.2, float("inf")), "baseline error"),
    ],
)
def test_bad_errors_are_named(arguments, named):
    with pytest.raises(ValueError, match=named):
        bias_variance.diagnose(*arguments)
    with pytest.raises(ValueError, match="bias_threshold"):
        bias_variance.diagnose(0.1, 0.2, bias_threshold=0)


def test_each_place_words_the_advice_with_what_it_offers():
    both = bias_variance.diagnose(0.2, 0.4)
    api, cli, page = (
        both.message(v) for v in (bias_variance.API, bias_variance.CLI, bias_variance.PLAYGROUND)
    )
    assert "epochs=" in api and "Dropout(0.2)" in api and "kernel_regularizer" in api
    assert "--" not in api and "Regularization rate" not in api
    assert "Dropout" not in cli and "--l2" in cli and "--layers" in cli
    assert "--" not in page and "drop menu" in page and "Regularization rate λ" in page
    assert api.index("bigger network") < api.index("more training data")  # bias first
    # every option the CLI's words name is one of chainrule train's
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    options = {flag for action in train._actions for flag in action.option_strings}
    named = set(re.findall(r"--[a-z][a-z0-9-]*", cli))
    assert named and named <= options
    with pytest.raises(ValueError, match="missing remedies"):
        bias_variance.RecipeVocabulary("x", {"more_data": "more"})


# ---------------------------------------------------------------------- real networks
@pytest.fixture(scope="module")
def digits_halves():
    digits = datasets.load_digits()
    x_train, x_val, y_train, y_val = datasets.train_test_split(
        digits.x, digits.y, test_size=0.5, stratify=True, seed=0
    )
    scaler = datasets.Standardizer().fit(x_train)
    return (
        scaler.transform(x_train).astype(np.float32),
        y_train,
        scaler.transform(x_val).astype(np.float32),
        y_val,
    )


def _train(data, units, rows, epochs, batch_size):
    x_train, y_train, x_val, y_val = data
    model = Sequential([Dense(units, input_dim=64, activation="tanh"), Dense(10)], seed=0)
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer=cr.optim.Adam(lr=0.01),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train[:rows],
        y_train[:rows],
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(x_val, y_val),
        verbose=0,
        seed=0,
        health=False,
    )
    error = {
        name: float(np.mean(model.predict(x).argmax(axis=1) != y))
        for name, x, y in (("train", x_train[:rows], y_train[:rows]), ("val", x_val, y_val))
    }
    return history, error


def test_a_two_unit_bottleneck_on_digits_has_high_bias(digits_halves):
    history, error = _train(digits_halves, units=2, rows=None, epochs=30, batch_size=64)
    result = history.bias_variance()
    assert result.verdict == "high_bias", result
    assert result.avoidable_bias > 0.3 and abs(result.variance) < 0.02
    # the final weights' own errors give the same verdict as the logged figures
    assert bias_variance.diagnose(error["train"], error["val"]).verdict == "high_bias"
    assert "bigger network" in str(result) and "more training data" not in str(result)
    # with a baseline at the training error, nothing is left to fix
    assert history.bias_variance(baseline=result.training_error).verdict == "fine"


def test_a_wide_net_on_sixty_digits_has_high_variance(digits_halves):
    history, error = _train(digits_halves, units=64, rows=60, epochs=60, batch_size=20)
    result = history.bias_variance()
    assert result.verdict == "high_variance", result
    assert result.training_error < 0.02 and result.variance > 0.1
    assert bias_variance.diagnose(error["train"], error["val"]).verdict == "high_variance"
    page = history._repr_html_()
    assert "Bias/variance:" in page and "<b>high variance" in page


def test_history_without_a_fraction_to_judge_says_what_to_give():
    history = History()
    history.append(0, {"loss": 2.0, "val_loss": 3.0})
    with pytest.raises(ValueError, match="metrics=\\['accuracy'\\]"):
        history.bias_variance()
    with pytest.raises(ValueError, match="scale="):
        history.bias_variance(metric="loss")
    result = history.bias_variance(scale=10.0)  # MSE ÷ variance of y: 20% and 30%
    assert result.verdict == "both" and result.training_error == pytest.approx(0.2)
    assert "Bias/variance" not in history._repr_html_()  # a loss alone is not judged there
    only_training = History()
    only_training.append(0, {"loss": 1.0, "accuracy": 0.5})
    with pytest.raises(ValueError, match="validation"):
        only_training.bias_variance(metric="accuracy")


# ---------------------------------------------------------------------- chainrule train
def _train_cli(capsys, monkeypatch, tmp_path, *argv):
    from chainrule.cli import main

    tmp_path.mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    code = main(["train", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = captured.out
    assert "Bias/variance:" in out
    line = " ".join(out[out.index("Bias/variance:") :].split("\n\n")[0].split())
    assert out.index("Test ") < out.index("Bias/variance:") < out.index("Network health")
    return out, line


def _percent_after(label, line):
    return float(re.search(label + r" ([0-9.]+)%", line).group(1)) / 100


def test_train_reports_high_bias_for_a_two_unit_net(capsys, monkeypatch, tmp_path):
    out, line = _train_cli(
        capsys,
        monkeypatch,
        tmp_path,
        "--data",
        "digits",
        "--layers",
        "2",
        "--activation",
        "tanh",
        "--epochs",
        "15",
    )
    assert "→ high bias" in line and "--layers" in line and "--baseline-error" in line
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)%", out).group(1)) / 100
    assert _percent_after("test error", line) == pytest.approx(1 - accuracy, abs=6e-4)
    # the training error is the saved model's on the rows fit trained on (validation apart)
    model = cr.load(str(tmp_path / "chainrule-model.npz"))
    digits = datasets.load("digits")
    x_train, _, y_train, _ = datasets.train_test_split(
        digits.x, digits.y, test_size=0.2, stratify=True, seed=0
    )
    trained = len(x_train) - round(len(x_train) * 0.1)
    error = np.mean(model.predict(x_train[:trained]).argmax(axis=1) != y_train[:trained])
    assert _percent_after("training error", line) == pytest.approx(error, abs=6e-4)
    # given that error as the baseline, the verdict is no longer bias
    _, again = _train_cli(
        capsys,
        monkeypatch,
        tmp_path / "again",
        "--data",
        "digits",
        "--layers",
        "2",
        "--activation",
        "tanh",
        "--epochs",
        "15",
        "--baseline-error",
        f"{error:.3f}",
    )
    assert "→ high bias" not in again and f"baseline {100 * float(f'{error:.3f}'):.1f}%" in again


def test_train_reports_high_variance_on_a_tenth_of_digits(capsys, monkeypatch, tmp_path):
    _, line = _train_cli(
        capsys,
        monkeypatch,
        tmp_path,
        "--data",
        "digits",
        "--test-size",
        "0.9",
        "--layers",
        "128",
        "--l2",
        "0",
        "--epochs",
        "60",
        "--patience",
        "60",
    )
    assert "→ high variance" in line and "--test-size" in line and "--l2" in line
    assert _percent_after("training error", line) < 0.02
    assert "Dropout" not in line  # chainrule train has no dropout to offer


def test_train_regression_judges_the_mse_over_the_variance(capsys, monkeypatch, tmp_path):
    _, line = _train_cli(
        capsys, monkeypatch, tmp_path, "--data", "regression1d", "--layers", "8", "--epochs", "2"
    )
    assert "(error: MSE ÷ variance of y)" in line


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "five"])
def test_a_bad_baseline_error_is_one_usage_line(capsys, value):
    from chainrule.cli import main

    code = main(["train", "--data", "xor", "--baseline-error", value])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "--baseline-error: expected an error from 0 to 1" in err and repr(value) in err
