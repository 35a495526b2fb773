"""What the validation step reports besides its return values: scalars, tables and
figures of the leaderboard and the winner, and the winner's learning curve."""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from pipelines import tracking
from steps.config import EvaluateConfig

log = logging.getLogger(__name__)


def learning_curve_of(candidate: dict, data: dict, cfg: EvaluateConfig):
    """The winner's learning curve on training rows, within ``cfg.learning_curve_s``."""
    if not cfg.learning_curve_s:
        return None
    from pipelines.validate_candidates import cv_forward
    from steps.learning_curve import winner_curve
    oof = candidate["oof"]
    rows = oof["rows"]
    start = time.monotonic()
    curve = winner_curve(candidate["estimator"], data["X_train"].iloc[rows],
                         data["y_train"].iloc[rows], oof["classes"], cfg.metric, beta=cfg.beta,
                         positive_label=data["positive"], cv_score=candidate["cv"],
                         oof_rows=len(rows), cv_folds=int(candidate["meta"].get("cv_folds", 5)),
                         forward=cv_forward(candidate["meta"]),
                         budget_s=cfg.learning_curve_s,
                         groups=None if data.get("groups") is None else data["groups"][rows])
    log.info("learning curve in %.1f s: %s%s", time.monotonic() - start, curve.verdict,
             f" ({curve.note})" if curve.note else "")
    return curve


def scores_over_time(result, data: dict, cfg: EvaluateConfig, cv_score: float,
                     sets: dict | None = None) -> dict | None:
    """Out-of-time splits: the winner's test score per period (a table, a note, and a figure
    added to the winner's), and with ``sets`` (``prediction_sets_of``) how often the
    prediction sets held the true class; None otherwise or when the test rows are too few."""
    if data.get("test_times") is None or result.y_pred is None:
        return None
    from steps.conformal import covered_rows
    from steps.over_time import over_time_figure, period_scores, trend_note
    classes = list(result.per_class.index)
    table = period_scores(data["y_test"], result.y_pred, result.proba, classes,
                          data["test_times"], cfg.metric, beta=cfg.beta,
                          positive_label=result.positive_label, bootstrap=min(cfg.bootstrap, 500),
                          covered=None if sets is None else
                          covered_rows(data["y_test"], result.proba, classes, sets))
    if table is None:
        return None
    note = trend_note(table, cfg.metric)
    log.info(note)
    result.figures["over_time"] = over_time_figure(table, cfg.metric, result.metrics[cfg.metric],
                                                   cv_score)
    task = tracking.current_task()
    tracking.report_table(task, "validation/over_time", table)
    for row in table.to_dict("records"):  # scalars: the web UI overlays them across runs
        tracking.report_scalars(task, "over_time/" + cfg.metric,
                                {k: row[k] for k in (cfg.metric, "ci_low", "ci_high")},
                                iteration=row["period"])
        if "set_coverage" in row:
            tracking.report_scalars(task, "over_time/prediction_sets",
                                    {"coverage": row["set_coverage"]}, iteration=row["period"])
    return {"periods": table.to_dict("records"), "note": note}


def report_outputs(task, board, winner, result, baseline, gates, cfg, curve=None) -> None:
    from steps.evaluation import leaderboard_figure
    for _, r in board.iterrows():
        tracking.report_scalars(task, "leaderboard/" + cfg.metric, {r["family"]: r[cfg.metric]})
        tracking.report_scalars(task, "leaderboard/cv_" + cfg.metric, {r["family"]: r["cv_score"]})
        if pd.notna(r.get("cv_selection")):  # the out-of-fold score the ranking used
            tracking.report_scalars(task, "leaderboard/cv_selection",
                                    {r["family"]: r["cv_selection"]})
    tracking.report_scalars(task, "test", result.metrics)
    tracking.report_scalars(task, "baseline", baseline)
    tracking.report_single_values(task, {f"test_{cfg.metric}": result.metrics[cfg.metric],
                                         f"test_{cfg.metric}_ci_low": result.ci[0],
                                         f"test_{cfg.metric}_ci_high": result.ci[1],
                                         **({"test_expected_cost": result.metrics["expected_cost"]}
                                            if "expected_cost" in result.metrics else {})})
    tracking.report_table(task, "validation/leaderboard", board)
    tracking.report_table(task, "validation/per_class", result.per_class.reset_index())
    tracking.report_table(task, "validation/gates", pd.DataFrame(
        {"gate": range(1, len(gates.reasons) + 1), "result": gates.reasons}))
    if result.dependence is not None:
        tracking.report_table(task, "validation/partial_dependence", result.dependence)
    if result.slices is not None:
        tracking.report_table(task, "validation/slices", result.slices)
    figures = dict(result.figures)
    figures["leaderboard"] = leaderboard_figure(board, cfg.metric)
    tracking.report_figures(task, "test", figures)
    if curve is not None:
        from steps.learning_curve import learning_curve_figure
        tracking.report_table(task, "validation/learning_curve", curve.table)
        tracking.report_figures(task, "cv", {"learning_curve": learning_curve_figure(curve, cfg.metric)})
    task.get_logger().report_text(
        f"winner: {winner}; gates {'PASSED' if gates.passed else 'FAILED'}: " + "; ".join(gates.reasons))


def report_threshold_curve(task, oof: dict, positive: str, cfg) -> None:
    """The winner's threshold against precision, recall and the metric it was tuned for, on
    the calibrated out-of-fold training predictions it was tuned on: how sharp the optimum
    is and what moving the cut would trade."""
    from pipelines.validate_candidates import threshold_rule
    from steps.figures import threshold_curve_figure
    from steps.thresholds import tune_threshold
    metric, beta = threshold_rule(cfg)
    tuned = tune_threshold(np.asarray(oof["y"]) == positive,
                           oof["proba"][:, list(oof["classes"]).index(positive)], beta,
                           metric=metric)
    tracking.report_figures(task, "cv", {"decision_threshold": threshold_curve_figure(
        tuned.curve, tuned.threshold, beta, metric)})


