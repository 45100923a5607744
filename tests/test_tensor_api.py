"""Behaviour of the public Tensor API: construction, attributes, operators, gradients,
graph lifetime, grad modes, error messages, functional/higher-order differentiation.

Numerical agreement with PyTorch is tested elsewhere; here every expectation is computed by
hand (or with NumPy) and each test checks one behaviour that can break.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import chainrule as cr

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts and ends with float32 as default dtype and grad recording on."""
    cr.set_default_dtype("float32")
    yield
    cr.set_default_dtype("float32")
    if not cr.is_grad_enabled():  # a failing test may leak a disabled grad mode
        cr.set_grad_enabled(True).__enter__()


@pytest.fixture
def float64_default():
    """Switch the default dtype to float64 for one test; always switch back to float32."""
    cr.set_default_dtype("float64")
    try:
        yield
    finally:
        cr.set_default_dtype("float32")


def leaf(values, dtype=None) -> cr.Tensor:
    return cr.tensor(values, requires_grad=True, dtype=dtype)


# ============================================================================ 1. construction
@pytest.mark.parametrize("make", [cr.tensor, cr.Tensor], ids=["tensor", "Tensor"])
@pytest.mark.parametrize(
    ("data", "shape", "values"),
    [
        (3, (), 3.0),
        (2.5, (), 2.5),
        (True, (), 1.0),
        ([1, 2, 3], (3,), [1.0, 2.0, 3.0]),
        ([[1.5, 2], [3, 4]], (2, 2), [[1.5, 2.0], [3.0, 4.0]]),
        ([[[1]], [[2]]], (2, 1, 1), [[[1.0]], [[2.0]]]),
        ([], (0,), []),
        (np.arange(6, dtype=np.float64).reshape(2, 3), (2, 3), [[0, 1, 2], [3, 4, 5]]),
        (np.arange(4, dtype=np.float32), (4,), [0, 1, 2, 3]),
        (np.array([1, -2, 3], dtype=np.int64), (3,), [1, -2, 3]),
        (np.array([7, 8], dtype=np.int32), (2,), [7, 8]),
        (np.array([5], dtype=np.uint8), (1,), [5]),
        (np.array([True, False, True]), (3,), [1.0, 0.0, 1.0]),
        (np.float64(0.25), (), 0.25),
        (np.array([1, 2], dtype=np.float16), (2,), [1.0, 2.0]),
    ],
)
def test_construction_default_float32(make, data, shape, values):
    t = make(data)
    assert isinstance(t, cr.Tensor)
    assert isinstance(t.data, np.ndarray)
    assert t.dtype == F32
    assert t.data.dtype == F32
    assert t.shape == shape
    np.testing.assert_array_equal(t.data, np.asarray(values, dtype=np.float32).reshape(shape))
    assert t.requires_grad is False
    assert t.grad is None
    assert t.is_leaf


@pytest.mark.parametrize("make", [cr.tensor, cr.Tensor], ids=["tensor", "Tensor"])
@pytest.mark.parametrize("dtype", ["float64", np.float64, F64, float])
def test_construction_float64_dtype(make, dtype):
    t = make([1, 2.5, 3], dtype=dtype)
    assert t.dtype == F64
    np.testing.assert_array_equal(t.data, [1.0, 2.5, 3.0])


@pytest.mark.parametrize("dtype", ["float32", np.float32, F32])
def test_construction_explicit_float32(dtype):
    t = cr.tensor(np.array([1.0, 2.0]), dtype=dtype)
    assert t.dtype == F32


def test_requires_grad_flag_is_bool():
    t = cr.tensor([1.0], requires_grad=1)
    assert t.requires_grad is True
    assert cr.Tensor([1.0], requires_grad=True).requires_grad is True


def test_construction_from_tensor():
    src = cr.tensor([1.0, 2.0], requires_grad=True)
    t = cr.tensor(src)
    assert isinstance(t, cr.Tensor)
    assert t is not src
    assert t.requires_grad is False  # a new leaf: flags are not copied
    assert t.is_leaf
    np.testing.assert_array_equal(t.data, src.data)
    t64 = cr.Tensor(src, dtype="float64")
    assert t64.dtype == F64
    np.testing.assert_array_equal(t64.data, [1.0, 2.0])
    back = cr.tensor(t64, dtype="float32")
    assert back.dtype == F32


def test_construction_from_computed_tensor_is_a_leaf():
    x = leaf([1.0, 2.0])
    y = x * 3
    t = cr.tensor(y, requires_grad=True)
    assert t.is_leaf and t.op is None and t.requires_grad
    np.testing.assert_array_equal(t.data, [3.0, 6.0])


def test_set_default_dtype_float64(float64_default):
    assert cr.get_default_dtype() == F64
    assert cr.tensor(1.0).dtype == F64
    assert cr.tensor([1, 2]).dtype == F64
    assert cr.tensor(np.array([1.0], dtype=np.float32)).dtype == F64
    assert cr.zeros((2, 2)).dtype == F64
    assert cr.ones(3).dtype == F64
    assert cr.tensor(1.0, dtype="float32").dtype == F32  # explicit dtype still wins
    t = cr.tensor([1.0, 2.0])
    assert (t * 2).dtype == F64


def test_default_dtype_roundtrip():
    assert cr.get_default_dtype() == F32
    cr.set_default_dtype("float64")
    try:
        assert cr.tensor(1).dtype == F64
    finally:
        cr.set_default_dtype("float32")
    assert cr.get_default_dtype() == F32
    assert cr.tensor(1).dtype == F32


@pytest.mark.parametrize(
    "bad", ["int32", "float16", "int64", "bool", np.int32, np.float16, "complex64", "not-a-dtype"]
)
def test_invalid_dtype_raises_type_error(bad):
    with pytest.raises(TypeError):
        cr.tensor([1.0], dtype=bad)
    with pytest.raises(TypeError):
        cr.Tensor([1.0], dtype=bad)


@pytest.mark.parametrize("bad", ["int32", "float16"])
def test_set_default_dtype_invalid_keeps_previous(bad):
    with pytest.raises(TypeError):
        cr.set_default_dtype(bad)
    assert cr.get_default_dtype() == F32
    assert cr.tensor(1.0).dtype == F32


@pytest.mark.parametrize(
    "data",
    [
        None,
        [1.0, None],
        [[1, 2], [3]],
        [[1.0], [2.0, 3.0]],
        "abc",
        ["1", "2"],
        [1.0, "a"],
        b"bytes",
        1 + 2j,
        [1.0, 2j],
        np.array([1 + 1j]),
        np.array([object()], dtype=object),
        {"a": 1},
    ],
    ids=[
        "None",
        "list-with-None",
        "ragged-int",
        "ragged-float",
        "str",
        "list-of-str",
        "mixed-str",
        "bytes",
        "complex",
        "complex-list",
        "complex-ndarray",
        "object-ndarray",
        "dict",
    ],
)
def test_unsupported_data_raises_type_error(data):
    with pytest.raises(TypeError):
        cr.tensor(data)
    with pytest.raises(TypeError):
        cr.Tensor(data)


def test_int_exactness_float32_boundary():
    assert cr.tensor(16777216).item() == 16777216.0
    assert cr.tensor(-16777216).item() == -16777216.0
    with pytest.raises(ValueError, match="16777217"):
        cr.tensor(16777217)
    with pytest.raises(ValueError):
        cr.tensor(-16777217)
    with pytest.raises(ValueError):
        cr.tensor(np.array([1, 16777217], dtype=np.int64))
    # Large but exactly representable integers are fine.
    assert cr.tensor(2**25).item() == float(2**25)


def test_int_exactness_float64():
    t = cr.tensor(16777217, dtype="float64")
    assert t.dtype == F64
    assert t.item() == 16777217.0
    with pytest.raises(ValueError):
        cr.tensor(2**53 + 1, dtype="float64")
    assert cr.tensor(2**53, dtype="float64").item() == float(2**53)


def test_int_exactness_with_float64_default(float64_default):
    assert cr.tensor(16777217).item() == 16777217.0


