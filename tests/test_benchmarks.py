"""The benchmarks run, interleave their contenders and report ratios and targets.

Timings are never asserted (a test cannot know the machine); what is checked is that every
contender performs a real training step, that ratios are ratios of the medians measured in the
same run, and that the targets are judged from them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from benchmarks import __main__ as bench
from benchmarks import contenders, epoch, health_overhead, process, report, steps, timing
from benchmarks.timing import floor_note, interleaved, ratios, target

XOR = (2, 8, 1)
SMALL = (12, 8, 6, 3)


def test_contenders_are_interleaved_in_alternating_order(monkeypatch):
    calls: list[str] = []
    pauses: list[float] = []
    monkeypatch.setattr(timing.time, "sleep", pauses.append)
    times = interleaved(
        {name: (lambda n=name: calls.append(n)) for name in "abc"},
        rounds=4,
        inner=1,
        warmup=0,
        warmup_s=0.0,
    )
    assert calls == list("abccbaabccba")
    # before each timing, longer than OpenBLAS's workers spin (~0.1 s) after a call
    assert pauses == [timing.PAUSE_S] * 12 and timing.PAUSE_S >= 0.2
    assert set(times) == set("abc") and all(value >= 0 for value in times.values())
    assert ratios({"a": 2.0, "b": 1.0}, "b") == {"a": 2.0, "b": 1.0}


@pytest.mark.parametrize("jit", [False, True])
def test_the_chainrule_steps_train(jit):
    x, y = contenders.batch(SMALL, 64)
    step = contenders.chainrule_step(SMALL, "relu", x, y, jit=jit)
    before = step.model.evaluate(x, y, batch_size=None)
    for _ in range(50):
        step()
    assert step.model.evaluate(x, y, batch_size=None) < before
    assert (step.model.compiled_step is not None) == jit


def test_the_keras_pattern_contender_is_compiled_and_trains():
    """A softmax output and categorical cross-entropy on probabilities, one-hot labels: the
    compiled step takes it (computed from the logits behind the softmax)."""
    x, labels = contenders.batch(SMALL, 64)
    y = np.eye(SMALL[-1], dtype=np.float32)[labels]
    model = contenders.chainrule_model(SMALL, "relu", jit=True, keras=True)
    assert model.layers[-1].activation.name == "softmax" and not model.loss.from_logits
    before = model.evaluate(x, y, batch_size=None)
    model.fit(x, y, epochs=20, batch_size=16, verbose=0, health=False)
    assert model.evaluate(x, y, batch_size=None) < before
    assert model.compiled_step.traces == 1 and model.jit_fallback_reason is None


def test_the_torch_step_trains_on_the_xor_table(torch):
    x, y = contenders.batch(XOR, 4)
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.ravel().tolist() == [0, 1, 1, 0]
    step = contenders.torch_step(torch, XOR, "tanh", x, y)
    before = step.model[0].weight.detach().clone()
    step()
    assert not torch.equal(before, step.model[0].weight.detach())


def test_the_gemm_limit_does_the_steps_eight_products():
    x, _ = contenders.batch((784, 256, 128, 10), 32)
    calls = []
    original = np.matmul

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    step = contenders.gemm_step((784, 256, 128, 10), x)
    np.matmul = counting
    try:
        step()
    finally:
        np.matmul = original
    assert len(calls) == 8  # 3 forward, 3 weight gradients, 2 input gradients


def test_sklearn_step_runs():
    sklearn = pytest.importorskip("sklearn.neural_network")
    x, y = contenders.batch(SMALL, 32)
    step = contenders.sklearn_step(sklearn, SMALL, "relu", x, y)
    step()
    before = step.model.coefs_[0].copy()
    step()
    assert not np.array_equal(before, step.model.coefs_[0])


def test_a_step_workload_reports_ratios_of_its_own_medians():
    result = steps._workload("tiny", SMALL, "relu", 16, rounds=1, inner=1)
    times = result["median_s"]
    assert {"gemm", "chainrule_eager", "chainrule_compiled"} <= set(times)
    for name, value in times.items():
        assert result["ratio_to_gemm"][name] == pytest.approx(value / times["gemm"])


def test_targets_are_judged_from_the_ratios():
    results = [
        {
            "benchmark": "step",
            "workload": "MLP 784-256-128-10, batch 128",
            "ratio_to_gemm": {"chainrule_compiled": 1.4, "chainrule_numba": 1.3},
            "ratio_to_torch": {"chainrule_compiled": 0.8, "chainrule_eager": 0.9, "gemm": 0.62},
        },
        {
            "benchmark": "step",
            "workload": "MLP 784-256-128-10, batch 32",
            "ratio_to_gemm": {"chainrule_compiled": 1.6, "chainrule_numba": 1.4},
            "ratio_to_torch": None,
        },
        {
            "benchmark": "step",
            "workload": "XOR 2-8-1, batch 4",
            "ratio_to_gemm": {},
            "ratio_to_torch": {"chainrule_compiled": 0.05, "chainrule_numba": 0.125},
        },
    ]
    found = {t["target"]: t for t in steps.targets(results)}
    assert found["batch-128 step: compiled / pure GEMM (NumPy)"]["met"] is True  # ≤ 1.5
    assert found["batch-128 step: compiled / pure GEMM (numba kernels)"]["met"] is False
    assert found["batch-128 step: compiled / PyTorch"]["met"] is False  # 0.8 > 0.35
    assert found["batch-32 step: compiled / pure GEMM"]["met"] is False  # 1.6 > 1.5
    assert found["XOR 2-8-1 step: PyTorch / compiled (speed-up)"]["value"] == 20.0
    assert found["XOR 2-8-1 step: PyTorch / compiled (speed-up)"]["met"] is True  # ≥ 10
    assert found["batch-32 step: compiled / pure GEMM (numba kernels)"]["met"] is True
    xor_numba = found["XOR 2-8-1 step: PyTorch / compiled (numba kernels) (speed-up)"]
    assert xor_numba["value"] == 8.0 and xor_numba["met"] is False
    assert target("x", 2.0, 1.0)["met"] is False
    text = report.format_targets(list(found.values()))
    assert (
        "MISSED batch-128 step: compiled / PyTorch: 0.800 (must be ≤ 0.35; the GEMMs alone take"
        " 0.62× PyTorch here: the target is below that floor)" in text
    )
    assert floor_note(0.5, {"gemm": 0.3}, "PyTorch") == (
        "must be ≤ 0.5; the GEMMs alone take 0.30× PyTorch"
    )


def test_the_epoch_benchmark_and_its_scaling_run_small():
    results = epoch.run(quick=True)
    assert results[0]["benchmark"] == "epoch"
    assert {"gemm", "chainrule_eager", "chainrule_compiled", "chainrule_keras"} <= set(
        results[0]["median_s"]
    )
    keras = [t for t in epoch.targets(results) if t["target"].startswith("60k epoch: Keras")]
    times = results[0]["median_s"]
    assert keras[0]["value"] == times["chainrule_keras"] / times["chainrule_compiled"]
    assert keras[0]["limit"] == 1.05
    scaling = results[1]["per_sample_relative_to_smallest"]
    assert scaling["1000"] == 1.0 and len(scaling) == 3
    assert "samples" in report.format_results(results)


def test_memory_and_import_time_are_measured_in_fresh_processes(monkeypatch):
    monkeypatch.setattr(process, "peer", lambda name: None)  # chainrule only: faster
    memory = process.peak_memory(quick=True)
    peaks = memory["peak_rss_bytes"]
    assert set(peaks) == {"chainrule_eager", "chainrule_compiled"}
    assert all(10 * 2**20 < value < 4 * 2**30 for value in peaks.values())
    imports = process.import_time(quick=True)
    assert 0 < imports["median_s"]["numpy"] < imports["median_s"]["chainrule"] < 30
    assert process.targets([imports])[0]["target"] == "import chainrule (seconds, absolute)"


@pytest.mark.parametrize("ratio, met", [(0.48, True), (0.6, False)])
def test_the_memory_target_is_half_of_pytorchs_peak(ratio, met):
    memory = {"benchmark": "memory", "ratio_to_torch": {"chainrule_compiled": ratio}}
    (found,) = process.targets([memory])
    assert (found["limit"], found["met"]) == (0.5, met)


def test_import_time_is_measured_with_the_bytecode_cache_users_have(monkeypatch):
    """PYTHONDONTWRITEBYTECODE (set on some machines) would make every timed import compile
    the sources again; the benchmark drops it and imports once untimed to write the cache."""
    monkeypatch.setattr(process, "peer", lambda name: None)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    calls = []

    def python(code, *args, environment=None):
        calls.append((code, environment))
        return 0.1

    monkeypatch.setattr(process, "_python", python)
    process.import_time(quick=True)
    assert all("PYTHONDONTWRITEBYTECODE" not in environment for _, environment in calls)
    assert len(calls) == 2 + 2 * 3  # one untimed import per module, then 3 rounds
    assert [code.split()[-4] for code, _ in calls[:2]] == ["numpy", "chainrule"]


def test_health_overhead_reports_a_ratio_of_two_medians():
    result = health_overhead.run(samples=256, repeats=1, batch_size=64)
    assert result["overhead_ratio"] == (
        result["median_epoch_with_monitor_s"] / result["median_epoch_without_monitor_s"]
    )
    assert 0 < result["monitor_share_of_epoch"] < 1
    assert "target < 5%" in health_overhead.format_result(result)
    assert health_overhead.targets([result])[0]["limit"] == 0.05


def test_the_command_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(process, "peer", lambda name: None)
    output = tmp_path / "results.json"
    assert bench.main(["--quick", "--only", "import", "--output", str(output)]) == 0
    document = json.loads(output.read_text())
    assert document["results"][0]["benchmark"] == "import"
    assert document["targets"][0]["target"].startswith("import chainrule")
    assert document["machine"]["threads"] == 2
    out = capsys.readouterr().out
    assert "import chainrule" in out and "targets" in out


def test_a_partial_run_keeps_the_other_suites_numbers(tmp_path, monkeypatch):
    """--only updates its suites in the output file and leaves the others' numbers there."""
    fake = {
        name: (lambda quick, name=name: [{"benchmark": "fake", "value": 1 + quick}], lambda r: [])
        for name in ("steps", "import")
    }
    monkeypatch.setattr(bench, "SUITES", fake)
    output = tmp_path / "results.json"
    assert bench.main(["--output", str(output)]) == 0
    assert bench.main(["--quick", "--only", "import", "--output", str(output)]) == 0
    document = json.loads(output.read_text())
    assert sorted((r["suite"], r["value"]) for r in document["results"]) == [
        ("import", 2),
        ("steps", 1),
    ]
    assert (document["suites"]["steps"]["quick"], document["suites"]["import"]["quick"]) == (
        False,
        True,
    )
    output.write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read the earlier results"):
        bench.main(["--only", "import", "--output", str(output)])
    assert output.read_text() == "{not json"  # nothing lost
    output.write_text('{"suites": {"steps": {}}, "results": [3]}')
    with pytest.raises(SystemExit, match="an entry of its results or targets is not an object"):
        bench.main(["--only", "import", "--output", str(output)])


