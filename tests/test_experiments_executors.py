"""Executors: the local process pool (one BLAS thread per worker) and a real Dask cluster."""

from __future__ import annotations

import os

import pytest

from chainrule.experiments import RunAll, Study, executor_for, local_pool
from chainrule.experiments.executors import THREAD_VARIABLES

XOR = {"data": "xor", "samples": 64, "depth": 1, "width": 4, "batch_size": 16}
CONFIGS = [{**XOR, "seed": seed} for seed in range(4)]


def _thread_settings() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}


def _histories(study: Study) -> list[dict]:
    return [t.history for t in study.trials()]


@pytest.fixture(scope="module")
def serial_histories(tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path_factory.mktemp("serial") / "serial.study"
    with Study.open_or_create(path, CONFIGS, RunAll(2)) as study:
        study.run(ThreadPoolExecutor(1), parallel=1)
        return _histories(study)


def test_the_local_pool_runs_one_blas_thread_per_worker_and_matches_serial(
    tmp_path, serial_histories
):
    before = _thread_settings()
    with local_pool(2) as pool:
        assert set(pool.submit(_thread_settings).result().values()) == {"1"}
        with Study.open_or_create(tmp_path / "pool.study", CONFIGS, RunAll(2)) as study:
            study.run(pool, parallel=2)
            assert _histories(study) == serial_histories
    assert _thread_settings() == before  # the coordinator's own settings are left alone


def test_a_study_without_an_executor_uses_its_own_pool(tmp_path, serial_histories):
    with Study.open_or_create(tmp_path / "own.study", CONFIGS, RunAll(2)) as study:
        final = study.run(parallel=2)
        assert final.done == 4 and _histories(study) == serial_histories


def test_cluster_addresses_are_checked():
    with pytest.raises(ValueError, match="Dask address"):
        executor_for("http://example.org")
    with pytest.raises(ValueError, match="Ray address"):
        executor_for("ray://127.0.0.1")


def test_a_real_dask_cluster_runs_the_same_study(tmp_path, serial_histories):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        executor, slots, client = executor_for(cluster.scheduler_address)
        try:
            assert slots == 2
            with Study.open_or_create(tmp_path / "dask.study", CONFIGS, RunAll(2)) as study:
                final = study.run(executor, parallel=slots)
                assert final.done == 4 and _histories(study) == serial_histories
        finally:
            client.close()


def _worker_settings() -> tuple[bool, str, str | None]:
    import dask

    return (
        dask.config.get("distributed.worker.profile.enabled"),
        str(dask.config.get("distributed.admin.tick.interval")),
        os.environ.get("OPENBLAS_NUM_THREADS"),
    )


def test_the_trial_cluster_quiets_its_workers_and_runs_the_same_study(tmp_path, serial_histories):
    pytest.importorskip("distributed")
    import dask

    from chainrule.experiments import DASK_TRIAL_CONFIG, dask_executor, dask_local_cluster

    before = (_thread_settings(), dask.config.get("distributed.worker.profile.enabled"))
    with dask_local_cluster(2) as client:
        # The caller's own settings are back as soon as the workers have started.
        assert (_thread_settings(), dask.config.get("distributed.worker.profile.enabled")) == before
        settings = set(client.run(_worker_settings).values())
        assert settings == {(False, DASK_TRIAL_CONFIG["distributed.admin.tick.interval"], "1")}
        executor, slots, owned = dask_executor(client)
        assert (slots, owned) == (2, None)
        with Study.open_or_create(tmp_path / "quiet.study", CONFIGS, RunAll(2)) as study:
            final = study.run(executor, parallel=slots)
            assert final.done == 4 and _histories(study) == serial_histories
    assert client.status == "closed"


class _FlakyRayClient:
    """Stands in for ``ray``: its ``init`` fails the way a Ray Client proxy does when the server
    it forks for a connection dies, ``failures`` times, then connects."""

    def __init__(self, failures: int, message: str = "Initialization failure from server:\n..."):
        self.failures, self.message, self.calls = failures, message, 0

    def is_initialized(self) -> bool:
        return self.calls > self.failures

    def init(self, address: str | None = None) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionAbortedError(self.message)

    def remote(self, **resources):
        return lambda fn: fn

    def cluster_resources(self) -> dict:
        return {"CPU": 2.0}

    def shutdown(self) -> None:
        pass


@pytest.mark.parametrize("failures", [0, 1, 2])
def test_a_ray_client_connection_is_asked_again_when_the_proxy_fails_to_start_its_server(
    monkeypatch, failures
):
    from chainrule.experiments import executors

    ray, pauses = _FlakyRayClient(failures), []
    monkeypatch.setattr(executors, "_import_ray", lambda: ray)
    monkeypatch.setattr(executors.time, "sleep", pauses.append)
    executor, slots, owned = executors.ray_executor("ray://127.0.0.1:10001")
    assert (ray.calls, slots, owned) == (failures + 1, 2, executor)
    assert pauses == [1.0, 2.0][:failures]


def test_a_ray_client_connection_gives_up_after_its_attempts_and_on_other_errors(monkeypatch):
    from chainrule.experiments import executors

    monkeypatch.setattr(executors.time, "sleep", lambda seconds: None)
    always = _FlakyRayClient(executors.RAY_CONNECT_ATTEMPTS)
    monkeypatch.setattr(executors, "_import_ray", lambda: always)
    with pytest.raises(ConnectionAbortedError, match="Initialization failure"):
        executors.ray_executor("ray://127.0.0.1:10001")
    assert always.calls == executors.RAY_CONNECT_ATTEMPTS
    refused = _FlakyRayClient(1, "the cluster's token does not match")
    monkeypatch.setattr(executors, "_import_ray", lambda: refused)
    with pytest.raises(ConnectionAbortedError, match="token"):
        executors.ray_executor("ray://127.0.0.1:10001")
    assert refused.calls == 1