def test_float64_out_of_float32_range_raises():
    with pytest.raises(ValueError, match="float32"):
        cr.tensor(1e300)
    with pytest.raises(ValueError, match="float32"):
        cr.tensor(np.array([1.0, -1e300]))
    with pytest.raises(ValueError, match="float32"):
        cr.tensor(cr.tensor(1e300, dtype="float64"))
    assert cr.tensor(1e300, dtype="float64").item() == 1e300
    assert cr.tensor(3.0e38).dtype == F32  # inside float32's range


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_nan_and_inf_are_accepted(dtype):
    t = cr.tensor([math.nan, math.inf, -math.inf, 1.0], dtype=dtype)
    assert np.isnan(t.data[0])
    assert t.data[1] == np.inf and t.data[2] == -np.inf
    t2 = cr.tensor(np.array([np.nan, np.inf]))  # float64 ndarray narrowed to float32
    assert t2.dtype == F32
    assert np.isnan(t2.data[0]) and np.isinf(t2.data[1])


# ============================================================================ 2. attributes
def test_basic_attributes():
    t = cr.tensor(np.arange(24).reshape(2, 3, 4))
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.size == 24
    assert t.dtype == F32
    assert len(t) == 2
    assert t.is_leaf
    assert t.op is None
    assert t.grad is None
    assert t.requires_grad is False
    s = cr.tensor(5.0)
    assert s.shape == () and s.ndim == 0 and s.size == 1


def test_grad_is_none_until_backward_then_tensor():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    assert x.grad is None
    y.backward()
    assert isinstance(x.grad, cr.Tensor)
    assert x.grad.shape == x.shape
    assert x.grad.dtype == x.dtype
    assert x.grad.requires_grad is False
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


@pytest.mark.parametrize(
    ("fn", "op"),
    [
        (lambda x: x + 1, "add"),
        (lambda x: x - 1, "sub"),
        (lambda x: x * 2, "mul"),
        (lambda x: x / 2, "div"),
        (lambda x: x**2, "pow"),
        (lambda x: -x, "neg"),
        (lambda x: x.sum(), "sum"),
        (lambda x: x.exp(), "exp"),
        (lambda x: x.T, "transpose"),
        (lambda x: x.reshape(6), "reshape"),
        (lambda x: x[0], "getitem"),
    ],
)
def test_op_names_and_is_leaf(fn, op):
    x = leaf(np.ones((2, 3)))
    y = fn(x)
    assert y.op == op
    assert not y.is_leaf
    assert y.requires_grad
    assert x.is_leaf and x.op is None


def test_ops_on_constants_record_nothing():
    x = cr.tensor([1.0, 2.0])
    y = x * 2 + 1
    assert y.requires_grad is False
    assert y.op is None
    assert y.is_leaf


def test_item():
    assert cr.tensor(2.5).item() == 2.5
    assert isinstance(cr.tensor(2.5).item(), float)
    assert cr.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match=r"\(2,\)"):
        cr.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError):
        cr.tensor([]).item()


def test_numpy_is_read_only_view():
    t = cr.tensor([1.0, 2.0, 3.0])
    view = t.numpy()
    assert isinstance(view, np.ndarray)
    assert np.shares_memory(view, t.data)
    np.testing.assert_array_equal(view, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        view[0] = 10.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])
    assert t.data.flags.writeable  # the tensor's own array is not locked


def test_np_asarray_and_array():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == F32
    np.testing.assert_array_equal(a, [[1.0, 2.0], [3.0, 4.0]])
    a64 = np.asarray(t, dtype=np.float64)
    assert a64.dtype == F64
    c = np.array(t)
    assert not np.shares_memory(c, t.data)
    np.testing.assert_array_equal(c, t.data)


def test_float_len_bool():
    assert float(cr.tensor(1.5)) == 1.5
    assert float(cr.tensor([2.0])) == 2.0
    with pytest.raises((ValueError, TypeError)):
        float(cr.tensor([1.0, 2.0]))
    assert len(cr.tensor([[1.0, 2.0, 3.0]])) == 1
    assert len(cr.tensor([1.0, 2.0, 3.0])) == 3
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))
    assert bool(cr.tensor(1.0)) is True
    assert bool(cr.tensor(0.0)) is False


@pytest.mark.parametrize(
    ("make", "contains", "absent"),
    [
        (lambda: cr.tensor([1.0, 2.0]), ["Tensor(", "dtype=float32"], ["op=", "requires_grad"]),
        (lambda: cr.tensor([1.0], dtype="float64"), ["dtype=float64"], ["op="]),
        (lambda: leaf([1.0, 2.0]), ["dtype=float32", "requires_grad=True"], ["op="]),
        (lambda: leaf([1.0, 2.0]) * 2, ["dtype=float32", "op=mul"], []),
        (lambda: leaf([1.0, 2.0]).sum(), ["op=sum"], []),
    ],
)
def test_repr(make, contains, absent):
    text = repr(make())
    for piece in contains:
        assert piece in text
    for piece in absent:
        assert piece not in text


def test_repr_shows_values():
    assert "2.5" in repr(cr.tensor([2.5, 3.0]))


def test_detach_shares_data_and_drops_grad():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.requires_grad is False
    assert d.is_leaf and d.op is None and d.grad is None
    assert np.shares_memory(d.data, y.data)
    np.testing.assert_array_equal(d.data, [3.0, 6.0])
    z = (d * x).sum()  # the detached branch contributes no gradient path
    z.backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 6.0])


def test_T_and_transpose():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = cr.tensor(data)
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.data, data.T)
    np.testing.assert_array_equal(t.transpose().data, data.T)
    np.testing.assert_array_equal(cr.transpose(t).data, data.T)
    cube = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    c = cr.tensor(cube)
    for axes in [(1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1)]:
        np.testing.assert_array_equal(c.transpose(*axes).data, cube.transpose(axes))
        np.testing.assert_array_equal(c.transpose(axes).data, cube.transpose(axes))
        np.testing.assert_array_equal(c.transpose(list(axes)).data, cube.transpose(axes))
    assert c.T.shape == (4, 3, 2)


def test_transpose_gradient_is_inverse_permutation():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    weights = np.arange(24.0).reshape(3, 4, 2) + 1
    (x.transpose(1, 2, 0) * cr.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.data, weights.transpose(2, 0, 1))


@pytest.mark.parametrize("axes", [(0, 0), (2, 1), (3, 0), (0, 1, 2), (0,)])
def test_transpose_invalid_axes_raise(axes):
    t = cr.tensor(np.ones((2, 3)))
    with pytest.raises((ValueError, IndexError)):
        t.transpose(*axes)


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        (lambda t: t.reshape((3, 4)), (3, 4)),
        (lambda t: t.reshape(3, 4), (3, 4)),
        (lambda t: t.reshape([4, 3]), (4, 3)),
        (lambda t: t.reshape(-1), (12,)),
        (lambda t: t.reshape(2, -1), (2, 6)),
        (lambda t: t.reshape((-1, 2, 2)), (3, 2, 2)),
        (lambda t: t.reshape(1, 12, 1), (1, 12, 1)),
        (lambda t: t.flatten(), (12,)),
        (lambda t: cr.reshape(t, (6, 2)), (6, 2)),
    ],
)
def test_reshape_variants(call, shape):
    data = np.arange(12, dtype=np.float32).reshape(2, 6)
    out = call(cr.tensor(data))
    assert out.shape == shape
    np.testing.assert_array_equal(out.data, data.reshape(shape))


def test_reshape_and_flatten_gradient():
    x = leaf(np.arange(6.0).reshape(2, 3))
    weights = np.arange(6.0) * 10
    (x.flatten() * cr.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.data, weights.reshape(2, 3))
    x.zero_grad()
    (x.reshape(3, -1) * cr.tensor(weights.reshape(3, 2))).sum().backward()
    np.testing.assert_allclose(x.grad.data, weights.reshape(2, 3))


def test_flatten_scalar():
    assert cr.tensor(3.0).flatten().shape == (1,)


def test_requires_grad_setter_only_on_leaves():
    x = cr.tensor([1.0])
    assert x.requires_grad_() is x
    assert x.requires_grad
    y = x * 2
    with pytest.raises(ValueError):
        y.requires_grad_(False)


