"""Validation step: every family's best model on the frozen test split, a leaderboard,
the winner's plots, quality gates, and the winner registered as the candidate model."""
from __future__ import annotations

import json
import logging

import pandas as pd

from pipelines import tracking
from pipelines.candidate import register_candidate
from pipelines.validate_candidates import (calibrated, cv_forward, ensemble_candidate,
                                          load_family, on_rows, selection_objective,
                                          served_oof_proba, served_wrapper, shared_rows,
                                          threshold_label, threshold_rule)
from pipelines.validate_outputs import (learning_curve_of, prediction_sets_of, report_outputs,
                                        report_threshold_curve, scores_over_time,
                                        upload_test_predictions)
from pipelines.datastore import fetch_frame, fetch_json
from steps.config import EvaluateConfig
from steps.ensemble import metric_objective
from steps.scoring import ScoringSpec

log = logging.getLogger(__name__)


# What the step returns to the controller (small: the run summary, `runs` and publishing read
# it); the full report is the task's validation_report artifact.
RETURNED_KEYS = (
    "winner", "metric", "score", "cv_score", "members", "ci", "gates_passed", "gate_reasons",
    "split_id", "dataset_id", "dataset_hash", "dataset_name", "threshold", "threshold_for",
    "positive_label", "calibration", "beta", "costs", "cost_decisions", "cost_ci", "selected_by",
    "leakage_findings", "per_class_f1", "data_changes", "data_notes", "parent_dataset_id",
    "family_scores", "over_time", "period", "prediction_sets")

def _positive_label(recipe: dict, y_train: pd.Series) -> str | None:
    if len(recipe["classes"]) != 2:
        return None
    return recipe.get("positive_label") or str(y_train.value_counts().idxmin())


def _decision_rule(candidate: dict, positive: str | None, cfg: EvaluateConfig):
    """(model, threshold, calibration): probabilities calibrated on out-of-fold *training*
    predictions, then (binary) the decision threshold tuned on the calibrated values."""
    from steps.calibration import method_name
    from steps.evaluation import ThresholdedClassifier, tune_threshold
    from sklearn.metrics import log_loss
    estimator, oof, calibration = candidate["estimator"], candidate["oof"], None
    if cfg.calibration != "none":
        before = float(log_loss(oof["y"], oof["proba"], labels=oof["classes"]))
        estimator, proba = calibrated(candidate, positive, cfg)
        oof = dict(oof, proba=proba)
        calibration = {"method": method_name(cfg.calibration, positive),
                       "oof_log_loss_before": before,
                       "oof_log_loss_after": float(log_loss(oof["y"], proba, labels=oof["classes"]))}
    if cfg.deciding_costs:  # the least expected cost replaces a tuned threshold
        from steps.error_costs import with_cost_decisions
        return with_cost_decisions(estimator, cfg.deciding_costs), None, calibration
    if positive is None or not cfg.threshold_tuning:
        return estimator, None, calibration
    pos, (metric, beta) = oof["classes"].index(positive), threshold_rule(cfg)
    tuned = tune_threshold((oof["y"] == positive).to_numpy(), oof["proba"][:, pos],
                           beta=beta, metric=metric)
    return ThresholdedClassifier(estimator, positive, tuned.threshold), tuned.threshold, calibration


def _evaluate(final, threshold, data: dict, cfg: EvaluateConfig, rows: int | None = None,
              figures: bool = True):
    from steps.evaluation import evaluate_model, stratified_sample
    X_test, y_test = stratified_sample(data["X_test"], data["y_test"], rows or len(data["y_test"]))
    return evaluate_model(final, X_test, y_test, cfg, threshold=threshold, figures=figures,
                          positive_label=data["positive"], X_train=data["X_train"],
                          y_train=data["y_train"])


def _row(name: str, candidate: dict, result, threshold, test_rows: int) -> dict:
    return {**_cv_row(name, candidate), "model_id": candidate["model_id"], **result.metrics,
            "ci_low": result.ci[0], "ci_high": result.ci[1], "threshold": threshold,
            "test_rows": test_rows}


