"""Conformal prediction sets: per-class thresholds cover every class, the rare one too, at
the chosen level; one shared threshold covers the rows on average and not the rare class."""
import numpy as np
import pandas as pd
import pytest

from steps.conformal import (SET_COLUMN, _threshold, coverage_note, coverage_table,
                             cv_plus_sets, fit_thresholds, prediction_sets, set_labels,
                             with_sets)

CLASSES = ["common", "middle", "rare"]


def _draw(n, seed):
    """Rows whose labels are drawn from the very probabilities a model gives them (a
    calibrated model): 80 / 15 / 5 per cent, the rare class seldom the most probable."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    logits = np.column_stack([np.full(n, 2.2), 0.6 + 0.9 * x[:, 0], 0.9 * x[:, 1] - 0.2])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(CLASSES, p=p) for p in proba])
    return y, proba


def test_per_class_thresholds_cover_each_class_and_a_shared_one_misses_the_rare():
    y_cal, p_cal = _draw(4000, 0)
    y_test, p_test = _draw(20000, 1)
    assert (y_cal == "rare").mean() < 0.1  # imbalanced
    mondrian = coverage_table(y_test, prediction_sets(
        p_test, CLASSES, fit_thresholds(y_cal, p_cal, CLASSES, 0.1)), CLASSES).set_index("class")
    shared = coverage_table(y_test, prediction_sets(
        p_test, CLASSES, fit_thresholds(y_cal, p_cal, CLASSES, 0.1, by_class=False)),
        CLASSES).set_index("class")
    for c in CLASSES:  # 1 - alpha for every class, within sampling noise
        assert mondrian.loc[c, "coverage"] > 0.88
    assert 0.88 < shared.loc["all", "coverage"] < 0.92  # on average, as promised
    assert shared.loc["rare", "coverage"] < 0.8  # the rare class left behind
    assert mondrian.loc["all", "rows"] == 20000 and mondrian["rows"].drop("all").sum() == 20000
    assert mondrian.loc["rare", "mean_size"] >= mondrian.loc["common", "mean_size"]


def test_the_threshold_is_the_finite_sample_conformal_quantile():
    scores = np.arange(1, 10) / 10  # 0.1 .. 0.9, n = 9
    assert _threshold(scores, 0.1) == pytest.approx(0.9)  # rank ceil(10 * 0.9) = 9
    assert _threshold(scores, 0.3) == pytest.approx(0.7)  # rank ceil(10 * 0.7) = 7
    assert _threshold(scores[:5], 0.1) == 1.0  # too few rows for 90%: admit the class always
    assert _threshold(np.array([]), 0.1) == 1.0


def test_sets_as_text_and_as_a_column_of_scored_rows():
    proba = np.array([[0.9, 0.08, 0.02], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]])
    thresholds = {"common": 0.5, "middle": 0.7, "rare": 0.6}
    sets = prediction_sets(proba, CLASSES, thresholds)
    assert set_labels(sets, CLASSES) == ["common", "common|middle", "middle|rare"]
    assert set_labels(prediction_sets(proba, CLASSES, dict.fromkeys(CLASSES, 0.01)),
                      CLASSES) == ["common", "common", "rare"]  # nothing passes a tiny
    # threshold: a set is never empty, it keeps the row's most probable class
    scored = pd.DataFrame(proba, columns=[f"proba_{c}" for c in CLASSES]).assign(predicted="x")
    out = with_sets(scored, CLASSES, {"alpha": 0.1, "thresholds": thresholds}, "proba_")
    assert out[SET_COLUMN].tolist() == ["common", "common|middle", "middle|rare"]
    assert SET_COLUMN not in scored  # the input is left as it was


def test_the_coverage_table_and_note_say_what_the_sets_did():
    y = np.array(["common", "common", "middle", "rare"])
    sets = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 1, 1]], dtype=bool)
    table = coverage_table(y, sets, CLASSES).set_index("class")
    assert table.loc["common", "coverage"] == 1.0 and table.loc["middle", "coverage"] == 0.0
    assert table.loc["all", "coverage"] == 0.75 and table.loc["all", "mean_size"] == 1.5
    assert table.loc["all", "singletons"] == 0.5
    # the two single-class sets: common (right), common for a middle row (wrong)
    assert table.loc["all", "singleton_accuracy"] == 0.5
    assert table.loc["common", "singleton_accuracy"] == 1.0
    assert np.isnan(table.loc["rare", "singleton_accuracy"])  # no single-class set there
    note = coverage_note(table.reset_index(), 0.1, by_class=True)
    assert note.startswith("prediction sets at 90% (per class")
    assert "test coverage 0.750, mean set size 1.50, 50% single-class (right on 50% of them)" in note
    assert "least covered class middle 0.000 (1 rows)" in note


def test_calibration_labels_outside_the_classes_fail_clearly():
    with pytest.raises(ValueError, match=r"calibration labels \['other'\]"):
        fit_thresholds(["common", "other"], np.full((2, 3), 1 / 3), CLASSES)


def test_ordered_classes_get_runs_of_neighbours_written_lowest_first():
    classes, order = ["F", "L", "M", "VF"], ["VF", "F", "M", "L"]  # model order, run-time order
    proba = np.array([[0.1, 0.05, 0.05, 0.8],    # VF alone
                      [0.05, 0.4, 0.1, 0.45],    # L and VF: every class between them too
                      [0.45, 0.05, 0.05, 0.45],  # VF and F: already neighbours
                      [0.2, 0.2, 0.25, 0.35]])  # nothing passes: the most probable
    thresholds = dict.fromkeys(classes, 0.6)
    plain = prediction_sets(proba, classes, thresholds)
    ordered = prediction_sets(proba, classes, thresholds, order)
    assert (ordered >= plain).all()  # only ever widened, so coverage cannot drop
    assert set_labels(plain, classes) == ["VF", "L|VF", "F|VF", "VF"]
    assert set_labels(ordered, classes, order) == ["VF", "VF|F|M|L", "VF|F", "VF"]
    scored = pd.DataFrame(proba, columns=[f"proba_{c}" for c in classes])
    rule = {"alpha": 0.1, "thresholds": thresholds, "order": order}
    assert with_sets(scored, classes, rule, "proba_")[SET_COLUMN].tolist() == \
        ["VF", "VF|F|M|L", "VF|F", "VF"]
    table = coverage_table(["VF", "M", "F", "L"], ordered, classes)
    assert "ordered classes: each set a run of neighbours" in coverage_note(table, 0.1, True, True)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _logits(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    z = np.column_stack([np.full(n, 2.2), 0.6 + 0.9 * x[:, 0], 0.9 * x[:, 1] - 0.2])
    return z, np.array([rng.choice(CLASSES, p=p) for p in _softmax(z)])


@pytest.mark.parametrize("by_class", [True, False])
def test_cv_plus_with_one_model_for_every_fold_is_the_split_rule(by_class):
    y_cal, p_cal = _draw(2000, 0)
    _, p_new = _draw(800, 1)
    folds = np.arange(2000) % 5
    order = ["common", "middle", "rare"]
    split = prediction_sets(p_new, CLASSES, fit_thresholds(y_cal, p_cal, CLASSES, 0.1, by_class),
                            order)
    cv = cv_plus_sets(y_cal, p_cal, folds, {k: p_new for k in range(5)}, CLASSES, 0.1, by_class,
                      order)
    np.testing.assert_array_equal(cv, split)


def test_cv_plus_keeps_every_class_covered_where_the_refit_model_is_sharper():
    """The fold models learnt from fewer rows and are blunter (temperatures 0.5-0.9) than the
    refit model served (the true probabilities). Thresholds from the fold models' scores,
    applied to the refit model, leave the middle and rare classes short of 90%; CV+ scores
    each new row with the fold models themselves and covers every class."""
    z_cal, y_cal = _logits(4000, 0)
    z_new, y_new = _logits(20000, 1)
    temperatures = [0.5, 0.6, 0.7, 0.8, 0.9]
    folds = np.arange(len(y_cal)) % 5
    oof = _softmax(z_cal * np.asarray(temperatures)[folds][:, None])
    fold_new = {k: _softmax(z_new * t) for k, t in enumerate(temperatures)}
    cv = coverage_table(y_new, cv_plus_sets(y_cal, oof, folds, fold_new, CLASSES, 0.1), CLASSES)
    refit = prediction_sets(_softmax(z_new), CLASSES, fit_thresholds(y_cal, oof, CLASSES, 0.1))
    naive = coverage_table(y_new, refit, CLASSES)
    assert (cv.set_index("class")["coverage"] >= 0.89).all()
    assert naive.set_index("class").loc[["middle", "rare"], "coverage"].max() < 0.8


def test_cv_plus_admits_every_class_when_the_rows_are_too_few_for_the_level():
    y_cal, p_cal = np.array(["common"] * 5 + ["rare"] * 3), np.full((8, 3), 1 / 3)
    sets = cv_plus_sets(y_cal, p_cal, np.arange(8) % 2, {0: p_cal[:2], 1: p_cal[:2]},
                        CLASSES, 0.1)
    assert sets.all()  # 3 rare rows cannot place a 90% quantile; "middle" has none


def test_a_model_right_more_often_than_the_level_still_gives_every_row_a_class():
    """At 90% a model right on ~97% of rows meets the level with empty sets for its less sure
    rows; each such row gets its most probable class instead, and coverage only rises."""
    rng = np.random.default_rng(3)

    def confident(n):
        z = np.column_stack([rng.normal(4, 1.5, n), rng.normal(0, 1, n), rng.normal(0, 1, n)])
        proba = _softmax(z * rng.choice([1, -1], size=(n, 1), p=[0.97, 0.03]))
        return np.array([CLASSES[i] for i in np.argmax(proba, axis=1)]), proba
    y_cal, p_cal = confident(3000)
    y_cal[:60] = "rare"  # a few rows the model gets wrong
    y_test, p_test = confident(3000)
    thresholds = fit_thresholds(y_cal, p_cal, CLASSES, 0.1, by_class=False)
    raw = (1 - p_test) <= np.array([thresholds[c] for c in CLASSES]) + 1e-12
    assert (~raw.any(axis=1)).mean() > 0.02  # the bare rule leaves rows with nothing
    sets = prediction_sets(p_test, CLASSES, thresholds)
    assert sets.any(axis=1).all() and (sets >= raw).all()
    emptied = ~raw.any(axis=1)
    assert (sets[emptied].sum(axis=1) == 1).all()
    assert (np.argmax(sets[emptied], axis=1) == np.argmax(p_test[emptied], axis=1)).all()
    folds = np.arange(3000) % 3  # CV+ with one model for every fold: the same guarantee
    cv_plus = cv_plus_sets(y_cal, p_cal, folds, dict.fromkeys(range(3), p_test), CLASSES, 0.1,
                           by_class=False)
    assert cv_plus.any(axis=1).all()
