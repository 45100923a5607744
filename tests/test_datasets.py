"""chainrule.datasets: Dataset, generators, the shipped digits, file loaders, split, scaling."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math
import pickle
import struct
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets
from chainrule.datasets import Dataset, Standardizer, train_test_split
from chainrule.datasets.files import DataFileError

CLASSIFIERS = ["xor", "circles", "moons", "spirals", "gaussians"]
GENERATORS = [*CLASSIFIERS, "regression1d"]
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
DIGITS_IMAGES_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
DIGITS_LABELS_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"
DIGITS_PIXEL_SUM = 561718


def generate(name, **kwargs):
    return getattr(datasets, name)(**kwargs)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ====================================================================== Dataset
def test_dataset_converts_inputs_and_reports_its_size():
    ds = Dataset([[1, 2], [3, 4], [5, 6]], np.array([0.0, 2.0, 1.0]), name="t")
    assert ds.x.dtype == np.float32 and ds.x.shape == (3, 2)
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 2, 1]
    assert len(ds) == 3 and ds.num_features == 2 and ds.num_classes == 3
    assert ds.task == "classification" and ds.classes is None
    assert repr(ds) == "Dataset('t', classification, 3 samples, 2 features, 3 classes)"


def test_dataset_num_classes_follows_class_names_and_regression_has_none():
    ds = Dataset(np.zeros((2, 1)), [0, 0], classes=["a", "b", "c"])
    assert ds.num_classes == 3 and ds.classes == ["a", "b", "c"]
    reg = Dataset(np.zeros((3, 1)), [0.5, 1.5, 2.5], task="regression")
    assert reg.num_classes is None
    assert reg.y.shape == (3, 1) and reg.y.dtype == np.float32


def test_dataset_is_frozen():
    ds = datasets.xor(n=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "other"


def test_dataset_names_the_first_non_finite_row():
    x = np.ones((5, 2))
    x[3, 1] = np.nan
    x[4, 0] = np.inf
    with pytest.raises(ValueError, match=r"row 3 \(counting from 0\), column 1"):
        Dataset(x, np.zeros(5, dtype=int))
    x[3, 1] = 0.0
    with pytest.raises(ValueError, match=r"non-finite value inf in row 4"):
        Dataset(x, np.zeros(5, dtype=int))


def test_dataset_refuses_mismatched_rows_and_bad_shapes():
    with pytest.raises(cr.ShapeError, match=r"shape \(3,\) to match x's 3 rows, got \(2,\)"):
        Dataset(np.zeros((3, 2)), [0, 1])
    with pytest.raises(cr.ShapeError, match="must be 2-D"):
        Dataset(np.zeros(3), [0, 1, 0])
    with pytest.raises(cr.ShapeError, match="2 feature names for 3 features"):
        Dataset(np.zeros((1, 3)), [0], feature_names=["a", "b"])
    with pytest.raises(cr.ShapeError, match=r"shape \(4, 1\)"):
        Dataset(np.zeros((4, 1)), np.zeros(3), task="regression")


def test_dataset_refuses_bad_labels_and_tasks():
    with pytest.raises(ValueError, match="non-negative integers.*row 1 has -1"):
        Dataset(np.zeros((2, 1)), [0, -1])
    with pytest.raises(ValueError, match=r"label 0.5 in row 1 is not an integer"):
        Dataset(np.zeros((2, 1)), [1.0, 0.5])
    with pytest.raises(TypeError, match="labels must be integers"):
        Dataset(np.zeros((2, 1)), ["a", "b"])
    with pytest.raises(ValueError, match="label 2 has no class name"):
        Dataset(np.zeros((2, 1)), [0, 2], classes=["a", "b"])
    with pytest.raises(ValueError, match="task must be"):
        Dataset(np.zeros((2, 1)), [0, 1], task="clustering")
    with pytest.raises(ValueError, match="regression set has no classes"):
        Dataset(np.zeros((2, 1)), [0.0, 1.0], task="regression", classes=["a"])
    with pytest.raises(ValueError, match="y has a non-finite value in row 1"):
        Dataset(np.zeros((2, 1)), [0.0, np.nan], task="regression")


# ====================================================================== generators
@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_and_dtypes(name):
    ds = generate(name, n=51, noise=0.1, seed=4)
    features = 1 if name == "regression1d" else 2
    assert ds.x.shape == (51, features) and ds.x.dtype == np.float32
    assert ds.name == name and ds.description
    assert len(ds.feature_names) == features
    if name == "regression1d":
        assert ds.task == "regression" and ds.y.shape == (51, 1) and ds.y.dtype == np.float32
    else:
        assert ds.task == "classification" and ds.y.shape == (51,) and ds.y.dtype == np.int64
        assert ds.classes == ["0", "1"] and ds.num_classes == 2


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_is_reproducible_by_seed_and_differs_across_seeds(name):
    a, b = generate(name, n=60, noise=0.05, seed=7), generate(name, n=60, noise=0.05, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    c = generate(name, n=60, noise=0.05, seed=8)
    assert not np.allclose(a.x, c.x)
    clean = generate(name, n=60, seed=8)  # noise 0 also differs across seeds
    assert not np.allclose(clean.x, generate(name, n=60, seed=9).x)


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("n", [2, 9, 400])
def test_classes_are_balanced_and_shuffled(name, n):
    ds = generate(name, n=n, seed=1)
    assert np.bincount(ds.y, minlength=2).tolist() == [n - n // 2, n // 2]
    if n == 400:
        assert 0 < ds.y[:200].sum() < 200  # interleaved, not all of class 0 first


@pytest.mark.parametrize("name", GENERATORS)
def test_noise_is_gaussian_with_the_given_std_added_to_the_coordinates(name):
    clean = generate(name, n=4000, seed=2)
    noisy = generate(name, n=4000, noise=0.3, seed=2)
    if name == "regression1d":
        np.testing.assert_array_equal(noisy.x, clean.x)  # noise goes to the target only
        moved = noisy.y - clean.y
    else:
        np.testing.assert_array_equal(noisy.y, clean.y)  # labels from the clean geometry
        moved = noisy.x - clean.x
    tolerance = 4 * 0.3 / math.sqrt(moved.size)  # four standard errors
    assert abs(moved.std() - 0.3) < tolerance and abs(moved.mean()) < tolerance


def test_xor_follows_the_sign_rule_with_a_margin():
    ds = datasets.xor(n=1000, seed=3)
    product = ds.x[:, 0] * ds.x[:, 1]
    np.testing.assert_array_equal(ds.y, (product > 0).astype(np.int64))
    assert np.abs(ds.x).min() >= 0.1 - 1e-6 and np.abs(ds.x).max() <= 1.0
    # all four quadrants are used
    quadrants = {(bool(a > 0), bool(b > 0)) for a, b in ds.x}
    assert len(quadrants) == 4


def test_circles_radii():
    ds = datasets.circles(n=1000, seed=3)
    radius = np.linalg.norm(ds.x, axis=1)
    assert radius[ds.y == 0].max() <= 0.5 + 1e-6
    inner = radius[ds.y == 1]
    assert inner.min() >= 0.7 - 1e-6 and inner.max() <= 1.0 + 1e-6
    assert radius[ds.y == 0].max() > 0.45 and inner.min() < 0.72  # the bands are filled


def test_moons_lie_on_two_half_circles():
    ds = datasets.moons(n=600, seed=3)
    top = ds.x[ds.y == 0] + [0.5, 0.25]
    bottom = ds.x[ds.y == 1] - [0.5, 0.25]
    np.testing.assert_allclose(np.linalg.norm(top, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(bottom, axis=1), 1.0, atol=1e-5)
    assert (top[:, 1] >= -1e-6).all() and (bottom[:, 1] <= 1e-6).all()


def test_spirals_follow_their_angle_rule():
    ds = datasets.spirals(n=600, seed=3)
    r = np.linalg.norm(ds.x.astype(np.float64), axis=1)
    assert r.max() <= 1.0 + 1e-6
    angle = 3.5 * math.pi * r + math.pi * ds.y
    np.testing.assert_allclose(ds.x[:, 0], r * np.cos(angle), atol=1e-5)
    np.testing.assert_allclose(ds.x[:, 1], r * np.sin(angle), atol=1e-5)


def test_gaussians_have_their_centres_and_spread():
    ds = datasets.gaussians(n=4000, seed=3)
    for label, centre in [(0, -0.5), (1, 0.5)]:
        cluster = ds.x[ds.y == label]
        np.testing.assert_allclose(cluster.mean(axis=0), [centre, centre], atol=0.02)
        np.testing.assert_allclose(cluster.std(axis=0), [0.25, 0.25], atol=0.02)


def test_regression1d_is_a_sine():
    ds = datasets.regression1d(n=300, seed=3)
    assert ds.x.min() >= -1 and ds.x.max() <= 1 and np.ptp(ds.x) > 1.9
    np.testing.assert_allclose(ds.y, np.sin(np.pi * ds.x), atol=1e-6)
    assert len(datasets.regression1d(n=1)) == 1


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_arguments_are_checked(name):
    with pytest.raises(ValueError, match="n must be at least"):
        generate(name, n=0)
    for n in (2.5, True, "10"):
        with pytest.raises(TypeError, match="n must be an integer"):
            generate(name, n=n)
    for noise in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="noise is a standard deviation"):
            generate(name, noise=noise)
    with pytest.raises(TypeError, match="noise must be a number"):
        generate(name, noise="0.1")
    with pytest.raises(ValueError, match="seed must be ≥ 0"):
        generate(name, seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        generate(name, seed=1.5)


def test_classification_generators_need_two_samples():
    with pytest.raises(ValueError, match="xor: n must be at least 2, got 1"):
        datasets.xor(n=1)


# ====================================================================== digits
def test_digits_facts():
    ds = datasets.load_digits()
    assert ds.x.shape == (1797, 64) and ds.x.dtype == np.float32
    assert ds.y.shape == (1797,) and ds.y.dtype == np.int64
    assert ds.num_classes == 10 and ds.classes == [str(d) for d in range(10)]
    assert np.bincount(ds.y).tolist() == DIGIT_COUNTS
    assert ds.x.min() == 0 and ds.x.max() == 16
    np.testing.assert_array_equal(ds.x, np.round(ds.x))
    assert ds.feature_names[:3] == ["pixel_0_0", "pixel_0_1", "pixel_0_2"]
    assert ds.feature_names[8] == "pixel_1_0" and ds.feature_names[-1] == "pixel_7_7"
    assert "Alpaydin & Kaynak 1998" in ds.description and "CC BY 4.0" in ds.description
    assert "https://doi.org/10.24432/C50P49" in datasets.citation()


def test_digits_checksums_catch_a_corrupted_file():
    ds = datasets.load_digits()
    images = ds.x.astype(np.uint8).reshape(1797, 8, 8)
    assert hashlib.sha256(images.tobytes()).hexdigest() == DIGITS_IMAGES_SHA256
    assert hashlib.sha256(ds.y.astype(np.uint8).tobytes()).hexdigest() == DIGITS_LABELS_SHA256
    assert int(ds.x.sum()) == DIGITS_PIXEL_SUM


def test_digits_file_is_shipped_small_uint8_and_without_pickles():
    data = resources.files("chainrule.datasets").joinpath("data")
    raw = data.joinpath("digits.npz").read_bytes()
    assert len(raw) <= 60_000
    assert raw[:2] == b"PK"
    path = Path(str(data.joinpath("digits.npz")))
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        assert archive["images"].dtype == np.uint8 and archive["labels"].dtype == np.uint8
        assert hashlib.sha256(archive["images"].tobytes()).hexdigest() == DIGITS_IMAGES_SHA256
    text = data.joinpath("digits.txt").read_text(encoding="utf-8")
    for fact in (
        "Alpaydin, E. & Kaynak, C. (1998)",
        "https://doi.org/10.24432/C50P49",
        "CC BY 4.0",
        "UCI Machine Learning Repository",
    ):
        assert fact in text
    assert datasets.citation() == text


def test_digits_match_scikit_learns_copy():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    ds = datasets.load_digits()
    np.testing.assert_array_equal(ds.x, reference.data)
    np.testing.assert_array_equal(ds.y, reference.target)


def test_the_package_does_not_import_sklearn():
    code = (
        "import sys, chainrule.datasets as d; d.load_digits(); d.describe(); "
        "print('sklearn' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# ====================================================================== CSV
def test_csv_happy_path(tmp_path):
    file = write(tmp_path / "flowers.csv", "a,b,label\n1,2.5,0\n3,-4e-1,1\n\n5, 6 ,2\n")
    ds = datasets.load_csv(file)
    assert ds.name == "flowers" and ds.task == "classification"
    np.testing.assert_array_equal(ds.x, np.array([[1, 2.5], [3, -0.4], [5, 6]], np.float32))
    assert ds.x.dtype == np.float32 and ds.y.tolist() == [0, 1, 2] and ds.y.dtype == np.int64
    assert ds.feature_names == ["a", "b"] and ds.classes == ["0", "1", "2"]
    assert ds.num_classes == 3


def test_csv_target_by_name_index_and_spelling(tmp_path):
    file = write(tmp_path / "t.csv", "Class Id,f1,f2\n1,0.5,7\n0,1.5,8\n")
    for target in ("Class Id", "class_id", 0, -3):
        ds = datasets.load_csv(file, target=target)
        assert ds.y.tolist() == [1, 0] and ds.feature_names == ["f1", "f2"]
        np.testing.assert_array_equal(ds.x, [[0.5, 7], [1.5, 8]])
    ds = datasets.load_csv(file, target="f1")
    assert ds.task == "regression" and ds.y.ravel().tolist() == [0.5, 1.5]
    assert ds.feature_names == ["Class Id", "f2"]


def test_csv_string_class_labels_become_sorted_classes(tmp_path):
    file = write(tmp_path / "t.csv", "x,species\n1,versicolor\n2,setosa\n3,virginica\n4,setosa\n")
    ds = datasets.load_csv(file)
    assert ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.y.tolist() == [1, 0, 2, 0] and ds.num_classes == 3


def test_csv_target_kinds(tmp_path):
    floats = write(tmp_path / "f.csv", "x,y\n1,0.25\n2,1.5\n")
    ds = datasets.load_csv(floats)
    assert ds.task == "regression" and ds.y.shape == (2, 1) and ds.y.dtype == np.float32
    ints = write(tmp_path / "i.csv", "x,y\n1,3\n2,10\n")
    assert datasets.load_csv(ints).task == "classification"
    reg = datasets.load_csv(ints, task="regression")
    assert reg.task == "regression" and reg.y.ravel().tolist() == [3.0, 10.0]
    integral = write(tmp_path / "g.csv", "x,y\n1,1.0\n2,0.0\n")
    assert datasets.load_csv(integral).y.tolist() == [1, 0]
    signs = write(tmp_path / "s.csv", "x,y\n1,-1\n2,1\n3,-1\n")
    ds = datasets.load_csv(signs)
    assert ds.classes == ["-1", "1"] and ds.y.tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match=r"line 3: the target '1.5' in column 'y' is not an int"):
        datasets.load_csv(write(tmp_path / "h.csv", "x,y\n1,1\n2,1.5\n"), task="classification")
    with pytest.raises(
        ValueError,
        match=r"line 3: the target column 'y' has the non-numeric "
        r"value 'cat'",
    ):
        datasets.load_csv(write(tmp_path / "c.csv", "x,y\n1,2\n2,cat\n"), task="regression")
    with pytest.raises(ValueError, match="task must be"):
        datasets.load_csv(ints, task="ranking")


def test_csv_delimiter_bom_and_quotes(tmp_path):
    file = tmp_path / "semi.csv"
    file.write_bytes('\ufeffa;b;"label"\n1;2;"yes"\n3;4;no\n'.encode())
    ds = datasets.load_csv(file, delimiter=";")
    assert ds.feature_names == ["a", "b"] and ds.classes == ["no", "yes"]
    assert ds.y.tolist() == [1, 0]


def test_csv_non_numeric_cell_names_line_and_column(tmp_path):
    file = write(tmp_path / "bad.csv", "a,b,label\n1,2,0\n\n3,oops,1\n")
    with pytest.raises(
        ValueError,
        match=r"bad\.csv, line 4: column 'b' has the non-numeric "
        r"value 'oops'",
    ):
        datasets.load_csv(file)


def test_csv_empty_and_non_finite_cells_name_line_and_column(tmp_path):
    with pytest.raises(ValueError, match=r"line 3: column 'a' is empty"):
        datasets.load_csv(write(tmp_path / "e.csv", "a,b,y\n1,2,0\n,2,1\n"))
    with pytest.raises(ValueError, match=r"line 2: column 'b' has the non-finite value 'nan'"):
        datasets.load_csv(write(tmp_path / "n.csv", "a,b,y\n1,nan,0\n1,2,1\n"))
    with pytest.raises(ValueError, match=r"line 3: the target column 'y' is empty"):
        datasets.load_csv(write(tmp_path / "t.csv", "a,b,y\n1,2,0\n1,2,\n"))
    with pytest.raises(ValueError, match=r"line 2: the target column 'y' has the non-finite"):
        datasets.load_csv(write(tmp_path / "i.csv", "a,y\n1,inf\n1,2\n"))


def test_csv_empty_file_and_header_only(tmp_path):
    with pytest.raises(ValueError, match=r"empty\.csv is empty"):
        datasets.load_csv(write(tmp_path / "empty.csv", ""))
    with pytest.raises(ValueError, match=r"blank\.csv is empty"):
        datasets.load_csv(write(tmp_path / "blank.csv", "\n  \n"))
    with pytest.raises(ValueError, match=r"head\.csv has a header but no data rows"):
        datasets.load_csv(write(tmp_path / "head.csv", "a,b,y\n"))


def test_csv_header_problems(tmp_path):
    with pytest.raises(ValueError, match="first row is all numbers.*needs a header row"):
        datasets.load_csv(write(tmp_path / "nohead.csv", "1,2,0\n3,4,1\n"))
    with pytest.raises(ValueError, match="names 'a' more than once"):
        datasets.load_csv(write(tmp_path / "dup.csv", "a,a,y\n1,2,0\n"))
    with pytest.raises(ValueError, match="column 2 of the header has no name"):
        datasets.load_csv(write(tmp_path / "noname.csv", "a,,y\n1,2,0\n"))
    with pytest.raises(DataFileError, match="single column 'y'"):
        datasets.load_csv(write(tmp_path / "one.csv", "y\n1\n"))


def test_csv_row_length_and_target_errors(tmp_path):
    file = write(tmp_path / "t.csv", "alpha,beta,label\n1,2,0\n3,4\n")
    with pytest.raises(DataFileError, match=r"line 3: 2 cells but the header has 3 columns"):
        datasets.load_csv(file)
    good = write(tmp_path / "g.csv", "alpha,beta,label\n1,2,0\n")
    with pytest.raises(
        ValueError,
        match=r"no column 'lable'; did you mean 'label'\? its columns "
        r"are: alpha, beta, label",
    ):
        datasets.load_csv(good, target="lable")
    with pytest.raises(IndexError, match="target column 3 is out of range"):
        datasets.load_csv(good, target=3)
    with pytest.raises(TypeError, match="column name or index"):
        datasets.load_csv(good, target=1.0)


def test_csv_missing_file_names_it(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match="nowhere.csv") as info:
        datasets.load_csv(missing)
    assert info.value.filename == str(missing)


# ====================================================================== NPZ
def test_npz_happy_path_and_keys(tmp_path):
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([0, 1, 1, 0], dtype=np.uint8))
    ds = datasets.load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(ds.x, x)
    assert ds.y.tolist() == [0, 1, 1, 0] and ds.task == "classification" and ds.name == "d"
    np.savez(tmp_path / "k.npz", inputs=x.reshape(4, 3, 1), target=np.linspace(0, 1, 4))
    ds = datasets.load_npz(tmp_path / "k.npz", x_key="inputs", y_key="target")
    assert ds.x.shape == (4, 3) and ds.task == "regression" and ds.y.shape == (4, 1)


def test_npz_class_names_and_optional_arrays(tmp_path):
    np.savez(tmp_path / "s.npz", x=np.ones((3, 2)), y=np.array(["dog", "cat", "dog"]))
    ds = datasets.load_npz(tmp_path / "s.npz")
    assert ds.classes == ["cat", "dog"] and ds.y.tolist() == [1, 0, 1]
    np.savez(
        tmp_path / "n.npz",
        x=np.ones((2, 2)),
        y=np.array([0, 1]),
        classes=np.array(["no", "yes"]),
        feature_names=np.array(["p", "q"]),
    )
    ds = datasets.load_npz(tmp_path / "n.npz")
    assert ds.classes == ["no", "yes"] and ds.feature_names == ["p", "q"]


def test_npz_refuses_object_arrays_and_pickles(tmp_path):
    file = tmp_path / "obj.npz"
    np.savez(file, x=np.array([[1.0, 2.0]], dtype=object), y=np.array([0]), allow_pickle=True)
    with pytest.raises(
        DataFileError,
        match=r"obj\.npz holds pickled \(object\) data in array "
        r"'x'; chainrule never unpickles",
    ):
        datasets.load_npz(file)
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps({"x": [1]}))
    with pytest.raises(ValueError, match="holds pickled data, which chainrule refuses"):
        datasets.load_npz(raw)


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "a.npz", features=np.ones((2, 2)), y=np.zeros(2))
    with pytest.raises(ValueError, match=r"has no array 'x'; its arrays are: features, y"):
        datasets.load_npz(tmp_path / "a.npz")
    with pytest.raises(ValueError, match=r"no array 'labels'"):
        datasets.load_npz(tmp_path / "a.npz", x_key="features", y_key="labels")
    np.save(tmp_path / "single.npy", np.ones(3))
    single = tmp_path / "single.npz"
    (tmp_path / "single.npy").rename(single)
    with pytest.raises(ValueError, match="single .npy array, not an .npz archive"):
        datasets.load_npz(single)
    with pytest.raises(ValueError, match="not an .npz archive"):
        datasets.load_npz(write(tmp_path / "text.npz", "hello"))
    np.savez(tmp_path / "rows.npz", x=np.ones((3, 2)), y=np.zeros(2))
    with pytest.raises(DataFileError, match="'x' has 3 rows but 'y' has shape"):
        datasets.load_npz(tmp_path / "rows.npz")
    np.savez(tmp_path / "flat.npz", x=np.ones(3), y=np.zeros(3))
    with pytest.raises(DataFileError, match="samples × features"):
        datasets.load_npz(tmp_path / "flat.npz")
    with pytest.raises(FileNotFoundError, match="gone.npz"):
        datasets.load_npz(tmp_path / "gone.npz")
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes((tmp_path / "a.npz").read_bytes()[:60])
    with pytest.raises(ValueError, match="damaged"):
        datasets.load_npz(damaged)


# ====================================================================== IDX
IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(">i2"): 0x0B,
    np.dtype(">i4"): 0x0C,
    np.dtype(">f4"): 0x0D,
    np.dtype(">f8"): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file's bytes, written here independently of the loader."""
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = bytes([0, 0, IDX_CODES[big.dtype], array.ndim])
    return header + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def mnist_like():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 3, 4), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_idx_plain_and_gzipped(tmp_path, mnist_like, gz):
    images, labels = mnist_like
    suffix = ".gz" if gz else ""
    img = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, gz)
    lab = write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, gz)
    for ds in (datasets.load_idx(img, lab), datasets.load_idx(img)):
        assert ds.x.shape == (6, 12) and ds.x.dtype == np.float32
        np.testing.assert_array_equal(ds.x, images.reshape(6, 12))
        assert ds.y.tolist() == labels.tolist() and ds.num_classes == 10
        assert ds.feature_names[4] == "pixel_1_0" and ds.name == "train-images-idx3-ubyte"


