"""Misclassification costs: the matrix, expected cost, least-cost decisions and their wiring
into evaluation, the config and the run page."""
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from steps.config import ConfigError, EvaluateConfig, load_config
from steps.error_costs import (constant_baseline_cost, cost_matrix, expected_cost,
                               least_cost_codes, with_cost_decisions)
from steps.evaluation import evaluate_model

HPC_COSTS = {"L": {"VF": 10, "F": 5}, "M": {"VF": 5, "F": 5}}  # Kuhn & Johnson, ch. 17
CLASSES = ["F", "L", "M", "VF"]


def test_matrix_defaults_and_names():
    m = cost_matrix(HPC_COSTS, CLASSES)
    names = dict(zip(CLASSES, range(4)))
    assert m[names["L"], names["VF"]] == 10 and m[names["M"], names["F"]] == 5
    assert m[names["VF"], names["L"]] == 1  # unlisted error
    assert np.all(np.diag(m) == 0)
    with pytest.raises(ValueError, match=r"classes the target does not have: \['XL'\]"):
        cost_matrix({"XL": {"VF": 3}}, CLASSES)


def test_least_cost_decisions_differ_from_argmax_where_errors_are_dear():
    m = cost_matrix(HPC_COSTS, CLASSES)
    # 60% very fast, 40% long: the argmax says VF, but VF would cost 0.4 * 10 = 4 in
    # expectation against 0.6 * 1 = 0.6 for L
    proba = np.array([[0.0, 0.4, 0.0, 0.6], [0.0, 0.02, 0.0, 0.98]])
    assert [CLASSES[i] for i in least_cost_codes(proba, m)] == ["L", "VF"]
    y, pred = ["L", "VF", "M"], ["VF", "VF", "F"]
    assert expected_cost(y, pred, CLASSES, m) == pytest.approx((10 + 0 + 5) / 3)


def test_baseline_is_the_cheapest_constant_answer():
    m = cost_matrix({"yes": {"no": 20}}, ["no", "yes"])
    y_train = ["no"] * 90 + ["yes"] * 10
    # always "no" costs 0.1 * 20 = 2 per row; always "yes" costs 0.9: the baseline says yes
    assert constant_baseline_cost(y_train, ["no"] * 9 + ["yes"], ["no", "yes"], m) == \
        pytest.approx(0.9)


