"""Pipeline runs side by side: one row per run, and which config keys two runs differ in.

Built from what every run records anyway (its pipeline parameters and the small JSON
results the validate and publish steps return), so listing runs downloads no artifact.
"""
from __future__ import annotations

import json
from typing import Any

CONFIG_PREFIX = "Args/"
NOT_CONFIG = {"run_info"}  # bookkeeping, not a setting
NO_RESULT = "-"


def verdict(decision: dict | None, missing: str = NO_RESULT) -> str:
    """The publishing decision in the same words on every table, page, card and console
    line: ``published``, ``already the champion`` (a rerun of the published model) or
    ``kept unpublished``; ``missing`` when the publish step did not decide."""
    if not decision:
        return missing
    if decision.get("already_champion"):
        return "already the champion"
    return "published" if decision.get("publish") else "kept unpublished"


def headline(verdict_text: str) -> str:
    """The verdict as a run's summary and page lead with it: a publication stands out."""
    return verdict_text.upper() if verdict_text == "published" else verdict_text


def run_config(parameters: dict[str, str]) -> dict[str, Any]:
    """A run's settings by section, from its pipeline parameters (JSON per section)."""
    config = {}
    for key, raw in parameters.items():
        if not key.startswith(CONFIG_PREFIX) or key[len(CONFIG_PREFIX):] in NOT_CONFIG:
            continue
        try:
            config[key[len(CONFIG_PREFIX):]] = json.loads(raw)
        except (TypeError, json.JSONDecodeError):  # plain strings such as the project name
            config[key[len(CONFIG_PREFIX):]] = raw
    return config


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys; lists and scalars are leaves."""
    if not isinstance(value, dict):
        return {prefix: value}
    out = {}
    for key, inner in value.items():
        out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return out


def config_changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted key, value in a, value in b) for every key whose values differ; a key one
    run lacks (an older version of the config) shows as None there."""
    fa, fb = flatten(a), flatten(b)
    return [(key, fa.get(key), fb.get(key)) for key in sorted(fa.keys() | fb.keys())
            if fa.get(key) != fb.get(key)]


def run_row(run: dict, report: dict | None, decision: dict | None) -> dict:
    """One run's line: ``run`` holds id, created, status; ``report`` and ``decision`` are the
    validate and publish steps' returns (None when the run stopped before them)."""
    report = report or {}
    ci = report.get("ci") or [None, None]
    return {"run": run["id"], "created": str(run.get("created", ""))[:19], "status": run.get("status", ""),
            "dataset": report.get("dataset_name") or NO_RESULT,
            "dataset_hash": (report.get("dataset_hash") or "")[:12],
            "split": (report.get("split_id") or "")[:12], "metric": report.get("metric"),
            "winner": report.get("winner") or NO_RESULT, "cv": report.get("cv_score"),
            "test": report.get("score"), "ci_low": ci[0], "ci_high": ci[1],
            "gates": None if not report else bool(report.get("gates_passed")),
            "selected_by": report.get("selected_by") or NO_RESULT,
            "leakage": list(report.get("leakage_findings") or []),
            "per_class_f1": report.get("per_class_f1") or {},
            "family_scores": report.get("family_scores") or {},
            "data_changes": list(report.get("data_changes") or []),
            "decision": verdict(decision), "model_id": (decision or {}).get("model_id") or ""}


def _number(value) -> str:
    return NO_RESULT if value is None else f"{value:.4f}"


