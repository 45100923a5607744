"""The benchmarks run and report ratios (a smoke run; timings are never asserted in tests)."""

from __future__ import annotations

import json

from benchmarks import __main__ as bench
from benchmarks import health_overhead


def test_health_overhead_reports_a_ratio_of_two_medians():
    result = health_overhead.run(samples=256, repeats=1, batch_size=64)
    assert result["overhead_ratio"] == (result["median_epoch_with_monitor_s"]
                                        / result["median_epoch_without_monitor_s"])
    assert 0 < result["monitor_share_of_epoch"] < 1
    assert "target < 5%" in health_overhead.format_result(result)


def test_the_command_writes_json(tmp_path, monkeypatch, capsys):
    original = health_overhead.run
    monkeypatch.setattr(health_overhead, "run",
                        lambda **sizes: original(samples=128, repeats=1, batch_size=64))
    output = tmp_path / "results.json"
    assert bench.main(["--quick", "--output", str(output)]) == 0
    assert json.loads(output.read_text())[0]["benchmark"] == "health_overhead"
    assert "of an epoch" in capsys.readouterr().out
