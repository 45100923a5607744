"""Measurements that need a fresh process: peak memory (RSS) of a training run, and the time
``import chainrule`` takes.

Each run is its own ``python`` process with 2 BLAS/OpenMP threads; the peak RSS is the
process's ``ru_maxrss``, so the libraries each contender loads count too.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Any

from .timing import THREADS, peer, target

_TRAIN = """
import resource, sys
import numpy as np
rows = int(sys.argv[2])
rng = np.random.default_rng(1)
x = rng.standard_normal((rows, 784), dtype=np.float32)  # no float64 intermediate
y = rng.integers(0, 10, rows)
if sys.argv[1] == "torch":
    import torch
    torch.set_num_threads({threads})
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_function = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    order = torch.randperm(rows)
    for start in range(0, rows, 128):
        batch = order[start:start + 128]
        optimizer.zero_grad()
        loss_function(model(inputs[batch]), targets[batch]).backward()
        optimizer.step()
else:
    import chainrule as cr
    from chainrule.models import Sequential
    from chainrule.nn import Dense
    model = Sequential([Dense(256, input_dim=784, activation="relu"),
                        Dense(128, activation="relu"), Dense(10)], seed=0)
    model.compile(loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
                  optimizer=cr.optim.SGD(lr=0.01), jit=sys.argv[1] == "chainrule_compiled")
    model.fit(x, y, epochs=1, batch_size=128, verbose=0, seed=0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
with open("/proc/self/status") as status:
    peak = [line for line in status if line.startswith("VmHWM:")]
print(int(peak[0].split()[1]) * 1024 if peak else
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

_IMPORT = """
import time
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(THREADS)
    return env


def _python(code: str, *args: str, environment: dict[str, str] | None = None) -> float:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=environment or _environment(),
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def peak_memory(quick: bool = False) -> dict[str, Any]:
    """Peak RSS (bytes) of one epoch of the 60k-sample run, per contender."""
    rows = "3000" if quick else "60000"
    code = _TRAIN.replace("{threads}", str(THREADS))
    contenders = ["chainrule_eager", "chainrule_compiled"]
    if peer("torch") is not None:
        contenders.append("torch")
    peaks = {name: _python(code, name, rows) for name in contenders}
    result: dict[str, Any] = {
        "benchmark": "memory",
        "workload": f"peak RSS of one epoch, "
        f"{int(rows):,} samples, 784-256-128-10 (a fresh process each; "
        "the data alone is {:.0f} MB)".format(int(rows) * 784 * 4 / 1e6),
        "peak_rss_bytes": peaks,
    }
    if "torch" in peaks:
        result["ratio_to_torch"] = {name: value / peaks["torch"] for name, value in peaks.items()}
    return result


def import_time(quick: bool = False) -> dict[str, Any]:
    """Median seconds of ``import chainrule`` in a fresh process (and of its peers).

    Measured as users meet it: with the bytecode cache (``__pycache__``) that ``pip install``
    writes, which an untimed first import writes here; ``PYTHONDONTWRITEBYTECODE`` (set on
    some machines) is dropped, or every run would compile the sources again.
    """
    repeats = 3 if quick else 7
    modules = ["numpy", "chainrule"] + (["torch"] if peer("torch") is not None else [])
    times: dict[str, list[float]] = {module: [] for module in modules}
    codes = {module: _IMPORT.replace("{module}", module) for module in modules}
    environment = _environment()
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    for code in codes.values():
        _python(code, environment=environment)
    for _ in range(repeats):  # interleaved, like every other benchmark
        for module, code in codes.items():
            times[module].append(_python(code, environment=environment))
    medians = {module: statistics.median(values) for module, values in times.items()}
    return {
        "benchmark": "import",
        "workload": "import time in a fresh process",
        "median_s": medians,
        "ratio_to_numpy": {m: v / medians["numpy"] for m, v in medians.items()},
    }


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for result in results:
        if result["benchmark"] == "memory" and "ratio_to_torch" in result:
            found.append(
                target(
                    "peak RSS, 60k run: compiled / PyTorch",
                    result["ratio_to_torch"]["chainrule_compiled"],
                    0.5,  # issue 14: at most half of PyTorch's peak memory
                )
            )
        if result["benchmark"] == "import":
            found.append(
                target(
                    "import chainrule (seconds, absolute)", result["median_s"]["chainrule"], 0.25
                )
            )
    return found
