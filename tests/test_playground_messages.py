"""The playground's message checks: every bad message is refused with a sentence, no browser."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import chainrule as cr
from chainrule.playground.connection import catalog
from chainrule.playground.limits import (
    CAP_CEILINGS,
    LIMITS,
    MAX_LAYERS,
    MAX_MESSAGE_BYTES,
    MAX_SAMPLES,
    MAX_STEP_EPOCHS,
    MAX_UNITS,
    Caps,
)
from chainrule.playground.messages import (
    OPTIMIZERS,
    LayerSpec,
    Message,
    MessageError,
    Setup,
    default_setup,
    parse_link_setup,
    parse_message,
    parse_setup,
)


def setup_message(**fields) -> str:
    return json.dumps({"type": "setup", "setup": fields})


def layers(count: int, units: int = 2, activation: str = "tanh") -> list[dict]:
    return [{"units": units, "activation": activation}] * count


BAD_MESSAGES = [
    # (raw message, a fragment of the error)
    ("not json", "valid JSON"),
    ("", "valid JSON"),
    ("[1, 2]", "JSON object"),
    ("42", "JSON object"),
    ("{}", "must have a 'type'"),
    ('{"type": 3}', "message type must be a name"),
    ('{"type": "explode"}', "unknown message type"),
    ('{"type": "start", "now": true}', "has no field"),
    ('{"type": "step", "epochs": 0}', "between 1 and"),
    (f'{{"type": "step", "epochs": {MAX_STEP_EPOCHS + 1}}}', "between 1 and"),
    ('{"type": "step", "epochs": 2.5}', "whole number"),
    ('{"type": "step", "epochs": "3"}', "whole number"),
    ('{"type": "step", "epochs": true}', "whole number"),
    ('{"type": "select", "layer": -1}', "between 0 and"),
    ('{"type": "select"}', "whole number"),
    ('{"type": "setup"}', "setup must be an object"),
    ('{"type": "setup", "setup": []}', "setup must be an object"),
    (setup_message(colour="red"), "unknown setup field"),
    (setup_message(dataset="mnist"), "unknown dataset"),
    (setup_message(dataset=None), "dataset must be a name"),
    (setup_message(optimizer="lbfgs"), "unknown optimizer"),
    (setup_message(optimizer="__import__('os')"), "unknown optimizer"),
    (setup_message(regularization="l3"), "unknown regularization"),
    (setup_message(noise=-0.1), "noise must be between"),
    (setup_message(noise=0.9), "noise must be between"),
    (setup_message(noise="0.1"), "noise must be a number"),
    (setup_message(noise=None), "noise must be a number"),
    (setup_message(train_ratio=0.0), "train_ratio must be between"),
    (setup_message(train_ratio=1.0), "train_ratio must be between"),
    (setup_message(samples=10), "samples must be between"),
    (setup_message(samples=MAX_SAMPLES + 1), "samples must be between"),
    (setup_message(samples=10**12), "samples must be between"),
    (setup_message(learning_rate=0), "learning_rate must be between"),
    (setup_message(learning_rate=100.0), "learning_rate must be between"),
    (setup_message(batch_size=0), "batch_size must be between"),
    (setup_message(batch_size=MAX_SAMPLES + 1), "batch_size must be between"),
    (setup_message(lam=-1), "lam must be between"),
    (setup_message(lam=2), "lam must be between"),
    (setup_message(seed=-1), "seed must be between"),
    (setup_message(seed=2**40), "seed must be between"),
    (setup_message(seed=1.5), "seed must be a whole number"),
    (setup_message(features=[]), "non-empty list"),
    (setup_message(features="x1"), "non-empty list"),
    (setup_message(features=["x3"]), "unknown feature"),
    (setup_message(features=["x1", "x1"]), "twice"),
    (setup_message(features=["x1"] * 20), "there are 7"),
    (setup_message(layers="4,2"), "layers must be a list"),
    (setup_message(layers=layers(MAX_LAYERS + 1)), f"at most {MAX_LAYERS} hidden layers"),
    (setup_message(layers=layers(1, units=MAX_UNITS + 1)), "layer 1 units must be between"),
    (
        setup_message(layers=[{"units": 2, "activation": "relu", "dropout": 0.95}]),
        "layer 1 dropout must be between 0 and 0.9",
    ),
    (
        setup_message(layers=[{"units": 2, "activation": "relu", "dropout": "half"}]),
        "layer 1 dropout must be a number",
    ),
    (
        setup_message(layers=[{"units": 2, "activation": "relu", "drop": 0.1}]),
        "(and optionally 'dropout')",
    ),
    (setup_message(layers=layers(1, units=0)), "layer 1 units must be between"),
    (setup_message(layers=layers(1, units=2.0)), "whole number"),
    (setup_message(layers=layers(1, activation="swish2")), "unknown activation"),
    (setup_message(layers=layers(1, activation="lambda z: z")), "unknown activation"),
    (setup_message(layers=layers(1, activation=7)), "activation must be a name"),
    (setup_message(layers=[{"units": 2}]), "exactly 'units' and 'activation'"),
    (setup_message(layers=[{"units": 2, "activation": "relu", "code": "x"}]), "exactly"),
    (setup_message(layers=[[2, "relu"]]), "exactly"),
    ('{"type": "setup", "setup": {"noise": NaN}}', "noise must be between"),
    ('{"type": "setup", "setup": {"noise": Infinity}}', "noise must be between"),
    ("[" * 5000 + "]" * 5000, "too long"),
    ("[" * 4000, "valid JSON"),
    ('{"type": "start", "pad": "' + "x" * MAX_MESSAGE_BYTES + '"}', "too long"),
    ("é" * (MAX_MESSAGE_BYTES // 2 + 1), "too long"),  # the limit counts bytes, not characters
]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    BAD_MESSAGES,
    ids=[f"{i}-{raw[:24]}" for i, (raw, _) in enumerate(BAD_MESSAGES)],
)
def test_bad_messages_are_refused_with_a_reason(raw, fragment):
    with pytest.raises(MessageError) as caught:
        parse_message(raw)
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 400  # a sentence for the page, not an echo of the input


def test_binary_frames_are_refused():
    with pytest.raises(MessageError, match="not binary"):
        parse_message(b'{"type": "start"}')


@pytest.mark.parametrize("kind", ["start", "pause", "reset"])
def test_plain_commands(kind):
    assert parse_message(json.dumps({"type": kind})) == Message(kind)


def test_step_defaults_to_one_epoch_and_select_names_a_layer():
    assert parse_message('{"type": "step"}').epochs == 1
    assert parse_message(f'{{"type": "step", "epochs": {MAX_STEP_EPOCHS}}}').epochs == (
        MAX_STEP_EPOCHS
    )
    assert parse_message('{"type": "select", "layer": 2}').layer == 2


def test_a_setup_round_trips_and_missing_fields_take_defaults():
    setup = Setup(
        dataset="spirals",
        noise=0.25,
        train_ratio=0.7,
        samples=300,
        features=("x1", "x2", "sin_x2"),
        layers=(LayerSpec(8, "relu"),),
        learning_rate=0.1,
        optimizer="momentum",
        batch_size=25,
        regularization="l2",
        lam=0.003,
        seed=7,
    )
    assert parse_setup(json.loads(json.dumps(setup.as_dict()))) == setup
    assert parse_message(setup_message()).setup == Setup()
    assert parse_setup({"dataset": "moons"}) == Setup(dataset="moons")


def test_features_are_kept_in_the_page_order():
    assert parse_setup({"features": ["sin_x1", "x2", "x1"]}).features == ("x1", "x2", "sin_x1")


def test_no_hidden_layer_is_allowed_and_so_are_the_caps():
    assert parse_setup({"layers": []}).layers == ()
    most = parse_setup({"layers": layers(MAX_LAYERS, units=MAX_UNITS)})
    assert len(most.layers) == MAX_LAYERS and most.layers[0].units == MAX_UNITS


@pytest.mark.parametrize("name", cr.activations.names())
def test_every_activation_of_the_catalog_is_accepted(name):
    assert parse_setup({"layers": layers(1, activation=name)}).layers[0].activation == name


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_offered_optimizer_exists(name):
    assert cr.optim.get(name, lr=0.01).lr == 0.01


def test_a_link_keeps_every_valid_field_and_names_each_bad_one():
    raw = json.dumps(
        {
            "type": "link",
            "setup": {
                "dataset": "moons",
                "learning_rate": "abc",
                "layers": [{"units": 99, "activation": "relu"}],
                "noise": 0.2,
                "colour": "red",
                "batch_size": 25,
            },
        }
    )
    message = parse_message(raw)
    assert message.kind == "link"
    assert message.setup == Setup(dataset="moons", noise=0.2, batch_size=25)
    problems = " | ".join(message.problems)
    assert len(message.problems) == 3
    assert 'learning_rate: learning_rate must be a number, got "abc"' in problems
    assert "layers: layer 1 units must be between 1 and" in problems
    assert 'unknown setup field "colour"' in problems


def test_a_good_link_has_no_problems_and_a_bad_setup_message_is_still_refused_whole():
    assert parse_message(json.dumps({"type": "link", "setup": {"seed": 3}})).problems == ()
    with pytest.raises(MessageError, match="unknown dataset"):
        parse_message(setup_message(dataset="mnist", noise=0.2))


def test_caps_from_the_command_line_raise_and_lower_the_limits():
    wide = Caps(max_layers=10, max_units=16, max_samples=4000)
    most = parse_setup({"layers": layers(10, units=16), "samples": 4000}, wide)
    assert len(most.layers) == 10 and most.samples == 4000
    with pytest.raises(MessageError, match="at most 10 hidden layers"):
        parse_setup({"layers": layers(11)}, wide)
    with pytest.raises(MessageError, match="layer 1 units must be between 1 and 16"):
        parse_setup({"layers": layers(1, units=17)}, wide)
    with pytest.raises(MessageError, match="layer must be between 0 and 9"):
        parse_message('{"type": "select", "layer": 10}', wide)
    narrow = Caps(max_layers=1, max_units=2, max_samples=100)
    with pytest.raises(MessageError, match="samples must be between 50 and 100"):
        parse_message(setup_message(samples=101), narrow)
    # the defaults are brought within the caps, so a plain setup or link is valid under them
    assert parse_setup({}, narrow) == Setup(samples=100, layers=(LayerSpec(2, "tanh"),))
    setup, problems = parse_link_setup({"seed": 4}, narrow)
    assert problems == () and setup == replace(default_setup(narrow), seed=4)
    assert catalog(wide)["limits"]["max_units"] == 16 and catalog()["limits"] == LIMITS


@pytest.mark.parametrize(
    ("caps", "problem"),
    [
        ({"max_layers": 0}, "max_layers must be a whole number from 1 to 16, got 0"),
        ({"max_units": CAP_CEILINGS["max_units"] + 1}, "max_units must be a whole number from 1"),
        ({"max_sessions": 2.5}, "max_sessions must be a whole number"),
        ({"max_samples": 49}, "max_samples must be a whole number from 50 to"),
    ],
)
def test_caps_outside_the_servers_ceilings_are_refused(caps, problem):
    with pytest.raises(ValueError, match=problem):
        Caps(**caps)


def test_a_layer_may_carry_a_dropout_rate():
    setup = parse_setup(
        {
            "layers": [
                {"units": 3, "activation": "relu", "dropout": 0.5},
                {"units": 2, "activation": "tanh"},
            ]
        }
    )
    assert setup.layers == (LayerSpec(3, "relu", 0.5), LayerSpec(2, "tanh", 0.0))
    assert parse_setup(setup.as_dict()) == setup


def test_a_probe_message_names_a_point_within_the_domain():
    message = parse_message('{"type": "probe", "point": [0.5, -1.25]}')
    assert message.kind == "probe" and message.point == (0.5, -1.25)
    for raw, problem in (
        ('{"type": "probe", "point": [0.5]}', "list of two numbers"),
        ('{"type": "probe", "point": "here"}', "list of two numbers"),
        ('{"type": "probe", "point": [0, 9]}', "x2 must be between -1.5"),
        ('{"type": "probe", "point": [null, 0]}', "x1 must be a number"),
        ('{"type": "probe", "at": [0, 0]}', "has no field"),
    ):
        with pytest.raises(MessageError, match=problem):
            parse_message(raw)


def test_an_explain_message_names_a_point_and_maybe_a_class():
    message = parse_message('{"type": "explain", "point": [0.5, -1.25], "label": null}')
    assert message.kind == "explain" and message.point == (0.5, -1.25)
    assert message.label is None
    assert parse_message('{"type": "explain", "point": [0, 0], "label": 2}').label == 2
    for raw, problem in (
        ('{"type": "explain", "point": [0, 0], "label": -1}', "label must be"),
        ('{"type": "explain", "point": [0, 0], "label": 1.5}', "whole number"),
        ('{"type": "explain", "point": [0, 0], "label": 99}', "between 0 and"),
        ('{"type": "explain", "point": [3, 0]}', "x1 must be between"),
        ('{"type": "probe", "point": [0, 0], "label": 1}', "has no field"),
    ):
        with pytest.raises(MessageError, match=problem):
            parse_message(raw)


def test_the_connection_reads_the_field_its_message_kind_carries_or_names_the_missing_one():
    from chainrule.playground.connection import _field

    select = parse_message('{"type": "select", "layer": 1}')
    assert _field(select, select.layer, "layer") == 1
    step = parse_message('{"type": "step"}')
    assert _field(step, step.epochs, "epochs") == 1
    with pytest.raises(MessageError, match=r"^a 'select' message has no layer$"):
        _field(Message("select"), Message("select").layer, "layer")
