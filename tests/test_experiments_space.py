"""Search spaces: the course's scales, grid, random and coarse-to-fine, seeded."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.experiments.space import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    SpaceError,
    Uniform,
    coarse_to_fine_configs,
    grid_configs,
    random_configs,
    space_from_json,
    space_to_json,
    zoomed_space,
)


def test_log_uniform_is_the_courses_ten_to_the_minus_four_rand():
    drawn = [c["lr"] for c in random_configs({"lr": LogUniform(1e-4, 1.0)}, 2000, seed=0)]
    exponents = np.log10(drawn)
    assert exponents.min() >= -4 and exponents.max() <= 0
    # uniform in the exponent: each decade gets about a quarter of the samples
    counts = np.histogram(exponents, bins=4, range=(-4, 0))[0]
    assert np.all(np.abs(counts - 500) < 80), counts
    rng = np.random.default_rng(0)
    assert drawn[0] == pytest.approx(10 ** (-4 + 4 * rng.random()))


def test_one_minus_log_uniform_spreads_beta_over_decades_of_one_minus_beta():
    drawn = np.array(
        [c["beta"] for c in random_configs({"beta": OneMinusLogUniform(0.9, 0.999)}, 2000, seed=1)]
    )
    assert drawn.min() >= 0.9 and drawn.max() <= 0.999
    between_99_and_999 = np.mean(drawn > 0.99)
    assert 0.4 < between_99_and_999 < 0.6  # a plain Uniform would put ~9% there


def test_random_configs_are_seeded_and_cover_every_dimension():
    space = {
        "lr": LogUniform(1e-3, 1e-1),
        "width": IntUniform(4, 8),
        "activation": Choice(["relu", "tanh"]),
        "dropout": Uniform(0.0, 0.5),
        "epochs": 2,
    }
    first = random_configs(space, 20, seed=3)
    assert first == random_configs(space, 20, seed=3)
    assert first != random_configs(space, 20, seed=4)
    assert all(
        c["epochs"] == 2 and 4 <= c["width"] <= 8 and isinstance(c["width"], int) for c in first
    )
    assert {c["activation"] for c in first} == {"relu", "tanh"}


def test_grid_takes_every_choice_and_evenly_spaced_points_in_the_dimensions_scale():
    configs = grid_configs({"lr": LogUniform(1e-4, 1e-2), "act": Choice(["a", "b"])}, points=3)
    assert len(configs) == 6
    assert sorted({c["lr"] for c in configs}) == pytest.approx([1e-4, 1e-3, 1e-2])
    assert grid_configs({"depth": IntUniform(1, 3)}, points=5) == [
        {"depth": 1},
        {"depth": 2},
        {"depth": 3},
    ]


def test_coarse_to_fine_zooms_on_the_best_region():
    space = {"lr": LogUniform(1e-5, 1.0), "act": Choice(["relu", "tanh", "sigmoid"])}
    first = random_configs(space, 100, seed=0)
    # the score peaks at lr = 1e-2 with relu
    scored = [(c, -abs(math.log10(c["lr"]) + 2) - 10 * (c["act"] != "relu")) for c in first]
    second = coarse_to_fine_configs(space, scored, 20, keep=0.1, seed=1)
    spread_first = np.ptp(np.log10([c["lr"] for c in first]))
    spread_second = np.ptp(np.log10([c["lr"] for c in second]))
    assert spread_second < 0.6 * spread_first
    assert all(abs(math.log10(c["lr"]) + 2) < 2 for c in second)
    assert {c["act"] for c in second} == {"relu"}


def test_zoom_stays_inside_the_old_bounds():
    zoomed = zoomed_space({"beta": OneMinusLogUniform(0.9, 0.999)}, [{"beta": 0.998}])
    assert 0.9 <= zoomed["beta"].low < zoomed["beta"].high <= 0.999


def test_space_round_trips_through_json():
    space = {
        "lr": LogUniform(1e-4, 1.0),
        "beta": OneMinusLogUniform(0.9, 0.99),
        "width": IntUniform(2, 9),
        "act": Choice(["relu"]),
        "drop": Uniform(0, 0.5),
        "epochs": 4,
    }
    assert space_from_json(space_to_json(space)) == space


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: LogUniform(0.0, 1.0), "positive"),
        (lambda: Uniform(1.0, 0.5), "low < high"),
        (lambda: OneMinusLogUniform(0.9, 1.0), "high < 1"),
        (lambda: IntUniform(1.5, 3), "integer"),
        (lambda: Choice([]), "at least one"),
        (lambda: space_from_json({"x": {"type": "Gaussian"}}), "unknown dimension"),
    ],
)
def test_bad_spaces_are_refused_with_a_clear_message(build, message):
    with pytest.raises(SpaceError, match=message):
        build()
