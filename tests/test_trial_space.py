"""train.trial_tasks, without a server: a trial run in its own process draws from the same
space, parses the optimizer's text back to the same configuration, and scores it on the
same rows and folds as the in-process study would."""
import threading

import numpy as np
import optuna
import pandas as pd
import pytest

from steps.config import ConfigError, PreprocessConfig, TrainConfig, parse_config
from steps.trial_space import (as_text, configuration, parse_params, record_space,
                               trial_objective)


def _data(n=180, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    X = pd.DataFrame({"x1": rng.normal(size=n) + (y == "b") * 1.5,
                      "x2": rng.normal(size=n) + (y == "c") * 2.0,
                      "colour": rng.choice(["red", "blue"], size=n)})
    return X, pd.Series(y)


def _objective(family, train=None, prep=None, class_order=None, X=None, y=None):
    X, y = (X, y) if X is not None else _data()
    cfg = TrainConfig.model_validate({"families": [family], "cv_folds": 3, **(train or {})})
    return trial_objective(family, X, y, None, PreprocessConfig.model_validate(prep or {}), cfg,
                           class_order=class_order)


@pytest.mark.parametrize("family", ["logreg", "random_forest", "extra_trees", "hist_gb", "svm",
                                    "knn"])
def test_text_proposals_give_back_the_in_process_configuration(family):
    objective = _objective(family, class_order=["a", "b", "c"]).objective
    space = record_space(objective)
    # what the in-process study draws, sampled at random inside the recorded space
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(5):
        trial = study.ask()
        expected = objective.params(trial)
        typed = parse_params(as_text(trial.params), space)  # through task parameters (text)
        assert typed == trial.params
        assert configuration(objective, typed) == expected
        study.tell(trial, 0.0)


def test_the_space_follows_overrides_ordinal_and_imbalance_search():
    objective = _objective("hist_gb", train={"search": {"hist_gb": {
                               "learning_rate": 0.05, "max_iter": {"low": 200, "high": 400}}}},
                           prep={"imbalance": {"search": ["none", "smote"]}},
                           class_order=["a", "b", "c"]).objective
    space = record_space(objective)
    assert space["learning_rate"] == ("suggest_categorical", {"choices": [0.05]})
    assert space["max_iter"][1]["low"] == 200 and space["max_iter"][1]["high"] == 400
    assert space["min_samples_leaf"] == ("suggest_int", {"low": 3, "high": 60, "step": 1,
                                                         "log": True})
    assert space["ordinal"] == ("suggest_categorical", {"choices": ["shared", True, False]})
    assert space["imbalance"] == ("suggest_categorical", {"choices": ["none", "smote"]})
    assert "ordinal" not in record_space(_objective("hist_gb").objective)  # no class order


def test_bad_proposals_fail_with_the_parameter_name():
    space = record_space(_objective("knn").objective)
    good = {"n_neighbors": "12", "weights": "distance", "p": "1"}
    assert parse_params(good, space) == {"n_neighbors": 12, "weights": "distance", "p": 1}
    with pytest.raises(ValueError, match=r"trial parameter 'p' is missing"):
        parse_params({"n_neighbors": "12", "weights": "distance"}, space)
    with pytest.raises(ValueError, match=r"weights='distant' is not one of \['uniform', "):
        parse_params({**good, "weights": "distant"}, space)
    none_depth = record_space(_objective("random_forest").objective)
    assert parse_params({"n_estimators": "150", "max_features": "0.5", "min_samples_leaf": "2",
                         "max_depth": "None"}, none_depth)["max_depth"] is None


def test_trials_share_rows_and_folds_and_report_every_fold():
    X, y = _data(n=400)
    first = _objective("logreg", train={"max_rows": {"logreg": 300}}, X=X, y=y)
    again = _objective("logreg", train={"max_rows": {"logreg": 300}}, X=X, y=y)
    assert len(first.row_index) == 300 and "row cap" in first.notes[0]
    assert np.array_equal(first.row_index, again.row_index)  # another process, same rows
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first.objective.folds,
                                                          again.objective.folds))
    seen = []
    scores, oof = first.objective.cross_validate({"C": 1.0}, "class_weight",
                                                 lambda step, mean: seen.append((step, mean)))
    assert [s for s, _ in seen] == [0, 1, 2]
    assert [m for _, m in seen] == pytest.approx([np.mean(scores[:k + 1]) for k in range(3)])
    assert oof.shape == (300, 3) and np.allclose(oof.sum(axis=1), 1.0)


