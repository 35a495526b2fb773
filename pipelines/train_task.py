"""Training step (one per model family): Optuna search under CV, refit, register the model."""
from __future__ import annotations

import json
import logging

import joblib
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipelines import tracking
from pipelines.datastore import fetch_frame, fetch_json
from steps.config import PreprocessConfig, TrainConfig

log = logging.getLogger(__name__)


PROGRESS_EVERY = 10  # trials between progress lines; new bests and failures always show


def _trial_reporter(task, metric: str, family: str):
    """Report every trial as it ends, so the study's progress shows live in the web UI; the
    console gets new bests and a line every few trials, tagged with the family
    (six studies share one terminal)."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0, "repeats": 0}

    def on_trial(row: dict) -> None:
        number, value, state = int(row.get("number", 0)), row.get("value"), row.get("state", "")
        tracking.report_scalars(task, "trial", {metric: value, "duration_s": row.get("duration")},
                                iteration=number)
        counts[state] = counts.get(state, 0) + 1
        counts["repeats"] += row.get("repeat_of") is not None
        best = row.get("best")
        # a failure is logged, with its family, by the study itself (steps.study)
        if state == "COMPLETE" and row.get("repeat_of") is None and value == best:
            log.info("%s trial %d: new best %s %.4f  %s", family, number, metric, value,
                     _compact(row.get("params", {})))
        elif (number + 1) % PROGRESS_EVERY == 0:
            log.info("%s: %d trials so far (%d complete, %d pruned, %d failed, %d repeats), best %s",
                     family, number + 1, counts["COMPLETE"], counts["PRUNED"], counts["FAIL"],
                     counts["repeats"], "-" if best is None else f"{best:.4f}")
    return on_trial


def _quiet_optuna() -> None:
    """Optuna's own line per trial repeats what the trial reporter says, untagged."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _step_inputs(prepared_id: str, train_cfg: str, preprocess_cfg: str):
    """What both training entry points start from: the typed config sections, the step's
    task, and the training rows (``_load_training``)."""
    _quiet_optuna()
    cfg = TrainConfig.model_validate(json.loads(train_cfg))
    prep = PreprocessConfig.model_validate(json.loads(preprocess_cfg))
    return cfg, prep, tracking.current_task(), *_load_training(prepared_id)


def _compact(params: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in params.items())


def _load_training(prepared_id: str):
    """recipe, features, labels, and what CV folds keep together
    (``steps.time_folds.fold_groups``)."""
    from steps.time_folds import fold_groups
    recipe = fetch_json(prepared_id, "recipe.json", alias="prepared_dataset")
    train = fetch_frame(prepared_id, "train.parquet")
    target = recipe["target"]
    X, groups = fold_groups(train.drop(columns=[target]), recipe)
    return recipe, X, train[target].astype(str), groups


def _record(task, result, recipe: dict, y: pd.Series, prepared_id: str, project: str,
            suffix: str = "") -> str:
    """Report one family's study (single values, figures, trials, out-of-fold predictions)
    and register its refit model. ``suffix`` keeps names apart when one task holds many."""
    metric = result.metric
    tracking.report_single_values(task, {
        f"cv_{metric}": result.best_score, f"cv_{metric}_std": result.best_score_std,
        "trials_completed": result.n_trials_completed, "trials_failed": result.n_trials_failed,
        "trials_pruned": result.n_trials_pruned, "fit_seconds": result.fit_seconds},
        prefix=suffix.strip("_") + "/" if suffix else "")
    tracking.report_figures(task, "tuning" + suffix.replace("_", "/"), result.figures)
    tracking.report_table(task, "tuning/trials" + suffix.replace("_", "/"), result.trials)
    task.upload_artifact("trials" + suffix, artifact_object=result.trials, wait_on_upload=True)
    # Row-capped families (SVM, k-NN on large data, the cost guard) predict out of fold on a
    # subsample only; caps nest, so validation blends them on the rows all families share.
    rows = result.row_index if result.row_index is not None else np.arange(len(y))
    save_oof(task, "oof_proba" + suffix, result.oof_proba, result.classes, y.iloc[rows], rows)
    for note in result.notes:
        task.get_logger().report_text(note)
    return _register(task, result, recipe, result.family, prepared_id, project,
                     result.n_rows_used or len(y),
                     oof_artifact="oof_proba" + suffix)


