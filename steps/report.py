"""A pipeline run as one self-contained HTML page: the decision, the leaderboard, the test
metrics and every figure the steps reported, for looking at a run without a web UI (the
embedded server has none). Pure rendering: the wiring layer gathers the pieces.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Iterable

from steps.metric_names import metric_meaning
from steps.runs import headline, verdict as decision_verdict

GAIN_HEADER = "winner − this (paired 95% CI)"

LEADERBOARD_COLUMNS = ("rank", "family", "cv_score", "cv_expected_cost", "{metric}", "ci_low", "ci_high",
                       GAIN_HEADER, "balanced_accuracy", "roc_auc", "expected_cost", "threshold",
                       "test_rows")

SLICE_COLUMNS = ("column", "slice", "rows", "error_rate", "ci_low", "ci_high", "overall_error",
                 "worse_than_overall", "expected_cost")

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}
.ok{color:#176f2c}.no{color:#a33}.figs{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;max-width:560px}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}code{background:#f4f4f4;padding:0 .2em}
"""


@dataclass(frozen=True)
class Figure:
    step: str
    title: str  # the reported plot title, e.g. "test/confusion_matrix"
    path: str  # relative to the page


def _e(value: Any) -> str:
    return html.escape(str(value))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"<td>{value:.4f}</td>"
    if isinstance(value, (int, type(None))) and not isinstance(value, bool):
        return f"<td>{'' if value is None else value}</td>"
    return f'<td class="l">{_e(value)}</td>'


def table(rows: Iterable[dict], columns: Iterable[str]) -> str:
    rows, columns = list(rows), [c for c in columns]
    present = [c for c in columns if any(c in r for r in rows)]
    head = "".join(f"<th>{_e(c)}</th>" for c in present)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in present) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _decision(decision: dict | None) -> str:
    if not decision:
        return "<p>No publishing decision (the publish step did not run).</p>"
    verdict = decision_verdict(decision)
    css = "no" if verdict == "kept unpublished" else "ok"
    verdict = headline(verdict)
    reasons = "".join(f"<li>{_e(r)}</li>" for r in decision.get("reasons", []))
    return (f'<p>Model <b>{_e(decision.get("name"))}</b> <code>{_e(decision.get("model_id"))}'
            f'</code>: <b class="{css}">{verdict}</b></p><ul>{reasons}</ul>')


def _lineage(report: dict) -> str:
    """Which data the scores are about: the dataset version, its hash, the frozen split."""
    if not report.get("dataset_id"):
        return ""
    return (f"<p>Data: {_e(report.get('dataset_name') or 'dataset')} version "
            f"<code>{_e(report['dataset_id'])}</code> (sha256 {_e(str(report.get('dataset_hash'))[:12])}), "
            f"{_e(report.get('train_rows'))} training rows, frozen test split "
            f"<code>{_e(str(report.get('split_id'))[:12])}</code></p>" + _data_changes(report)
            + _leakage(report))


def _leakage(report: dict) -> str:
    out = ""
    if report.get("leakage_findings"):
        out += ('<p class="no"><b>Possible leakage</b> (the scores below may overstate new '
                "data):</p>" + _items(report["leakage_findings"]))
    if report.get("data_notes"):
        out += "<p>Notes on the data:</p>" + _items(report["data_notes"])
    return out


def _items(lines) -> str:
    return "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def _data_changes(report: dict) -> str:
    parent, lines = report.get("parent_dataset_id"), report.get("data_changes")
    if not parent or not lines:
        return ""
    return f"<p>Changes since the parent version <code>{_e(parent)}</code>:</p>" + _items(lines)


def _calibration(report: dict) -> str:
    cal = report.get("calibration")
    if not cal:
        return ""
    return (f"<p>Probabilities calibrated ({_e(cal['method'])}, fitted on out-of-fold training "
            f"predictions): out-of-fold log loss {cal['oof_log_loss_before']:.4f} &rarr; "
            f"{cal['oof_log_loss_after']:.4f}; "
            f"{_decisions_note(cal['method'], report)}.</p>")


def _costs(report: dict) -> str:
    """The misclassification costs, and what the winner's decisions cost on the test rows."""
    costs, metrics = report.get("costs"), report.get("metrics") or {}
    if not costs or "expected_cost" not in metrics:
        return ""
    listed = ", ".join(f"{_e(t)}&rarr;{_e(p)} {c:g}" for t, row in costs.items()
                       for p, c in row.items())
    ci = report.get("cost_ci")
    interval = f" (95% CI {ci[0]:.4f}-{ci[1]:.4f})" if ci else ""
    base = (report.get("baseline") or {}).get("expected_cost")
    versus = f" against {base:.4f} for the cheapest constant answer" if base is not None else ""
    how = ("decided for the least expected cost on calibrated probabilities"
           if report.get("cost_decisions") else "decided without the costs")
    return (f"<p>Misclassification costs (true&rarr;predicted; other errors 1): {listed}. "
            f"Test expected cost per row <b>{metrics['expected_cost']:.4f}</b>{interval}"
            f"{versus}; {how}.</p>")


def _decisions_note(method: str, report: dict) -> str:
    if report.get("cost_decisions"):
        return "decisions minimise the expected misclassification cost under them"
    if method == "temperature_bias":
        return "decisions are the uncalibrated model's (the class biases are undone)"
    if report.get("threshold") is None:
        return "decisions take the most probable class after calibration"
    tuned_for = f" for {_e(report['threshold_for'])}" if report.get("threshold_for") else ""
    return (f"decisions follow the threshold tuned{tuned_for} on the calibrated values: "
            f"{_e(str(report.get('positive_label')))} when its probability is &ge; "
            f"{report['threshold']:.3f}")