def test_trial_tasks_config_is_checked():
    cfg = parse_config({"train": {"trial_tasks": {"families": ["svm"], "queue": "gpu"}}})
    assert cfg.train.trial_tasks.families == ["svm"] and cfg.train.trial_tasks.concurrency == 1
    with pytest.raises(ConfigError, match=r"train\.trial_tasks\.families\.0: svm is not in "
                                          r"train\.families \['logreg'\]"):
        parse_config({"train": {"families": ["logreg"], "trial_tasks": {"families": ["svm"]}}})
    with pytest.raises(ConfigError, match=r"train\.trial_tasks: a task per trial needs a step "
                                          r"per family; train\.budget_s"):
        parse_config({"train": {"budget_s": 60, "trial_tasks": {"families": ["svm"]}}})
    with pytest.raises(ConfigError, match=r"train\.trial_tasks\.concurrency"):
        parse_config({"train": {"trial_tasks": {"concurrency": 0}}})


def test_clearml_ranges_mirror_the_space():
    from clearml.automation import (DiscreteParameterRange, LogUniformParameterRange,
                                    UniformIntegerParameterRange, UniformParameterRange)

    from pipelines.trial_optimizer import clearml_ranges
    space = record_space(_objective("random_forest").objective)
    ranges = {r.name: r for r in clearml_ranges(space)}
    assert isinstance(ranges["max_depth"], DiscreteParameterRange)
    assert ranges["max_depth"].values == [None, 8, 16, 32]
    assert isinstance(ranges["n_estimators"], UniformIntegerParameterRange)
    assert ranges["n_estimators"].step_size == 50
    assert isinstance(ranges["min_samples_leaf"], LogUniformParameterRange)
    assert 10 ** ranges["min_samples_leaf"].max_value == pytest.approx(20)
    assert isinstance(ranges["max_features"], UniformParameterRange)


def test_a_repeated_proposal_reuses_its_score_until_the_search_converges():
    """ClearML's own objective prunes a repeat; ours reuses its score as in-process trials
    do, so a small space stops as converged instead of spending its trials on nothing."""
    from pipelines.trial_optimizer import optimizer_class
    from steps.tuning import repeat_note

    launched = []

    class Launcher:  # stands in for ClearML's objective: one trial task per call
        def objective(self, trial):
            launched.append(dict(trial.params))
            return {1: 0.5, 2: 0.7}[trial.params["General/k"]]

    optimizer = object.__new__(optimizer_class())
    optimizer._stop_event, optimizer._created_jobs_ids = threading.Event(), {}
    optimizer._objective, optimizer.space = Launcher(), {
        "General/k": ("suggest_categorical", {"choices": [1, 2]})}
    optimizer.repeat_score = _objective("knn").objective.repeat_score
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(optimizer._run_trial, n_trials=200, callbacks=[optimizer._stop_if_asked])
    assert sorted(p["General/k"] for p in launched) == [1, 2]  # each configuration ran once
    assert len(study.trials) < 200 and study.best_value == 0.7
    repeats = [t for t in study.trials if "repeat_of" in t.user_attrs]
    assert len(repeats) == len(study.trials) - 2
    assert all(t.value == study.trials[t.user_attrs["repeat_of"]].value for t in repeats)
    assert "converged" in repeat_note(study)[0]


def test_no_trial_is_launched_once_the_search_is_stopped(monkeypatch):
    """A stop between cloning a trial and launching it used to enqueue a trial after the
    search had ended; now the clone is stopped and the trial counts as pruned."""
    from clearml.automation.optimization import SearchStrategy

    from pipelines.trial_optimizer import STOPPED_MESSAGE, optimizer_class

    class Job:
        def __init__(self):
            self.launched, self.stopped = [], []
            self.task = self
            self.launch = self.launched.append

        def mark_stopped(self, force=False, status_message=None):
            self.stopped.append(status_message)

    monkeypatch.setattr(SearchStrategy, "helper_create_job", lambda self, *a, **k: Job())
    from clearml.automation.optuna import OptimizerOptuna
    monkeypatch.setattr(OptimizerOptuna, "__init__", lambda self, *a, **k: None)
    optimizer = optimizer_class()()
    optimizer._stop_event, optimizer._study = threading.Event(), None
    running = optimizer.helper_create_job("template")
    running.launch("trials")
    assert running.launched == ["trials"] and running.stopped == []
    late = optimizer.helper_create_job("template")
    optimizer.stop()
    with pytest.raises(optuna.TrialPruned, match="stopped"):
        late.launch("trials")
    assert late.launched == [] and late.stopped == [STOPPED_MESSAGE]
