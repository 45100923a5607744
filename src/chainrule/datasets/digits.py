"""The UCI optical-recognition handwritten digits, shipped with chainrule (``data/digits.npz``).

1,797 images of 8 × 8 pixels; each pixel counts the "on" pixels of a 4 × 4 block of a 32 × 32
bitmap, so it is an integer 0..16; 10 classes (the digits 0–9). Row i of x is image i read row
by row: feature ``pixel_r_c`` is row r, column c, i.e. column 8r + c of x.

Source and licence (see ``data/digits.txt``): Alpaydin, E. & Kaynak, C. (1998). Optical
Recognition of Handwritten Digits [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C50P49 — CC BY 4.0.

>>> ds = load_digits()
>>> ds.x.shape, ds.num_classes, float(ds.x.max())
((1797, 64), 10, 16.0)
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from .base import Dataset

DIGITS_FILE = "digits.npz"
CITATION_FILE = "digits.txt"
SIDE = 8
SAMPLES = 1797
CITATION = (
    "Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits [Dataset]. "
    "UCI Machine Learning Repository. https://doi.org/10.24432/C50P49 (licence CC BY 4.0)"
)


def _data_file(name: str) -> Any:
    return resources.files(__package__).joinpath("data").joinpath(name)  # one step: 3.10


def citation() -> str:
    """The full citation and licence text shipped next to the data (``data/digits.txt``)."""
    return _data_file(CITATION_FILE).read_text(encoding="utf-8")


def load_digits() -> Dataset:
    """The digits as a Dataset: x float32 (1797 × 64, values 0..16), y int64 0..9."""
    with (
        _data_file(DIGITS_FILE).open("rb") as handle,
        np.load(handle, allow_pickle=False) as archive,
    ):
        images = archive["images"]
        labels = archive["labels"]
    if (
        images.shape != (SAMPLES, SIDE, SIDE)
        or labels.shape != (SAMPLES,)
        or images.dtype != np.uint8
        or labels.dtype != np.uint8
        or images.max() > 16
        or labels.max() > 9
    ):
        raise ValueError(
            f"the shipped {DIGITS_FILE} is damaged (unexpected arrays: images "
            f"{images.shape} {images.dtype}, labels {labels.shape} {labels.dtype}); "
            "reinstall chainrule"
        )
    return Dataset(
        images.reshape(SAMPLES, SIDE * SIDE).astype(np.float32),
        labels.astype(np.int64),
        name="digits",
        task="classification",
        classes=[str(d) for d in range(10)],
        feature_names=[f"pixel_{r}_{c}" for r in range(SIDE) for c in range(SIDE)],
        description="UCI handwritten digits, 8x8 pixels 0..16 (Alpaydin & Kaynak 1998, CC BY 4.0)",
    )


__all__ = ["CITATION", "citation", "CITATION_FILE", "DIGITS_FILE", "load_digits", "SAMPLES", "SIDE"]
