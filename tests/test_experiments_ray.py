"""A real local Ray cluster (loopback only) runs a study as the serial run does."""

from __future__ import annotations

import os
from concurrent.futures import Future

import pytest

from chainrule.experiments import RunAll, Study, executor_for
from chainrule.experiments.executors import THREAD_VARIABLES, ray_executor

XOR = {"data": "xor", "samples": 64, "depth": 1, "width": 4, "batch_size": 16}
CONFIGS = [{**XOR, "seed": seed} for seed in range(4)]


def _ray():
    if os.environ.get("CHAINRULE_REQUIRE_RAY") == "1":
        import ray

        return ray
    return pytest.importorskip("ray")


def _histories(study: Study) -> list[dict]:
    return [t.history for t in study.trials()]


@pytest.fixture(scope="module")
def serial_histories(tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path_factory.mktemp("serial") / "serial.study"
    with Study.open_or_create(path, CONFIGS, RunAll(2)) as study:
        study.run(ThreadPoolExecutor(1), parallel=1)
        return _histories(study)


@pytest.fixture(scope="module")
def local_ray():
    ray = _ray()
    ray.init(num_cpus=2, include_dashboard=False, address="local", _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_addresses_are_checked():
    for address in ("ray://", "ray://127.0.0.1", "ray://:10001", "ray://host:port"):
        with pytest.raises(ValueError, match="Ray address ray://host:port"):
            executor_for(address)


def test_a_real_ray_cluster_runs_the_same_study(tmp_path, serial_histories, local_ray):
    executor, slots, owned = ray_executor("auto")
    assert slots == 2 and owned is None  # the caller's ray.init() is the caller's to end

    def thread_settings() -> dict[str, str | None]:  # local: Ray ships it by value
        return {name: os.environ.get(name) for name in THREAD_VARIABLES}

    future = executor.submit(thread_settings)
    assert isinstance(future, Future)
    assert set(future.result(timeout=120).values()) == {"1"}  # one BLAS thread per task
    with Study.open_or_create(tmp_path / "ray.study", CONFIGS, RunAll(2)) as study:
        final = study.run(executor, parallel=slots)
        assert final.done == 4 and _histories(study) == serial_histories
    executor.shutdown()
    assert local_ray.is_initialized()
