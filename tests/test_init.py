"""Weight initialisers: one table over the registry, checked by statistics and against PyTorch.

For every initialiser (and a few non-default parameters): shape and dtype, determinism with a
seed, statistics of a 400×600 draw against the formula (mean, variance within 5%, uniform bounds,
the normal's kurtosis), and the fan-based ones against ``torch.nn.init`` on the same shape
(statistically, as the random generators differ). Then orthogonality, the registry, the symmetry
problem and the rule of thumb.

Adding an initialiser to the registry means adding its line to CASES below
(``test_every_registered_initialiser_has_a_case`` fails until it is there).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import FrozenInstanceError, dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule import init

SHAPE = (400, 600)  # (out, in): fan_in = 600, fan_out = 400
FAN_IN, FAN_OUT = 600, 400
N = SHAPE[0] * SHAPE[1]


@dataclass(frozen=True)
class Case:
    name: str  # canonical registry name
    kind: str  # "constant", "normal", "uniform", "orthogonal"
    params: dict = field(default_factory=dict)
    # The expected values, written out from the formulas (never taken from the module):
    value: float = 0.0  # constant
    mean: float = 0.0  # normal
    var: float = 0.0  # normal, orthogonal (mean square)
    low: float = 0.0  # uniform
    high: float = 0.0  # uniform

    @property
    def id(self) -> str:
        suffix = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({suffix})" if suffix else self.name

    def make(self) -> init.Initializer:
        return init.get(self.name, **self.params)

    @property
    def random(self) -> bool:
        return self.kind != "constant"


CASES = [
    Case("zeros", "constant", value=0.0),
    Case("ones", "constant", value=1.0),
    Case("constant", "constant", {"value": 0.3}, value=0.3),
    Case("constant", "constant", {"value": -2.5}, value=-2.5),
    Case("normal", "normal", mean=0.0, var=1.0),
    Case("normal", "normal", {"mean": 0.5, "std": 2.0}, mean=0.5, var=4.0),
    Case("uniform", "uniform", low=-0.05, high=0.05),
    Case("uniform", "uniform", {"low": -1.0, "high": 3.0}, low=-1.0, high=3.0),
    Case("small", "normal", var=0.01**2),
    Case("small", "normal", {"scale": 0.1}, var=0.1**2),
    Case("xavier_uniform", "uniform", low=-math.sqrt(6 / 1000), high=math.sqrt(6 / 1000)),
    Case(
        "xavier_uniform",
        "uniform",
        {"gain": 2.0},
        low=-2 * math.sqrt(6 / 1000),
        high=2 * math.sqrt(6 / 1000),
    ),
    Case("xavier_normal", "normal", var=2 / 1000),
    Case("xavier_normal", "normal", {"gain": 0.5}, var=0.25 * 2 / 1000),
    Case("he_uniform", "uniform", low=-math.sqrt(6 / 600), high=math.sqrt(6 / 600)),
    Case("he_uniform", "uniform", {"gain": 1.0}, low=-math.sqrt(3 / 600), high=math.sqrt(3 / 600)),
    Case("he_normal", "normal", var=2 / 600),
    Case("he_normal", "normal", {"gain": 1.0}, var=1 / 600),
    Case("lecun_uniform", "uniform", low=-math.sqrt(3 / 600), high=math.sqrt(3 / 600)),
    Case("lecun_normal", "normal", var=1 / 600),
    # 400 orthonormal rows of length 600: the squares sum to 400·gain² over 400·600 entries.
    Case("orthogonal", "orthogonal", var=1 / 600),
    Case("orthogonal", "orthogonal", {"gain": 2.0}, var=4 / 600),
]
RANDOM_CASES = [c for c in CASES if c.random]
FAN_NAMES = [
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
]


def ids(cases):
    return [c.id for c in cases]


def draw(case: Case, shape=SHAPE, seed=0, dtype="float64") -> np.ndarray:
    return case.make()(shape, np.random.default_rng(seed), dtype=dtype)


def test_every_registered_initialiser_has_a_case():
    assert {c.name for c in CASES} == set(init.names())


# ---------------------------------------------------------------------- shape and dtype
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_shape_and_default_dtype_float32(case):
    w = case.make()((3, 5), np.random.default_rng(0))
    assert w.shape == (3, 5)
    assert w.dtype == np.float32
    assert np.all(np.isfinite(w))


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float64")])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_float64_on_request(case, dtype):
    w = case.make()([7, 4], np.random.default_rng(0), dtype=dtype)
    assert w.shape == (7, 4) and w.dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_float32_is_the_float64_draw_rounded(case):
    w32 = draw(case, (20, 30), seed=3, dtype="float32")
    w64 = draw(case, (20, 30), seed=3, dtype="float64")
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("dtype", ["float16", "int32", "complex128"])
def test_unsupported_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match="float32"):
        init.HeNormal()((3, 4), np.random.default_rng(0), dtype=dtype)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_zero_size_shapes_give_empty_arrays(case):
    for shape in [(0, 5), (5, 0)]:
        w = case.make()(shape, np.random.default_rng(0))
        assert w.shape == shape and w.dtype == np.float32


@pytest.mark.parametrize(
    ("shape", "error"),
    [((3, -1), ValueError), ((3, 2.0), TypeError), ("ab", TypeError), (None, TypeError)],
)
def test_bad_shapes_are_refused(shape, error):
    with pytest.raises(error, match="shape"):
        init.Normal()(shape, np.random.default_rng(0))


def test_an_int_shape_is_one_dimensional():
    assert init.Zeros()(4, np.random.default_rng(0)).shape == (4,)
    assert init.Uniform()(np.int64(6), np.random.default_rng(0)).shape == (6,)


# ---------------------------------------------------------------------- determinism
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_same_seed_same_array(case):
    np.testing.assert_array_equal(draw(case, (30, 20), seed=7), draw(case, (30, 20), seed=7))


@pytest.mark.parametrize("case", RANDOM_CASES, ids=ids(RANDOM_CASES))
def test_another_seed_another_array_and_the_generator_advances(case):
    a, b = draw(case, (30, 20), seed=7), draw(case, (30, 20), seed=8)
    assert not np.array_equal(a, b)
    rng = np.random.default_rng(7)
    first, second = case.make()((30, 20), rng), case.make()((30, 20), rng)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_the_global_numpy_random_state_is_not_used(case):
    np.random.seed(1234)
    expected = np.random.random(3)
    np.random.seed(1234)
    case.make()((30, 20), np.random.default_rng(0))
    np.testing.assert_array_equal(np.random.random(3), expected)


@pytest.mark.parametrize("case", RANDOM_CASES, ids=ids(RANDOM_CASES))
def test_random_initialisers_need_a_generator(case):
    with pytest.raises(TypeError, match="default_rng"):
        case.make()((3, 4))
    with pytest.raises(TypeError, match="Generator"):
        case.make()((3, 4), 0)
    with pytest.raises(TypeError, match="Generator"):
        case.make()((3, 4), np.random.RandomState(0))


def test_constant_initialisers_need_no_generator():
    np.testing.assert_array_equal(init.Ones()((2, 3)), np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(init.Constant(4.0)((2,)), np.full(2, 4.0, np.float32))


# ---------------------------------------------------------------------- statistics
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_statistics_match_the_formula(case):
    w = draw(case)
    assert w.shape == SHAPE
    if case.kind == "constant":
        assert np.all(w == case.value)
        return
    if case.kind == "uniform":
        expected_mean = (case.low + case.high) / 2
        expected_var = (case.high - case.low) ** 2 / 12
    else:
        expected_mean, expected_var = case.mean, case.var
    standard_error = math.sqrt(expected_var / N)
    assert abs(w.mean() - expected_mean) < 5 * standard_error
    assert w.var() == pytest.approx(expected_var, rel=0.05)
    if case.kind == "uniform":
        width = case.high - case.low
        assert w.min() >= case.low and w.max() <= case.high
        assert w.min() < case.low + 0.01 * width and w.max() > case.high - 0.01 * width
        if case.low == -case.high:
            assert 0.99 * case.high < np.abs(w).max() <= case.high
    if case.kind == "normal":  # a normal, not a uniform of the same variance (kurtosis 1.8)
        z = (w - w.mean()) / w.std()
        assert np.mean(z**4) == pytest.approx(3.0, abs=0.1)


def test_he_uses_fan_in_and_the_receptive_field():
    # (out, in, kh, kw) = (128, 64, 3, 3): fan_in = 576, fan_out = 1152
    w = init.HeNormal()((128, 64, 3, 3), np.random.default_rng(0), dtype="float64")
    assert w.var() == pytest.approx(2 / 576, rel=0.05)
    w = init.XavierUniform()((128, 64, 3, 3), np.random.default_rng(0), dtype="float64")
    assert np.abs(w).max() <= math.sqrt(6 / (576 + 1152))
    assert np.abs(w).max() > 0.99 * math.sqrt(6 / (576 + 1152))


# ---------------------------------------------------------------------- fans
@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((3, 5), (5, 3)),
        ((600, 400), (400, 600)),
        ((8, 4, 3), (12, 24)),
        ((8, 4, 3, 3), (36, 72)),
        ([2, 7], (7, 2)),
    ],
)
def test_fans(shape, fans):
    assert init.fan_in_and_fan_out(shape) == fans


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (8, 4, 3), (8, 4, 3, 3), (2, 3, 4, 5, 6)])
def test_fans_agree_with_pytorch(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == expected


@pytest.mark.parametrize("shape", [(5,), 5, ()])
@pytest.mark.parametrize("name", FAN_NAMES)
def test_fan_initialisers_refuse_fewer_than_two_dimensions(name, shape):
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.get(name)(shape, np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fan_in_and_fan_out(shape)


@pytest.mark.parametrize("name", ["zeros", "ones", "normal", "uniform", "small"])
def test_initialisers_without_fans_accept_vectors(name):
    assert init.get(name)((5,), np.random.default_rng(0)).shape == (5,)


# ---------------------------------------------------------------------- PyTorch as the oracle
TORCH_CASES = [
    # (id, our initialiser, PyTorch's: (torch, tensor, generator) -> None)
    (
        "xavier_uniform",
        init.XavierUniform(),
        lambda t, w, g: t.nn.init.xavier_uniform_(w, generator=g),
    ),
    (
        "xavier_uniform(gain=2)",
        init.XavierUniform(gain=2.0),
        lambda t, w, g: t.nn.init.xavier_uniform_(w, gain=2.0, generator=g),
    ),
    (
        "xavier_normal",
        init.XavierNormal(),
        lambda t, w, g: t.nn.init.xavier_normal_(w, generator=g),
    ),
    (
        "xavier_normal(gain=tanh)",
        init.XavierNormal(gain=5 / 3),
        lambda t, w, g: t.nn.init.xavier_normal_(
            w, gain=t.nn.init.calculate_gain("tanh"), generator=g
        ),
    ),
    (
        "he_uniform",
        init.HeUniform(),
        lambda t, w, g: t.nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=g),
    ),
    (
        "he_normal",
        init.HeNormal(),
        lambda t, w, g: t.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
    ),
    (
        "lecun_uniform",
        init.LecunUniform(),
        lambda t, w, g: t.nn.init.kaiming_uniform_(w, nonlinearity="linear", generator=g),
    ),
    (
        "lecun_normal",
        init.LecunNormal(),
        lambda t, w, g: t.nn.init.kaiming_normal_(w, nonlinearity="linear", generator=g),
    ),
    ("orthogonal", init.Orthogonal(), lambda t, w, g: t.nn.init.orthogonal_(w, generator=g)),
    (
        "orthogonal(gain=2)",
        init.Orthogonal(gain=2.0),
        lambda t, w, g: t.nn.init.orthogonal_(w, gain=2.0, generator=g),
    ),
    (
        "normal(0.5, 2)",
        init.Normal(0.5, 2.0),
        lambda t, w, g: t.nn.init.normal_(w, 0.5, 2.0, generator=g),
    ),
    ("uniform", init.Uniform(), lambda t, w, g: t.nn.init.uniform_(w, -0.05, 0.05, generator=g)),
]


@pytest.mark.parametrize("shape", [SHAPE, (600, 400), (64, 32, 5, 5)])
@pytest.mark.parametrize(
    ("ours", "theirs"), [c[1:] for c in TORCH_CASES], ids=[c[0] for c in TORCH_CASES]
)
def test_statistics_agree_with_pytorch(torch, ours, theirs, shape):
    w = ours(shape, np.random.default_rng(0), dtype="float64")
    reference = torch.empty(shape, dtype=torch.float64)
    theirs(torch, reference, torch.Generator().manual_seed(0))
    reference = reference.numpy()
    spread = math.sqrt(reference.var() / reference.size)
    assert abs(w.mean() - reference.mean()) < 8 * spread
    assert w.var() == pytest.approx(reference.var(), rel=0.05)
    assert np.abs(w).max() == pytest.approx(np.abs(reference).max(), rel=0.2)
    if "uniform" in type(ours).__name__.lower():
        assert np.abs(w).max() == pytest.approx(np.abs(reference).max(), rel=0.01)


# ---------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("gain", [1.0, 2.0, 0.5])
@pytest.mark.parametrize("shape", [(400, 600), (600, 400), (50, 50), (1, 7), (7, 1), (4, 3, 5)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    w = init.Orthogonal(gain=gain)(shape, np.random.default_rng(0), dtype="float64")
    assert w.shape == shape
    flat = w.reshape(shape[0], -1)
    rows, cols = flat.shape
    if rows <= cols:
        np.testing.assert_allclose(flat @ flat.T, gain**2 * np.eye(rows), rtol=0, atol=1e-5)
    if rows >= cols:
        np.testing.assert_allclose(flat.T @ flat, gain**2 * np.eye(cols), rtol=0, atol=1e-5)


def test_orthogonal_in_float32():
    w = init.Orthogonal()((40, 60), np.random.default_rng(0)).astype(np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(40), rtol=0, atol=1e-5)


def test_orthogonal_has_the_gram_matrix_of_pytorchs(torch):
    for shape in [(30, 50), (50, 30), (6, 2, 5)]:
        reference = torch.empty(shape, dtype=torch.float64)
        torch.nn.init.orthogonal_(reference, gain=1.5, generator=torch.Generator().manual_seed(0))
        theirs = reference.numpy().reshape(shape[0], -1)
        ours = init.Orthogonal(gain=1.5)(shape, np.random.default_rng(0), "float64")
        ours = ours.reshape(shape[0], -1)
        small = min(theirs.shape)
        np.testing.assert_allclose(
            np.linalg.svd(ours, compute_uv=False), np.full(small, 1.5), atol=1e-10
        )
        np.testing.assert_allclose(
            np.linalg.svd(theirs, compute_uv=False), np.full(small, 1.5), atol=1e-10
        )


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4)])
def test_orthogonal_is_sign_corrected(shape):
    # Without the sign(diag R) correction, LAPACK's QR makes W[0, 0] negative for every seed;
    # with it, W is uniformly distributed and every entry is positive half of the time.
    first = np.array(
        [
            init.Orthogonal()(shape, np.random.default_rng(seed), "float64")[0, 0]
            for seed in range(400)
        ]
    )
    assert 0.4 < np.mean(first > 0) < 0.6


# ---------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: init.Normal(std=-1.0), ValueError, "std"),
        (lambda: init.Normal(mean=float("nan")), ValueError, "finite"),
        (lambda: init.Uniform(low=1.0, high=0.0), ValueError, "low"),
        (lambda: init.Small(scale=-0.1), ValueError, "scale"),
        (lambda: init.Constant(float("inf")), ValueError, "finite"),
        (lambda: init.XavierUniform(gain=0.0), ValueError, "gain"),
        (lambda: init.HeNormal(gain=-1.0), ValueError, "gain"),
        (lambda: init.Orthogonal(gain=float("nan")), ValueError, "gain"),
        (lambda: init.HeUniform(gain="2"), TypeError, "gain"),
    ],
)
def test_bad_parameters_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_initialisers_are_immutable_and_compare_by_parameters():
    he = init.HeNormal(gain=1.0)
    with pytest.raises(FrozenInstanceError):
        he.gain = 2.0  # type: ignore[misc]
    assert he == init.HeNormal(gain=1.0) != init.HeNormal()
    assert repr(init.Constant(0.5)) == "Constant(value=0.5)"


@pytest.mark.parametrize("name", init.names())
def test_every_initialiser_documents_its_formula(name):
    cls = type(init.get(name, **({"value": 1.0} if name == "constant" else {})))
    assert cls.__doc__ and cls.formula
    assert "=" in cls.__doc__ or "~" in cls.__doc__


# ---------------------------------------------------------------------- registry
def test_names_are_the_canonical_names_in_order():
    assert init.names() == [
        "zeros",
        "ones",
        "constant",
        "normal",
        "uniform",
        "small",
        "xavier_uniform",
        "xavier_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        "orthogonal",
    ]


@pytest.mark.parametrize(
    ("alias", "cls"),
    [
        ("glorot_uniform", init.XavierUniform),
        ("Glorot-Uniform", init.XavierUniform),
        ("xavier_uniform", init.XavierUniform),
        ("glorot_normal", init.XavierNormal),
        ("XavierNormal", init.XavierNormal),
        ("kaiming_uniform", init.HeUniform),
        ("he_uniform", init.HeUniform),
        ("kaiming_normal", init.HeNormal),
        ("KAIMING-NORMAL", init.HeNormal),
        ("he normal", init.HeNormal),
        ("lecun_uniform", init.LecunUniform),
        ("LecunNormal", init.LecunNormal),
        ("orthogonal", init.Orthogonal),
        ("Zeros", init.Zeros),
        ("ones", init.Ones),
        ("normal", init.Normal),
        ("uniform", init.Uniform),
        ("small", init.Small),
    ],
)
def test_aliases_and_spellings(alias, cls):
    assert type(init.get(alias)) is cls


def test_get_builds_with_parameters():
    assert init.get("glorot_uniform", gain=2.0) == init.XavierUniform(gain=2.0)
    assert init.get("small", scale=0.1) == init.Small(scale=0.1)
    np.testing.assert_array_equal(init.get("constant", value=0.5)((2, 2)), np.full((2, 2), 0.5))
    assert init.get(init.HeNormal, gain=1.0) == init.HeNormal(gain=1.0)


def test_unknown_name_lists_the_valid_names_and_suggests_close_ones():
    with pytest.raises(ValueError, match="did you mean 'glorot_uniform'") as info:
        init.get("glorot_unifrom")
    for name in init.names():
        assert name in str(info.value)
    with pytest.raises(ValueError, match="did you mean 'he_normal'"):
        init.get("he_nromal")
    with pytest.raises(ValueError, match="orthogonal") as info:
        init.get("qqqqqqqq")
    assert "did you mean" not in str(info.value)


def test_unknown_parameters_name_the_valid_ones():
    with pytest.raises(
        TypeError, match="he_normal has no parameter mode; its parameters are: gain"
    ):
        init.get("he_normal", mode="fan_out")
    with pytest.raises(TypeError, match="mean, std"):
        init.get("normal", sigma=1.0)
    with pytest.raises(TypeError, match="none"):
        init.get("lecun_normal", gain=2.0)
    with pytest.raises(TypeError, match="value"):
        init.get("constant")


def test_objects_pass_through():
    he = init.HeUniform(gain=1.0)
    assert init.get(he) is he
    with pytest.raises(TypeError, match="object"):
        init.get(he, gain=2.0)


def test_a_plain_callable_is_accepted():
    def scaled(shape, rng):
        return 3.0 * rng.standard_normal(shape)

    initializer = init.get(scaled)
    assert isinstance(initializer, init.Initializer)
    w = initializer((4, 5), np.random.default_rng(2))
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, scaled((4, 5), np.random.default_rng(2)).astype(np.float32))
    assert initializer((4, 5), np.random.default_rng(2), dtype="float64").dtype == np.float64
    assert init.get(initializer) is initializer
    with pytest.raises(ValueError, match=r"returned shape \(5, 4\)"):
        init.get(lambda shape, rng: np.zeros(shape[::-1]))((4, 5), np.random.default_rng(0))
    with pytest.raises(TypeError, match="function"):
        init.get(scaled, gain=2.0)


@pytest.mark.parametrize("thing", [42, None, 1.5])
def test_get_refuses_other_things(thing):
    with pytest.raises(TypeError, match="initialiser"):
        init.get(thing)


# ---------------------------------------------------------------------- the symmetry problem
@pytest.mark.parametrize("shape", [(4, 3), (2, 1), (10, 20), (3, 2, 2)])
@pytest.mark.parametrize(
    "initializer", [init.Zeros(), init.Ones(), init.Constant(0.7), init.Constant(-2.0)], ids=repr
)
def test_constant_weights_are_symmetric_and_warned_about(initializer, shape):
    w = initializer(shape, np.random.default_rng(0))
    assert init.symmetric_units(w)
    with pytest.warns(init.SymmetryWarning, match="symmetry") as record:
        assert init.warn_if_symmetric(w, "dense_1") is True
    message = str(record[0].message)
    assert "dense_1" in message
    assert "identical updates" in message and "Xavier" in message and "He" in message


@pytest.mark.parametrize("case", RANDOM_CASES, ids=ids(RANDOM_CASES))
def test_random_weights_are_not_symmetric(case):
    w = draw(case, (8, 5))
    assert not init.symmetric_units(w)
    with warnings.catch_warnings():
        warnings.simplefilter("error", init.SymmetryWarning)
        assert init.warn_if_symmetric(w, "dense_1") is False


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        (np.tile([1.0, 2.0, 3.0], (4, 1)), True),  # identical rows, not constant
        (np.array([[1.0, 2.0], [1.0, 2.5]]), False),  # one entry differs
        (np.zeros((1, 5)), False),  # a single unit has nobody to be identical to
        (np.zeros(5), False),  # a bias vector
        (np.zeros((3, 0)), False),  # no weights at all
        (cr.tensor(np.zeros((3, 2))), True),  # a chainrule Tensor
    ],
)
def test_symmetric_units_edge_cases(weight, expected):
    assert init.symmetric_units(weight) is expected


def test_the_symmetry_warning_is_a_user_warning_in_plain_words():
    assert issubclass(init.SymmetryWarning, UserWarning)
    assert "symmetry" in init.SYMMETRY_WARNING
    assert "identical" in init.SYMMETRY_WARNING


# ---------------------------------------------------------------------- rule of thumb
@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", "he_normal"),
        ("leaky_relu", "he_normal"),
        ("prelu", "he_normal"),
        ("elu", "he_normal"),
        ("relu6", "he_normal"),
        ("ReLU", "he_normal"),
        ("LeakyReLU", "he_normal"),
        ("rectifier", "he_normal"),
        ("lrelu", "he_normal"),
        ("selu", "lecun_normal"),
        ("SELU", "lecun_normal"),
        ("tanh", "xavier_uniform"),
        ("sigmoid", "xavier_uniform"),
        ("logistic", "xavier_uniform"),
        ("softsign", "xavier_uniform"),
        ("identity", "xavier_uniform"),
        ("linear", "xavier_uniform"),
        ("softmax", "xavier_uniform"),
        ("gelu", "he_normal"),
        ("swish", "he_normal"),
        ("mish", "he_normal"),
    ],
)
def test_recommended_for(activation, expected):
    assert init.recommended_for(activation) == expected


def test_recommended_for_refuses_an_unknown_activation():
    with pytest.raises(cr.activations.UnknownActivationError, match="did you mean 'relu'"):
        init.recommended_for("rleu")


def test_initialisers_follow_the_default_dtype():
    cr.set_default_dtype("float64")
    assert init.get("he_normal")((3, 2), np.random.default_rng(0)).dtype == np.float64
    assert init.get("zeros")((3, 2)).dtype == np.float64


def test_recommended_for_accepts_an_activation_object_and_names_a_registered_initialiser():
    assert init.recommended_for(cr.activations.get("relu")) == "he_normal"
    for name in cr.activations.names():
        assert init.recommended_for(name) in init.names()
