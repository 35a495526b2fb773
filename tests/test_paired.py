"""Paired bootstrap of two models on the same test rows (leaderboard and champion gaps)."""
import numpy as np
import pytest

from steps.bootstrap import bootstrap_ci
from steps.paired import paired_difference
from steps.metrics import compute_metrics


def _truth_and_models(n=1000, flips_a=0.10, flips_b=0.14, seed=0):
    """Binary truth and two models that err on nested row sets: b errs wherever a does,
    plus on a few more rows, so a is better by a small, consistent margin."""
    rng = np.random.default_rng(seed)
    classes = ["neg", "pos"]
    codes = (rng.random(n) < 0.3).astype(int)
    order = rng.permutation(n)
    wrong_a = np.zeros(n, bool)
    wrong_a[order[: int(flips_a * n)]] = True
    wrong_b = np.zeros(n, bool)
    wrong_b[order[: int(flips_b * n)]] = True

    def model(wrong):
        pred_codes = np.where(wrong, 1 - codes, codes)
        proba = np.c_[1 - (0.2 + 0.6 * pred_codes), 0.2 + 0.6 * pred_codes]
        return np.array(classes, dtype=object)[pred_codes], proba

    y = np.array(classes, dtype=object)[codes]
    return y, model(wrong_a), model(wrong_b), classes


def test_point_gap_is_the_difference_of_the_scores():
    y, a, b, classes = _truth_and_models()
    gap = paired_difference(y, a, b, classes, "macro_f1", n=300, seed=0)
    expected = (compute_metrics(y, a[0], a[1], classes)["macro_f1"]
                - compute_metrics(y, b[0], b[1], classes)["macro_f1"])
    assert gap.delta == pytest.approx(expected)
    assert gap.ci_low <= gap.delta <= gap.ci_high
    assert gap.rows == len(y) and gap.resamples == 300


def test_consistent_small_gain_is_significant_though_single_intervals_overlap():
    y, a, b, classes = _truth_and_models(flips_b=0.115)  # b errs on 15 more rows of 1000
    gap = paired_difference(y, a, b, classes, "macro_f1", n=500, seed=1)
    assert gap.significant and gap.p_not_better < 0.025
    # each model's own interval is much wider than the paired one: compared one by one,
    # the intervals overlap and the gain would look like noise
    low_a, high_a = bootstrap_ci(y, a[0], a[1], classes, "macro_f1", n=500, seed=1)
    low_b, high_b = bootstrap_ci(y, b[0], b[1], classes, "macro_f1", n=500, seed=1)
    assert low_a < high_b
    assert gap.ci_high - gap.ci_low < 0.6 * (high_a - low_a)


def test_identical_models_are_never_significant():
    y, a, _, classes = _truth_and_models()
    gap = paired_difference(y, a, a, classes, "balanced_accuracy", n=200, seed=0)
    assert gap.delta == 0 and gap.ci_low == 0 and gap.ci_high == 0
    assert not gap.significant and gap.p_not_better == 1.0


def test_worse_model_gets_a_negative_gap_and_losses_are_signed_as_gains():
    y, a, b, classes = _truth_and_models()
    worse = paired_difference(y, b, a, classes, "macro_f1", n=200, seed=0)
    assert worse.delta < 0 and worse.ci_high < 0 and worse.p_not_better > 0.97
    lower_loss = paired_difference(y, a, b, classes, "log_loss", n=200, seed=0)
    assert lower_loss.delta > 0  # a has the lower log loss: a positive gain


def test_rows_must_match():
    y, a, b, classes = _truth_and_models()
    with pytest.raises(ValueError, match="same test rows"):
        paired_difference(y, a, (b[0][:-1], b[1][:-1]), classes, "macro_f1", n=10)
    with pytest.raises(ValueError, match="unknown metric"):
        paired_difference(y, a, b, classes, "accuracy_top3", n=10)


def _rows_and_predictions():
    y, a, b, classes = _truth_and_models(flips_b=0.2)
    # c: the winner's exact decisions, with probability columns in the other order
    c = (a[0], a[1][:, ::-1], classes[::-1])
    predictions = {"hist_gb": (*a, classes), "logreg": (*b, classes), "twin": c,
                   "knn": None}  # knn: scored on a sample of the test rows
    rows = [{"family": f, "macro_f1": 0.0} for f in ("hist_gb", "logreg", "twin", "knn")]
    return y, rows, predictions


def test_winner_gains_per_leaderboard_row():
    from steps.leaderboard import add_winner_gains
    y, rows, predictions = _rows_and_predictions()
    out = {r["family"]: r for r in add_winner_gains(rows, predictions, "hist_gb", y, "macro_f1",
                                                    n=300)}
    assert np.isnan(out["hist_gb"]["winner_gain"])  # no gain over itself
    assert out["logreg"]["winner_gain"] > 0.05 and out["logreg"]["winner_gain_significant"]
    assert out["logreg"]["winner_gain_verdict"] == "winner better beyond noise"
    # same decisions in another column order: aligned by class, not by position
    assert out["twin"]["winner_gain"] == 0 and out["twin"]["winner_gain_verdict"] == "no difference"
    assert np.isnan(out["knn"]["winner_gain"]) and out["knn"]["winner_gain_verdict"] is None
    none = add_winner_gains(rows, predictions, "hist_gb", y, "macro_f1", n=0)
    assert all(np.isnan(r["winner_gain"]) for r in none)  # evaluate.bootstrap: 0


def test_gains_reach_the_leaderboard_figure_and_the_run_page():
    from steps.leaderboard import add_winner_gains, leaderboard, leaderboard_figure
    from steps.report import _validation
    y, rows, predictions = _rows_and_predictions()
    scored = add_winner_gains([dict(r, macro_f1=s) for r, s in zip(rows, (0.9, 0.8, 0.9, 0.7))],
                              predictions, "hist_gb", y, "macro_f1", n=200)
    board = leaderboard(scored, "macro_f1")
    texts = [t.get_text() for t in leaderboard_figure(board, "macro_f1").axes[0].texts]
    assert any("winner − this" in t and "beyond noise" in t for t in texts)
    page = _validation({"metric": "macro_f1", "ci": [0.8, 0.9], "gates_passed": True,
                        "winner": "hist_gb", "score": 0.9, "cv_score": 0.88,
                        "leaderboard": board.to_dict(orient="records")})
    assert "winner − this (paired 95% CI)" in page and "winner better beyond noise" in page
