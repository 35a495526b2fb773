"""Binary candidates are ranked and blended by the rule they are served with: the metric at a
decision threshold tuned out of fold, each fold decided by the threshold of the others."""
import numpy as np
import pandas as pd

from steps.config import EvaluateConfig
from steps.ensemble import oof_score, select_final
from steps.served_rule import cross_fitted_decisions, served_objective, served_score
from steps.thresholds import best_threshold, tune_threshold

CLASSES = ["no", "yes"]


def _default_like(n=8000, seed=0):
    """3% positives. 'shifted' ranks well, but balanced weights pushed its probabilities up,
    so argmax calls a third of the rows positive; 'centred' ranks worse, argmax placed well."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.03
    signal = y * 2.2 + rng.normal(size=n)
    shifted = 1 / (1 + np.exp(-(1.6 * signal + 0.6)))
    weak = y * 1.2 + rng.normal(size=n)
    centred = 1 / (1 + np.exp(-(2.0 * weak - 4.4)))
    labels = np.where(y, "yes", "no")
    return labels, {name: np.c_[1 - p, p] for name, p in (("shifted", shifted),
                                                         ("centred", centred))}


def test_the_served_rule_prefers_the_model_that_ranks_better():
    y, oofs = _default_like()
    argmax = {n: oof_score("macro_f1", y, p, CLASSES) for n, p in oofs.items()}
    served = {n: served_score("macro_f1", y, p, CLASSES, "yes") for n, p in oofs.items()}
    assert argmax["centred"] > argmax["shifted"] + 0.05  # argmax would pick the wrong one
    assert served["shifted"] > served["centred"] + 0.05
    choice = select_final(oofs, pd.Series(y), CLASSES, "macro_f1", ensemble=False,
                          objective=served_objective("macro_f1", "yes"))
    assert choice.name == "shifted"


def test_thresholds_are_cross_fitted_not_tuned_on_the_rows_they_decide():
    """On scores with no signal, the best in-sample threshold finds spurious gains that rows
    it was not tuned on do not repeat."""
    rng = np.random.default_rng(3)
    gaps = []
    for _ in range(20):
        target = rng.random(400) < 0.2
        score = rng.random(400)
        tuned = score >= best_threshold(target, score)
        crossed = cross_fitted_decisions(target, score)
        f1 = [2 * (d & target).sum() / (d.sum() + target.sum()) for d in (tuned, crossed)]
        gaps.append(f1[0] - f1[1])
    assert np.mean(gaps) > 0.01  # in-sample tuning flatters; the cross-fitted rule does not


def test_best_threshold_is_the_logged_tuners_threshold():
    rng = np.random.default_rng(1)
    target = rng.random(500) < 0.1
    score = np.clip(target * 0.3 + rng.random(500) * 0.8, 0, 1)
    assert best_threshold(target, score) == tune_threshold(target, score).threshold
    assert best_threshold(np.zeros(5, bool), np.arange(5.0)) == 0.5  # one class: no tuning
    # too few positives to hold any out: every row decided by one threshold, no error
    few = np.zeros(50, bool)
    few[3] = True
    assert cross_fitted_decisions(few, np.linspace(0, 1, 50)).sum() >= 1


def test_selection_objective_follows_the_served_rule():
    from pipelines.validate_candidates import selection_objective
    cfg = EvaluateConfig()
    assert "threshold tuned on the other folds" in selection_objective(cfg, "yes").name
    assert selection_objective(cfg, None) is None  # multiclass: argmax decisions are served
    off = cfg.model_copy(update={"threshold_tuning": False})
    assert selection_objective(off, "yes") is None
    costs = EvaluateConfig(costs={"yes": {"no": 5}})
    assert selection_objective(costs, "yes").name != selection_objective(cfg, "yes").name