def test_astype_casts_and_gradient_returns_to_source_dtype():
    x = leaf([1.0, 2.0])
    y = x.astype("float64")
    assert y.dtype == F64 and y.op == "astype"
    (y * y).sum().backward()
    assert x.grad.dtype == F32
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    with pytest.raises(TypeError):
        x.astype("int32")


# ============================================================================ 3. operators
X_VALUES = np.array([0.5, 1.0, 2.0], dtype=np.float32)

# (name, tensor expression, NumPy expression, derivative d(expr)/dx elementwise)
SCALAR_OPERATORS = [
    ("t+2", lambda t: t + 2, lambda a: a + 2, lambda a: np.ones_like(a)),
    ("2+t", lambda t: 2 + t, lambda a: 2 + a, lambda a: np.ones_like(a)),
    ("t-2", lambda t: t - 2, lambda a: a - 2, lambda a: np.ones_like(a)),
    ("2-t", lambda t: 2 - t, lambda a: 2 - a, lambda a: -np.ones_like(a)),
    ("t*3", lambda t: t * 3, lambda a: a * 3, lambda a: 3 * np.ones_like(a)),
    ("3*t", lambda t: 3 * t, lambda a: 3 * a, lambda a: 3 * np.ones_like(a)),
    ("t/4", lambda t: t / 4, lambda a: a / 4, lambda a: np.full_like(a, 0.25)),
    ("1/t", lambda t: 1 / t, lambda a: 1 / a, lambda a: -1 / a**2),
    ("t**2", lambda t: t**2, lambda a: a**2, lambda a: 2 * a),
    ("t**0.5", lambda t: t**0.5, lambda a: a**0.5, lambda a: 0.5 / np.sqrt(a)),
    ("t**-1", lambda t: t**-1, lambda a: 1 / a, lambda a: -1 / a**2),
    ("2**t", lambda t: 2**t, lambda a: 2.0**a, lambda a: 2.0**a * np.log(2.0)),
    ("-t", lambda t: -t, lambda a: -a, lambda a: -np.ones_like(a)),
    ("+t", lambda t: +t, lambda a: a, lambda a: np.ones_like(a)),
    ("abs(-t)", lambda t: abs(-t), lambda a: a, lambda a: np.ones_like(a)),
    ("2.5-t*t", lambda t: 2.5 - t * t, lambda a: 2.5 - a * a, lambda a: -2 * a),
]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [(e, n) for _, e, n, _ in SCALAR_OPERATORS],
    ids=[name for name, *_ in SCALAR_OPERATORS],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_operators_with_python_scalars_values_and_dtype(expr, expected, dtype):
    t = cr.tensor(X_VALUES, dtype=dtype)
    out = expr(t)
    assert isinstance(out, cr.Tensor)
    assert out.dtype == np.dtype(dtype)  # Python scalars never change the dtype
    np.testing.assert_allclose(out.data, expected(X_VALUES.astype(dtype)), rtol=1e-6)


@pytest.mark.parametrize(
    ("expr", "derivative"),
    [(e, d) for _, e, _, d in SCALAR_OPERATORS],
    ids=[name for name, *_ in SCALAR_OPERATORS],
)
def test_operators_with_python_scalars_gradient(expr, derivative):
    x = leaf(X_VALUES, dtype="float64")
    y = expr(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, derivative(X_VALUES.astype(np.float64)), rtol=1e-12)


def test_rpow_gradient_wrt_exponent_and_base():
    b = leaf(3.0, dtype="float64")
    a = leaf(2.0, dtype="float64")
    (a**b).backward()
    np.testing.assert_allclose(a.grad.item(), 3 * 2.0**2)
    np.testing.assert_allclose(b.grad.item(), 2.0**3 * math.log(2.0))


def test_pow_zero_edge_cases_give_no_nan():
    x = leaf([0.0, 2.0], dtype="float64")
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    e = leaf([2.0, 0.5], dtype="float64")
    (cr.tensor(0.0, dtype="float64") ** e).sum().backward()
    np.testing.assert_array_equal(e.grad.data, [0.0, 0.0])


def test_matmul_operator_and_reflected():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = cr.tensor(a) @ cr.tensor(m)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.data, a @ m)
    r = a @ cr.tensor(m)  # ndarray @ Tensor -> Tensor.__rmatmul__
    assert isinstance(r, cr.Tensor)
    np.testing.assert_allclose(r.data, a @ m)
    v = cr.tensor([1.0, 2.0, 3.0])
    assert (v @ v).shape == ()
    assert (v @ v).item() == 14.0
    assert (cr.tensor(a) @ v).shape == (2,)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda arr, t: arr * t, lambda arr, a: arr * a),
        (lambda arr, t: arr + t, lambda arr, a: arr + a),
        (lambda arr, t: arr - t, lambda arr, a: arr - a),
        (lambda arr, t: arr / t, lambda arr, a: arr / a),
        (lambda arr, t: arr**t, lambda arr, a: arr**a),
        (lambda arr, t: np.float32(2.0) * t, lambda arr, a: 2.0 * a),
    ],
    ids=["mul", "add", "sub", "div", "pow", "np-scalar-mul"],
)
def test_ndarray_on_the_left_returns_tensor(expr, expected):
    arr = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = leaf([2.0, 3.0, 4.0])
    out = expr(arr, x)
    assert isinstance(out, cr.Tensor)
    assert out.requires_grad
    np.testing.assert_allclose(out.data, expected(arr, x.data), rtol=1e-6)


def test_ndarray_on_the_left_gradient():
    arr = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = leaf([2.0, 3.0, 4.0])
    (arr * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, arr)


def test_float32_plus_float64_promotes():
    a = cr.tensor([1.0, 2.0])
    b = cr.tensor([0.5, 0.25], dtype="float64")
    for out in (a + b, b + a, a * b, a - b, a / b):
        assert out.dtype == F64
    np.testing.assert_allclose((a + b).data, [1.5, 2.25])
    assert (a + a).dtype == F32
    assert (b + b).dtype == F64


def test_mixed_dtype_gradient_matches_leaf_dtype():
    """Like PyTorch, a leaf's .grad has the leaf's dtype even after a promoting op."""
    a = leaf([1.0, 2.0])  # float32
    b = leaf([3.0, 4.0], dtype="float64")
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])
    np.testing.assert_allclose(b.grad.data, [1.0, 2.0])
    assert b.grad.dtype == F64
    assert a.grad.dtype == F32


def test_scalar_out_of_float32_range_in_operator_raises():
    with pytest.raises(ValueError):
        cr.tensor([1.0]) * 1e300


COMPARISONS = [
    ("<", lambda t, o: t < o, np.less),
    ("<=", lambda t, o: t <= o, np.less_equal),
    (">", lambda t, o: t > o, np.greater),
    (">=", lambda t, o: t >= o, np.greater_equal),
    ("==", lambda t, o: t == o, np.equal),
    ("!=", lambda t, o: t != o, np.not_equal),
]


@pytest.mark.parametrize(
    ("cmp", "ufunc"), [(c, u) for _, c, u in COMPARISONS], ids=[n for n, *_ in COMPARISONS]
)
@pytest.mark.parametrize("other_kind", ["scalar", "tensor", "ndarray"])
def test_comparisons_return_bool_tensors_without_grad(cmp, ufunc, other_kind):
    values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    other_values = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    other = {"scalar": 2.0, "tensor": cr.tensor(other_values), "ndarray": other_values}[other_kind]
    x = leaf(values)
    out = cmp(x, other)
    assert isinstance(out, cr.Tensor)
    assert out.dtype == np.bool_
    assert out.requires_grad is False
    assert out.op is None
    np.testing.assert_array_equal(out.data, ufunc(values, other_values))


def test_reflected_comparisons():
    x = cr.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((2.0 < x).data, [False, False, True])
    np.testing.assert_array_equal((2.0 >= x).data, [True, True, False])
    arr = np.array([3.0, 2.0, 1.0])
    out = arr > x
    assert isinstance(out, cr.Tensor)
    np.testing.assert_array_equal(out.data, [True, False, False])


def test_comparison_with_none_is_not_a_tensor():
    x = cr.tensor([1.0])
    assert (x == None) is False  # noqa: E711 - testing the operator itself
    assert (x != None) is True  # noqa: E711


