"""Read APIs over reported events, with scroll ids so the SDK's paging loops terminate.

A scroll id is the boundary event sequence number of the previous page; ``total`` always
counts every matching event and ``returned`` the events in this page.
"""
from __future__ import annotations

from ..core import as_list, endpoint
from .common import load
from .events import SINGLE_VALUE_ITER

DONE = "done"


def _scroll(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _metric_filter(metrics):
    wanted = {}
    for item in as_list(metrics):
        if isinstance(item, dict) and item.get("metric") is not None:
            wanted[item["metric"]] = set(as_list(item.get("variants")))
    if not wanted:
        return None
    return lambda ev: ev.get("metric") in wanted and (not wanted[ev["metric"]] or ev.get("variant") in wanted[ev["metric"]])


def _types(event_type) -> list[str] | None:
    if not event_type:
        return None
    return {"scalar": ["training_stats_scalar"], "image": ["training_debug_image"],
            "vector": ["training_stats_vector"]}.get(event_type, [event_type])


@endpoint("events.get_task_events")
def get_task_events(ctx, body):
    task = body.get("task")
    types = _types(body.get("event_type"))
    desc = (body.get("order") or "asc") == "desc"
    batch = int(body.get("batch_size") or 500)
    keep = _metric_filter(body.get("metrics"))
    rows = ctx.store.events(task, types, after_seq=_scroll(body.get("scroll_id")), descending=desc,
                            limit=None if keep else batch)
    if keep:
        rows = [r for r in rows if keep(r[1])][:batch]
    total = len([1 for _ in ctx.store.events(task, types)]) if keep else ctx.store.count_events(
        task, types or ["training_stats_scalar", "training_stats_vector", "training_debug_image", "plot", "log"])
    scroll = str(rows[-1][0]) if rows else (body.get("scroll_id") or "")
    return {"events": [ev for _, ev in rows], "returned": len(rows), "total": total, "scroll_id": scroll}


@endpoint("events.get_task_log")
def get_task_log(ctx, body):
    task = body.get("task")
    batch = int(body.get("batch_size") or 500)
    earlier = body.get("navigate_earlier", True) not in (False, "false", "False")
    rows = ctx.store.events(task, ["log"], after_seq=_scroll(body.get("scroll_id")), descending=earlier, limit=batch)
    scroll = str(rows[-1][0]) if rows else (body.get("scroll_id") or "")
    rows.sort(key=lambda r: r[0], reverse=(body.get("order") or "desc") == "desc")
    return {"events": [ev for _, ev in rows], "returned": len(rows),
            "total": ctx.store.count_events(task, ["log"]), "scroll_id": scroll}


def _last_iterations(events: list[dict], iters: int) -> list[dict]:
    """Keep, per metric/variant, the events of the ``iters`` latest iterations."""
    by_key: dict = {}
    for ev in events:
        by_key.setdefault((ev.get("metric"), ev.get("variant")), []).append(ev)
    out = []
    for evs in by_key.values():
        keep = sorted({e.get("iter", 0) for e in evs}, reverse=True)[:max(1, iters)]
        out += [e for e in evs if e.get("iter", 0) in keep]
    return out


@endpoint("events.get_task_plots")
def get_task_plots(ctx, body):
    task = body.get("task")
    if body.get("scroll_id") == DONE:
        return {"plots": [], "returned": 0, "total": 0, "scroll_id": DONE}
    events = [ev for _, ev in ctx.store.events(task, ["plot"])]
    keep = _metric_filter(body.get("metrics"))
    if keep:
        events = [e for e in events if keep(e)]
    plots = _last_iterations(events, int(body.get("iters") or 1))
    return {"plots": plots, "returned": len(plots), "total": len(plots), "scroll_id": DONE}


@endpoint("events.get_task_single_value_metrics")
def get_task_single_value_metrics(ctx, body):
    out = []
    for tid in as_list(body.get("tasks")):
        values = {}
        for _, ev in ctx.store.events(tid, ["training_stats_scalar"]):
            if ev.get("iter") == SINGLE_VALUE_ITER:
                values[(ev.get("metric"), ev.get("variant"))] = {
                    "metric": ev.get("metric"), "variant": ev.get("variant"), "value": ev.get("value"),
                    "timestamp": ev.get("timestamp")}
        doc = ctx.store.get("tasks", tid) or {}
        out.append({"task": tid, "task_name": doc.get("name"), "values": list(values.values())})
    return {"tasks": out}


@endpoint("events.scalar_metrics_iter_histogram")
def scalar_metrics_iter_histogram(ctx, body):
    """Unwrapped response: ``{metric: {variant: {name, x: [...], y: [...]}}}``."""
    key = body.get("key") or "iter"
    keep = _metric_filter(body.get("metrics"))
    out: dict = {}
    for metric, variant, it, value, ts in ctx.store.scalar_rows(body.get("task") or ""):
        if it == SINGLE_VALUE_ITER or (keep and not keep({"metric": metric, "variant": variant})):
            continue
        series = out.setdefault(metric, {}).setdefault(variant, {"name": variant, "x": [], "y": []})
        x = it if key == "iter" else ts
        if series["x"] and series["x"][-1] == x:
            series["y"][-1] = value
        else:
            series["x"].append(x)
            series["y"].append(value)
    return out


@endpoint("events.debug_images")
def debug_images(ctx, body):
    iters = int(body.get("iters") or 1)
    out = []
    for req in as_list(body.get("metrics")):
        if not isinstance(req, dict):
            continue
        task, metric = req.get("task"), req.get("metric")
        variants = set(as_list(req.get("variants")))
        iterations = []
        if body.get("scroll_id") != DONE:
            evs = [ev for _, ev in ctx.store.events(task, ["training_debug_image"])
                   if (metric is None or ev.get("metric") == metric) and (not variants or ev.get("variant") in variants)]
            by_iter: dict = {}
            for ev in evs:
                by_iter.setdefault(ev.get("iter", 0), []).append(ev)
            for it in sorted(by_iter, reverse=True)[:iters]:
                iterations.append({"iter": it, "events": by_iter[it]})
        out.append({"task": task, "metric": metric, "iterations": iterations})
    return {"metrics": out, "scroll_id": DONE}


@endpoint("events.get_scalar_metrics_and_variants")
def get_scalar_metrics_and_variants(ctx, body):
    out: dict = {}
    for metric, variant, *_ in ctx.store.scalar_rows(body.get("task") or ""):
        out.setdefault(metric, {})[variant] = {"name": variant}
    return {"metrics": out}


@endpoint("events.get_task_latest_scalar_values")
def get_task_latest_scalar_values(ctx, body):
    doc = load(ctx.store, "tasks", body.get("task"), "task")
    metrics: dict = {}
    for variants in (doc.get("last_metrics") or {}).values():
        for entry in variants.values():
            metrics.setdefault(entry["metric"], []).append(
                {"name": entry["variant"], "last_value": entry.get("value"), "last_100_value": entry.get("value")})
    return {"metrics": [{"name": k, "variants": v} for k, v in metrics.items()]}


@endpoint("events.get_task_metrics")
def get_task_metrics(ctx, body):
    types = _types(body.get("event_type")) or ["training_stats_scalar"]
    out = []
    for tid in as_list(body.get("tasks")):
        names = sorted({ev.get("metric") for _, ev in ctx.store.events(tid, types)})
        out.append({"task": tid, "metrics": names})
    return {"metrics": out}
