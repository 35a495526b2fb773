"""Greedy ensemble selection on out-of-fold predictions and the served blend."""
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from steps.ensemble import (ENSEMBLE, EnsembleClassifier, greedy_ensemble, oof_score,
                            select_final)
from steps.leaderboard import leaderboard, select_winner

CLASSES = ["a", "b", "c"]


def _onehot(labels, confidence=0.9):
    proba = np.full((len(labels), 3), (1 - confidence) / 2)
    proba[np.arange(len(labels)), [CLASSES.index(c) for c in labels]] = confidence
    return proba


def _complementary():
    """Two members, each right on a different half of the rows with high confidence and
    only mildly wrong elsewhere: their average is right everywhere."""
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, size=200)
    wrong = np.array([CLASSES[(CLASSES.index(c) + 1) % 3] for c in y])
    half = np.arange(200) < 100
    first = np.where(half[:, None], _onehot(y, 0.9), _onehot(wrong, 0.5))
    second = np.where(half[:, None], _onehot(wrong, 0.5), _onehot(y, 0.9))
    return y, {"first": first, "second": second}


def test_blend_of_complementary_members_beats_each():
    y, oofs = _complementary()
    singles = {n: oof_score("macro_f1", y, p, CLASSES) for n, p in oofs.items()}
    sel = greedy_ensemble(oofs, y, CLASSES, "macro_f1")
    assert max(singles.values()) < 0.7
    assert sel.score == pytest.approx(1.0)
    assert set(sel.weights) == {"first", "second"}
    assert sum(sel.weights.values()) == pytest.approx(1.0)
    assert oof_score("macro_f1", y, sel.blend(oofs), CLASSES) == pytest.approx(sel.score)


def test_select_final_prefers_the_blend_only_when_it_scores_higher():
    y, oofs = _complementary()
    choice = select_final(oofs, y, CLASSES, "macro_f1")
    assert choice.name == ENSEMBLE and choice.cv_scores[ENSEMBLE] > choice.cv_scores["first"]
    # a perfect single member: the blend cannot beat it, the simpler model wins the tie
    oofs["perfect"] = _onehot(y, 0.99)
    choice = select_final(oofs, y, CLASSES, "macro_f1")
    assert choice.name == "perfect" and "did not beat" in choice.reason
    assert select_final(oofs, y, CLASSES, "macro_f1", ensemble=False).ensemble is None


def test_members_must_cover_the_same_rows():
    y, oofs = _complementary()
    oofs["short"] = oofs["first"][:50]
    with pytest.raises(ValueError, match="share one shape"):
        greedy_ensemble(oofs, y, CLASSES, "macro_f1")


def test_ensemble_classifier_averages_fitted_members_and_pickles():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["x0", "x1", "x2"])
    y = np.array(CLASSES)[(X["x0"] > 0).astype(int) + (X["x1"] > 0.5).astype(int)]
    members = {"lr": LogisticRegression().fit(X, y),
               "tree": DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)}
    blend = EnsembleClassifier(members, {"lr": 0.75, "tree": 0.25})
    expected = 0.75 * members["lr"].predict_proba(X) + 0.25 * members["tree"].predict_proba(X)
    np.testing.assert_allclose(blend.predict_proba(X), expected)
    assert list(blend.classes_) == CLASSES
    assert list(blend.predict(X)) == list(np.array(CLASSES)[expected.argmax(1)])
    again = pickle.loads(pickle.dumps(blend))
    np.testing.assert_allclose(again.predict_proba(X), expected)


def test_leaderboard_ranks_by_cv_not_test():
    rows = [{"family": "a", "macro_f1": 0.90, "cv_score": 0.70},
            {"family": "b", "macro_f1": 0.80, "cv_score": 0.75}]
    board = leaderboard(rows, "macro_f1", rank_by="cv_score")
    assert select_winner(board) == "b"
    assert select_winner(leaderboard(rows, "macro_f1")) == "a"
    with pytest.raises(ValueError, match="cv_score"):
        leaderboard([{"family": "a", "macro_f1": 0.9}], "macro_f1", rank_by="cv_score")


def test_out_of_fold_ties_are_not_broken_by_a_test_column():
    rows = [{"family": "b", "macro_f1": 0.8, "roc_auc": 0.99, "cv_score": 0.7},
            {"family": "a", "macro_f1": 0.8, "roc_auc": 0.50, "cv_score": 0.7}]
    assert select_winner(leaderboard(rows, "macro_f1", rank_by="cv_score")) == "a"
    assert select_winner(leaderboard(rows, "macro_f1")) == "b"