# ============================================================================ 4. gradients
def test_gradient_summed_over_paths():
    x = leaf([1.0, -2.0, 3.0])
    y = x * x + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)


def test_tensor_used_twice_in_product():
    x = leaf(3.0)
    y = x * x * x  # x**3 via products
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 27.0)


def test_shared_intermediate():
    x = leaf(2.0, dtype="float64")
    h = x * 3
    y = h * h + h  # dy/dx = (2h + 1) * 3
    y.backward()
    np.testing.assert_allclose(x.grad.item(), (2 * 6.0 + 1) * 3)


def test_only_inputs_requiring_grad_receive_grad():
    x = leaf([1.0, 2.0])
    c = cr.tensor([5.0, 6.0])
    (x * c).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 6.0])
    assert c.grad is None


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "op"),
    [
        ((3, 1), (1, 4), "add"),
        ((5, 4), (4,), "add"),
        ((4,), (5, 4), "add"),
        ((2, 3, 4), (3, 1), "mul"),
        ((2, 1, 4), (1, 3, 1), "mul"),
        ((3, 4), (), "sub"),
        ((), (3, 4), "sub"),
        ((1,), (2, 3), "div"),
        ((2, 3), (2, 3), "mul"),
    ],
)
def test_broadcast_gradients_sum_back(shape_a, shape_b, op):
    rng = np.random.default_rng(0)
    a_val = rng.uniform(1.0, 2.0, shape_a)
    b_val = rng.uniform(1.0, 2.0, shape_b)
    a = leaf(a_val, dtype="float64")
    b = leaf(b_val, dtype="float64")
    fn = {
        "add": lambda p, q: p + q,
        "sub": lambda p, q: p - q,
        "mul": lambda p, q: p * q,
        "div": lambda p, q: p / q,
    }[op]
    out = fn(a, b)
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    assert out.shape == out_shape
    weights = rng.uniform(-1.0, 1.0, out_shape)
    out.backward(weights)
    assert a.grad.shape == shape_a
    assert b.grad.shape == shape_b
    A = np.broadcast_to(a_val, out_shape)
    B = np.broadcast_to(b_val, out_shape)
    local = {"add": (1.0, 1.0), "sub": (1.0, -1.0), "mul": (B, A), "div": (1 / B, -A / B**2)}[op]

    def unbroadcast(full, shape):
        full = np.broadcast_to(full, out_shape) * weights
        lead = len(out_shape) - len(shape)
        full = full.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
        return full.sum(axis=axes, keepdims=True).reshape(shape)

    np.testing.assert_allclose(a.grad.data, unbroadcast(local[0], shape_a), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, unbroadcast(local[1], shape_b), rtol=1e-12)


def test_bias_gradient_is_column_sum():
    x = cr.tensor(np.arange(20.0).reshape(5, 4))
    bias = leaf(np.zeros(4))
    (x + bias).sum().backward()
    np.testing.assert_allclose(bias.grad.data, [5.0, 5.0, 5.0, 5.0])
    bias.zero_grad()
    ((x + bias) * x).sum().backward()
    np.testing.assert_allclose(bias.grad.data, np.arange(20.0).reshape(5, 4).sum(axis=0))


def test_gradients_accumulate_and_zero_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    (x * 3).sum().backward()  # a new graph: accumulate, like PyTorch
    np.testing.assert_allclose(x.grad.data, [5.0, 7.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_backward_does_not_alias_grad_buffers():
    x = leaf([1.0, 2.0])
    y = leaf([3.0, 4.0])
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad.data, y.grad.data)
    assert x.grad.data.flags.writeable
    before = y.grad.data.copy()
    (x * 2).sum().backward()  # accumulating into x.grad must not change y.grad
    np.testing.assert_array_equal(y.grad.data, before)
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_iadd_rebinds_and_gives_correct_gradients():
    x = leaf([1.0, 2.0])
    c = cr.tensor([0.0, 0.0])
    objects = [c]
    for k in range(1, 4):
        c += x * k
        objects.append(c)
    assert len({id(o) for o in objects}) == 4  # every += made a new tensor
    np.testing.assert_array_equal(objects[0].data, [0.0, 0.0])  # the original is unchanged
    c.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])
    np.testing.assert_allclose(c.data, [6.0, 12.0])


def test_imul_in_loop_gradient():
    x = leaf(2.0, dtype="float64")
    p = cr.tensor(1.0, dtype="float64")
    for _ in range(4):
        p *= x
    p.backward()
    np.testing.assert_allclose(x.grad.item(), 4 * 2.0**3)


@pytest.mark.parametrize("index", [0, slice(0, 1), (0,), Ellipsis])
def test_setitem_raises_type_error(index):
    t = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        t[index] = 1.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])


INDEX_CASES_1D = [
    ("int", 2, [0, 0, 1, 0, 0, 0]),
    ("neg-int", -1, [0, 0, 0, 0, 0, 1]),
    ("slice", slice(1, 4), [0, 1, 1, 1, 0, 0]),
    ("step", slice(0, 6, 2), [1, 0, 1, 0, 1, 0]),
    ("reverse", slice(None, None, -1), [1, 1, 1, 1, 1, 1]),
    ("neg-step", slice(5, 0, -2), [0, 1, 0, 1, 0, 1]),
    ("int-list-repeats", [0, 0, 2, 0], [3, 0, 1, 0, 0, 0]),
    ("int-array-repeats", np.array([5, 5, 1]), [0, 1, 0, 0, 0, 2]),
    ("neg-int-array", np.array([-1, 5]), [0, 0, 0, 0, 0, 2]),
    ("bool-ndarray", np.array([True, False, True, False, False, True]), [1, 0, 1, 0, 0, 1]),
    ("bool-list", [True, False, True, False, False, True], [1, 0, 1, 0, 0, 1]),
    ("none", None, [1, 1, 1, 1, 1, 1]),
]


@pytest.mark.parametrize(
    ("index", "expected_grad"),
    [(i, g) for _, i, g in INDEX_CASES_1D],
    ids=[n for n, *_ in INDEX_CASES_1D],
)
def test_indexing_1d_values_and_gradient(index, expected_grad):
    values = np.arange(6.0) * 10
    x = leaf(values, dtype="float64")
    y = x[index]
    np.testing.assert_array_equal(y.data, values[index])
    assert y.op == "getitem"
    y.sum().backward()
    assert x.grad.shape == (6,)
    np.testing.assert_array_equal(x.grad.data, expected_grad)


def test_negative_step_gradient_goes_to_the_right_positions():
    x = leaf(np.arange(6.0))
    x[5:0:-2].backward(cr.tensor([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(x.grad.data, [0, 30, 0, 20, 0, 10])
    x.zero_grad()
    x[::-1].backward(cr.tensor(np.arange(6.0)))
    np.testing.assert_array_equal(x.grad.data, [5, 4, 3, 2, 1, 0])


def test_repeated_index_weighted_gradient_accumulates():
    x = leaf(np.zeros(4))
    x[[1, 3, 1, 1]].backward(cr.tensor([1.0, 2.0, 4.0, 8.0]))
    np.testing.assert_array_equal(x.grad.data, [0.0, 13.0, 0.0, 2.0])


def test_boolean_tensor_mask_gradient():
    x = leaf([-1.0, 2.0, -3.0, 4.0])
    y = x[x > 0]
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 4.0, 0.0, 8.0])


INDEX_CASES_2D = [
    ("row", 1, [[0, 0, 0], [1, 1, 1]]),
    ("column", (slice(None), 1), [[0, 1, 0], [0, 1, 0]]),
    ("ellipsis", (Ellipsis, -1), [[0, 0, 1], [0, 0, 1]]),
    ("reverse-cols", (slice(None), slice(None, None, -1)), [[1, 1, 1], [1, 1, 1]]),
    ("pairs-repeated", ([0, 1, 1], [2, 2, 2]), [[0, 0, 1], [0, 0, 2]]),
    ("int-and-list", (1, [0, 0]), [[0, 0, 0], [2, 0, 0]]),
    ("rows-list", [1, 1, 0], [[1, 1, 1], [2, 2, 2]]),
    ("bool-2d", np.array([[True, False, False], [False, True, True]]), [[1, 0, 0], [0, 1, 1]]),
    ("newaxis", (None, 0, slice(1, None)), [[0, 1, 1], [0, 0, 0]]),
]


@pytest.mark.parametrize(
    ("index", "expected_grad"),
    [(i, g) for _, i, g in INDEX_CASES_2D],
    ids=[n for n, *_ in INDEX_CASES_2D],
)
def test_indexing_2d_values_and_gradient(index, expected_grad):
    values = np.arange(6.0).reshape(2, 3)
    x = leaf(values)
    y = x[index]
    np.testing.assert_array_equal(y.data, values[index])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, expected_grad)


