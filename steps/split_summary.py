"""Runs of the same settings on several test splits, summarised: mean and spread per setting.

On a table of a few thousand rows, one test split moves a score by more than most settings
do (hpc_data: 0.806 to 0.861 for the same config on three splits). A method comparison
therefore repeats each setting on several split seeds and compares the means, pairing the
settings split by split. Runs are grouped by every setting except ``preprocess.split_seed``
and the ``execution`` section, and by dataset content; a split counted twice (a rerun) keeps
its newest run.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from typing import Any

from steps.runs import NO_RESULT, config_changes

SPLIT_KEY = ("preprocess", "split_seed")
NOT_A_SETTING = "execution"  # where and how steps ran (queues, agents, caching), not what


def _without_split_seed(settings: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    section, key = SPLIT_KEY
    own = dict(settings.get(section) or {})
    seed = own.pop(key, 0)  # an omitted seed is the default, 0
    rest = {k: v for k, v in settings.items() if k != NOT_A_SETTING}
    return {**rest, section: own}, seed


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "sd": None, "min": None, "max": None}
    return {"mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values), "max": max(values)}


def split_groups(runs: list[tuple[dict, dict]]) -> list[dict]:
    """Group ``(row, settings)`` pairs (``steps.runs.run_row`` rows, newest first) that differ
    only in their split seed (and in ``execution``); runs without a test score are left out. Groups come in the
    order of their newest run, each with its runs in split-seed order and its test and cv
    mean, sd, min and max over splits."""
    groups: dict[str, dict] = {}
    for row, settings in runs:
        if row.get("test") is None:
            continue
        rest, seed = _without_split_seed(settings)
        key = json.dumps([rest, row.get("dataset_hash")], sort_keys=True, default=str)
        group = groups.setdefault(key, {"settings": rest, "dataset": row.get("dataset"),
                                        "metric": row.get("metric"), "by_split": {}})
        group["by_split"].setdefault(row.get("split"), {**row, "seed": seed})
    return [_summary(number, g) for number, g in enumerate(groups.values(), start=1)]


def _summary(number: int, group: dict) -> dict:
    runs = sorted(group["by_split"].values(), key=lambda r: r["seed"])
    return {"group": number, "dataset": group["dataset"], "metric": group["metric"],
            "settings": group["settings"], "splits": len(runs),
            "seeds": [r["seed"] for r in runs], "runs": [r["run"] for r in runs],
            "test_by_split": {r["split"]: r["test"] for r in runs},
            "test_by_run": {r["run"]: r["test"] for r in runs},
            "test": _spread([r["test"] for r in runs]),
            "cv": _spread([r["cv"] for r in runs if r.get("cv") is not None]),
            "winners": dict(Counter(r["winner"] for r in runs))}


def paired_over_splits(group: dict, reference: dict) -> dict | None:
    """``group`` - ``reference`` on the test splits both were scored on: the mean of the
    per-split differences with its spread, or None without a shared split."""
    shared = [s for s in group["test_by_split"] if s in reference["test_by_split"]]
    if not shared:
        return None
    diffs = [group["test_by_split"][s] - reference["test_by_split"][s] for s in shared]
    return {"reference": reference["group"], "splits": len(shared), **_spread(diffs)}


def contrasts(groups: list[dict]) -> list[dict]:
    """Each group against the first (newest) group of the same dataset, its ``reference``:
    ``what`` differs (its settings, or the dataset version) and ``paired``
    (``paired_over_splits``, None without a shared split). Groups of other datasets are not
    compared: their scores measure other tables."""
    references: dict = {}
    out = []
    for g in groups:
        first = references.setdefault(g["dataset"], g)
        if first is g:
            continue
        changes = config_changes(first["settings"], g["settings"])
        what = "; ".join(f"{k}: {json.dumps(a)} -> {json.dumps(b)}" for k, a, b in changes) \
            or "the dataset version"
        out.append({"group": g["group"], "reference": first["group"], "what": what,
                    "paired": paired_over_splits(g, first)})
    return out


def of_dataset(groups: list[dict], run_id: str) -> list[dict]:
    """The groups of the dataset that run ``run_id`` belongs to (all groups if none holds it)."""
    dataset = next((g["dataset"] for g in groups if run_id in g["runs"]), None)
    return [g for g in groups if g["dataset"] == dataset] if dataset is not None else groups


def paired_text(paired: dict | None) -> str:
    if paired is None:
        return "no test split in common: not paired"
    return (f"paired over {paired['splits']} shared split(s): mean difference {paired['mean']:+.4f}"
            + (f", sd {paired['sd']:.4f}" if paired["sd"] else "")
            + f", range {paired['min']:+.4f} to {paired['max']:+.4f}")


def _num(value, digits: int = 4) -> str:
    return NO_RESULT if value is None else f"{value:.{digits}f}"


def format_split_groups(groups: list[dict]) -> str:
    """A table of the groups, then what sets each apart from its dataset's newest group and
    its paired difference."""
    if not groups:
        return "no finished pipeline runs on this server yet; `tabpipe run` makes one"
    header = ["group", "dataset", "splits", "seeds", "metric", "test mean", "sd", "min-max",
              "cv mean", "winners"]
    lines = [[str(g["group"]), str(g["dataset"]), str(g["splits"]),
              ",".join(map(str, g["seeds"])), str(g["metric"]), _num(g["test"]["mean"]),
              _num(g["test"]["sd"]), f"{_num(g['test']['min'], 3)}-{_num(g['test']['max'], 3)}",
              _num(g["cv"]["mean"]),
              ", ".join(f"{w} x{n}" for w, n in g["winners"].items())] for g in groups]
    widths = [max(len(x) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header).rstrip()] + [fmt.format(*line).rstrip() for line in lines]
    for c in contrasts(groups):
        out += ["", f"group {c['group']} against group {c['reference']}: {c['what']}",
                "  " + paired_text(c["paired"])]
    if all(g["splits"] == 1 for g in groups):
        out += ["", "every setting has one test split; repeat it on others with "
                    "`tabpipe run --split-seeds 0 1 2`"]
    return "\n".join(out)
