"""Shared test fixtures: PyTorch as an independent oracle, and a float32 default restored."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import pytest

import chainrule as cr


def import_torch():
    """PyTorch, or a skip — except in CI (CHAINRULE_REQUIRE_TORCH=1), where it must be there."""
    if os.environ.get("CHAINRULE_REQUIRE_TORCH") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def torch():
    return import_torch()


@pytest.fixture(autouse=True)
def _default_dtype_float32():
    yield
    cr.set_default_dtype("float32")


# ---------------------------------------------------------------------- the playground
def import_web() -> None:
    """The playground's web libraries, or a skip — except in CI (CHAINRULE_REQUIRE_BROWSER=1),
    where they must be there."""
    import importlib

    for name in ("starlette", "uvicorn", "websockets"):
        if os.environ.get("CHAINRULE_REQUIRE_BROWSER") == "1":
            importlib.import_module(name)
        else:
            pytest.importorskip(name)


@contextlib.contextmanager
def running_playground(**app_options):
    """A real playground server (uvicorn in a thread, on a free port): yields its base URL."""
    import_web()
    from chainrule.playground import server

    listener = server.bind("127.0.0.1", 0)
    port = listener.getsockname()[1]
    uvicorn_server = server.make_server(server.create_app(**app_options))
    thread = threading.Thread(
        target=uvicorn_server.run, kwargs={"sockets": [listener]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        assert not thread.is_alive(), "the playground server did not shut down"


@pytest.fixture(scope="module")
def playground_url():
    with running_playground() as url:
        yield url


# ---------------------------------------------------------------------- the fast inner loop
# Modules that are end to end as a whole (a browser, worker processes or a cluster, the
# benchmarks' smoke runs, the examples as subprocesses): every test in them is ``slow``.
# Single slow tests elsewhere carry ``@pytest.mark.slow`` themselves.
SLOW_MODULES = {
    "test_playground_browser.py",
    "test_benchmarks.py",
    "test_experiments_ray.py",
    "test_experiments_executors.py",
    "test_examples.py",
    "test_experiments_ray_client.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------------- experiments
# A small `chainrule compare` on xor (4 trials of 2 epochs), for the tests that run one.
XOR_COMPARE = [
    "compare",
    "--activations",
    "relu,tanh",
    "--depths",
    "1",
    "--seeds",
    "2",
    "--epochs",
    "2",
    "--data",
    "xor",
    "--width",
    "6",
]