def _learning(report: dict) -> str:
    curve = report.get("learning_curve")
    if not curve:
        return ""
    points = ", ".join(f"{p['train_rows']} rows {p['score_mean']:.3f}" for p in curve["points"])
    note = f" ({_e(curve['note'])})" if curve.get("note") else ""
    return (f"<p>Learning curve of the winner on training rows ({_e(points)}): "
            f"<b>{_e(curve['verdict'])}</b>{note}.</p>")


def _over_time(report: dict) -> str:
    over = report.get("over_time")
    return f"<p>Out of time: {_e(over['note'])}.</p>" if over else ""


def _sets(report: dict) -> str:
    sets = report.get("prediction_sets")
    return f"<p>Prediction sets: {_e(sets['note'])}.</p>" if sets else ""


def _with_gain(row: dict) -> dict:
    """The winner's paired lead over this family, in one readable cell."""
    gain, low, high = (row.get(k) for k in ("winner_gain", "winner_gain_ci_low",
                                             "winner_gain_ci_high"))
    if not all(isinstance(v, (int, float)) and v == v for v in (gain, low, high)):
        return row
    verdict = row.get("winner_gain_verdict") or ""
    unit = " cost saved" if str(row.get("winner_gain_in", "")).startswith("cost") else ""
    return {**row, GAIN_HEADER: f"{gain:+.4f}{unit} [{low:+.4f}, {high:+.4f}] {verdict}".strip()}


def _validation(report: dict | None) -> str:
    if not report:
        return "<p>No validation report (the validate step did not complete).</p>"
    metric = report["metric"]
    lo, hi = report["ci"]
    gates = '<b class="ok">passed</b>' if report["gates_passed"] else '<b class="no">FAILED</b>'
    chosen = _e(report.get("selected_by") or "out of fold")
    parts = [f"<p>Winner <b>{_e(report['winner'])}</b> (chosen by {chosen}): test {_e(metric)} "
             f"<b>{report['score']:.4f}</b> (95% CI {lo:.4f}-{hi:.4f}), out-of-fold "
             f"{report['cv_score']:.4f}; quality gates {gates}</p>",
             "<ul>" + "".join(f"<li>{_e(r)}</li>" for r in report.get("gate_reasons", [])) + "</ul>",
             _lineage(report), _calibration(report), _costs(report), _learning(report),
             _over_time(report), _sets(report),
             "<h3>Leaderboard</h3>",
             table([_with_gain(r) for r in report.get("leaderboard", [])],
                   [c.format(metric=metric) for c in LEADERBOARD_COLUMNS]),
             "<p>winner − this: how much the winner beats that family on the same test rows, "
             "with a paired bootstrap 95% interval; within noise means the test split cannot "
             "tell the two apart, no difference that every resample scores them alike.</p>"]
    scalars = {k: v for k, v in (report.get("metrics") or {}).items() if isinstance(v, (int, float))}
    baseline = report.get("baseline") or {}
    rows = [{"metric": k, "winner": float(v),
             **({"most-frequent baseline": float(baseline[k])} if isinstance(baseline.get(k), (int, float)) else {}),
             "measures": metric_meaning(k, report.get("positive_label"), report.get("beta") or 1.0)}
            for k, v in sorted(scalars.items())]
    parts += ["<h3>Test metrics</h3>",
              table(rows, ["metric", "winner", "most-frequent baseline", "measures"]),
              "<h3>Per class</h3>", table(report.get("per_class", []),
                                          ["class", "precision", "recall", "f1", "support"])]
    if report.get("slices"):
        parts += ["<h3>Worst slices</h3><p>Test error rate within slices of each column; "
                  "<i>worse_than_overall</i> only when the whole interval (simultaneous over all "
                  "slices) lies above the overall error rate.</p>",
                  table(report["slices"], SLICE_COLUMNS)]
    return "".join(parts)


def render_report(run: dict, steps: list[dict], figures: list[Figure],
                  validation: dict | None, decision: dict | None) -> str:
    """``run``: id, name, project, created; ``steps``: name, status, task_id per step."""
    by_step: dict[str, list[Figure]] = {}
    for fig in figures:
        by_step.setdefault(fig.step, []).append(fig)
    fig_html = "".join(
        f"<h3>{_e(step)}</h3><div class='figs'>" + "".join(
            f'<figure><img src="{_e(f.path)}" alt="{_e(f.title)}" loading="lazy">'
            f"<figcaption>{_e(f.title)}</figcaption></figure>" for f in figs) + "</div>"
        for step, figs in by_step.items()) or "<p>No figures were reported.</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(run.get('name'))} "
            f"{_e(run.get('id'))}</title><style>{STYLE}</style></head><body>"
            f"<h1>{_e(run.get('name'))} <small><code>{_e(run.get('id'))}</code></small></h1>"
            f"<p>Project {_e(run.get('project'))}; started {_e(run.get('created'))}</p>"
            f"<h2>Decision</h2>{_decision(decision)}"
            f"<h2>Validation</h2>{_validation(validation)}"
            + ("<p>The model card (Markdown, as in the registry's description): "
               "<a href='model_card.md'>model_card.md</a></p>" if validation else "") +
            f"<h2>Steps</h2>{table(steps, ['name', 'status', 'task_id'])}"
            f"<h2>Figures</h2>{fig_html}</body></html>")
