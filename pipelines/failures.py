"""Run a step wrapper: record its cost, and mark failures of our own logic so retries skip them."""
from __future__ import annotations

import logging
import resource
import time
from typing import Any, Callable

from threadpoolctl import threadpool_limits

LOGIC_FAILURE_TAG = "failure:logic"


def _is_infrastructure(exc: BaseException) -> bool:
    try:
        from requests.exceptions import RequestException
    except ImportError:  # pragma: no cover - requests ships with clearml
        RequestException = ()  # noqa: N806
    return isinstance(exc, (ConnectionError, TimeoutError, MemoryError, RequestException))


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the step process's high-water mark, children excluded.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def guarded(func: Callable[..., Any], *args: Any) -> Any:
    from clearml import Task
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    task = Task.current_task()
    start = time.perf_counter()
    try:
        # One OpenMP/BLAS thread per step unless the step asks for more (train.n_jobs): under
        # contention, spinning OpenMP threads made HistGradientBoosting's predict ~17x slower.
        with threadpool_limits(limits=1):
            result = func(*args)
    except Exception as exc:
        if task is not None and not _is_infrastructure(exc):
            task.add_tags([LOGIC_FAILURE_TAG])
        raise
    if task is not None:
        # Step cost, read back by the overhead and scale benchmarks.
        task.get_logger().report_single_value("step_compute_s", time.perf_counter() - start)
        task.get_logger().report_single_value("step_peak_rss_mb", _peak_rss_mb())
    return result
