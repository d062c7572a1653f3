"""A pool of query threads that never holds up an interruption or a failure.

``with ThreadPoolExecutor()`` runs every queued query to its end when the block is left by
an exception: after a Ctrl-C, or after the first query of a batch failed, the run then waits
for answers nobody will read (minutes, against a hanging server).  This pool cancels what
has not started and does not wait for what has; each of those ends within the client's
timeout, in a thread the interpreter is not asked to join (the command line exits at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any


@contextmanager
def query_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that waits for its queries only when its block ends normally."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def stop_on_failure(pool: ThreadPoolExecutor, future: Future[Any]) -> None:
    """Cancel the queries not yet started once ``future`` failed: the answer they were for is lost already."""
    future.add_done_callback(
        lambda done: pool.shutdown(wait=False, cancel_futures=True) if not done.cancelled()
        and done.exception() is not None else None)