def _cv_row(name: str, candidate: dict) -> dict:
    ranked = {k: candidate[k] for k in ("cv_selection", "cv_expected_cost") if k in candidate}
    return {"family": name, "cv_score": candidate["cv"], **ranked}


def _selection(candidates: dict, data: dict, cfg: EvaluateConfig) -> tuple[str, bool, int | None]:
    """(out-of-fold column the winner is ranked by, whether lower is better, the number of
    shared rows it is scored on or None: each candidate's own). Candidates tuned on different
    rows (row caps) are ranked on the rows they all predicted; binary candidates served with a
    tuned threshold, at thresholds cross-fitted on those rows (``steps.served_rule``). Under
    misclassification costs with cost decisions, the model served decides by cost, so the
    candidates compete on the out-of-fold cost of those decisions (after calibration)."""
    shared = shared_rows(candidates)

    def ranked_oof(candidate: dict, proba) -> dict:
        oof = dict(candidate["oof"], proba=proba)
        return oof if shared is None else on_rows(oof, shared)
    n_shared = None if shared is None else len(shared)
    if cfg.deciding_costs:
        return _cost_selection(candidates, data, cfg, ranked_oof), True, n_shared
    objective = selection_objective(cfg, data["positive"])
    if objective is None and shared is None:
        return "cv_score", False, None
    objective = objective or metric_objective(cfg.metric, cfg.beta, data["positive"])
    for candidate in candidates.values():
        oof = ranked_oof(candidate, candidate["oof"]["proba"])
        candidate["cv_selection"] = objective.score(oof["y"], oof["proba"], oof["classes"])
    return "cv_selection", False, n_shared


def _cost_selection(candidates: dict, data: dict, cfg: EvaluateConfig, ranked_oof) -> str:
    from steps.error_costs import least_cost_expected_cost
    for candidate in candidates.values():
        proba = candidate["oof"]["proba"]
        if cfg.calibration != "none":
            proba = calibrated(candidate, data["positive"], cfg)[1]
        oof = ranked_oof(candidate, proba)
        candidate["cv_expected_cost"] = least_cost_expected_cost(
            oof["proba"], oof["y"], oof["classes"], cfg.deciding_costs)
    return "cv_expected_cost"


def _predictions(result, test_rows: int, n: int):
    """(decisions, probabilities, classes) for the paired gains, if every test row was scored."""
    if test_rows < n or result.y_pred is None:
        return None
    return result.y_pred, result.proba, list(result.per_class.index)


def _score_runner_up(name: str, candidate: dict, data: dict, cfg: EvaluateConfig) -> dict:
    """Leaderboard row of a family that did not win: metrics and CI, no figures, and a
    stratified sample of the test split when scoring all of it would be slow (k-NN)."""
    from steps.evaluation import affordable_test_rows
    final, threshold, _ = _decision_rule(candidate, data["positive"], cfg)
    rows, per_row = affordable_test_rows(final, data["X_test"])
    n = len(data["y_test"])
    if rows < n:
        log.warning("%s: scoring all %d test rows would take ~%.0fs; its leaderboard row uses a "
                    "stratified %d (the winner is always scored on every row)",
                    name, n, per_row * n, rows)
    light = cfg.model_copy(update={"permutation_repeats": 0})
    result = _evaluate(final, threshold, data, light, rows=rows, figures=False)
    return _row(name, candidate, result, threshold, min(rows, n)), _predictions(result, rows, n)


def _selected_by(by_cost: bool, threshold, metric: str, forward: bool = False,
                 shared: int | None = None) -> str:
    chained = (" (forward-chaining CV: each fold learnt only from earlier periods; the earliest "
               "period is not scored)") if forward else ""
    if shared:  # row caps: the families predicted different rows out of fold
        chained += f" on the {shared} training rows every candidate predicted"
    if by_cost:
        return f"out-of-fold expected cost{chained}"
    if threshold is not None:  # steps.served_rule: judged by the rule it is served with
        return (f"out-of-fold {metric} at decision thresholds tuned on the other folds{chained}, "
                "as the tuned threshold is served")
    return f"out-of-fold {metric}{chained}"