def _binary_problem(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = np.where(X["a"] + 0.8 * rng.normal(size=n) > 1.3, "fraud", "ok")
    return X, pd.Series(y)


def test_cost_decisions_lower_the_cost_on_new_rows_and_pickle():
    X, y = _binary_problem()
    model = LogisticRegression().fit(X[:2000], y[:2000])
    costs = {"fraud": {"ok": 10}}  # a missed fraud costs ten false alarms
    by_cost = with_cost_decisions(model, costs)
    cfg = EvaluateConfig(costs=costs, bootstrap=200, permutation_repeats=0,
                         dependence_features=0)
    plain = evaluate_model(model, X[2000:], y[2000:], cfg, y_train=y[:2000], figures=False)
    aware = evaluate_model(by_cost, X[2000:], y[2000:], cfg, y_train=y[:2000], figures=False)
    assert aware.metrics["expected_cost"] < 0.8 * plain.metrics["expected_cost"]
    low, high = aware.cost_ci
    assert low <= aware.metrics["expected_cost"] <= high
    assert aware.baseline["expected_cost"] > aware.metrics["expected_cost"]
    # more frauds flagged: recall of the dear class rises
    assert aware.per_class.loc["fraud", "recall"] > plain.per_class.loc["fraud", "recall"]
    np.testing.assert_array_equal(by_cost.predict_proba(X[:5]), model.predict_proba(X[:5]))
    again = pickle.loads(pickle.dumps(by_cost))
    np.testing.assert_array_equal(again.predict(X[2000:]), by_cost.predict(X[2000:]))


def test_config_paths_name_the_bad_cost():
    with pytest.raises(ConfigError, match=r"evaluate\.costs\.L\.VF"):
        load_config(None, ["evaluate.costs={L: {VF: -1}}"])
    with pytest.raises(ConfigError, match=r"evaluate\.costs\.L\.L: a correct decision costs 0"):
        load_config(None, ["evaluate.costs={L: {L: 2}}"])
    assert load_config(None, ["evaluate.costs={L: {VF: 10}}"]).evaluate.costs == {"L": {"VF": 10.0}}


def test_run_page_states_the_costs_and_what_the_winner_costs():
    from steps.report import _validation
    page = _validation({"metric": "macro_f1", "ci": [0.8, 0.9], "gates_passed": True,
                        "winner": "hist_gb", "score": 0.85, "cv_score": 0.84,
                        "costs": HPC_COSTS, "cost_decisions": True, "cost_ci": [0.2, 0.3],
                        "metrics": {"macro_f1": 0.85, "expected_cost": 0.25},
                        "baseline": {"expected_cost": 1.1}})
    assert "L&rarr;VF 10" in page and "<b>0.2500</b> (95% CI 0.2000-0.3000)" in page
    assert "against 1.1000 for the cheapest constant answer" in page
    assert "least expected cost" in page


def test_costs_rank_candidates_lowest_first_and_score_out_of_fold_decisions():
    from steps.error_costs import least_cost_expected_cost
    from steps.leaderboard import leaderboard, select_winner
    rows = [{"family": "a", "cv_score": 0.90, "cv_expected_cost": 0.40},
            {"family": "b", "cv_score": 0.85, "cv_expected_cost": 0.25},
            {"family": "c", "cv_score": 0.80, "cv_expected_cost": float("nan")}]
    board = leaderboard(rows, "cv_score", rank_by="cv_expected_cost", lower_is_better=True)
    assert list(board["family"]) == ["b", "a", "c"] and select_winner(board) == "b"
    assert select_winner(leaderboard(rows, "cv_score")) == "a"  # the metric alone
    proba = np.array([[0.7, 0.3], [0.95, 0.05]])
    # a missed "yes" costs 10: the first row is called yes (0.7 < 0.3 * 10), rightly; the
    # second no (0.95 > 0.05 * 10), a miss that costs 10
    assert least_cost_expected_cost(proba, ["yes", "yes"], ["no", "yes"],
                                    {"yes": {"no": 10}}) == pytest.approx(5.0)


def _cheap_and_sharp():
    """Out-of-fold probabilities of two models on 10 fraud and 90 ok rows, where a missed
    fraud costs 10. ``sharp`` is confidently wrong on 2 frauds: argmax-right elsewhere, so it
    wins on macro-F1. ``cheap`` leans towards fraud on every fraud and 10 ok rows: its argmax
    never says fraud, but its least-cost decisions miss none (10 false alarms: 0.1 per row
    against 2 missed frauds: 0.2)."""
    y = np.array(["fraud"] * 10 + ["ok"] * 90)
    sharp = np.r_[[0.6] * 8, [0.02] * 2, [0.02] * 90]
    cheap = np.r_[[0.3] * 10, [0.2] * 10, [0.01] * 80]
    as_proba = lambda p: np.column_stack([p, 1 - p])  # noqa: E731  columns: fraud, ok
    return y, {"sharp": as_proba(sharp), "cheap": as_proba(cheap)}, ["fraud", "ok"]


def test_selection_under_costs_picks_the_cheaper_model_not_the_better_scoring_one():
    from steps.ensemble import select_final
    from steps.error_costs import cost_objective, least_cost_expected_cost
    y, oofs, classes = _cheap_and_sharp()
    costs = {"fraud": {"ok": 10}}
    assert least_cost_expected_cost(oofs["sharp"], y, classes, costs) == pytest.approx(0.2)
    assert least_cost_expected_cost(oofs["cheap"], y, classes, costs) == pytest.approx(0.1)
    assert select_final(oofs, y, classes, "macro_f1", ensemble=False).name == "sharp"
    choice = select_final(oofs, y, classes, "macro_f1", ensemble=False,
                          objective=cost_objective(costs))
    assert choice.name == "cheap" and "expected cost" in choice.reason
    assert choice.cv_scores["cheap"] == pytest.approx(-0.1)
    blended = select_final(oofs, y, classes, "macro_f1", objective=cost_objective(costs))
    assert -blended.cv_scores[blended.name] <= 0.1  # a blend is taken only if it costs less


def test_leaderboard_gains_under_costs_are_the_cost_saved():
    from steps.error_costs import least_cost_codes
    from steps.leaderboard import COST_SAVED, add_winner_gains, leaderboard_figure, leaderboard
    y, oofs, classes = _cheap_and_sharp()
    costs = {"fraud": {"ok": 10}}
    m = cost_matrix(costs, classes)
    predictions = {f: (np.asarray(classes, dtype=object)[least_cost_codes(p, m)], p, classes)
                   for f, p in oofs.items()}
    rows = [{"family": f, "macro_f1": 0.5} for f in ("cheap", "sharp")]
    out = {r["family"]: r for r in add_winner_gains(rows, predictions, "cheap", y, "macro_f1",
                                                    n=300, costs=costs)}
    assert out["sharp"]["winner_gain"] == pytest.approx(0.1)  # 0.2 - 0.1 per row
    assert out["sharp"]["winner_gain_in"] == COST_SAVED
    assert out["sharp"]["winner_gain_ci_low"] <= 0.1 <= out["sharp"]["winner_gain_ci_high"]
    by_metric = add_winner_gains(rows, predictions, "cheap", y, "macro_f1", n=300)
    assert by_metric[1]["winner_gain_in"] == "macro_f1"
    assert by_metric[1]["winner_gain"] != pytest.approx(0.1)
    board = leaderboard(list(out.values()), "macro_f1")
    texts = [t.get_text() for t in leaderboard_figure(board, "macro_f1").axes[0].texts]
    assert any(t.startswith("cost saved by winner +0.100") for t in texts)
    from steps.report import GAIN_HEADER, _with_gain
    assert _with_gain(out["sharp"])[GAIN_HEADER].startswith("+0.1000 cost saved [")