def test_index_errors():
    t = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(IndexError):
        t[3]
    with pytest.raises(TypeError):
        t[cr.tensor([0.0, 1.0])]  # float tensors are not indices


def test_concatenate_values_and_gradient_split():
    a = leaf(np.ones((2, 3)))
    b = leaf(np.ones((1, 3)))
    c = cr.concatenate([a, b])
    assert c.shape == (3, 3) and c.op == "concatenate"
    weights = np.arange(9.0).reshape(3, 3)
    (c * cr.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(a.grad.data, weights[:2])
    np.testing.assert_array_equal(b.grad.data, weights[2:])


@pytest.mark.parametrize("axis", [1, -1])
def test_concatenate_along_axis_gradient(axis):
    a = leaf(np.zeros((2, 1)))
    b = leaf(np.zeros((2, 2)))
    const = cr.tensor(np.zeros((2, 1)))
    c = cr.concatenate([a, const, b], axis=axis)
    assert c.shape == (2, 4)
    weights = np.arange(8.0).reshape(2, 4)
    c.backward(weights)
    np.testing.assert_array_equal(a.grad.data, weights[:, :1])
    np.testing.assert_array_equal(b.grad.data, weights[:, 2:])
    assert const.grad is None


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack_values_and_gradient(axis):
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([4.0, 5.0, 6.0])
    s = cr.stack([a, b], axis=axis)
    expected = np.stack([a.data, b.data], axis=axis)
    assert s.shape == expected.shape
    np.testing.assert_array_equal(s.data, expected)
    weights = np.arange(6.0).reshape(expected.shape)
    s.backward(weights)
    np.testing.assert_array_equal(a.grad.data, np.take(weights, 0, axis=axis))
    np.testing.assert_array_equal(b.grad.data, np.take(weights, 1, axis=axis))


def test_stack_and_concatenate_errors():
    with pytest.raises(cr.ShapeError):
        cr.stack([cr.tensor([1.0, 2.0]), cr.tensor([1.0])])
    with pytest.raises(cr.ShapeError):
        cr.concatenate([cr.tensor(np.ones((2, 2))), cr.tensor(np.ones((2, 3)))])
    with pytest.raises(ValueError):
        cr.stack([])


def test_where_values_and_gradient():
    x = leaf([1.0, -2.0, 3.0, -4.0])
    y = leaf([10.0, 20.0, 30.0, 40.0])
    cond = x > 0
    out = cr.where(cond, x, y)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0, 40.0])
    out.backward(cr.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(y.grad.data, [0.0, 2.0, 0.0, 4.0])


def test_where_with_scalar_and_broadcast():
    x = leaf(np.arange(6.0).reshape(2, 3) - 2)
    out = cr.where(x > 0, x * x, 0.0)
    np.testing.assert_array_equal(out.data, [[0, 0, 0], [1, 4, 9]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [2, 4, 6]])
    b = leaf([1.0, 2.0, 3.0])
    cond = np.array([[True, False, True], [False, False, True]])
    cr.where(cond, b, 0.0).sum().backward()  # b broadcast over rows: gradient summed back
    np.testing.assert_array_equal(b.grad.data, [1.0, 0.0, 2.0])


def test_where_needs_boolean_condition():
    with pytest.raises(TypeError):
        cr.where(cr.tensor([1.0, 0.0]), cr.tensor([1.0, 2.0]), 0.0)


# (name, data, axis, keepdims, expected value, expected gradient with upstream = ones)
EXTREMUM_CASES = [
    (
        "max-all",
        "max",
        [[1.0, 5.0, 2.0], [0.0, 4.0, 3.0]],
        None,
        False,
        5.0,
        [[0, 1, 0], [0, 0, 0]],
    ),
    (
        "max-all-ties",
        "max",
        [[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]],
        None,
        False,
        3.0,
        [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]],
    ),
    (
        "max-axis0",
        "max",
        [[1.0, 3.0, 3.0], [3.0, 0.0, 3.0]],
        0,
        False,
        [3.0, 3.0, 3.0],
        [[0, 1, 0.5], [1, 0, 0.5]],
    ),
    (
        "max-axis1-keep",
        "max",
        [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],
        1,
        True,
        [[3.0], [2.0]],
        [[0, 0.5, 0.5], [0.5, 0.5, 0]],
    ),
    (
        "max-neg-axis",
        "max",
        [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],
        -1,
        False,
        [3.0, 2.0],
        [[0, 0.5, 0.5], [0.5, 0.5, 0]],
    ),
    (
        "min-all",
        "min",
        [[1.0, 5.0, 2.0], [0.0, 4.0, 3.0]],
        None,
        False,
        0.0,
        [[0, 0, 0], [1, 0, 0]],
    ),
    (
        "min-axis1-ties",
        "min",
        [[1.0, 1.0, 3.0], [2.0, 0.0, 0.0]],
        1,
        False,
        [1.0, 0.0],
        [[0.5, 0.5, 0], [0, 0.5, 0.5]],
    ),
    (
        "min-axis0-keep",
        "min",
        [[1.0, 0.0, 3.0], [1.0, 4.0, 2.0]],
        0,
        True,
        [[1.0, 0.0, 2.0]],
        [[0.5, 1, 0], [0.5, 0, 1]],
    ),
    (
        "max-all-equal",
        "max",
        [[2.0, 2.0], [2.0, 2.0]],
        None,
        False,
        2.0,
        [[0.25, 0.25], [0.25, 0.25]],
    ),
]


@pytest.mark.parametrize(
    ("kind", "data", "axis", "keepdims", "value", "grad"),
    [c[1:] for c in EXTREMUM_CASES],
    ids=[c[0] for c in EXTREMUM_CASES],
)
@pytest.mark.parametrize("style", ["method", "function"])
def test_max_min_values_and_tie_gradients(kind, data, axis, keepdims, value, grad, style):
    x = leaf(data, dtype="float64")
    if style == "method":
        out = getattr(x, kind)(axis=axis, keepdims=keepdims)
    else:
        out = getattr(cr, kind)(x, axis, keepdims)
    expected_value = np.asarray(value, dtype=np.float64)
    assert out.shape == expected_value.shape
    np.testing.assert_allclose(out.data, expected_value)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, grad, rtol=1e-12)


def test_max_gradient_weighted_upstream():
    x = leaf([[1.0, 3.0, 3.0], [4.0, 0.0, 2.0]])
    out = x.max(axis=1)
    out.backward(cr.tensor([10.0, 100.0]))
    np.testing.assert_allclose(x.grad.data, [[0, 5, 5], [100, 0, 0]])


def test_maximum_minimum_ties_split_evenly():
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([3.0, 2.0, 1.0])
    cr.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(b.grad.data, [1.0, 0.5, 0.0])
    a.zero_grad()
    b.zero_grad()
    cr.minimum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(b.grad.data, [0.0, 0.5, 1.0])


@pytest.mark.parametrize(
    ("shape", "axis", "keepdims", "n"),
    [
        ((4,), None, False, 4),
        ((2, 3), None, False, 6),
        ((2, 3), 0, False, 2),
        ((2, 3), 1, True, 3),
        ((2, 3, 4), (0, 2), False, 8),
        ((2, 3), -1, False, 3),
    ],
)
def test_mean_value_and_gradient(shape, axis, keepdims, n):
    values = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    x = leaf(values, dtype="float64")
    m = x.mean(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(m.data, values.mean(axis=axis, keepdims=keepdims))
    m.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(shape, 1.0 / n))
    assert cr.mean(cr.tensor(values), axis, keepdims).shape == m.shape