def load_data(prepared_id: str) -> tuple[dict, dict]:
    recipe = fetch_json(prepared_id, "recipe.json", alias="prepared_dataset")
    target = recipe["target"]
    train, test = fetch_frame(prepared_id, "train.parquet"), fetch_frame(prepared_id, "test.parquet")
    from steps.splits import period_bounds, sortable_times, split_columns
    from steps.time_folds import fold_groups
    X_train, groups = fold_groups(train.drop(columns=[target]), recipe)  # not features
    data = {"X_train": X_train, "y_train": train[target].astype(str),
            "X_test": test.drop(columns=[target, *split_columns(recipe)]),
            "y_test": test[target].astype(str)}
    data["positive"] = _positive_label(recipe, data["y_train"])
    data["groups"] = groups
    if recipe.get("time_column"):  # the winner is also scored period by period
        data["test_times"] = sortable_times(test[recipe["time_column"]], recipe["time_column"])
        data["period"] = period_bounds(train, test, recipe["time_column"])
    return recipe, data


def _clean_model_ids(model_ids: dict[str, str]) -> dict[str, str]:
    # A run cloned in the web UI with fewer families keeps the original validate script, whose
    # baked-in defaults still name the dropped families' outputs as unresolved "${...}" refs.
    model_ids = {k: v for k, v in model_ids.items() if v and not str(v).startswith("${")}
    if "models" in model_ids:  # the budgeted training step returns {family: model_id}
        model_ids.update({f"model_{f}": m for f, m in json.loads(model_ids.pop("models")).items()})
    if not model_ids:
        raise ValueError("validate received no trained model IDs")
    return {k.removeprefix("model_"): v for k, v in sorted(model_ids.items())}


