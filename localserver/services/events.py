"""``events.add_batch``: store reported events and maintain task metrics.

Scalar events (``training_stats_scalar``) update the task's ``last_metrics`` keyed by
``md5(metric)`` / ``md5(variant)`` -- the keys the SDK and the HPO optimizer compute
client-side -- and ``last_iteration``. Single values are scalars at iteration -2**31.
"""
from __future__ import annotations

import hashlib
import time
from functools import lru_cache

from ..core import as_list, endpoint, now

SINGLE_VALUE_ITER = -(2 ** 31)
KNOWN_TYPES = {"training_stats_scalar", "training_stats_vector", "training_debug_image", "plot", "log"}


@lru_cache(maxsize=4096)
def metric_hash(name: str) -> str:
    return hashlib.md5(str(name).encode("utf-8")).hexdigest()


def update_last_metrics(doc: dict, metric: str, variant: str, value, iteration: int, now_ms: int = 0) -> None:
    """Fold one scalar into ``doc['last_metrics']`` / ``doc['last_iteration']``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    lm = doc.setdefault("last_metrics", {}) or {}
    doc["last_metrics"] = lm
    entry = lm.setdefault(metric_hash(metric), {}).setdefault(metric_hash(variant), {"metric": metric, "variant": variant})
    if "value" not in entry or iteration >= entry.get("iter", iteration):
        entry["value"], entry["iter"] = value, iteration
        entry["timestamp"] = now_ms or int(time.time() * 1000)
    if "min_value" not in entry or value < entry["min_value"]:
        entry["min_value"], entry["min_value_iteration"] = value, iteration
    if "max_value" not in entry or value > entry["max_value"]:
        entry["max_value"], entry["max_value_iteration"] = value, iteration
    entry.setdefault("first_value", value)
    entry.setdefault("first_value_iteration", iteration)
    entry["count"] = entry.get("count", 0) + 1
    if iteration != SINGLE_VALUE_ITER and iteration > (doc.get("last_iteration") or 0):
        doc["last_iteration"] = iteration


def _as_int(value, default=0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@endpoint("events.add_batch")
def add_batch(ctx, body):
    events = as_list(body.get("requests"))
    rows, errors, touched, info = [], 0, {}, {}
    now_ms = int(time.time() * 1000)
    store = ctx.store
    with store.tx():
        for ev in events:
            if not isinstance(ev, dict):
                errors += 1
                continue
            owner = ev.get("model") if ev.get("model_event") and ev.get("model") else ev.get("task")
            etype = ev.get("type") or "log"
            if not owner or etype not in KNOWN_TYPES:
                errors += 1
                info[f"invalid event (type={etype})"] = info.get(f"invalid event (type={etype})", 0) + 1
                continue
            if owner not in touched:
                kind = "models" if ev.get("model_event") else "tasks"
                doc = store.get(kind, owner)
                if doc is None:
                    errors += 1
                    info["unknown task"] = info.get("unknown task", 0) + 1
                    continue
                touched[owner] = (kind, doc)
            ev = dict(ev)
            ev.setdefault("timestamp", now_ms)
            ev.setdefault("worker", ctx.worker)
            it = _as_int(ev.get("iter"), 0)
            ev["iter"] = it
            metric, variant = ev.get("metric") or "", ev.get("variant") or ""
            value = ev.get("value") if etype == "training_stats_scalar" else None
            if etype == "training_stats_scalar" and touched[owner][0] == "tasks":
                update_last_metrics(touched[owner][1], metric, variant, value, it, now_ms)
            if etype == "training_debug_image" and not ev.get("key"):
                ev["key"] = f"{metric}/{variant}"
            rows.append((owner, etype, it, metric, variant,
                         value if isinstance(value, (int, float)) else None, _as_int(ev["timestamp"]), ev))
        if rows:
            store.add_events(rows)
        ts = now()
        for kind, doc in touched.values():
            doc["last_update"] = ts
            store.put(kind, doc)
    return {"added": len(rows), "errors": errors, "errors_info": info}


@endpoint("events.delete_for_task", "events.clear_task_log")
def delete_for_task(ctx, body):
    deleted = ctx.store.delete_events(body.get("task") or "")
    return {"deleted": bool(deleted)}
