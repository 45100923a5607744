"""Checkpoint and resume: a run stopped by Ctrl-C finishes, after ``resume=True``, with the same
bits as a run that was never stopped.

``fit(..., checkpoint=path)`` writes the model, the optimiser's state (Adam's moments here) and
the progress (epoch, shuffling and dropout generators, early-stopping state) atomically after
every epoch. The first Ctrl-C stops after the current batch with ``TrainingInterrupted``; the
same ``fit`` call with ``resume=True`` continues from the file.

Run: python examples/checkpoint_resume.py
"""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.callbacks import Callback
from chainrule.models import Sequential
from chainrule.nn import Dense, Dropout


class CtrlCAt(Callback):
    """Presses Ctrl-C (a real SIGINT) after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.at, self.epoch = (epoch, batch), -1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if (self.epoch, batch) == self.at:
            signal.raise_signal(signal.SIGINT)


def new_model() -> Sequential:
    model = Sequential(
        [Dense(32, input_dim=64, activation="relu"), Dropout(0.2, seed=1), Dense(10)], seed=0
    )
    model.compile(
        loss=cr.losses.get("sparse_categorical_crossentropy", from_logits=True),
        optimizer="adam",
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    data = cr.datasets.load("digits")
    x, y = cr.datasets.Standardizer().fit(data.x).transform(data.x), data.y
    with tempfile.TemporaryDirectory(prefix="chainrule-resume-") as directory:
        train_twice(x, y, Path(directory))


def train_twice(x: np.ndarray, y: np.ndarray, folder: Path) -> None:
    run = {"epochs": 8, "batch_size": 64, "verbose": 0, "seed": 0}

    unbroken = new_model()
    unbroken.fit(x, y, checkpoint=folder / "unbroken.npz", **run)

    stopped = new_model()
    try:
        stopped.fit(x, y, checkpoint=folder / "run.npz", callbacks=[CtrlCAt(4, 3)], **run)
    except cr.TrainingInterrupted as interrupted:
        print("interrupted:", interrupted)
    resumed = new_model()  # as a new process would: a fresh model, the same call
    history = resumed.fit(x, y, checkpoint=folder / "run.npz", resume=True, **run)
    same = all(
        np.array_equal(a, b)
        for a, b in zip(unbroken.state_dict().values(), resumed.state_dict().values())
    )
    print(
        f"resumed: {len(history.epoch)} epochs in its history (the checkpoint's and the new "
        f"ones); bit-identical to the unbroken run: {same}"
    )
    assert same


if __name__ == "__main__":
    main()
