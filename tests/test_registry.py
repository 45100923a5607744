"""The catalog's index: names, aliases, errors that help, and user registration with its check."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.activations import UnknownActivationError


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("logistic", "sigmoid"),
        ("swish", "silu"),
        ("LeakyReLU", "leaky_relu"),
        ("leaky-relu", "leaky_relu"),
        ("ReLU", "relu"),
        ("HardSwish", "hard_swish"),
        ("linear", "identity"),
        ("LogSoftmax", "log_softmax"),
        ("GELU", "gelu"),
        ("gelu_approx", "gelu_tanh"),
    ],
)
def test_aliases_and_spellings(alias, canonical):
    assert cr.activations.get(alias).name == canonical


def test_names_lists_the_catalog_in_order():
    names = cr.activations.names()
    assert names[:3] == ["sigmoid", "tanh", "relu"]
    assert len(names) == len(set(names)) == 23


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownActivationError, match=r"did you mean 'relu'") as info:
        cr.activations.get("rleu")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    with pytest.raises(UnknownActivationError, match="tanh"):
        cr.activations.get("tahn")
    with pytest.raises(UnknownActivationError, match="valid names: sigmoid, tanh, relu, "):
        cr.activations.get("qqqqqqqq")


def test_unknown_parameter_names_the_valid_ones():
    with pytest.raises(
        TypeError, match="relu has no parameter gamma; its parameters are: subgradient"
    ):
        cr.activations.get("relu", gamma=0.1)
    with pytest.raises(TypeError, match="gamma"):
        cr.activations.get("leaky_relu", slope=0.1)


def test_bad_parameter_values_are_refused():
    with pytest.raises(ValueError, match="≥ 0"):
        cr.activations.get("leaky_relu", gamma=-0.1)
    with pytest.raises(ValueError, match="finite"):
        cr.activations.get("elu", alpha=float("nan"))
    with pytest.raises(ValueError, match="> 0"):
        cr.activations.get("softplus", beta=0)
    with pytest.raises(ValueError, match="2 kinks"):
        cr.activations.get("relu6", subgradient=(0.1, 0.2, 0.3))


def test_objects_pass_through_and_compare_by_parameters():
    act = cr.activations.get("leaky_relu", gamma=0.2)
    assert cr.activations.get(act) is act
    assert act == cr.activations.LeakyReLU(gamma=0.2)
    assert act != cr.activations.LeakyReLU(gamma=0.3)
    assert repr(act) == "LeakyReLU(gamma=0.2)"
    with pytest.raises(TypeError):
        cr.activations.get(act, gamma=0.1)
    with pytest.raises(TypeError, match="name or an Activation"):
        cr.activations.get(3)


def test_tensor_methods_use_the_catalog():
    x = cr.tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    np.testing.assert_allclose(x.relu().numpy(), [[0.0, 0.5, 2.0]])
    np.testing.assert_allclose(
        x.sigmoid().numpy(), 1 / (1 + np.exp([[1.0, -0.5, -2.0]])), rtol=1e-6
    )
    np.testing.assert_allclose(x.tanh().numpy(), np.tanh([[-1.0, 0.5, 2.0]]), rtol=1e-6)
    np.testing.assert_allclose(x.softmax(axis=-1).numpy().sum(), 1.0, rtol=1e-6)
    assert x.log_softmax().op == "log_softmax"


def test_describe_gives_every_field():
    info = cr.activations.get("sigmoid").describe()
    assert info["derivative_from_output_formula"] == "a(1 − a)"
    assert info["output_range"] == "(0, 1)"
    assert info["saturating"] == "both" and info["zero_centered"] == "no"
    assert info["monotonic"] is True and info["smooth"] is True
    relu = cr.activations.get("relu").describe()
    assert relu["kinks"] == [0.0] and relu["subgradients_at_kinks"] == [0.0]
    assert relu["smooth"] is False


# ---------------------------------------------------------------------- registration
@pytest.fixture
def cleanup():
    registered = []
    yield registered
    for name in registered:
        if name in cr.activations.names():
            cr.activations.remove(name)


def test_register_a_correct_activation(cleanup):
    cleanup.append("bent_identity")
    cr.activations.register(
        "bent_identity",
        forward=lambda z: (np.sqrt(z * z + 1) - 1) / 2 + z,
        derivative=lambda z: z / (2 * np.sqrt(z * z + 1)) + 1,
        second_derivative=lambda z: 1 / (2 * (z * z + 1) ** 1.5),
        aliases=("bentid",),
        formula="(√(z² + 1) − 1)/2 + z",
        output_range="ℝ",
        monotonic=True,
    )
    act = cr.activations.get("BentID")
    assert act.name == "bent_identity" and act.formula == "(√(z² + 1) − 1)/2 + z"
    x = cr.tensor([0.0, 2.0], requires_grad=True, dtype="float64")
    (first,) = cr.gradients(act(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(first.numpy(), [1.0, 1 + 2 / (2 * np.sqrt(5))])
    (second,) = cr.gradients(first.sum(), [x])
    np.testing.assert_allclose(second.numpy(), [0.5, 1 / (2 * 5**1.5)])


def test_a_wrong_derivative_is_refused_with_where_it_disagrees(cleanup):
    cleanup.append("bad_swish")
    with pytest.raises(cr.DerivativeCheckError) as info:
        cr.activations.register(
            "bad_swish",
            forward=lambda z: z / (1 + np.exp(-z)),
            derivative=lambda z: 1 / (1 + np.exp(-z)),  # forgot the product rule
        )
    message = str(info.value)
    assert "bad_swish" in message and "derivative" in message
    assert "finite differences" in message and "z =" in message and "worst" in message
    assert "bad_swish" not in cr.activations.names()


def test_a_wrong_second_derivative_or_from_output_is_refused(cleanup):
    cleanup.append("square_wrong")
    with pytest.raises(cr.DerivativeCheckError, match="second_derivative"):
        cr.activations.register(
            "square_wrong",
            lambda z: z**2,
            lambda z: 2 * z,
            second_derivative=lambda z: np.ones_like(z),
        )
    with pytest.raises(cr.DerivativeCheckError, match="derivative_from_output"):
        cr.activations.register(
            "square_wrong",
            lambda z: np.tanh(z),
            lambda z: 1 - np.tanh(z) ** 2,
            derivative_from_output=lambda a: 1 - a,
        )


def test_check_can_be_turned_off_explicitly(cleanup):
    cleanup.append("wrong_on_purpose")
    cr.activations.register("wrong_on_purpose", np.tanh, lambda z: np.ones_like(z), check=False)
    assert cr.activations.get("wrong_on_purpose").derivative([3.0])[0] == 1.0


def test_register_refuses_a_taken_name_unless_replace(cleanup):
    with pytest.raises(ValueError, match="taken"):
        cr.activations.register("relu", np.tanh, lambda z: 1 - np.tanh(z) ** 2)
    cleanup.append("mytanh")
    cr.activations.register("mytanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2)
    cr.activations.register(
        "mytanh", lambda z: 2 * np.tanh(z), lambda z: 2 * (1 - np.tanh(z) ** 2), replace=True
    )
    assert cr.activations.get("mytanh").forward([1.0])[0] == pytest.approx(2 * np.tanh(1.0))


def test_second_order_without_a_registered_second_derivative_is_explained(cleanup):
    cleanup.append("cube_only_first")
    cr.activations.register("cube_only_first", lambda z: z**3, lambda z: 3 * z**2)
    x = cr.tensor([1.0], requires_grad=True)
    (first,) = cr.gradients(cr.activations.get("cube_only_first")(x).sum(), [x], create_graph=True)
    with pytest.raises(NotImplementedError, match="second_derivative"):
        cr.gradients(first.sum(), [x])


@pytest.mark.parametrize(
    ("get", "name", "suggested"),
    [
        (lambda n: cr.init.get(n), "he", "'he_normal', 'he_uniform'"),
        (lambda n: cr.init.get(n), "xavier", "'xavier_normal', 'xavier_uniform'"),
        (lambda n: cr.init.get(n), "kaiming", "'kaiming_normal', 'kaiming_uniform'"),
        (lambda n: cr.activations.get(n), "leaky", "'leaky_relu'"),
        (lambda n: cr.activations.get(n), "relU", None),  # a spelling of relu: found
    ],
)
def test_a_name_that_starts_valid_names_suggests_them(get, name, suggested):
    if suggested is None:
        assert get(name) is not None
        return
    with pytest.raises(ValueError, match=f"did you mean {suggested}\\?"):
        get(name)


def _catalogs():
    """Every catalog's get with an object it returns as it is and one parameter its names take."""
    from chainrule import init, losses, metrics, optim

    return [
        ("activation", cr.activations.get, cr.activations.get("leaky_relu"), {"gamma": 0.2}),
        ("initialiser", init.get, init.get("he_normal"), {"gain": 2.0}),
        ("initialiser", init.get, lambda shape, rng: np.zeros(shape), {"gain": 2.0}),
        ("loss", losses.get, losses.get("mse"), {"reduction": "sum"}),
        ("optimiser", optim.get, optim.get("sgd"), {"lr": 0.1}),
        ("metric", metrics.get, metrics.get("binary_accuracy"), {"threshold": 0.7}),
    ]


@pytest.mark.parametrize(("kind", "get", "given", "params"), _catalogs())
def test_every_catalog_returns_an_object_as_it_is_and_refuses_parameters_with_it(
    kind, get, given, params
):
    returned = get(given)
    assert returned is given or getattr(returned, "function", None) is given
    with pytest.raises(TypeError, match=f"parameters can only be given with an? {kind} name"):
        get(given, **params)
    with pytest.raises(TypeError, match=r", not int$"):
        get(3)


def test_accepted_parameters_are_read_once_per_function(monkeypatch):
    """Eager steps ask for an activation by name with parameters on every step: the signature
    is read once per class (inspect.signature costs ~50 µs), and callers get their own list."""
    import inspect

    from chainrule.naming import accepted_parameters

    class Scaled:
        def __init__(self, factor: float = 1.0, *, offset: float = 0.0) -> None: ...

    reads = []
    real = inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda f: reads.append(f) or real(f))
    first = accepted_parameters(Scaled)
    first.append("changed by the caller")
    assert accepted_parameters(Scaled) == ["factor", "offset"] and len(reads) == 1

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, width: int) -> None: ...

    assert accepted_parameters(Unhashable()) == ["width"]
