"""Two runs paired on the same test rows: the stored predictions table, B - A with a paired
bootstrap interval for the winners and for each family both runs scored, and refusals when
the rows are not the same."""
import numpy as np
import pytest

from steps.metrics import metric_value
from steps.run_pairs import classes_of, families_in, paired_runs, predictions_table, scored
from steps.runs import comparison, format_changes, gain_text, run_row

CLASSES = ["F", "L", "M", "VF"]
RNG = np.random.default_rng(0)
Y = RNG.choice(CLASSES, size=400, p=[0.3, 0.1, 0.15, 0.45])


def _model(accuracy: float, seed: int) -> tuple:
    """(decisions, probabilities, classes) that are right on about ``accuracy`` of the rows."""
    rng = np.random.default_rng(seed)
    pred = np.where(rng.random(len(Y)) < accuracy, Y, rng.choice(CLASSES, size=len(Y)))
    proba = np.full((len(Y), 4), 0.1)
    proba[np.arange(len(Y)), [CLASSES.index(p) for p in pred]] = 0.7
    return pred, proba, CLASSES


def _table(rows=None, y=Y, **families):
    return predictions_table(families, y, np.arange(len(y)) * 3 if rows is None else rows)


def test_the_table_round_trips_and_leaves_out_sampled_families():
    logreg, hgb = _model(0.7, 1), _model(0.8, 2)
    table = _table(logreg=logreg, hist_gb=hgb, knn=None)
    assert families_in(table) == ["logreg", "hist_gb"] and classes_of(table, "hist_gb") == CLASSES
    pred, proba = scored(table, "hist_gb", ["VF", "F", "L", "M"])  # any class order
    assert list(pred) == list(hgb[0])
    np.testing.assert_allclose(proba, hgb[1][:, [3, 0, 1, 2]], rtol=1e-6)
    assert list(table["row"]) == list(np.arange(len(Y)) * 3)
    with pytest.raises(ValueError, match="no stored probabilities"):
        scored(table, "hist_gb", CLASSES + ["XL"])


def test_a_better_b_winner_is_better_beyond_noise_and_equal_families_tie():
    weak, strong, same = _model(0.55, 1), _model(0.95, 2), _model(0.8, 3)
    a = _table(logreg=weak, hist_gb=same, svm=_model(0.6, 4))
    b = _table(logreg=weak, hist_gb=same, ensemble=strong)
    paired = paired_runs(a, b, "logreg", "ensemble", "macro_f1", n=300)
    win = paired["winner"]
    expected = (metric_value("macro_f1", Y, strong[0], strong[1], CLASSES)
                - metric_value("macro_f1", Y, weak[0], weak[1], CLASSES))
    assert win["delta"] == pytest.approx(expected) and win["ci_low"] > 0.2
    assert win["verdict"] == "B better beyond noise" and paired["rows"] == len(Y)
    assert list(paired["families"]) == ["logreg", "hist_gb"]  # both runs scored them; svm only A
    assert all(g["delta"] == 0 and g["ci_low"] == g["ci_high"] == 0
               and g["verdict"] == "no difference" for g in paired["families"].values())
    worse = paired_runs(b, a, "ensemble", "logreg", "macro_f1", n=300)["winner"]
    assert worse["delta"] == pytest.approx(-expected) and worse["verdict"] == "B worse beyond noise"


def test_losses_and_costs_count_as_gains_when_b_is_better():
    weak, strong = _model(0.5, 1), _model(0.95, 2)
    a, b = _table(hist_gb=weak), _table(hist_gb=strong)
    loss = paired_runs(a, b, "hist_gb", "hist_gb", "log_loss", n=200)["winner"]
    assert loss["delta"] > 0 and loss["metric"] == "log_loss"
    costs = {"L": {"VF": 10, "F": 5}, "M": {"VF": 5}}
    cost = paired_runs(a, b, "hist_gb", "hist_gb", "macro_f1", n=200, costs=costs)
    assert cost["in"] == "expected_cost" and cost["winner"]["delta"] > 0


def test_different_rows_or_labels_are_refused_with_the_reason():
    a = _table(hist_gb=_model(0.8, 1))
    with pytest.raises(ValueError, match="A has 400 test rows, B 399"):
        paired_runs(a, a.iloc[1:], "hist_gb", "hist_gb", "macro_f1")
    with pytest.raises(ValueError, match="the test rows differ"):
        paired_runs(a, _table(rows=np.arange(len(Y)), hist_gb=_model(0.8, 1)), "hist_gb",
                    "hist_gb", "macro_f1")
    with pytest.raises(ValueError, match="labels differ"):
        paired_runs(a, _table(y=np.roll(Y, 1), hist_gb=_model(0.8, 1)), "hist_gb", "hist_gb",
                    "macro_f1")
    with pytest.raises(ValueError, match="winners' predictions are missing"):
        paired_runs(a, a, "hist_gb", "ensemble", "macro_f1")


def test_the_comparison_prints_the_paired_gains_or_why_there_are_none():
    a = _table(hist_gb=_model(0.6, 1), logreg=_model(0.5, 3))
    b = _table(hist_gb=_model(0.9, 2), logreg=_model(0.5, 3))
    report = {"winner": "hist_gb", "metric": "macro_f1", "score": 0.8, "split_id": "s" * 64,
              "family_scores": {"hist_gb": {"cv": 0.7, "test": 0.8},
                                "logreg": {"cv": 0.5, "test": 0.5}}}
    rows = [run_row({"id": r, "created": "", "status": "completed"}, report, None) for r in "ab"]
    compared = comparison(*rows, [])
    compared["paired"] = paired_runs(a, b, "hist_gb", "hist_gb", "macro_f1", n=200)
    lines = format_changes(compared).splitlines()
    headline = next(x for x in lines if x.startswith("paired on the same 400 test rows"))
    assert "B - A in macro_f1: +0." in headline and "B better beyond noise" in headline
    hgb, logreg = (next(x for x in lines if x.startswith(f"  {f} ")) for f in ("hist_gb", "logreg"))
    assert hgb.endswith("B better beyond noise") and logreg.endswith("95% CI +0.0000 to +0.0000, no difference")
    compared.update(paired=None, paired_note="a run has no stored test predictions")
    text = format_changes(compared)
    assert "paired test comparison: a run has no stored test predictions" in text
    assert "95% CI" not in text and gain_text(None) == ""
