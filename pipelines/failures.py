"""Run a step wrapper, marking failures of our own logic so retries skip them."""
from __future__ import annotations

import logging
from typing import Any, Callable

LOGIC_FAILURE_TAG = "failure:logic"


def _is_infrastructure(exc: BaseException) -> bool:
    try:
        from requests.exceptions import RequestException
    except ImportError:  # pragma: no cover - requests ships with clearml
        RequestException = ()  # noqa: N806
    return isinstance(exc, (ConnectionError, TimeoutError, MemoryError, RequestException))


def guarded(func: Callable[..., Any], *args: Any) -> Any:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return func(*args)
    except Exception as exc:
        if not _is_infrastructure(exc):
            from clearml import Task
            task = Task.current_task()
            if task is not None:
                task.add_tags([LOGIC_FAILURE_TAG])
        raise