def upload_test_predictions(task, predictions: dict, data: dict) -> None:
    """Every fully scored family's test decisions and probabilities, keyed by the prepared
    test rows: ``tabpipe runs --compare`` pairs two runs on them (``steps.run_pairs``)."""
    from steps.run_pairs import ARTIFACT, predictions_table
    table = predictions_table(predictions, data["y_test"], data["X_test"].index)
    path = tracking.scratch_dir("predictions") / f"{ARTIFACT}.parquet"
    table.to_parquet(path, index=False)
    tracking.upload_file(task, ARTIFACT, path)


def prediction_sets_of(oof: dict, final, result, data: dict, cfg: EvaluateConfig,
                       order=None, candidate: dict | None = None, served=None) -> dict | None:
    """Conformal prediction sets of the served model (``steps.conformal``), coverage on every
    test row; reported as a table, scalars and a figure added to the winner's. ``oof``: the
    winner's out-of-fold training labels, probabilities as served and their classes. ``order``:
    ordered classes, whose sets are runs of neighbours. With ``method: cv_plus`` the winner
    (``candidate``) is refit on each fold, ``served`` wrapping each fold model as the served
    model is wrapped, and the rule is stored on ``final`` (``steps.cv_plus.ATTRIBUTE``); the
    split rule serves when CV+ cannot. None when turned off."""
    sets_cfg = cfg.prediction_sets
    if sets_cfg is None or result.proba is None:
        return None
    from steps.conformal import coverage_figure, coverage_note, coverage_table
    classes = [str(c) for c in final.classes_]
    sets, record = None, {}
    if sets_cfg.method == "cv_plus":
        sets, record = _cv_plus(candidate, final, data, cfg, order, served)
    if sets is None:
        sets, record = _split_rule(oof, result.proba, classes, sets_cfg, order, record)
    table = coverage_table(data["y_test"], sets, classes)
    note = coverage_note(table, sets_cfg.alpha, sets_cfg.by_class, bool(order), record["method"])
    log.info(note)
    if "fallback" in record:  # CV+ was asked for
        log.warning("prediction sets: %s", record["fallback"])
        note += f" ({record['fallback']})"
    result.figures["prediction_sets"] = coverage_figure(table, sets_cfg.alpha)
    task = tracking.current_task()
    tracking.report_table(task, "validation/prediction_sets", table)
    overall = table[table["class"] == "all"].iloc[0]
    tracking.report_scalars(task, "prediction_sets", {"coverage": overall["coverage"],
                                                      "mean_size": overall["mean_size"],
                                                      "target": 1 - sets_cfg.alpha})
    return {"alpha": sets_cfg.alpha, "by_class": sets_cfg.by_class, "order": order, **record,
            "test": table.to_dict("records"), "note": note}


def _split_rule(oof: dict, proba, classes, sets_cfg, order, record: dict):
    """(test sets, record) of the split rule: per-class thresholds from ``oof``."""
    from steps.conformal import fit_thresholds, prediction_sets
    thresholds = fit_thresholds(oof["y"], oof["proba"], oof["classes"], sets_cfg.alpha,
                                sets_cfg.by_class)
    return (prediction_sets(proba, classes, thresholds, order),
            {**record, "method": "split", "thresholds": thresholds})


class _TooLarge(Exception):
    """The first fold model says the fold models would pass ``max_fold_models_mb``."""


def _cv_plus(candidate: dict, final, data: dict, cfg: EvaluateConfig, order, served):
    """(test sets, record) of CV+ with the rule stored on ``final``, or (None, why not)."""
    from pipelines.validate_candidates import cv_forward
    from steps.cv_plus import ATTRIBUTE, fit_cv_plus, size_mb
    from steps.study import _folds
    sets_cfg, meta = cfg.prediction_sets, candidate["meta"]
    if cv_forward(meta) or data.get("test_times") is not None:
        return None, {"fallback": "CV+ assumes rows exchangeable with the test rows; an "
                                  "out-of-time split is not, so the split rule serves"}
    rows = np.asarray(candidate["oof"]["rows"])
    X, y = data["X_train"].iloc[rows], data["y_train"].iloc[rows]
    groups = None if data.get("groups") is None else np.asarray(data["groups"])[rows]
    folds = _folds(y.reset_index(drop=True), int(meta.get("cv_folds", 5)), 0, [], groups)
    limit = sets_cfg.max_fold_models_mb
    too_large = {"fallback": f"the {len(folds)} fold models would take more than "
                             f"max_fold_models_mb ({limit:g} MB); the split rule serves"}

    def progress(done: int, total: int, seconds: float, model) -> None:
        log.info("CV+ prediction sets: fold %d/%d refit in %.1f s", done, total, seconds)
        if done == 1 and size_mb(model) * total > limit:  # stop before the other folds
            raise _TooLarge
    start = time.monotonic()
    try:
        rule = fit_cv_plus(candidate["estimator"], X, y, folds, [str(c) for c in final.classes_],
                           alpha=sets_cfg.alpha, by_class=sets_cfg.by_class, order=order,
                           served=served, on_fold=progress)
    except _TooLarge:
        return None, too_large
    size = size_mb(rule)
    if size > limit:
        return None, too_large
    setattr(final, ATTRIBUTE, rule)
    return rule.sets(data["X_test"]), {"method": "cv_plus", "folds": len(folds),
                                       "fold_models_mb": round(size, 1),
                                       "seconds": round(time.monotonic() - start, 1)}
