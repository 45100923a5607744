"""Where trials run: any ``concurrent.futures.Executor`` (``submit`` and futures).

- ``local_pool(workers)``: the default, a process pool on this machine whose workers use one
  BLAS/OpenMP thread each (two workers each running a 2-thread BLAS on 2 cores would fight).
  It starts processes with ``spawn``, so a *script* that runs a study must guard its entry
  point with ``if __name__ == "__main__":`` (the ``chainrule`` command already does).
- ``dask_executor(address_or_client)``: a Dask cluster (``tcp://host:8786`` or a
  ``distributed.Client``), through the ``[dask]`` extra; ``Client.get_executor()`` is a standard
  Executor.
- ``ray_executor(address)``: a Ray cluster (``ray://host:10001``, ``"auto"``, or the one a
  running ``ray.init()`` joined), through the ``[ray]`` extra; one CPU per trial.
- ``executor_for(cluster, workers)``: what the command line's ``--cluster`` names.

Trials send their checkpoints as bytes, so workers need no shared filesystem.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

# The variables the BLAS and OpenMP runtimes read when they load (before NumPy is imported).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


@contextmanager
def _one_blas_thread_environment() -> Iterator[None]:
    """Set the thread variables to 1 while worker processes are started: a spawned process
    inherits the environment and its BLAS reads it when NumPy loads, which happens before any
    initializer could run."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def limit_blas_threads() -> None:
    """The workers' initializer: one BLAS thread, through threadpoolctl when it is installed
    (for a BLAS already loaded), and the variables for libraries loaded later."""
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