def run_validate(prepared_id: str, evaluate_cfg: str, project: str,
                 model_ids: dict[str, str]) -> tuple[str, str]:
    from steps.evaluation import baseline_metrics, check_gates, leaderboard, select_winner
    from steps.ensemble import ENSEMBLE
    from steps.leaderboard import add_winner_gains, family_scores

    cfg = EvaluateConfig.model_validate(json.loads(evaluate_cfg))
    task = tracking.current_task()
    recipe, data = load_data(prepared_id)
    candidates = {f: load_family(m, data, cfg) for f, m in _clean_model_ids(model_ids).items()}
    blend = ensemble_candidate(candidates, data, cfg)
    if blend is not None:
        candidates[ENSEMBLE] = blend
    # the winner is picked out of fold, before any test row is scored
    rank_by, by_cost, shared = _selection(candidates, data, cfg)
    winner = select_winner(leaderboard([_cv_row(f, c) for f, c in candidates.items()],
                                       "cv_score", rank_by=rank_by, lower_is_better=by_cost))
    meta = candidates[winner]["meta"]
    final, threshold, calibration = _decision_rule(candidates[winner], data["positive"], cfg)
    if calibration:
        log.info("%s probabilities calibrated (%s): out-of-fold log loss %.4f -> %.4f", winner,
                 calibration["method"], calibration["oof_log_loss_before"],
                 calibration["oof_log_loss_after"])
    result = _evaluate(final, threshold, data, cfg)  # the winner's full report, every test row
    served_oof = dict(candidates[winner]["oof"],
                      proba=served_oof_proba(candidates[winner], data["positive"], cfg))
    sets = prediction_sets_of(served_oof, final, result, data, cfg, recipe.get("class_order"),
                              candidates[winner],
                              served_wrapper(candidates[winner], data["positive"], cfg))
    over_time = scores_over_time(result, data, cfg, candidates[winner]["cv"], sets)
    curve = learning_curve_of(candidates[winner], data, cfg)
    n_test = len(data["y_test"])
    rows = [_row(winner, candidates[winner], result, threshold, n_test)]
    predictions = {winner: _predictions(result, n_test, n_test)}
    for family, candidate in candidates.items():
        if family != winner:
            row, predictions[family] = _score_runner_up(family, candidate, data, cfg)
            rows.append(row)
    rows = add_winner_gains(rows, predictions, winner, data["y_test"], cfg.metric,
                            n=cfg.bootstrap, beta=cfg.beta, positive_label=result.positive_label,
                            costs=cfg.deciding_costs)
    for r in rows:
        ranked = f" (as ranked: {r['cv_selection']:.4f})" if "cv_selection" in r else ""
        cut = "" if r["threshold"] is None else f" at threshold {r['threshold']:.3f}"
        log.info("scored %s: cv %s %.4f%s, test %.4f%s (%d rows)", r["family"], cfg.metric,
                 r["cv_score"], ranked, r[cfg.metric], cut, r["test_rows"])
    board = leaderboard(rows, cfg.metric, rank_by=rank_by, lower_is_better=by_cost)
    upload_test_predictions(task, predictions, data)
    row = rows[0]
    baseline = baseline_metrics(data["y_train"], data["y_test"], recipe["classes"], cfg.beta,
                                positive_label=data["positive"], costs=cfg.costs)
    gates = check_gates(result.metrics, baseline, cfg.gates, cfg.metric,
                        recipe.get("leakage_suspects"))
    report_outputs(task, board, winner, result, baseline, gates, cfg, curve)
    if threshold is not None:
        report_threshold_curve(task, served_oof, data["positive"], cfg)
    report = {"winner": winner, "metric": cfg.metric, "score": row[cfg.metric],
              "target": recipe["target"],
              "selected_by": _selected_by(by_cost, threshold, cfg.metric, cv_forward(meta),
                                          shared),
              "cv_score": row["cv_score"], "members": meta.get("members"),
              "ci": list(result.ci), "metrics": result.metrics, "baseline": baseline,
              "per_class": result.per_class.rename_axis("class").reset_index().to_dict(orient="records"),
              "gates_passed": gates.passed, "gate_reasons": gates.reasons,
              "threshold": row["threshold"], "positive_label": data["positive"],
              "threshold_for": None if row["threshold"] is None else threshold_label(cfg),
              "calibration": calibration, "beta": cfg.beta,
              "costs": cfg.costs, "cost_decisions": bool(cfg.deciding_costs),
              "cost_ci": list(result.cost_ci) if result.cost_ci else None,
              "split_id": recipe["split_id"], "dataset_id": recipe["dataset_id"],
              "dataset_hash": recipe["dataset_hash"], "prepared_id": prepared_id,
              "dataset_name": recipe.get("dataset_name"),
              "parent_dataset_id": recipe.get("parent_dataset_id"),
              "data_changes": recipe.get("data_changes"),
              "leakage_findings": recipe.get("leakage_findings"),
              "data_notes": recipe.get("data_notes"),
              "classes": recipe["classes"], "class_order": recipe.get("class_order"),
              "train_rows": recipe["train_rows"],
              "scoring_spec": ScoringSpec.from_recipe(recipe, data["X_train"]).to_json(),
              "slices": None if result.slices is None else result.slices.head(15).to_dict("records"),
              "leaderboard": board.to_dict(orient="records"), "trained_model_id": row["model_id"],
              "over_time": over_time, "period": data.get("period"), "prediction_sets": sets,
              "learning_curve": None if curve is None else {
                  "points": curve.table.to_dict("records"), "verdict": curve.verdict,
                  "note": curve.note},
              "best_params": meta.get("best_params"), "imbalance": meta.get("imbalance"),
              "per_class_f1": {str(c): float(f) for c, f in result.per_class["f1"].items()},
              "family_scores": family_scores(board, cfg.metric)}
    tracking.upload_json(task, "validation_report", report)
    candidate_id = register_candidate(task, final, report, project)
    return candidate_id, json.dumps({k: report[k] for k in RETURNED_KEYS}, default=str)