def test_idx_sibling_discovery_across_compression(tmp_path, mnist_like):
    images, labels = mnist_like
    img = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, gz=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)  # labels not gzipped
    assert datasets.find_labels(img) == tmp_path / "t10k-labels-idx1-ubyte"
    assert datasets.load_idx(img).y.tolist() == labels.tolist()
    dotted = write_idx(tmp_path / "train-images.idx3-ubyte", images)
    write_idx(tmp_path / "train-labels.idx1-ubyte.gz", labels, gz=True)
    assert datasets.find_labels(dotted) == tmp_path / "train-labels.idx1-ubyte.gz"


def test_idx_missing_or_unguessable_labels(tmp_path, mnist_like):
    images, _ = mnist_like
    img = write_idx(tmp_path / "train-images-idx3-ubyte", images)
    with pytest.raises(
        DataFileError,
        match="no labels file for the images .*train-images-idx3-"
        "ubyte: looked for train-labels-idx1-ubyte",
    ):
        datasets.load_idx(img)
    with pytest.raises(DataFileError, match=r"no labels file at .*nolabels \(for the images"):
        datasets.load_idx(img, tmp_path / "nolabels")
    odd = write_idx(tmp_path / "pictures.bin", images)
    with pytest.raises(ValueError, match="cannot guess the labels file.*pass labels_path"):
        datasets.load_idx(odd)
    with pytest.raises(FileNotFoundError, match="absent-images-idx3-ubyte"):
        datasets.load_idx(tmp_path / "absent-images-idx3-ubyte")


