"""One Optuna trial as its own ClearML task (``train.trial_tasks``).

ClearML's HyperParameterOptimizer clones the family's trial template, sets the proposed
configuration in the ``General`` section and runs the clone on an agent (or as a
subprocess of the training step). The trial cross-validates that configuration on the
family's folds, reports the running mean after each fold (``cv/<metric>`` by fold: what
the optimizer's pruner reads) and uploads its out-of-fold probabilities, so the step that
refits the winner reuses them instead of cross-validating it again.
"""
from __future__ import annotations

import json
import logging
import traceback

import numpy as np
from threadpoolctl import threadpool_limits

PROPOSAL = "General"  # the section the optimizer writes its proposals to
SETUP = "trial"  # what every trial of a study shares: family, data, config sections
OBJECTIVE_TITLE = "cv"  # series: train.metric; iteration: folds done
OOF_ARTIFACT = "oof_proba"
ERROR_PROPERTY = "error"  # a failed trial's reason, on its task's user properties
# clearml-agent reads this exit code (256 + its ExitStatus.interrupted) as "interrupted" and
# marks the task stopped; any other non-zero code makes it mark the task failed
STOPPED_EXIT = 254

log = logging.getLogger(__name__)


def run_trial(task) -> float:
    """Cross-validate the configuration set on ``task``; returns its mean fold score."""
    from pipelines.train_task import _load_training, save_oof
    from steps.config import PreprocessConfig, TrainConfig
    from steps.trial_space import configuration, parse_params, record_space, trial_objective

    sections = task.get_parameters_as_dict()
    setup = sections.get(SETUP, {})
    family = setup["family"]
    train_cfg = TrainConfig.model_validate(json.loads(setup["train_cfg"]))
    prep_cfg = PreprocessConfig.model_validate(json.loads(setup["preprocess_cfg"]))
    recipe, X, y, groups = _load_training(setup["prepared_id"])
    data = trial_objective(family, X, y, recipe["roles"], prep_cfg, train_cfg,
                           recipe.get("class_order"), groups)
    objective = data.objective
    typed = parse_params(sections.get(PROPOSAL, {}), record_space(objective))
    params, imbalance = configuration(objective, typed)
    logger, metric = task.get_logger(), train_cfg.metric

    def after_fold(step: int, running_mean: float) -> None:
        logger.report_scalar(OBJECTIVE_TITLE, metric, value=running_mean, iteration=step)
        logger.flush()  # the optimizer polls these to prune

    with threadpool_limits(limits=train_cfg.n_jobs):
        scores, oof = objective.cross_validate(params, imbalance, after_fold)
    value = float(np.mean(scores))
    logger.report_single_value(f"cv_{metric}", value)
    logger.report_single_value(f"cv_{metric}_std", float(np.std(scores)))
    oof, y, rows = objective.covered(oof, data.row_index)
    save_oof(task, OOF_ARTIFACT, oof, objective.classes, y, rows)
    return value


def main() -> None:
    from clearml import Task
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # the optimizer (or an agent) created this task: init attaches to it
    task = Task.init(auto_connect_frameworks=False, auto_resource_monitoring=False)
    try:
        run_trial(task)
    except Exception as err:
        if _stopped(task):  # the search stopped it mid-work (an upload refused, a fit cut
            raise SystemExit(STOPPED_EXIT) from None  # short): a stop, not a failure
        reason = f"{type(err).__name__}: {err}"
        task.set_user_properties(**{ERROR_PROPERTY: reason[:500]})
        # the whole traceback in the trial's log; one line where the step's output is read
        task.get_logger().report_text(traceback.format_exc(), print_console=False)
        raise SystemExit(f"{task.name} failed: {reason}") from None


def _stopped(task) -> bool:
    """Whether the trial's task was stopped on the server while it ran."""
    try:
        return str(task.get_status()) == "stopped"
    except Exception:  # the server is unreachable: report the trial's own error instead
        return False


if __name__ == "__main__":
    main()
