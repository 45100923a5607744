"""chainrule compare / tune / study show|export: rankings, restart, clear errors."""

from __future__ import annotations

import csv
import io

import pytest

import chainrule as cr
from chainrule.cli import main
from conftest import XOR_COMPARE

COMPARE = [*XOR_COMPARE, "--workers", "2"]


def test_compare_ranks_settings_with_the_seed_spread_and_continues_when_run_again(tmp_path, capsys):
    study = str(tmp_path / "c.study")
    best = tmp_path / "best.npz"
    assert main([*COMPARE, "--study", study, "-o", str(best)]) == 0
    out, err = capsys.readouterr()
    assert "mean val_accuracy" in out and "± s" in out and "relu" in out and "tanh" in out
    assert "trials 4/4 done" in err
    assert cr.load(best).metadata["config"]["data"] == "xor"
    assert main([*COMPARE, "--study", study]) == 0  # nothing left to train: the same table
    assert capsys.readouterr().out.split("\n")[:4] == out.split("\n")[:4]
    assert main(["study", "show", study]) == 0
    assert "4 trials; 4 done" in capsys.readouterr().out
    assert main(["study", "export", study, "-o", str(tmp_path / "t.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"done"}
    assert "health/dense/grad_norm" in rows[0] and float(rows[0]["val_accuracy"]) >= 0


def test_tune_runs_asha_and_saves_the_best_model(tmp_path, capsys):
    study, best = str(tmp_path / "t.study"), tmp_path / "best.npz"
    assert (
        main(
            [
                "tune",
                "--data",
                "xor",
                "--trials",
                "6",
                "--max-epochs",
                "3",
                "--workers",
                "2",
                "--study",
                study,
                "-o",
                str(best),
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "pruned" in err and "The best trial" in out
    assert cr.load(best).count_parameters() > 0


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["compare", "--activations", "nope"], 2, "unknown activation 'nope'"),
        (["tune", "--min-epochs", "5", "--max-epochs", "2"], 2, "at least min_epochs"),
        (["compare", "--cluster", "ray://127.0.0.1", "--epochs", "1"], 2, "Ray address"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, code, message):
    assert main([*argv, "--study", str(tmp_path / "x.study")]) == code
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("chainrule: error:") and message in last_line
    assert not (tmp_path / "x.study").exists()


def test_study_show_refuses_a_corrupt_or_other_study(tmp_path, capsys):
    bad = tmp_path / "bad.study"
    bad.write_bytes(b"\x00garbage" * 50)
    assert main(["study", "show", str(bad)]) == 1
    assert "not a chainrule study file" in capsys.readouterr().err
    study = str(tmp_path / "c.study")
    assert main([*COMPARE, "--study", study]) == 0
    assert main([*COMPARE[:-2], "--workers", "1", "--epochs", "3", "--study", study]) == 1
    assert "other settings" in capsys.readouterr().err


@pytest.mark.slow
def test_tune_refine_runs_a_second_round_in_the_zoomed_space_and_continues(tmp_path, capsys):
    from chainrule.cli.experiments import TUNE_SPACE, fine_study_path
    from chainrule.experiments import Study

    study, best = str(tmp_path / "t.study"), tmp_path / "best.npz"
    argv = [
        "tune",
        "--data",
        "xor",
        "--trials",
        "6",
        "--max-epochs",
        "3",
        "--refine",
        "4",
        "--workers",
        "2",
        "--study",
        study,
        "-o",
        str(best),
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "First round (coarse)" in out and "Second round (fine" in out
    assert "Refining: 4 configurations" in err and "of the " in out
    fine_path = fine_study_path(study)
    assert fine_path.name == "t.fine.study"
    with Study.open(study) as coarse, Study.open(fine_path) as fine:
        coarse_trials, fine_trials = coarse.trials(), fine.trials()
        assert len(fine_trials) == 4
        ranked = sorted(coarse_trials, key=coarse.objective.goodness, reverse=True)
        best_rates = [t.config["lr"] for t in ranked[:2]]  # the best quarter of 6: 2 trials
        lr = TUNE_SPACE["lr"].zoom(best_rates)
        # every fine learning rate lies in the zoomed range, narrower than the coarse one
        assert all(lr.low <= t.config["lr"] <= lr.high for t in fine_trials)
        assert (lr.low, lr.high) != (TUNE_SPACE["lr"].low, TUNE_SPACE["lr"].high)
        depths = {t.config["depth"] for t in ranked[:2]}
        assert all(min(depths) <= t.config["depth"] <= max(depths) for t in fine_trials)
    assert cr.load(best).count_parameters() > 0
    assert main(argv) == 0  # run again: both rounds reopen, nothing is trained again
    again_out, again_err = capsys.readouterr()
    assert again_out == out and again_err.count("trials ") == 2