@pytest.mark.parametrize("dtype", [np.int8, ">i2", "<i2", ">i4", ">f4", "<f8"])
def test_idx_dtypes_and_byte_order(tmp_path, dtype):
    values = np.array([[-3, 2], [100, -7], [0, 1]]).astype(dtype)
    path = write_idx(tmp_path / "values-idx2", values)
    array = datasets.read_idx(path)
    np.testing.assert_array_equal(array, values)
    assert array.dtype.kind == np.dtype(dtype).kind and array.dtype.isnative


def test_idx_bad_magic_and_truncation(tmp_path, mnist_like):
    images, labels = mnist_like
    labels_file = write_idx(tmp_path / "l-idx1", labels)
    good = idx_bytes(images)
    cases = {
        "magic.idx3": (b"\x08\x03" + good[2:], r"bad magic number 0x08030803"),
        "code.idx3": (good[:2] + b"\x07" + good[3:], r"bad magic number 0x00000703"),
        "short.idx3": (good[:3], r"truncated: 3 bytes"),
        "header.idx3": (good[:10], r"truncated: the header needs 16 bytes"),
        "data.idx3": (good[:-5], r"truncated: shape \(6, 3, 4\) needs 72 bytes.*has 67"),
        "extra.idx3": (good + b"\x00", r"1 bytes more than its shape"),
        "gz.idx3": (gzip.compress(good)[:-12], r"damaged or truncated gzip"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=message) as info:
            datasets.load_idx(path, labels_file)
        assert name in str(info.value)


def test_idx_label_mismatches(tmp_path, mnist_like):
    images, labels = mnist_like
    img = write_idx(tmp_path / "i-idx3", images)
    with pytest.raises(DataFileError, match="6 images but .* has 5 labels"):
        datasets.load_idx(img, write_idx(tmp_path / "l5-idx1", labels[:5]))
    with pytest.raises(DataFileError, match="one label per image"):
        datasets.load_idx(img, write_idx(tmp_path / "l2-idx2", labels.reshape(3, 2)))
    with pytest.raises(DataFileError, match="labels must be integers"):
        datasets.load_idx(img, write_idx(tmp_path / "lf-idx1", labels.astype(">f4")))


# ====================================================================== load()
def test_names_and_describe():
    assert datasets.names() == [
        "digits",
        "xor",
        "circles",
        "moons",
        "spirals",
        "gaussians",
        "regression1d",
    ]
    rows = {row[0]: row for row in datasets.describe()}
    assert list(rows) == datasets.names()
    assert rows["digits"][1:5] == ("classification", 1797, 64, 10)
    assert rows["regression1d"][1:5] == ("regression", 200, 1, None)
    assert rows["spirals"][1:5] == ("classification", 400, 2, 2)
    assert all(isinstance(row[5], str) and row[5] and "\n" not in row[5] for row in rows.values())


def test_load_builtin_names_spelling_insensitive_with_arguments():
    ds = datasets.load("Two-Moons", n=30, noise=0.1, seed=5)
    np.testing.assert_array_equal(ds.x, datasets.moons(n=30, noise=0.1, seed=5).x)
    assert datasets.load("SPIRALS").name == "spirals"
    assert len(datasets.load("digits")) == 1797
    with pytest.raises(
        TypeError, match="xor has no parameter size; its parameters are: n, noise, seed"
    ):
        datasets.load("xor", size=3)
    with pytest.raises(TypeError, match="built-in dataset 'xor' has no columns"):
        datasets.load("xor", target="y")


def test_load_unknown_name_suggests_and_lists():
    with pytest.raises(
        datasets.UnknownDatasetError,
        match=r"unknown dataset 'sprials'; did you "
        r"mean 'spirals'",
    ) as info:
        datasets.load("sprials")
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
    assert "valid names: digits, xor, circles, moons, spirals, gaussians, regression1d" in str(
        info.value
    )
    with pytest.raises(ValueError, match="did you mean 'digits'"):
        datasets.load("digts")


def test_load_dispatches_paths_by_extension(tmp_path, mnist_like):
    csv_file = write(tmp_path / "c.csv", "a,b\n1,0\n2,1\n")
    assert datasets.load(csv_file).y.tolist() == [0, 1]
    by_a = datasets.load(str(csv_file), target="a")  # labels 1, 2: their distinct values
    assert by_a.y.tolist() == [0, 1] and by_a.classes == ["1", "2"]
    tsv_file = write(tmp_path / "c.tsv", "a\tb\n1\tcat\n2\tdog\n")
    assert datasets.load(tsv_file).classes == ["cat", "dog"]
    np.savez(tmp_path / "n.npz", x=np.ones((2, 1)), y=np.array([1, 0]), z=np.array([0.5, 2.5]))
    assert datasets.load(tmp_path / "n.npz").y.tolist() == [1, 0]
    assert datasets.load(tmp_path / "n.npz", target="z").task == "regression"
    images, labels = mnist_like
    img = write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, gz=True)
    assert datasets.load(img).x.shape == (6, 12)
    plain = write_idx(tmp_path / "x-images-idx3-ubyte", images)
    lab = write_idx(tmp_path / "x-labels-idx1-ubyte", labels)
    assert datasets.load(str(plain), labels_path=lab).y.tolist() == labels.tolist()
    with pytest.raises(TypeError, match="load_csv has no parameter x_key"):
        datasets.load(csv_file, x_key="a")