def format_runs(rows: list[dict]) -> str:
    """A fixed-width table, newest first as given; scores of different test splits are
    not comparable, so the split is a column."""
    if not rows:
        return "no pipeline runs on this server yet; `tabpipe run` makes one"
    header = ["run", "created", "status", "dataset", "split", "winner", "metric", "cv", "test",
              "95% CI", "decision"]
    lines = [[r["run"], r["created"], r["status"], r["dataset"], r["split"] or NO_RESULT,
              r["winner"], r["metric"] or NO_RESULT, _number(r["cv"]), _number(r["test"]),
              NO_RESULT if r["ci_low"] is None else f"{r['ci_low']:.3f}-{r['ci_high']:.3f}",
              r["decision"]] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    text = [fmt.format(*header).rstrip()] + [fmt.format(*map(str, line)).rstrip() for line in lines]
    splits = {r["split"] for r in rows if r["split"]}
    if len(splits) > 1:
        text.append(f"note: {len(splits)} different test splits; compare test scores only "
                    "between runs on the same split")
    return "\n".join(text)


def _value(v) -> str:
    return json.dumps(v) if not isinstance(v, str) else v


def _change(a, b):
    """b - a, or None when either is missing."""
    return None if a is None or b is None else b - a


def comparison(row_a: dict, row_b: dict, changes: list[tuple[str, Any, Any]]) -> dict:
    """Runs A and B as data: both rows, the settings that differ, B - A, comparability."""
    return {"a": row_a, "b": row_b,
            "changes": [{"key": k, "a": va, "b": vb} for k, va, vb in changes],
            "delta": {key: _change(row_a[key], row_b[key]) for key in ("cv", "test")},
            "per_class_f1": _per_class(row_a, row_b),
            "families": _per_family(row_a, row_b),
            "same_test_split": not (row_a["split"] and row_b["split"]
                                    and row_a["split"] != row_b["split"])}


def _per_class(row_a: dict, row_b: dict) -> list[dict]:
    """Test F1 of each class both runs know (runs recorded before this lack it): where a
    change in the headline score came from."""
    a, b = row_a.get("per_class_f1") or {}, row_b.get("per_class_f1") or {}
    return [{"class": c, "a": a[c], "b": b[c], "delta": b[c] - a[c]} for c in a if c in b]


def _per_family(row_a: dict, row_b: dict) -> list[dict]:
    """Out-of-fold and test scores of every family (and the blend) in either run, B's order
    first: a setting can help one family and hurt another under an unchanged winner. A
    family only one run trained has None on the other side."""
    a, b = row_a.get("family_scores") or {}, row_b.get("family_scores") or {}
    out = []
    for family in dict.fromkeys([*b, *a]):
        sa, sb = a.get(family) or {}, b.get(family) or {}
        out.append({"family": family, "cv_a": sa.get("cv"), "cv_b": sb.get("cv"),
                    "cv_delta": _change(sa.get("cv"), sb.get("cv")), "test_a": sa.get("test"),
                    "test_b": sb.get("test"), "test_delta": _change(sa.get("test"), sb.get("test"))})
    return out


def gain_text(gain: dict | None) -> str:
    """A paired gain (``steps.run_pairs.paired_runs``' entries) in a few words, or ''."""
    if not gain:
        return ""
    return f"95% CI {gain['ci_low']:+.4f} to {gain['ci_high']:+.4f}, {gain['verdict']}"


def _paired_lines(compared: dict) -> list[str]:
    """B - A of the winners, paired on the same test rows (``steps.run_pairs``), or why not."""
    paired, note = compared.get("paired"), compared.get("paired_note")
    if not paired:
        return [f"paired test comparison: {note}"] if note else []
    unit = " (cost saved per row)" if paired["in"] == "expected_cost" else ""
    return [f"paired on the same {paired['rows']} test rows, B - A in {paired['in']}{unit}: "
            f"{paired['winner']['delta']:+.4f} ({gain_text(paired['winner'])})"]


def _family_lines(compared: dict) -> list[str]:
    rows = compared.get("families") or []
    if not rows:
        return []
    width = max(len(r["family"]) for r in rows)
    gains = (compared.get("paired") or {}).get("families") or {}

    def pair(r, key):
        d = r[f"{key}_delta"]
        return (f"{_number(r[f'{key}_a'])} -> {_number(r[f'{key}_b'])}"
                + ("" if d is None else f" ({d:+.4f})"))
    head = f"  {'':<{width}}  {'cv':<29}{'test':<29}" + ("test B - A, paired" if gains else "")
    return ["per family, A -> B (B - A):", head.rstrip()] + [
        f"  {r['family']:<{width}}  {pair(r, 'cv'):<29}{pair(r, 'test'):<29}"
        f"{gain_text(gains.get(r['family']))}".rstrip() for r in rows]


def _class_lines(compared: dict) -> list[str]:
    rows = compared["per_class_f1"]
    if not rows:
        return []
    width = max(len(str(r["class"])) for r in rows)
    return ["test F1 per class:"] + [
        f"  {str(r['class']):<{width}}  A: {r['a']:.4f}   B: {r['b']:.4f}   B - A: {r['delta']:+.4f}"
        for r in rows]


def _data_lines(row_a: dict, row_b: dict) -> list[str]:
    """B's recorded changes against its parent version, when the two runs saw different data."""
    if row_a["dataset_hash"] == row_b["dataset_hash"] or not row_b["data_changes"]:
        return []
    return ["B's dataset version, against its parent:"] + [f"  {line}" for line in row_b["data_changes"]]


def format_changes(compared: dict) -> str:
    """What differs between run A and run B (``comparison``): settings first, then results."""
    row_a, row_b, changes = compared["a"], compared["b"], compared["changes"]
    out = [f"A = {row_a['run']}  ({row_a['created']})", f"B = {row_b['run']}  ({row_b['created']})", ""]
    if not compared["same_test_split"]:  # first: every test difference below depends on it
        out += ["NOTE: the runs were scored on different test splits: their test scores are not "
                "comparable (for settings over splits: tabpipe runs --splits)", ""]
    if changes:
        width = max(len(c["key"]) for c in changes)
        out.append("settings that differ:")
        out += [f"  {c['key']:<{width}}  A: {_value(c['a'])}   B: {_value(c['b'])}" for c in changes]
    else:
        out.append("same settings")
    out.append("")
    for label, key in (("winner", "winner"), ("chosen by", "selected_by"),
                       ("dataset hash", "dataset_hash"), ("test split", "split"),
                       ("decision", "decision")):
        out.append(f"{label + ':':<14} A: {row_a[key] or NO_RESULT}   B: {row_b[key] or NO_RESULT}")
    for label, key in (("cv score", "cv"), ("test score", "test")):
        d = compared["delta"][key]
        out.append(f"{label + ':':<14} A: {_number(row_a[key])}   B: {_number(row_b[key])}"
                   + ("" if d is None else f"   B - A: {d:+.4f}"))
    out += _paired_lines(compared)
    out += _class_lines(compared) + _family_lines(compared) + _data_lines(row_a, row_b)
    for label, row in (("A", row_a), ("B", row_b)):
        out += [f"possible leakage in {label}: {line}" for line in row.get("leakage", [])]
    return "\n".join(out)
