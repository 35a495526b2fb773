"""A model card: what a registered model is, what it was trained and scored on, how well it
does with what uncertainty, and where it is weak, in Markdown for the model registry's
description and the run's folder. Rendered from the validation report and the publishing
decision only (Mitchell et al., "Model Cards for Model Reporting", 2019, trimmed to what
the pipeline measures)."""
from __future__ import annotations

from typing import Any, Iterable

from steps.metric_names import metric_meaning
from steps.runs import verdict as decision_verdict

DECISION_HEADING = "## Publishing decision"
TITLE = "# Model card: "


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _table(rows: Iterable[dict], columns: list[str]) -> list[str]:
    rows = list(rows)
    if not rows:
        return []
    return (["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            + ["| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |" for r in rows] + [""])


def _bullets(lines: Iterable[str]) -> list[str]:
    out = [f"- {line}" for line in lines]
    return out + [""] if out else []


def _decision_rule(report: dict) -> str:
    if report.get("cost_decisions"):
        return "least expected misclassification cost on calibrated probabilities"
    if report.get("threshold") is not None:
        return (f"predicts {report.get('positive_label')!s} when its calibrated probability is "
                f">= {report['threshold']:.3f} (tuned{_tuned_for(report)} on out-of-fold "
                "training predictions)")
    return "the most probable class"


def _tuned_for(report: dict) -> str:
    return f" for {report['threshold_for']}" if report.get("threshold_for") else ""


def _costs(report: dict) -> list[str]:
    if not report.get("costs"):
        return []
    cost = (report.get("metrics") or {}).get("expected_cost")
    ci = report.get("cost_ci") or [None, None]
    priced = "; ".join(f"{t} as {p}: {c:g}" for t, row in report["costs"].items()
                       for p, c in row.items())
    return [f"- **Misclassification costs**: {priced} (other errors 1)"
            + (f"; expected cost per row {cost:.4f}" if cost is not None else "")
            + (f" (95% CI {ci[0]:.4f} to {ci[1]:.4f})" if ci[0] is not None else "")]


def _summary(report: dict) -> list[str]:
    metric, (low, high) = report["metric"], report["ci"]
    return [f"- **Model**: {report['winner']}"
            + (f" (blend: {', '.join(f'{k} {v:.2f}' for k, v in report['members'].items())})"
               if report.get("members") else ""),
            f"- **Task**: predict `{report.get('target', 'the target')}` among "
            f"{', '.join(map(str, report.get('classes', [])))}"
            + (f" (ordered {' < '.join(report['class_order'])})" if report.get("class_order") else ""),
            f"- **Test {metric}**: {report['score']:.4f} (95% bootstrap CI {low:.4f} to {high:.4f}); "
            f"out of fold {report['cv_score']:.4f}; chosen by {report.get('selected_by', 'out-of-fold score')}",
            f"- **Decisions**: {_decision_rule(report)}", *_costs(report), *_sets(report),
            f"- **Quality gates**: {'passed' if report['gates_passed'] else 'FAILED'}", ""]


def _sets(report: dict) -> list[str]:
    sets = report.get("prediction_sets")
    if not sets:
        return []
    return [f"- **Prediction sets**: {sets['note']}; `tabpipe predict` writes each row's set "
            f"(column `prediction_set`)"]


def _data(report: dict) -> list[str]:
    out = ["## Data", "",
           f"- Dataset `{report.get('dataset_name')}` version `{report.get('dataset_id')}` "
           f"(sha256 `{str(report.get('dataset_hash'))[:16]}`), parent "
           f"`{report.get('parent_dataset_id') or 'none'}`",
           f"- {report.get('train_rows')} training rows; frozen test split `{str(report.get('split_id'))[:12]}`",
           ""]
    if report.get("data_changes"):
        out += ["Changes since the parent version:", ""] + _bullets(report["data_changes"])
    return out


def _family_scores(report: dict) -> dict:
    """Each leaderboard row's out-of-fold score as ranked, and its test score."""
    import pandas as pd
    from steps.leaderboard import family_scores
    rows = report.get("leaderboard") or []
    return family_scores(pd.DataFrame(rows), report["metric"]) if rows else {}


def _evaluation(report: dict) -> list[str]:
    metrics = report.get("metrics") or {}
    baseline = report.get("baseline") or {}
    rows = [{"metric": k, "model": v, "most-frequent baseline": baseline.get(k),
             "measures": metric_meaning(k, report.get("positive_label"), report.get("beta") or 1.0)}
            for k, v in sorted(metrics.items()) if isinstance(v, (int, float))]
    board = [{"family": f, **scores} for f, scores in _family_scores(report).items()]
    return (["## Evaluation (frozen test split)", ""]
            + _table(rows, ["metric", "model", "most-frequent baseline", "measures"])
            + _table(report.get("per_class") or [], ["class", "precision", "recall", "f1", "support"])
            + (["Every family tried (out of fold, as ranked, and test " + report["metric"] + "):",
                ""]
               + _table(board, ["family", "cv", "test"]) if board else [])
            + _bullets(report.get("gate_reasons") or []))


def _limitations(report: dict) -> list[str]:
    lines = [f"possible leakage: {line}" for line in report.get("leakage_findings") or []]
    lines += [f"weaker on {s['column']} = {s['slice']}: test error {s['error_rate']:.3f} "
              f"against {s['overall_error']:.3f} overall ({s['rows']} rows)"
              for s in report.get("slices") or [] if s.get("worse_than_overall")]
    curve = report.get("learning_curve")
    if curve:
        lines.append(f"learning curve: {curve['verdict']}")
    if report.get("over_time"):
        lines.append(f"over time: {report['over_time']['note']}")
    low, high = report["ci"]
    lines.append(f"the test split measures {report['metric']} to within about "
                 f"±{(high - low) / 2:.3f}; smaller differences between models are noise")
    lines += [f"note: {line}" for line in report.get("data_notes") or []]
    return ["## Limitations and caveats", ""] + _bullets(lines)


def render_model_card(report: dict, title: str | None = None) -> str:
    """The card from a validation report (``pipelines.validate_task``'s), before any decision."""
    lines = [TITLE + (title or f"{report.get('dataset_name', '')} {report['winner']}"),
             "", *_summary(report), *_data(report), *_evaluation(report), *_limitations(report)]
    return "\n".join(lines).rstrip() + "\n"


def with_decision(card: str, decision: dict, run_info: dict | None = None) -> str:
    """The card with the publishing decision and what reproduces the run appended. ``card``
    may carry text before its title (the registry prepends upload notes): it is dropped."""
    card = card[card.find(TITLE):] if TITLE in card else card
    verdict = decision_verdict(decision)
    lines = [DECISION_HEADING, "", f"Model `{decision.get('model_id')}` "
             f"(`{decision.get('name')}`): **{verdict}**.", ""] + _bullets(decision.get("reasons", []))
    info = run_info or {}
    if info:
        lines += ["## Reproducing", ""] + _bullets(f"{k}: `{v}`" for k, v in sorted(info.items()))
    return card.split(DECISION_HEADING)[0].rstrip() + "\n\n" + "\n".join(lines).rstrip() + "\n"
