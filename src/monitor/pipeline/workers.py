"""Forked processing workers: each claims, processes, saves and commits its own batches on its own
connection. Nothing but a few counts crosses between processes, the parent stays idle (an ingest can
run beside it), and the saves of one worker overlap the computing of the others.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from multiprocessing.util import Finalize

from monitor.analyze import Models
from monitor.errors import ConfigError
from monitor.pipeline.batches import ProcessReport, drain
from monitor.settings import Settings
from monitor.store.db import Connection, connect

# A worker process's own state, set once by `_start_worker` when it starts: the models it inherited
# from the parent, and one connection per database, kept between calls (a persistent pool's workers
# drain many times). Never set in the parent.
_worker_models: Models | None = None
_worker_connections: dict[str, Connection] = {}
# Whether this process has frozen its models out of the collector's sight (see `freeze_models`).
_frozen = False


def freeze_models(models: Models) -> None:
    """The models are millions of long-lived objects: moved out of the collector's sight, full
    collections stop walking them, and forked workers stop touching (copying) their pages.

    Once per process, after a collection: a frozen object is never collected again, so freezing at
    every run froze whatever cyclic garbage the caller had left since its last collection (an
    earlier run's story indexes, ~120 MB per run, in a process that calls runs in a loop).
    """
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def _start_worker(models: Models) -> None:
    """In each forked worker (`fork_pool`): keep the inherited models (fork copies them, nothing is
    pickled), and die on SIGTERM whatever the parent does with it. Airflow's task runner installs a
    SIGTERM handler in the task process; inherited, it kept a worker alive when the pool, broken by
    another worker's death, terminated the rest, and that worker went on processing after the run
    had failed."""
    global _worker_models
    _worker_models = models
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def fork_pool(count: int, models: Models) -> ProcessPoolExecutor:
    """`count` forked worker processes that hold `models` (see `_start_worker`), all forked now, from
    this thread, not later while another thread may hold a lock."""
    models.preload()  # loaded once here and shared, not unpacked by every worker on its first need
    freeze_models(models)
    pool = ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker, initargs=(models,)
    )
    pool.submit(int).result()
    return pool


def worker_models() -> Models:
    """The models of this worker process (started by `fork_pool`)."""
    assert _worker_models is not None, "called outside a worker started by fork_pool"
    return _worker_models


def _drain_in_worker(url: str, batch_size: int, limit: int | None) -> ProcessReport:
    """`drain` in a forked worker, on the worker's own connection (never the parent's socket)."""
    conn = _worker_connections.get(url)
    if conn is None or conn.closed:
        conn = _worker_connections[url] = connect(url)
        # Closed when the worker exits (pool shutdown), not dropped mid-protocol by os._exit.
        Finalize(conn, conn.close, exitpriority=10)
    try:
        return drain(conn, worker_models(), batch_size, limit)
    except BaseException:
        # A connection that saw an error (the server went away) is not reused by the next call.
        _worker_connections.pop(url, None)
        conn.close()
        raise


class ProcessingWorkers:
    """A pool of forked processing workers.

    Kept open by long-running callers (the benchmark, several process runs in one task) so that the
    workers' per-word caches stay warm; `process_pending` opens one for a single call otherwise.
    """

    def __init__(self, settings: Settings, models: Models) -> None:
        if not settings.database_url:
            raise ConfigError("processing workers need a database URL (resolved at the edge)")
        self.count = settings.process_workers
        self.url = settings.database_url
        self.executor = fork_pool(self.count, models)

    def drain(self, batch_size: int, limit: int | None, progress: Callable[[], None]) -> ProcessReport:
        # `limit` split exactly: the first `limit % count` workers take one more.
        shares = [
            None if limit is None else limit // self.count + (i < limit % self.count)
            for i in range(self.count)
        ]
        futures = [self.executor.submit(_drain_in_worker, self.url, batch_size, share) for share in shares]
        while wait(futures, timeout=1.0).not_done:
            progress()
        errors = [error for f in futures if (error := f.exception()) is not None]
        if errors:
            # Every worker has stopped by now (a batch in flight stays `new`); the first error tells.
            raise errors[0]
        report = ProcessReport()
        for f in futures:
            report.add(f.result())
        return report

    def close(self) -> None:
        self.executor.shutdown()

    def __enter__(self) -> ProcessingWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