@pytest.mark.parametrize(
    ("shape", "axis", "keepdims", "out_shape"),
    [
        ((2, 3), None, False, ()),
        ((2, 3), 0, False, (3,)),
        ((2, 3), 1, True, (2, 1)),
        ((2, 3, 4), (0, 2), True, (1, 3, 1)),
        ((2, 3), -2, False, (3,)),
        ((2, 3), None, True, (1, 1)),
    ],
)
def test_sum_shapes_and_gradient(shape, axis, keepdims, out_shape):
    x = leaf(np.ones(shape))
    s = x.sum(axis=axis, keepdims=keepdims)
    assert s.shape == out_shape
    weights = np.arange(1.0, 1.0 + math.prod(out_shape)).reshape(out_shape)
    s.backward(weights)
    expected = np.broadcast_to(
        weights.reshape(np.sum(np.ones(shape), axis=axis, keepdims=True).shape), shape
    )
    np.testing.assert_allclose(x.grad.data, expected)


def test_clip_values_and_inclusive_bound_gradient():
    x = leaf([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("lower", "upper", "grad"),
    [(0.0, None, [0, 1, 1]), (None, 0.0, [1, 1, 0]), (-1.0, -1.0, [1, 0, 0])],
)
def test_clip_one_sided(lower, upper, grad):
    x = leaf([-1.0, 0.0, 1.0])
    cr.clip(x, lower, upper).sum().backward()
    np.testing.assert_array_equal(x.grad.data, grad)


def test_clip_without_bounds_raises():
    with pytest.raises(ValueError):
        cr.tensor([1.0]).clip()


def test_abs_gradient_zero_at_zero():
    x = leaf([-2.0, 0.0, 3.0])
    y = x.abs()
    np.testing.assert_array_equal(y.data, [2.0, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])
    x.zero_grad()
    cr.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("fn", "derivative"),
    [
        (lambda x: x.exp(), np.exp),
        (lambda x: cr.exp(x), np.exp),
        (lambda x: x.log(), lambda a: 1 / a),
        (lambda x: cr.log(x), lambda a: 1 / a),
        (lambda x: x.sqrt(), lambda a: 0.5 / np.sqrt(a)),
        (lambda x: cr.sqrt(x), lambda a: 0.5 / np.sqrt(a)),
    ],
)
def test_elementwise_function_gradients(fn, derivative):
    values = np.array([0.5, 1.0, 4.0])
    x = leaf(values, dtype="float64")
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, derivative(values), rtol=1e-12)


def test_matmul_gradient():
    a_val = np.arange(6.0).reshape(2, 3)
    b_val = np.arange(12.0).reshape(3, 4) - 5
    a = leaf(a_val, dtype="float64")
    b = leaf(b_val, dtype="float64")
    g = np.arange(8.0).reshape(2, 4)
    (a @ b).backward(g)
    np.testing.assert_allclose(a.grad.data, g @ b_val.T)
    np.testing.assert_allclose(b.grad.data, a_val.T @ g)


def test_matmul_vector_and_batched_gradients():
    v = leaf([1.0, 2.0, 3.0], dtype="float64")
    m_val = np.arange(6.0).reshape(3, 2)
    m = leaf(m_val, dtype="float64")
    (v @ m).sum().backward()
    np.testing.assert_allclose(v.grad.data, m_val.sum(axis=1))
    np.testing.assert_allclose(m.grad.data, np.outer(v.data, np.ones(2)))
    batch_val = np.arange(24.0).reshape(4, 2, 3)
    batch = leaf(batch_val, dtype="float64")
    w = leaf(np.ones((3, 5)), dtype="float64")
    (batch @ w).sum().backward()
    assert w.grad.shape == (3, 5)
    np.testing.assert_allclose(w.grad.data, np.repeat(batch_val.sum(axis=(0, 1))[:, None], 5, 1))
    np.testing.assert_allclose(batch.grad.data, np.full((4, 2, 3), 5.0))


def test_broadcast_to_and_sum_to():
    x = leaf([1.0, 2.0, 3.0])
    y = cr.broadcast_to(x, (2, 3))
    assert y.shape == (2, 3)
    y.backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.grad.data, [3.0, 5.0, 7.0])
    s = cr.sum_to(cr.tensor(np.ones((4, 2, 3))), (2, 1))
    np.testing.assert_array_equal(s.data, np.full((2, 1), 12.0))
    with pytest.raises(cr.ShapeError):
        cr.broadcast_to(cr.tensor([1.0, 2.0]), (3,))


def test_activation_methods_have_gradients():
    x = leaf([-1.0, 0.5, 2.0], dtype="float64")
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0])
    x.zero_grad()
    x.tanh().sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 - np.tanh(x.data) ** 2, rtol=1e-10)
    x.zero_grad()
    x.sigmoid().sum().backward()
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad.data, s * (1 - s), rtol=1e-10)
    soft = x.softmax()
    np.testing.assert_allclose(soft.data.sum(), 1.0, rtol=1e-12)


# ============================================================================ 5. graph lifetime
def test_second_backward_raises_graph_freed():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(cr.GraphFreedError, match="retain_graph"):
        y.backward()
    assert issubclass(cr.GraphFreedError, RuntimeError)
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])  # the failed call added nothing


def test_backward_through_freed_shared_subgraph_raises():
    x = leaf([1.0, 2.0])
    h = x.exp()
    a = h.sum()
    b = (h * 2).sum()
    a.backward()
    with pytest.raises(cr.GraphFreedError):
        b.backward()


def test_retain_graph_allows_second_backward_and_doubles_grad():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])
    y.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0, 12.0])
    with pytest.raises(cr.GraphFreedError):
        y.backward()


def test_parents_dropped_after_backward():
    x = leaf([1.0])
    y = x * 2
    assert len(y.parents) == 2 and y.parents[0] is x
    y.sum().backward()
    assert y.parents == ()


def test_backward_non_scalar_without_grad_raises():
    x = leaf(np.ones((2, 3)))
    y = x * 2
    with pytest.raises(RuntimeError, match="grad") as info:
        y.backward()
    assert "(2, 3)" in str(info.value)
    assert x.grad is None


def test_backward_on_one_element_non_scalar_is_allowed():
    x = leaf([3.0])
    (x * x).backward()
    np.testing.assert_allclose(x.grad.data, [6.0])


@pytest.mark.parametrize("grad", [np.ones(3), np.ones((2, 3, 1)), [1.0, 1.0], np.ones((3, 2))])
def test_backward_with_wrong_grad_shape_raises_shape_error(grad):
    x = leaf(np.ones((2, 3)))
    y = x * 2
    with pytest.raises(cr.ShapeError) as info:
        y.backward(grad)
    assert "(2, 3)" in str(info.value)


@pytest.mark.parametrize("kind", ["ndarray", "list", "tensor"])
def test_backward_with_explicit_grad(kind):
    x = leaf([1.0, 2.0])
    y = x * x
    g = [3.0, 5.0]
    grad = {"ndarray": np.array(g), "list": g, "tensor": cr.tensor(g)}[kind]
    y.backward(grad)
    np.testing.assert_allclose(x.grad.data, [6.0, 20.0])


def test_backward_without_requires_grad_raises():
    x = cr.tensor([1.0, 2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="requires_grad|require grad"):
        y.backward()
    with pytest.raises(RuntimeError):
        x.sum().backward()


def test_backward_on_leaf_itself():
    x = leaf(2.0)
    x.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0)


def test_non_leaf_grad_none_unless_retained():
    x = leaf([1.0, 2.0])
    h = x * 3
    kept = h * 2
    kept.retain_grad()
    y = (kept * h).sum()
    y.backward()
    assert h.grad is None
    assert kept.grad is not None
    np.testing.assert_allclose(kept.grad.data, h.data)
    # y = 6 x^2 * 3 -> dy/dx = 2 * 18 x
    np.testing.assert_allclose(x.grad.data, 36 * x.data)


def test_retain_grad_returns_self_and_accumulates():
    x = leaf([1.0, 2.0])
    h = (x * 2).retain_grad()
    assert h.op == "mul"
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    y.backward()
    np.testing.assert_allclose(h.grad.data, 4 * h.data)


