"""A Ray cluster reached the way a remote one is: ``ray start --head`` in its own processes
(loopback only, token authentication on, as Ray ≥ 2.59 does by default) and ``chainrule compare
--cluster ray://127.0.0.1:PORT`` connecting through the Ray Client. The study it runs has the
same histories as the serial run."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.experiments import Study
from conftest import XOR_COMPARE

ARGS = XOR_COMPARE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ray_command() -> str:
    if os.environ.get("CHAINRULE_REQUIRE_RAY") == "1":
        import ray
        import ray.util.client  # noqa: F401  (the client extra: grpcio)
    else:
        pytest.importorskip("ray")
        pytest.importorskip("grpc")
    command = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    if not os.path.exists(command):
        pytest.fail("the ray command is missing beside this Python")
    return command


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray head node in a process group of its own; yields its ray:// address."""
    command = _ray_command()
    token = secrets.token_hex(16)
    environment = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    client_port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    head = subprocess.Popen(
        [
            command,
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={_free_port()}",
            f"--ray-client-server-port={client_port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:  # the client server listens once the head is up
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", client_port)) == 0:
                    break
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ray start --head did not come up (exit {head.poll()})")
            time.sleep(0.5)
        yield f"ray://127.0.0.1:{client_port}", token
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)


def test_compare_runs_on_a_ray_cluster_through_its_ray_address(tmp_path, ray_head):
    address, token = ray_head
    serial = str(tmp_path / "serial.study")
    assert main([*ARGS, "--workers", "1", "--study", serial]) == 0
    remote = str(tmp_path / "ray.study")
    # a separate process, as a user's would be: Ray reads its token when it is imported
    environment = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    command = [sys.executable, "-m", "chainrule", *ARGS, "--cluster", address, "--study", remote]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trials 4/4 done" in done.stderr
    with Study.open(serial) as one, Study.open(remote) as other:
        assert [t.history for t in other.trials()] == [t.history for t in one.trials()]
