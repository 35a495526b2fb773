"""Pre-flight for remote runs: a queue without a live worker leaves a pipeline "pending" forever."""
from __future__ import annotations


def workers_by_queue() -> dict[str, list[str]]:
    from clearml.backend_api.session.client import APIClient
    client = APIClient()
    serving: dict[str, list[str]] = {}
    for worker in client.workers.get_all(last_seen=120):
        for queue in getattr(worker, "queues", None) or []:
            name = getattr(queue, "name", None) or (queue.get("name") if isinstance(queue, dict) else None)
            if name:
                serving.setdefault(name, []).append(worker.id)
    return serving


class NoWorkers(RuntimeError):
    """A queue the run needs has no live clearml-agent worker."""


def require_workers(queues: list[str]) -> None:
    serving = workers_by_queue()
    missing = [q for q in queues if not serving.get(q)]
    if missing:
        hints = "; ".join(f"clearml-agent daemon --queue {q} --create-queue" for q in missing)
        raise NoWorkers(
            f"no live clearml-agent worker serves queue(s) {', '.join(missing)}: the run would wait "
            f"'pending' forever. Start one per queue ({hints}), or `tabpipe agents --queues "
            f"{' '.join(missing)}` against the embedded server.")
