"""Every Python block of the README runs, in order, as a user would paste it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_examples_run_and_train():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["w"].grad.item() == 0.25
    assert namespace["accuracy"] > 0.9  # the Keras-style example learned XOR of the signs
    net, x, y = namespace["net"], namespace["x"], namespace["y"]
    predictions = net.predict(x).argmax(axis=1)
    assert (predictions == y.argmax(axis=1)).mean() > 0.9  # so did the PyTorch-style loop
    assert np.isfinite(namespace["loss"].item())