def test_backward_create_graph_gives_differentiable_grad():
    x = leaf([1.0, 2.0])
    y = (x * x * x).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    g = x.grad
    x.zero_grad()
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


# ============================================================================ 6. grad modes
def test_no_grad_context_manager():
    x = leaf([1.0, 2.0])
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2 + 1
    assert cr.is_grad_enabled()
    assert y.requires_grad is False
    assert y.op is None
    assert y.is_leaf
    np.testing.assert_array_equal(y.data, [3.0, 5.0])
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_no_grad_decorator():
    x = leaf([1.0, 2.0])

    @cr.no_grad()
    def double(t):
        """Doubles."""
        assert not cr.is_grad_enabled()
        return t * 2

    out = double(x)
    assert out.requires_grad is False and out.op is None
    assert double.__name__ == "double"
    assert double.__doc__ == "Doubles."
    assert cr.is_grad_enabled()
    again = double(x)  # a decorator works more than once
    assert again.requires_grad is False


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with cr.no_grad():
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            y = x * 2
        assert not cr.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.op == "mul"
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])


def test_enable_grad_decorator_inside_no_grad():
    @cr.enable_grad()
    def square(t):
        return t * t

    x = leaf(3.0)
    with cr.no_grad():
        y = square(x)
    assert y.requires_grad
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 6.0)


def test_set_grad_enabled_context():
    x = leaf(1.0)
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
        assert not (x * 2).requires_grad
        with cr.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert cr.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with cr.no_grad():
            raise ZeroDivisionError
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def boom():
        raise KeyError

    with pytest.raises(KeyError):
        boom()
    assert cr.is_grad_enabled()


def test_no_grad_nested_restores():
    with cr.no_grad():
        with cr.no_grad():
            assert not cr.is_grad_enabled()
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_no_grad_instance_reentered_restores_grad_mode():
    guard = cr.no_grad()
    try:
        with guard:
            with guard:
                assert not cr.is_grad_enabled()
            assert not cr.is_grad_enabled()
        assert cr.is_grad_enabled()
    finally:
        if not cr.is_grad_enabled():
            cr.set_grad_enabled(True).__enter__()


def test_grad_mode_is_thread_local():
    seen = []
    with cr.no_grad():
        thread = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_detach_stops_gradient():
    x = leaf([1.0, 2.0])
    y = (x.detach() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 2.0])  # only the non-detached path


# ============================================================================ 7. errors
@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: b + a, "add"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: cr.maximum(a, b), "maximum"),
        (lambda a, b: cr.minimum(a, b), "minimum"),
    ],
)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_binary_shape_errors_name_op_and_shapes(fn, name, requires_grad):
    a = cr.tensor(np.ones((2, 3)), requires_grad=requires_grad)
    b = cr.tensor(np.ones(4))
    with pytest.raises(cr.ShapeError) as info:
        fn(a, b)
    message = str(info.value)
    assert name in message
    assert "(2, 3)" in message
    assert "(4,)" in message


def test_shape_error_is_value_error():
    assert issubclass(cr.ShapeError, ValueError)
    with pytest.raises(ValueError):
        cr.tensor(np.ones((2, 3))) + cr.tensor(np.ones(4))


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)), ((5, 2, 3), (2, 3, 4))],
)
def test_matmul_shape_error(shape_a, shape_b):
    with pytest.raises(cr.ShapeError) as info:
        cr.tensor(np.ones(shape_a)) @ cr.tensor(np.ones(shape_b))
    message = str(info.value)
    assert "matmul" in message
    assert str(shape_a) in message
    assert str(shape_b) in message


def test_matmul_scalar_operand_error():
    with pytest.raises(cr.ShapeError, match="matmul"):
        cr.tensor(2.0) @ cr.tensor([1.0])


@pytest.mark.parametrize("target", [(4, 2), (5,), (-1, 4), (2, -1, 4)])
def test_reshape_shape_error(target):
    with pytest.raises(cr.ShapeError) as info:
        cr.tensor(np.ones((2, 3))).reshape(target)
    message = str(info.value)
    assert "reshape" in message
    assert "(2, 3)" in message


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.sum(axis=2),
        lambda t: t.sum(axis=-3),
        lambda t: t.sum(axis=(0, 5)),
        lambda t: t.sum(axis=(1, 1)),
        lambda t: cr.sum(t, 7),
        lambda t: t.mean(axis=2),
        lambda t: t.max(axis=3),
        lambda t: t.min(axis=-4),
    ],
)
def test_axis_out_of_range_raises_shape_error(call):
    with pytest.raises(cr.ShapeError):
        call(cr.tensor(np.ones((2, 3))))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reduction_axis_error_names_op_and_shape(op):
    """ShapeError's contract: the message names the op and the shape."""
    with pytest.raises(cr.ShapeError) as info:
        getattr(cr.tensor(np.ones((2, 3))), op)(axis=2)
    message = str(info.value)
    assert op in message
    assert "(2, 3)" in message


def test_where_shape_error():
    with pytest.raises(cr.ShapeError, match="where"):
        cr.where(np.array([True, False, True]), cr.tensor([1.0, 2.0]), 0.0)


def test_empty_reductions_raise():
    with pytest.raises(cr.ShapeError):
        cr.tensor([]).max()
    with pytest.raises(cr.ShapeError):
        cr.tensor(np.ones((0, 3))).mean(axis=0)


# ============================================================================ 8. functional API
def test_grad_scalar_input():
    df = cr.grad(lambda x: x**3)
    out = df(2.0)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.item(), 12.0)
    np.testing.assert_allclose(df(-1.0).item(), 3.0)
    np.testing.assert_allclose(df(3).item(), 27.0)  # int input


def test_grad_array_input_keeps_shape_and_float_dtype():
    df = cr.grad(lambda x: (x * x).sum())
    g = df([1.0, 2.0, 3.0])
    assert g.shape == (3,)
    np.testing.assert_allclose(g.data, [2.0, 4.0, 6.0])
    g64 = df(np.array([[1.0, -1.0]]))
    assert g64.shape == (1, 2)
    assert g64.dtype == F64
    np.testing.assert_allclose(g64.data, [[2.0, -2.0]])
    gt = df(cr.tensor([0.5, 1.5]))
    np.testing.assert_allclose(gt.data, [1.0, 3.0])


def test_grad_does_not_touch_leaf_grad():
    w = cr.tensor([1.0, 2.0])
    cr.grad(lambda t: (t * t).sum())(w)
    assert w.grad is None


def test_grad_argnums():
    def f(x, y, z):
        return (x * y * y + z).sum()

    gx, gy = cr.grad(f, argnums=(0, 1))(2.0, 3.0, 5.0)
    np.testing.assert_allclose(gx.item(), 9.0)
    np.testing.assert_allclose(gy.item(), 12.0)
    gz = cr.grad(f, argnums=2)(2.0, 3.0, 5.0)
    np.testing.assert_allclose(gz.item(), 1.0)
    only = cr.grad(f, argnums=(1,))(2.0, 3.0, 5.0)
    assert isinstance(only, tuple) and len(only) == 1
    np.testing.assert_allclose(only[0].item(), 12.0)
    with pytest.raises(IndexError):
        cr.grad(f, argnums=3)(1.0, 2.0, 3.0)


def test_grad_kwargs_passed_through():
    g = cr.grad(lambda x, scale=1.0: x * x * scale)(3.0, scale=2.0)
    np.testing.assert_allclose(g.item(), 12.0)


def test_grad_of_unused_or_constant_argument_is_zero():
    g = cr.grad(lambda x, y: y * 2, argnums=0)(cr.tensor([1.0, 2.0]), cr.tensor(3.0))
    np.testing.assert_array_equal(g.data, [0.0, 0.0])
    assert g.shape == (2,)


# (f, f'') on float64 scalars
SECOND_DERIVATIVES = [
    ("cube", lambda x: x**3, lambda a: 6 * a),
    ("cube-products", lambda x: x * x * x, lambda a: 6 * a),
    ("exp2x", lambda x: cr.exp(2 * x), lambda a: 4 * np.exp(2 * a)),
    ("log", lambda x: cr.log(x), lambda a: -1 / a**2),
    ("sqrt", lambda x: cr.sqrt(x), lambda a: -0.25 * a**-1.5),
    ("reciprocal", lambda x: 1 / x, lambda a: 2 / a**3),
    ("x-exp-x", lambda x: x * cr.exp(x), lambda a: (a + 2) * np.exp(a)),
    ("pow-base", lambda x: 3.0**x, lambda a: 3.0**a * np.log(3.0) ** 2),
    ("quartic-sum", lambda x: (x**4).sum(), lambda a: 12 * a**2),
]


