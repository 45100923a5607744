"""Whole epochs: 60,000 samples of the 784-256-128-10 MLP at batch 128 with shuffling, and how
the compiled epoch time grows with the number of samples (10k → 160k; it should be linear).

chainrule runs ``fit(epochs=1)`` (eager and compiled, the health monitor off; its cost is
measured on its own), and compiled as Keras users write the model ("chainrule_keras": a softmax
output and categorical cross-entropy on probabilities, one-hot labels); PyTorch a loop over
a shuffled permutation; scikit-learn ``MLPClassifier.fit`` for one epoch with
``solver="sgd"`` and ``solver="adam"``; "gemm" is the limit: the step's matrix products for
every batch of the epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr

from . import contenders as c
from .timing import floor_note, interleaved, pause_for, peer, ratios, target

MLP = (784, 256, 128, 10)
BATCH = 128


def _data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    return c.batch(MLP, rows, seed=1)


def _gemm_epoch(x: np.ndarray) -> Callable[[], None]:
    full = c.gemm_step(MLP, x[:BATCH])
    rest = len(x) % BATCH
    last = c.gemm_step(MLP, x[:rest]) if rest else None
    steps = len(x) // BATCH

    def epoch() -> None:
        for _ in range(steps):
            full()
        if last is not None:
            last()

    return epoch


def _chainrule_epoch(
    x: np.ndarray,
    y: np.ndarray,
    jit: bool,
    keras: bool = False,
    adam: bool = False,
    kernels: str = "numpy",
) -> Callable[[], None]:
    optimizer = cr.optim.Adam(lr=0.001) if adam else None
    model = c.chainrule_model(MLP, "relu", jit, optimizer=optimizer, keras=keras, kernels=kernels)
    if keras:
        y = np.eye(MLP[-1], dtype=np.float32)[y]  # one-hot labels, as Keras users give them
    seeds = iter(range(10**9))
    return lambda: model.fit(
        x, y, epochs=1, batch_size=BATCH, verbose=0, seed=next(seeds), health=False
    )


def _torch_epoch(torch: Any, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    model = c.torch_model(torch, MLP, "relu")
    optimizer = torch.optim.SGD(model.parameters(), lr=c.LR)
    loss_function = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def epoch() -> None:
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), BATCH):
            rows = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_function(model(inputs[rows]), targets[rows]).backward()
            optimizer.step()

    return epoch


def _sklearn_epoch(
    sklearn_nn: Any, x: np.ndarray, y: np.ndarray, solver: str
) -> Callable[[], None]:
    classifier = c.sklearn_classifier(sklearn_nn, MLP, "relu", BATCH, solver)

    def epoch() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter=1 on purpose
            classifier.fit(x, y)

    return epoch


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows = 3_000 if quick else 60_000
    x, y = _data(rows)
    contenders: dict[str, Callable[[], None]] = {
        "gemm": _gemm_epoch(x),
        "chainrule_eager": _chainrule_epoch(x, y, jit=False),
        "chainrule_compiled": _chainrule_epoch(x, y, jit=True),
        "chainrule_keras": _chainrule_epoch(x, y, jit=True, keras=True),
        "chainrule_adam": _chainrule_epoch(x, y, jit=True, adam=True),
    }
    if peer("numba") is not None:
        contenders["chainrule_numba"] = _chainrule_epoch(x, y, jit=True, kernels="numba")
        contenders["chainrule_adam_numba"] = _chainrule_epoch(
            x, y, jit=True, adam=True, kernels="numba"
        )
    torch = peer("torch")
    if torch is not None:
        contenders["torch"] = _torch_epoch(torch, x, y)
    sklearn = peer("sklearn.neural_network")
    if sklearn is not None:
        contenders["sklearn_sgd"] = _sklearn_epoch(sklearn, x, y, "sgd")
        contenders["sklearn_adam"] = _sklearn_epoch(sklearn, x, y, "adam")
    times = interleaved(contenders, rounds=3 if quick else 5, warmup=1, pause_s=pause_for(quick))
    results = [
        {
            "benchmark": "epoch",
            "workload": f"{rows:,} samples, 784-256-128-10, batch {BATCH}, shuffled",
            "median_s": times,
            "ratio_to_gemm": ratios(times, "gemm"),
            "ratio_to_torch": ratios(times, "torch") if torch is not None else None,
            "ratio_to_sklearn_sgd": ratios(times, "sklearn_sgd") if sklearn is not None else None,
        }
    ]
    results.append(sample_scaling(quick))
    return results


def sample_scaling(quick: bool = False) -> dict[str, Any]:
    """Compiled epoch time per sample for 10k … 160k samples, relative to 10k."""
    counts = (1_000, 2_000, 4_000) if quick else (10_000, 20_000, 40_000, 80_000, 160_000)
    x, y = _data(counts[-1])
    contenders = {str(n): _chainrule_epoch(x[:n], y[:n], jit=True) for n in counts}
    times = interleaved(contenders, rounds=3, warmup=1, pause_s=pause_for(quick))
    first = times[str(counts[0])] / counts[0]
    return {
        "benchmark": "samples",
        "workload": "compiled epoch time vs samples (linear: the time per sample stays at 1.0×)",
        "median_s": times,
        "per_sample_relative_to_smallest": {n: times[n] / int(n) / first for n in times},
    }


def targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for result in results:
        if result["benchmark"] != "epoch":
            continue
        times = result["median_s"]
        found.append(
            target(
                "60k epoch: Keras pattern (softmax + categorical_crossentropy) / from logits",
                times["chainrule_keras"] / times["chainrule_compiled"],
                1.05,
            )
        )
        fast = "_numba" if "chainrule_adam_numba" in times else ""
        found.append(
            target(
                f"60k epoch: Adam / SGD (compiled{', numba' if fast else ''})",
                times[f"chainrule_adam{fast}"]
                / times["chainrule_numba" if fast else "chainrule_compiled"],
                1.1,
            )
        )
        if result["ratio_to_torch"]:
            found.append(
                target(
                    "60k epoch: compiled / PyTorch",
                    result["ratio_to_torch"]["chainrule_compiled"],
                    0.5,
                    note=floor_note(0.5, result["ratio_to_torch"], "PyTorch"),
                )
            )
        if result["ratio_to_sklearn_sgd"]:
            found.append(
                target(
                    "60k epoch: compiled / scikit-learn (sgd)",
                    result["ratio_to_sklearn_sgd"]["chainrule_compiled"],
                    0.5,
                    note=floor_note(0.5, result["ratio_to_sklearn_sgd"], "scikit-learn"),
                )
            )
    return found