def test_the_experiments_benchmark_reports_its_ratios_and_targets():
    from benchmarks import experiments

    parallel = experiments.parallel_trials(trials=2, seconds_per_trial=0.01, dask=False, rounds=2)
    seconds = parallel["seconds"]
    assert set(seconds) == {"serial", "pool_2"}
    assert parallel["speedup_pool_over_serial"] == seconds["serial"] / seconds["pool_2"]
    assert [len(parallel["rounds_s"][name]) for name in ("serial", "pool_2")] == [2, 2]
    assert seconds["serial"] == pytest.approx(sum(parallel["rounds_s"]["serial"]) / 2)
    asha = experiments.asha_against_full(configurations=3, max_epochs=3, data="xor")
    assert asha["epochs"]["full"] == 3 * 3 and asha["epochs"]["asha"] < asha["epochs"]["full"]
    assert asha["epochs_fraction"] == asha["epochs"]["asha"] / asha["epochs"]["full"]
    best = asha["best_val_accuracy"]
    assert asha["best_gap_points"] == pytest.approx(100 * (best["full"] - best["asha"]))
    found = {t["target"]: t for t in experiments.targets([parallel, asha])}
    speedup = found["16 trials: pool of 2 / serial (speed-up)"]
    assert speedup["met"] == (parallel["speedup_pool_over_serial"] >= 1.8)
    assert found["ASHA η=3, 27 configs: epochs / full runs' epochs"]["limit"] == 0.40
    text = report.format_results([parallel, asha])
    assert "pool speed-up" in text and f"of {asha['epochs']['full']}" in text