def run_train_family(prepared_id: str, family: str, train_cfg: str, preprocess_cfg: str,
                     project: str) -> str:
    from steps.study import short_search_note
    from steps.tuning import tune_family

    cfg, prep, task, recipe, X, y, groups = _step_inputs(prepared_id, train_cfg, preprocess_cfg)
    if family in cfg.trial_tasks.families:  # a ClearML task per trial (expensive models)
        from pipelines.trial_tasks import search_with_tasks
        result = search_with_tasks(task, family, prepared_id, cfg, prep, project, X, y,
                                   recipe["roles"], recipe.get("class_order"), groups,
                                   on_trial=_trial_reporter(task, cfg.metric, family))
        return _record(task, result, recipe, y, prepared_id, project)
    # Families train in parallel steps: OpenMP/BLAS threads beyond n_jobs would oversubscribe
    # the cores (histogram boosting slowed ~10x under contention without this).
    with threadpool_limits(limits=cfg.n_jobs):
        result = tune_family(family, X, y, prep, cfg, timeout_s=cfg.timeout_s,
                             roles=recipe["roles"],
                             on_trial=_trial_reporter(task, cfg.metric, family),
                             class_order=recipe.get("class_order"), groups=groups)
    searched = 1 if result.session.all_fixed else cfg.n_trials  # every parameter fixed: 1 trial
    short = short_search_note(result.trials, searched, cfg.timeout_s)
    if short:  # the step's notes are printed on its console and kept in its log
        result.notes.append(f"{family}: {short}")
    return _record(task, result, recipe, y, prepared_id, project)


def run_train_budgeted(prepared_id: str, train_cfg: str, preprocess_cfg: str,
                       project: str) -> str:
    """All families in one step under one budget (successive halving); returns
    ``{family: model_id}`` as JSON for every family that completed a round."""
    from steps.budget import tune_with_budget

    cfg, prep, task, recipe, X, y, groups = _step_inputs(prepared_id, train_cfg, preprocess_cfg)
    with threadpool_limits(limits=cfg.n_jobs):
        budget = tune_with_budget(cfg.families, X, y, prep, cfg, cfg.budget_s,
                                  roles=recipe["roles"], class_order=recipe.get("class_order"),
                                  groups=groups)
    tracking.report_table(task, "budget/rounds", budget.rounds)
    if budget.dropped:
        tracking.report_table(task, "budget/dropped", pd.DataFrame(budget.dropped))
    models = {family: _record(task, result, recipe, y, prepared_id, project, f"_{family}")
              for family, result in budget.results.items()}
    return json.dumps(models)


def _register(task, result, recipe: dict, family: str, prepared_id: str, project: str,
              rows: int, oof_artifact: str = "oof_proba") -> str:
    from clearml import OutputModel

    path = tracking.scratch_dir("model") / f"{family}.joblib"
    joblib.dump(result.model, path)
    model = OutputModel(task=task, name=f"{family} (trained)", framework="ScikitLearn",
                        tags=["family:" + family, "trained"], label_enumeration=_labels(result))
    model.update_weights(weights_filename=str(path), auto_delete_file=False, async_enable=False)
    tracking.set_model_metadata(model, {
        "family": family, "metric": result.metric, "cv_score": result.best_score,
        "cv_score_std": result.best_score_std, "best_params": json.dumps(result.best_params),
        "imbalance": result.best_imbalance, "prepared_dataset_id": prepared_id,
        "dataset_id": recipe["dataset_id"], "dataset_hash": recipe["dataset_hash"],
        "split_id": recipe["split_id"], "train_rows": rows, "train_task_id": task.id,
        "oof_artifact": oof_artifact, "cv_folds": result.cv_folds,
        "cv_forward": result.cv_forward,
    })
    # the fold mean; validation scores the pooled out-of-fold predictions, which can differ
    log.info("registered %s model %s (cv %s %.4f as the mean of the folds, best of %d trials)",
             family, model.id, result.metric, result.best_score, len(result.trials))
    _say_kept_columns(task, family, result.model)
    return model.id


def _say_kept_columns(task, family: str, model) -> None:
    """On a wide table: which encoded columns the refit's selector kept, best first."""
    from steps.selection import kept_columns
    kept = kept_columns(model)
    if kept is None:
        return
    log.info("%s keeps %d columns (preprocess.feature_selection): %s%s", family, len(kept),
             ", ".join(kept[:12]), ", ..." if len(kept) > 12 else "")
    tracking.report_table(task, "selection/kept_columns",
                          pd.DataFrame({"rank": range(1, len(kept) + 1), "column": kept}))


def _labels(result) -> dict[str, int]:
    return {str(c): i for i, c in enumerate(result.classes)}


def save_oof(task, artifact: str, proba: np.ndarray, classes, y: pd.Series, rows) -> None:
    """Upload out-of-fold probabilities as ``load_oof`` reads them back: ``rows`` are the
    positions in the training split of ``y``'s rows (and of ``proba``'s)."""
    path = tracking.scratch_dir("oof") / "oof.npz"
    np.savez_compressed(path, proba=proba, classes=np.array(classes),
                        y=y.to_numpy(dtype=str), rows=np.asarray(rows))
    tracking.upload_file(task, artifact, path)


def load_oof(train_task_id: str, artifact: str = "oof_proba") -> dict:
    """Out-of-fold training probabilities of a family's best configuration:
    ``{proba, classes, y, rows}`` (``rows``: positions in the training split)."""
    from clearml import Task
    path = Task.get_task(task_id=train_task_id).artifacts[artifact].get_local_copy()
    data = np.load(path, allow_pickle=False)
    return {"proba": data["proba"], "classes": [str(c) for c in data["classes"]],
            "y": pd.Series(data["y"]), "rows": data["rows"]}