class LocalPool(ProcessPoolExecutor):
    """A process pool of ``workers`` spawned processes with one BLAS thread each."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        super().__init__(
            max_workers=self.workers,
            mp_context=get_context("spawn"),
            initializer=limit_blas_threads,
        )

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        with _one_blas_thread_environment():  # submit is where the pool starts its processes
            return super().submit(fn, *args, **kwargs)


def local_pool(workers: int | None = None) -> LocalPool:
    """The default executor: ``workers`` local processes (default: one per core)."""
    return LocalPool(workers)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError(
            'running trials on Dask needs dask and distributed: pip install "chainrule[dask]"'
        ) from None
    return distributed


# Dask settings for workers that run CPU-bound trials. A worker's defaults sample its threads'
# stacks every 10 ms (the profiler), check the event loop every 20 ms and poll its memory every
# 100 ms: on 2 cores an idle LocalCluster(2) spent 14% of a core on that (0.4-0.5% per worker
# process and 1% in the scheduler's with these), time the trials lose. Set them before the
# workers start: ``with dask.config.set(DASK_TRIAL_CONFIG): LocalCluster(...)``, or for
# ``dask worker`` as environment variables (``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``
# and so on).
DASK_TRIAL_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,  # trials are long and few: nothing to steal
}


@contextmanager
def dask_local_cluster(workers: int = 2) -> Iterator[Any]:
    """A Dask ``LocalCluster`` of ``workers`` one-thread worker processes on this machine, with
    ``DASK_TRIAL_CONFIG`` and one BLAS thread per worker; yields its ``distributed.Client``
    (``dask_executor(client)`` makes it the Executor ``Study.run`` takes) and closes both on
    exit."""
    distributed = _import_distributed()
    import dask

    with dask.config.set(DASK_TRIAL_CONFIG), _one_blas_thread_environment():
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster) as client:
        client.run(limit_blas_threads)
        yield client


def dask_executor(address_or_client: Any) -> tuple[Executor, int, Any]:
    """A Dask cluster as an Executor: (the executor, its worker threads, the client to close
    or None when the caller owns it). ``address_or_client`` is ``tcp://host:port`` or a
    ``distributed.Client``."""
    distributed = _import_distributed()
    if isinstance(address_or_client, distributed.Client):
        client, owned = address_or_client, None
    else:
        client = distributed.Client(address_or_client, timeout=30)
        owned = client
    slots = sum(client.nthreads().values()) or 1
    return client.get_executor(pure=False), slots, owned


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError('running trials on Ray needs ray: pip install "chainrule[ray]"') from None
    return ray


def _with_one_blas_thread(fn: Any, args: tuple, kwargs: dict) -> Any:
    """A Ray task: ``fn(*args, **kwargs)`` after limiting the worker to one BLAS thread (Ray
    reuses its worker processes, so this is cheap after the first task)."""
    limit_blas_threads()
    return fn(*args, **kwargs)


class RayExecutor(Executor):
    """Ray as an Executor: ``submit`` runs ``fn`` as a Ray task needing one CPU and returns the
    ObjectRef's ``concurrent.futures.Future``; ``shutdown`` disconnects from Ray when this
    executor connected (``owns_connection``)."""

    def __init__(self, ray: Any, owns_connection: bool) -> None:
        self._ray = ray
        self._task = ray.remote(num_cpus=1)(_with_one_blas_thread)
        self.owns_connection = owns_connection

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        return self._task.remote(fn, args, kwargs).future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.owns_connection and self._ray.is_initialized():
            self._ray.shutdown()


# How often to ask a Ray Client proxy for a connection when the per-client server it forks fails
# to start ("Initialization failure from server", a ConnectionAbortedError; seen on a loaded
# 2-core machine, where the forked server died before the proxy read its command line).
RAY_CONNECT_ATTEMPTS = 3


def _connect_ray(ray: Any, address: str | None, pause: float = 1.0) -> None:
    """``ray.init(address=address)``, asked again (after ``pause``, then twice that) when a Ray
    Client proxy could not start the server for this connection; Ray disconnects a failed
    attempt itself, so the next one starts clean. Any other error is raised at once."""
    for attempt in range(1, RAY_CONNECT_ATTEMPTS + 1):
        try:
            ray.init(address=address)
            return
        except ConnectionAbortedError as error:
            if attempt == RAY_CONNECT_ATTEMPTS or "Initialization failure" not in str(error):
                raise
            time.sleep(pause * attempt)


def ray_executor(address: str | None = None) -> tuple[Executor, int, Any]:
    """A Ray cluster as an Executor: (the executor, the cluster's CPUs, the executor to shut
    down or None when the caller's own ``ray.init()`` is used). ``address`` is
    ``ray://host:port`` or ``"auto"``; with Ray already initialized it joins that session."""
    ray = _import_ray()
    owns_connection = not ray.is_initialized()
    if owns_connection:
        _connect_ray(ray, address)
    executor = RayExecutor(ray, owns_connection)
    slots = int(ray.cluster_resources().get("CPU", 0)) or 1
    return executor, slots, executor if owns_connection else None


def _check_ray_address(cluster: str) -> None:
    host, _, port = cluster.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--cluster must be a Ray address ray://host:port, not {cluster!r}")


def executor_for(cluster: str | None, workers: int | None = None) -> tuple[Executor, int, Any]:
    """(executor, how many trials it runs at once, what to shut down afterwards) for the
    command line's ``--cluster``: none (the local pool), ``tcp://...`` (Dask), ``ray://...``
    (Ray)."""
    if cluster is None:
        pool = local_pool(workers)
        return pool, pool.workers, pool
    if cluster.startswith(("tcp://", "tls://")):
        return dask_executor(cluster)
    if cluster.startswith("ray://"):
        _check_ray_address(cluster)
        return ray_executor(cluster)
    raise ValueError(
        f"--cluster must be a Dask address tcp://host:port or a Ray address "
        f"ray://host:port, not {cluster!r}"
    )


__all__ = [
    "DASK_TRIAL_CONFIG",
    "LocalPool",
    "RAY_CONNECT_ATTEMPTS",
    "RayExecutor",
    "THREAD_VARIABLES",
    "dask_executor",
    "dask_local_cluster",
    "executor_for",
    "limit_blas_threads",
    "local_pool",
    "ray_executor",
]
