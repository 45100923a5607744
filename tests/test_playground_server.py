"""The playground's server, for real (uvicorn on a free port), driven by a WebSocket client:
bad messages get errors and the server keeps serving; exports; the safety checks."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.playground.datasets import MAX_UPLOAD_BYTES
from chainrule.playground.limits import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, Caps
from chainrule.playground.messages import parse_setup
from chainrule.playground.network import make_data
from chainrule.playground.registry import SessionRegistry
from conftest import import_web, running_playground

import_web()
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

TIMEOUT = 20


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


def receive(socket) -> dict:
    return json.loads(socket.recv(timeout=TIMEOUT))


@contextlib.contextmanager
def open_session(base: str, **options):
    """A connected socket past its greeting, with the hello message."""
    with connect(ws_url(base), max_size=None, **options) as socket:
        hello = receive(socket)
        assert hello["type"] == "hello"
        assert receive(socket)["type"] == "data"
        assert receive(socket)["type"] == "state"
        yield socket, hello


def until(socket, kind: str, condition=lambda message: True) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        message = receive(socket)
        if message["type"] == kind and condition(message):
            return message
    raise AssertionError(f"no {kind} message arrived")


def get(url: str, headers: dict | None = None):
    return urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {}), timeout=TIMEOUT
    )


BAD = [
    "not json",
    "[]",
    '{"type": "fly"}',
    '{"type": "setup", "setup": {"dataset": "imagenet"}}',
    '{"type": "setup", "setup": {"layers": [{"units": 1000, "activation": "relu"}]}}',
    '{"type": "setup", "setup": {"samples": 100000000}}',
    '{"type": "setup", "setup": {"layers": [{"units": 2, "activation": "os.system"}]}}',
    '{"type": "step", "epochs": 1000000}',
    '{"type": "select", "layer": "all"}',
    "[" * 4000,
    "x" * (MAX_MESSAGE_BYTES + 1),
    b"\x00\x01binary",
]


def test_bad_messages_get_errors_and_the_session_goes_on(playground_url):
    with open_session(playground_url) as (socket, _):
        for raw in BAD:
            socket.send(raw)
            answer = receive(socket)
            assert answer["type"] == "error", raw[:40]
            assert answer["message"]
        socket.send('{"type": "step", "epochs": 2}')
        assert until(socket, "state")["epoch"] == 2


def test_an_oversized_frame_closes_only_that_connection(playground_url):
    with open_session(playground_url) as (socket, _):
        socket.send("x" * (MAX_FRAME_BYTES + 1))
        with pytest.raises(ConnectionClosed):
            while True:
                receive(socket)
    assert get(playground_url + "/").status == 200
    with open_session(playground_url) as (other, _):
        other.send('{"type": "step"}')
        assert until(other, "state")["epoch"] == 1


def test_training_streams_states_and_pauses(playground_url):
    with open_session(playground_url) as (socket, _):
        socket.send('{"type": "start"}')
        epochs = [until(socket, "state")["epoch"] for _ in range(3)]
        assert epochs == sorted(epochs) and epochs[-1] > 0
        started = time.monotonic()
        assert get(playground_url + "/api/catalog").status == 200  # not blocked by training
        assert time.monotonic() - started < 2
        socket.send('{"type": "pause"}')
        paused = until(socket, "state", lambda m: not m["running"])["epoch"]
        socket.send('{"type": "select", "layer": 1}')
        state = until(socket, "state", lambda m: m["activation"]["layer"] == 1)
        assert state["epoch"] == paused and not state["running"]


def test_tabs_have_their_own_sessions(playground_url):
    with (
        open_session(playground_url) as (first, hello_first),
        open_session(playground_url) as (second, hello_second),
    ):
        assert hello_first["session"] != hello_second["session"]
        first.send('{"type": "setup", "setup": {"dataset": "moons"}}')
        assert until(first, "state")["setup"]["dataset"] == "moons"
        second.send('{"type": "step"}')
        state = until(second, "state")
        assert state["setup"]["dataset"] == "xor" and state["epoch"] == 1


def test_exports_give_the_model_file_and_the_snippet(playground_url, tmp_path):
    with open_session(playground_url) as (socket, hello):
        socket.send('{"type": "step", "epochs": 5}')
        state = until(socket, "state")
        base = f"{playground_url}/export/{hello['session']}"
        response = get(base + "/model.npz")
        assert "attachment" in response.headers["content-disposition"]
        path = tmp_path / "model.npz"
        path.write_bytes(response.read())
        snippet = get(base + "/snippet.py").read().decode()
    model = cr.load(path)
    data = make_data(parse_setup(model.metadata["playground"]))
    result = model.evaluate(data.points_test, data.y_test, batch_size=None, return_dict=True)
    assert result["accuracy"] == state["test_metrics"]["accuracy"]
    assert "EPOCHS = 5" in snippet and "import chainrule as cr" in snippet
    with pytest.raises(urllib.error.HTTPError) as missing:  # the tab closed: no session
        get(base + "/model.npz")
    assert missing.value.code == 404


def test_pages_files_and_headers(playground_url):
    page = get(playground_url + "/")
    assert "chainrule playground" in page.read().decode()
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "draw.js", "style.css", "favicon.svg"):
        assert get(f"{playground_url}/static/{name}").status == 200
    catalog = json.loads(get(playground_url + "/api/catalog").read())
    assert [a["name"] for a in catalog["activations"]] == cr.activations.names()
    with pytest.raises(urllib.error.HTTPError) as unknown:
        get(playground_url + "/export/not-a-session/model.npz")
    assert unknown.value.code == 404


def test_foreign_hosts_and_origins_are_refused(playground_url):
    with pytest.raises(urllib.error.HTTPError) as rebinding:
        get(playground_url + "/", headers={"Host": "evil.example"})
    assert rebinding.value.code == 400
    with (
        pytest.raises(InvalidStatus),
        connect(ws_url(playground_url), origin="http://evil.example"),
    ):
        pass
    port = playground_url.rsplit(":", 1)[1]
    with open_session(playground_url, origin=f"http://127.0.0.1:{port}") as (_, hello):
        assert hello["session"]


def test_sessions_are_capped():
    with running_playground(sessions=SessionRegistry(limit=1)) as url:
        with open_session(url) as (first, _), connect(ws_url(url)) as second:
            refused = receive(second)
            assert refused["type"] == "full" and "at most 1 tabs" in refused["message"]
            with pytest.raises(ConnectionClosed):
                receive(second)
            first.send('{"type": "step"}')
            assert until(first, "state")["epoch"] == 1


def test_the_cli_names_the_web_extra_when_it_is_missing(monkeypatch, capsys):
    import chainrule.playground

    monkeypatch.delattr(chainrule.playground, "server", raising=False)
    monkeypatch.delitem(sys.modules, "chainrule.playground.server", raising=False)
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["playground"]) == 1
    assert 'pip install "chainrule[web]"' in capsys.readouterr().err


def test_the_cli_serves_until_interrupted(monkeypatch, capsys):
    from chainrule.playground import server

    served = threading.Event()

    def fake_run(self, sockets=None):
        served.set()
        raise KeyboardInterrupt

    monkeypatch.setattr(type(server.make_server(server.create_app())), "run", fake_run)
    assert main(["playground", "--port", "0"]) == 0
    out = capsys.readouterr().out
    assert served.is_set() and "http://127.0.0.1:" in out and "Stopped" in out


def test_a_learning_rate_change_keeps_training_and_a_new_dataset_resets(playground_url):
    with open_session(playground_url) as (socket, _):
        socket.send('{"type": "start"}')
        running = until(socket, "state", lambda m: m["running"] and m["epoch"] >= 2)
        socket.send('{"type": "setup", "setup": {"learning_rate": 0.1}}')
        state = until(socket, "state", lambda m: m["setup"]["learning_rate"] == 0.1)
        assert state["running"] and state["epoch"] >= running["epoch"]
        socket.send('{"type": "setup", "setup": {"learning_rate": 0.1, "dataset": "moons"}}')
        notice = until(socket, "notice")
        assert "epoch 0" in notice["message"]
        state = until(socket, "state", lambda m: m["setup"]["dataset"] == "moons")
        assert state["epoch"] == 0 and not state["running"]


def test_caps_set_on_the_command_line_reach_the_server(monkeypatch, capsys):
    from chainrule.playground import server

    served: dict = {}
    monkeypatch.setattr(server, "serve", lambda **options: served.update(options))
    assert (
        main(
            [
                "playground",
                "--port",
                "0",
                "--max-layers",
                "9",
                "--max-units",
                "12",
                "--max-tabs",
                "3",
                "--max-samples",
                "3000",
            ]
        )
        == 0
    )
    assert served["caps"] == Caps(max_layers=9, max_units=12, max_sessions=3, max_samples=3000)
    for option, bad in (
        ("--max-units", "33"),
        ("--max-layers", "0"),
        ("--max-tabs", "two"),
        ("--max-samples", "10"),
    ):
        assert main(["playground", option, bad]) == 2
        error = capsys.readouterr().err
        assert f"argument {option}: expected a whole number from" in error and bad in error


def test_a_server_under_wider_caps_serves_wider_networks_and_more_tabs():
    caps = Caps(max_layers=8, max_units=12, max_sessions=2, max_samples=2000)
    with running_playground(caps=caps) as url:
        catalog = json.loads(get(url + "/api/catalog").read())
        assert catalog["limits"]["max_layers"] == 8 and catalog["limits"]["max_units"] == 12
        assert catalog["limits"]["max_samples"] == 2000
        with open_session(url) as (first, hello), open_session(url) as (second, _):
            assert hello["catalog"]["limits"]["max_units"] == 12
            wide = [{"units": 12, "activation": "relu"}] * 8
            first.send(json.dumps({"type": "setup", "setup": {"layers": wide, "samples": 2000}}))
            state = until(first, "state")
            assert len(state["setup"]["layers"]) == 8 and state["setup"]["samples"] == 2000
            first.send(json.dumps({"type": "setup", "setup": {"layers": wide + wide[:1]}}))
            assert "at most 8 hidden layers" in until(first, "error")["message"]
            second.send('{"type": "step"}')
            assert until(second, "state")["epoch"] == 1
            with connect(ws_url(url)) as third:  # the third tab is over max_sessions = 2
                assert receive(third)["type"] == "full"


def post(url: str, body: bytes):
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "text/csv"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_uploaded_csv_is_checked_then_trained_on(playground_url):
    rows = "".join(f"{x / 10:.1f},{(x * 7 % 10) / 10:.1f},{'ab'[x % 2]}\n" for x in range(-9, 10))
    with open_session(playground_url) as (socket, hello):
        base = f"{playground_url}/upload/{hello['session']}"
        status, answer = post(base, b"x1,x2,c\n" + b"0.1,oops,0\n" * 20)
        assert (
            status == 400
            and "line 2: column 'x2' has the non-numeric value 'oops'" in (answer["error"])
        )
        status, answer = post(base, b"x" * (MAX_UPLOAD_BYTES + 1))
        assert status == 413 and "larger than the limit" in answer["error"]
        socket.send('{"type": "setup", "setup": {"dataset": "own"}}')
        assert "no CSV uploaded" in until(socket, "error")["message"]
        status, answer = post(base, ("x1,x2,class\n" + rows).encode())
        assert status == 200 and answer == {"rows": 19, "classes": ["a", "b"]}
        socket.send('{"type": "setup", "setup": {"dataset": "own", "train_ratio": 0.6}}')
        data = until(socket, "data")
        assert len(data["train"]) + len(data["test"]) == 19
        socket.send('{"type": "step", "epochs": 2}')
        assert until(socket, "state", lambda m: m["epoch"] == 2)["setup"]["dataset"] == "own"
    status, answer = post(base, rows.encode())  # the tab closed: its session is gone
    assert status == 404


def test_a_link_to_own_data_in_a_new_tab_names_the_missing_csv(playground_url):
    with open_session(playground_url) as (socket, _):
        socket.send('{"type": "link", "setup": {"dataset": "own", "seed": 5}}')
        state = until(socket, "state", lambda m: m["setup"]["seed"] == 5)
        assert state["setup"]["dataset"] == "xor"  # every other field of the link is kept
        assert "a link cannot carry your CSV" in until(socket, "error")["message"]


def test_an_explain_message_answers_with_explains_numbers(playground_url, tmp_path):
    from chainrule.explain import explain

    with open_session(playground_url) as (socket, hello):
        socket.send('{"type": "setup", "setup": {"dataset": "spirals3", "samples": 150}}')
        until(socket, "state", lambda m: m["setup"]["dataset"] == "spirals3")
        socket.send('{"type": "step", "epochs": 3}')
        until(socket, "state", lambda m: m["epoch"] == 3)
        socket.send('{"type": "explain", "point": [0.5, -0.75], "label": 2}')
        shown = until(socket, "explanation")
        socket.send('{"type": "explain", "point": [0.5, -0.75], "label": 5}')
        assert "class 5 is not in this data" in until(socket, "error")["message"]
        path = tmp_path / "model.npz"
        path.write_bytes(get(f"{playground_url}/export/{hello['session']}/model.npz").read())
    model = cr.load(path)  # it takes the raw point and carries the optimiser's state
    expected = explain(model, np.array([[0.5, -0.75]]), np.array([2]))
    assert shown["epoch"] == 3 and shown["label"] == 2 and shown["verified"]
    assert [layer["name"] for layer in shown["layers"]] == ["Layer 1", "Layer 2", "Output layer"]
    for mine, theirs in zip(shown["layers"], expected.layers, strict=True):
        assert mine["delta"] == theirs.delta[0].tolist()
        assert mine["weight_grad"] == theirs.weight_grad.tolist()
        assert mine["weight_update"] == theirs.weight_update.tolist()