@pytest.mark.parametrize(
    ("f", "f2"),
    [(f, f2) for _, f, f2 in SECOND_DERIVATIVES],
    ids=[n for n, *_ in SECOND_DERIVATIVES],
)
@pytest.mark.parametrize("point", [0.5, 1.5, 2.0])
def test_grad_of_grad_is_second_derivative(f, f2, point):
    x = np.array(point, dtype=np.float64)
    out = cr.grad(cr.grad(f))(x)
    np.testing.assert_allclose(out.item(), f2(point), rtol=1e-10)


def test_third_derivative():
    d3 = cr.grad(cr.grad(cr.grad(lambda x: x**4)))
    np.testing.assert_allclose(d3(np.array(2.0)).item(), 24 * 2.0, rtol=1e-12)
    np.testing.assert_allclose(cr.grad(cr.grad(cr.grad(lambda x: x**3)))(5.0).item(), 6.0)


def test_value_and_grad():
    vg = cr.value_and_grad(lambda x: (x * x).sum())
    value, g = vg([1.0, 2.0])
    assert isinstance(value, cr.Tensor)
    np.testing.assert_allclose(value.item(), 5.0)
    assert value.requires_grad is False
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    value2, (ga, gb) = cr.value_and_grad(lambda a, b: a * b, argnums=(0, 1))(3.0, 4.0)
    np.testing.assert_allclose(value2.item(), 12.0)
    np.testing.assert_allclose(ga.item(), 4.0)
    np.testing.assert_allclose(gb.item(), 3.0)


@pytest.mark.parametrize(
    "fn",
    [lambda x: x * 2, lambda x: x.data.sum(), lambda x: 3.0, lambda x: (x * 1).reshape(2, 1)],
    ids=["vector", "ndarray", "python-float", "matrix"],
)
def test_grad_of_non_scalar_raises_type_error(fn):
    with pytest.raises(TypeError):
        cr.grad(fn)([1.0, 2.0])


def test_grad_accepts_one_element_output():
    g = cr.grad(lambda x: x * 3)([2.0])
    np.testing.assert_allclose(g.data, [3.0])


def test_gradients_basic_does_not_touch_grad():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (g,) = cr.gradients(y, x)
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    assert g.requires_grad is False
    assert x.grad is None


def test_gradients_multiple_inputs_and_outputs():
    a = leaf(2.0, dtype="float64")
    b = leaf(3.0, dtype="float64")
    y1 = a * b
    y2 = a * a
    ga, gb = cr.gradients([y1, y2], [a, b])
    np.testing.assert_allclose(ga.item(), 3.0 + 4.0)
    np.testing.assert_allclose(gb.item(), 2.0)


def test_gradients_with_grad_outputs_and_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = h * h
    (gh,) = cr.gradients(y, h, grad_outputs=np.array([1.0, 10.0]), retain_graph=True)
    np.testing.assert_allclose(gh.data, [6.0, 120.0])
    (gx,) = cr.gradients(y.sum(), x)
    np.testing.assert_allclose(gx.data, 18 * x.data)


def test_gradients_same_input_twice():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    g1, g2 = cr.gradients(y, [x, x])
    np.testing.assert_allclose(g1.data, [2.0, 4.0])
    np.testing.assert_allclose(g2.data, [2.0, 4.0])


def test_gradients_unused_input():
    x = leaf([1.0, 2.0])
    unused = leaf([3.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.gradients(y, [x, unused], retain_graph=True)
    gx, gu = cr.gradients(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.data, [2.0, 2.0])
    assert gu is None


def test_gradients_input_not_requiring_grad_raises():
    x = leaf([1.0])
    c = cr.tensor([2.0])
    with pytest.raises(RuntimeError):
        cr.gradients((x * c).sum(), c)


def test_gradients_grad_outputs_count_mismatch():
    x = leaf([1.0])
    with pytest.raises(ValueError):
        cr.gradients([x * 2, x * 3], x, grad_outputs=[np.ones(1)])


QUADRATIC_A = np.array([[2.0, 1.0, 0.0], [-1.0, 3.0, 0.5], [4.0, 0.0, 1.0]])
X0 = np.array([0.3, -1.2, 0.7])


def _quadratic(x):
    return x @ (cr.tensor(QUADRATIC_A, dtype="float64") @ x)


@pytest.mark.parametrize(
    "v", [np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([0.5, -2.0, 3.0])]
)
def test_hvp_of_quadratic_form(v):
    x = leaf(X0, dtype="float64")
    y = _quadratic(x)
    np.testing.assert_allclose(y.item(), X0 @ QUADRATIC_A @ X0, rtol=1e-12)
    (g,) = cr.gradients(y, x, create_graph=True)
    assert g.requires_grad
    hessian = QUADRATIC_A + QUADRATIC_A.T
    np.testing.assert_allclose(g.data, hessian @ X0, rtol=1e-12)
    (hv,) = cr.gradients((g * cr.tensor(v, dtype="float64")).sum(), x)
    np.testing.assert_allclose(hv.data, hessian @ v, rtol=1e-12, atol=1e-12)


def test_full_hessian_of_quadratic_form():
    x = leaf(X0, dtype="float64")
    (g,) = cr.gradients(_quadratic(x), x, create_graph=True)
    rows = [cr.gradients(g[i], x, retain_graph=True)[0].data for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), QUADRATIC_A + QUADRATIC_A.T, atol=1e-12)


def test_hvp_of_sum_exp():
    x0 = np.array([0.1, -0.5, 1.0])
    v = np.array([2.0, 1.0, -1.0])
    x = leaf(x0, dtype="float64")
    (g,) = cr.gradients(cr.exp(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, np.exp(x0), rtol=1e-12)
    (hv,) = cr.gradients((g * cr.tensor(v, dtype="float64")).sum(), x)
    np.testing.assert_allclose(hv.data, np.exp(x0) * v, rtol=1e-12)


def test_hvp_via_backward_accumulates_into_grad():
    x = leaf(X0, dtype="float64")
    (g,) = cr.gradients(_quadratic(x), x, create_graph=True)
    v = np.array([1.0, 2.0, 3.0])
    (g * cr.tensor(v, dtype="float64")).sum().backward()
    np.testing.assert_allclose(x.grad.data, (QUADRATIC_A + QUADRATIC_A.T) @ v, rtol=1e-12)


# ============================================================================ 9. deep graphs
@pytest.mark.parametrize("depth", [5000, 20000])
def test_deep_chain_backward_has_no_recursion_error(depth):
    x = leaf(1.0, dtype="float64")
    y = x
    for _ in range(depth):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**depth, rtol=1e-9)
    np.testing.assert_allclose(y.item(), 1.0001**depth, rtol=1e-9)


def test_deep_chain_float32_and_retained_graph_release():
    x = leaf(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward(retain_graph=True)
    expected = float(np.float32(1.0001)) ** 5000
    np.testing.assert_allclose(x.grad.item(), expected, rtol=1e-3)
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * expected, rtol=1e-3)
    del y  # freeing a long graph must not overflow the stack either


def test_deep_chain_functional_grad():
    def f(x):
        for _ in range(3000):
            x = x + x * 0.001
        return x

    np.testing.assert_allclose(cr.grad(f)(np.array(1.0)).item(), 1.001**3000, rtol=1e-9)


def test_construction_copies_the_callers_array():
    source = np.array([1.0, 2.0], dtype=np.float32)
    t = cr.tensor(source)
    source[0] = 99.0
    assert t.data[0] == 1.0
    u = cr.tensor(t)
    assert u.data is not t.data


def test_gradients_without_create_graph_are_writable_arrays():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    (g,) = cr.gradients(x.sum(), [x])
    g.data[0, 0] = 5.0  # a broadcast view would be read-only
    assert g.data.flags.writeable and g.data.flags.c_contiguous