def test_load_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        datasets.load(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="data/missing"):
        datasets.load("data/missing")
    with pytest.raises(ValueError, match=r"cannot tell the format of .*notes\.json"):
        datasets.load(write(tmp_path / "notes.json", "{}"))
    with pytest.raises(TypeError, match="name or a path"):
        datasets.load(42)


# ====================================================================== train_test_split
def test_split_sizes_and_partition():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50) % 2
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2)
    assert len(x_train) == len(y_train) == 40 and len(x_test) == len(y_test) == 10
    rows = np.concatenate([x_train[:, 0], x_test[:, 0]]) // 2
    assert sorted(rows.tolist()) == list(range(50))  # a partition of the samples
    np.testing.assert_array_equal(y_train, (x_train[:, 0] // 2) % 2)  # pairs stay together
    np.testing.assert_array_equal(y_test, (x_test[:, 0] // 2) % 2)
    assert len(train_test_split(x, y, test_size=7)[1]) == 7
    assert len(train_test_split(x, y, test_size=0.5)[1]) == 25
    assert len(train_test_split(x, y, test_size=0.27)[1]) == 14  # 13.5 rounds up
    assert len(train_test_split(x, y, test_size=0.25)[1]) == 13  # 12.5 rounds up
    assert len(train_test_split(x, y, test_size=0.23)[1]) == 12  # 11.5 rounds up


def test_split_is_deterministic_by_seed():
    ds = datasets.gaussians(n=60)
    a = train_test_split(ds.x, ds.y, seed=3)
    b = train_test_split(ds.x, ds.y, seed=3)
    c = train_test_split(ds.x, ds.y, seed=4)
    for first, second in zip(a, b):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(a[1], c[1])
    assert not np.array_equal(a[1], ds.x[:12])  # shuffled, not the first rows


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("test_size", [0.2, 0.3, 0.37, 17])
def test_split_keeps_class_proportions_within_one_sample(seed, test_size):
    counts = np.array([50, 30, 15, 5, 2])
    y = np.repeat(np.arange(5), counts)
    y = np.random.default_rng(seed).permutation(y)
    x = np.arange(y.size).reshape(-1, 1)
    _, _, y_train, y_test = train_test_split(x, y, test_size=test_size, seed=seed)
    n_test = len(y_test)
    share = counts * n_test / y.size
    got = np.bincount(y_test, minlength=5)
    assert np.all(np.abs(got - share) < 1), (got, share)
    np.testing.assert_array_equal(got + np.bincount(y_train, minlength=5), counts)


def test_split_exact_stratified_counts():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    _, _, y_train, y_test = train_test_split(np.zeros((100, 1)), y, test_size=0.2)
    assert np.bincount(y_test).tolist() == [10, 6, 4]
    assert (np.diff(y_test) < 0).any() and (np.diff(y_train) < 0).any()  # classes interleave
    names = np.repeat(["a", "b"], [8, 2])
    _, _, _, test_names = train_test_split(np.zeros((10, 1)), names, test_size=0.5)
    assert sorted(test_names.tolist()) == ["a", "a", "a", "a", "b"]


def test_split_without_stratification_or_for_regression():
    y = np.repeat([0, 1], [90, 10])
    outcomes = {
        int(train_test_split(np.zeros((100, 1)), y, test_size=0.2, stratify=False, seed=s)[3].sum())
        for s in range(30)
    }
    assert len(outcomes) > 1  # a plain shuffle: the minority count varies with the seed
    y_single = np.array([0, 0, 0, 1])  # a single-sample class is fine without stratifying
    assert len(train_test_split(np.zeros((4, 1)), y_single, test_size=1, stratify=False)[1]) == 1
    reg = datasets.regression1d(n=20)
    x_train, x_test, y_train, y_test = train_test_split(reg.x, reg.y, test_size=0.25)
    assert x_test.shape == (5, 1) and y_test.shape == (5, 1) and y_train.dtype == np.float32
    np.testing.assert_allclose(y_test, np.sin(np.pi * x_test), atol=1e-6)


def test_split_errors():
    x, y = np.zeros((10, 2)), np.arange(10) % 2
    for size in (0.0, 1.0, 1.5, -0.2, 0, 10, -1):
        with pytest.raises(ValueError, match="test_size"):
            train_test_split(x, y, test_size=size)
    for size in (True, "0.2", None):
        with pytest.raises(TypeError, match="test_size"):
            train_test_split(x, y, test_size=size)
    with pytest.raises(ValueError, match="gives 0 test samples"):
        train_test_split(x, y, test_size=0.01)
    with pytest.raises(cr.ShapeError, match="x has 10 rows but y has 9"):
        train_test_split(x, y[:9])
    lonely = np.array([0, 0, 1, 1, 2, 0, 1, 3, 0, 1])
    with pytest.raises(ValueError, match=r"classes 2, 3 have only 1 sample.*stratify=False"):
        train_test_split(x, lonely)
    with pytest.raises(ValueError, match=r"class 7 has only 1 sample"):
        train_test_split(x, np.array([0] * 9 + [7]))
    with pytest.raises(ValueError, match="cannot split 1 sample"):
        train_test_split(np.zeros((1, 1)), [0])


# ====================================================================== Standardizer
def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal([2.0, -5.0, 10.0], [1.0, 3.0, 0.5], size=(200, 3))
    x_test = rng.normal(4.0, 2.0, size=(50, 3))
    scaler = Standardizer().fit(x_train)
    np.testing.assert_allclose(scaler.mean, x_train.mean(axis=0))
    np.testing.assert_allclose(scaler.scale, x_train.std(axis=0))
    z_train = scaler.transform(x_train)
    assert z_train.dtype == np.float32
    np.testing.assert_allclose(z_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z_train.std(axis=0), 1, atol=1e-5)
    z_test = scaler.transform(x_test)
    expected = (x_test - x_train.mean(axis=0)) / x_train.std(axis=0)
    np.testing.assert_allclose(z_test, expected, rtol=1e-5, atol=1e-5)
    assert np.abs(z_test.mean(axis=0)).max() > 0.5  # not re-fitted on the test data
    np.testing.assert_array_equal(Standardizer().fit_transform(x_train), z_train)


def test_standardizer_zero_variance_feature_maps_to_zero():
    x = np.array([[1.0, 0.1], [2.0, 0.1], [4.0, 0.1]])
    scaler = Standardizer().fit(x)
    assert scaler.scale[1] == 1.0 and scaler.mean[1] == 0.1
    z = scaler.transform(x)
    assert (z[:, 1] == 0).all() and np.isfinite(z).all()
    assert scaler.transform([[3.0, 0.6]])[0, 1] == pytest.approx(0.5)
    np.testing.assert_allclose(scaler.inverse_transform(z), x, rtol=1e-6)


def test_standardizer_round_trips():
    ds = datasets.load_digits()
    scaler = Standardizer().fit(ds.x)
    z = scaler.transform(ds.x)
    np.testing.assert_allclose(scaler.inverse_transform(z), ds.x, atol=1e-4)
    assert scaler.inverse_transform(z).dtype == np.float32


def test_standardizer_state_round_trip(tmp_path):
    x = np.random.default_rng(1).normal(3.0, 2.0, size=(30, 4))
    scaler = Standardizer().fit(x)
    state = scaler.state()
    assert sorted(state) == ["mean", "scale"]
    assert all(isinstance(v, np.ndarray) and v.shape == (4,) for v in state.values())
    np.savez(tmp_path / "model.npz", **state)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        restored = Standardizer.from_state({k: archive[k] for k in archive.files})
    np.testing.assert_array_equal(restored.transform(x), scaler.transform(x))
    state["mean"][:] = 0  # state() hands out copies
    np.testing.assert_array_equal(scaler.mean, restored.mean)
    float32 = Standardizer.from_state({k: v.astype(np.float32) for k, v in scaler.state().items()})
    np.testing.assert_allclose(float32.transform(x), scaler.transform(x), atol=1e-5)


def test_standardizer_errors():
    scaler = Standardizer()
    assert repr(scaler) == "Standardizer(unfitted)"
    for method in (scaler.transform, scaler.inverse_transform):
        with pytest.raises(RuntimeError, match="not fitted"):
            method(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="not fitted"):
        scaler.state()
    scaler.fit(np.arange(6.0).reshape(2, 3))
    with pytest.raises(cr.ShapeError, match=r"expected 3 features .* got 2"):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(cr.ShapeError, match="must be 2-D"):
        scaler.transform(np.zeros(3))
    with pytest.raises(TypeError, match="numeric"):
        scaler.transform([["a", "b", "c"]])
    with pytest.raises(ValueError, match="non-finite value in row 1"):
        Standardizer().fit([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="no rows"):
        Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="lacks scale"):
        Standardizer.from_state({"mean": np.zeros(2)})
    with pytest.raises(cr.ShapeError, match="equal length"):
        Standardizer.from_state({"mean": np.zeros(2), "scale": np.ones(3)})
    with pytest.raises(ValueError, match="scale finite and > 0"):
        Standardizer.from_state({"mean": np.zeros(2), "scale": np.array([1.0, 0.0])})


def test_npz_with_no_rows_is_an_empty_data_error(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path, x=np.zeros((0, 3)), y=np.zeros(0))
    with pytest.raises(ValueError, match="has no rows"):
        datasets.load_npz(path)
