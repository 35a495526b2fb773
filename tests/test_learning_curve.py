"""The winner's learning curve: refits on fractions of the training rows, a verdict on
whether more rows would help, bounded by a time budget."""
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from steps.ensemble import EnsembleClassifier
from steps.learning_curve import (learning_curve, learning_curve_figure, refit, verdict,
                                  winner_curve)


def _checkerboard(n, seed=0):
    """A boundary a k-NN needs many rows to draw: its score keeps rising with data."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0, 8, size=(n, 2)), columns=["a", "b"])
    y = pd.Series(np.where((X["a"].astype(int) + X["b"].astype(int)) % 2 == 0, "x", "o"))
    return X, y


def _linear(n, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
    y = pd.Series(np.where(X["a"] + 0.7 * rng.normal(size=n) > 0, "x", "o"))
    return X, y


def _curve(model, X, y, **kw):
    return winner_curve(model, X, y, ["o", "x"], "macro_f1", beta=1.0, positive_label="x",
                        cv_score=kw.pop("cv_score"), oof_rows=len(y), cv_folds=5,
                        budget_s=kw.pop("budget_s", 60.0))


def test_a_model_short_of_data_is_still_rising():
    X, y = _checkerboard(3000)
    knn = KNeighborsClassifier(5)
    # the full-size point: what the training step's 5-fold out-of-fold score would be
    curve = _curve(knn, X, y, cv_score=0.93)
    t = curve.table
    assert list(t["train_rows"]) == [200, 500, 1000, 2400]
    assert t["score_mean"].is_monotonic_increasing
    assert curve.verdict.startswith("still rising")
    assert t["source"].iloc[-1] == "out-of-fold score of the training step"


def test_a_simple_boundary_is_flat_early():
    X, y = _linear(3000)
    lr = LogisticRegression()
    curve = _curve(lr, X, y, cv_score=curve_score(lr, X, y))
    assert curve.verdict.startswith("flat"), curve.table
    assert curve.table["score_mean"].min() > 0.7  # learnt from the smallest fraction already


def curve_score(model, X, y):
    from sklearn.model_selection import cross_val_score
    return float(cross_val_score(model, X, y, cv=5, scoring="f1_macro").mean())


def test_the_budget_skips_larger_fractions_and_says_so():
    X, y = _checkerboard(3000)
    curve = _curve(KNeighborsClassifier(5), X, y, cv_score=0.9, budget_s=1e-6)
    assert len(curve.table) == 2  # the smallest fraction, then only the free full-size point
    assert "skipped" in curve.note and "evaluate.learning_curve_s" in curve.note


def test_a_blend_is_refit_member_by_member():
    X, y = _linear(400)
    members = {"lr": LogisticRegression().fit(X, y), "knn": KNeighborsClassifier(7).fit(X, y)}
    blend = EnsembleClassifier(members, {"lr": 0.5, "knn": 0.5})
    fresh = refit(blend, X[:100], y[:100])
    assert fresh.weights == blend.weights
    assert all(fresh.members[n] is not members[n] for n in members)
    assert fresh.members["knn"].n_samples_fit_ == 100 and members["knn"].n_samples_fit_ == 400


def test_verdict_is_the_gain_per_doubling_of_the_last_two_points():
    table = pd.DataFrame({"train_rows": [100, 400], "score_mean": [0.70, 0.74]})
    assert verdict(table).startswith("still rising: +0.020 per doubling")
    table = pd.DataFrame({"train_rows": [100, 400], "score_mean": [0.70, 0.705]})
    assert verdict(table).startswith("flat")
    assert "too few" in verdict(table.iloc[:1])
    assert "rough" in verdict(table)  # two points only
    three = pd.DataFrame({"train_rows": [50, 100, 400], "score_mean": [0.6, 0.70, 0.74]})
    assert "rough" not in verdict(three)


def test_a_perfect_score_has_no_room_to_rise():
    table = pd.DataFrame({"train_rows": [40, 85, 204], "score_mean": [0.46, 0.57, 1.0]})
    text = verdict(table)
    assert text.startswith("at the ceiling (1.000 at 204 rows)") and "leakage" in text


def test_figure_and_run_page():
    from steps.report import _learning
    X, y = _checkerboard(1200)
    curve = _curve(KNeighborsClassifier(5), X, y, cv_score=0.9)
    fig = learning_curve_figure(curve, "macro_f1")
    assert fig.axes[0].get_xscale() == "log"
    page = _learning({"learning_curve": {"points": curve.table.to_dict("records"),
                                         "verdict": curve.verdict, "note": None}})
    assert "Learning curve of the winner" in page and curve.verdict[:10] in page
    assert _learning({}) == ""


def test_generic_score_function_and_classes_too_small_for_a_fraction():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300)})
    y = pd.Series(["rare"] * 6 + ["common"] * 294)  # 10% of a fold's rows holds ~0-1 rare rows
    curve = learning_curve(LogisticRegression(), X, y, lambda yt, m, Xv: m.score(Xv, yt),
                           full_rows=240, full_score=0.98)
    assert curve.table["train_rows"].iloc[-1] == 240
    assert curve.table["score_mean"].between(0, 1).all()
    # fractions whose subsample cannot hold the rare class are left out, not crashed on
    assert (curve.table["train_rows"].iloc[:-1] >= 40).all()


def test_grouped_rows_keep_their_groups_in_one_fold():
    """Repeated records of one entity: plain folds let a 1-NN find the entity's twin in
    training and look perfect; grouped folds, as the training step uses, do not."""
    rng = np.random.default_rng(4)
    entity = np.repeat(np.arange(150), 8)
    label = rng.choice(["o", "x"], size=150)[entity]  # the entity's label, unrelated to X
    X = pd.DataFrame({"a": rng.normal(size=150)[entity] + rng.normal(0, 1e-3, len(entity))})
    y = pd.Series(label)
    nn = KNeighborsClassifier(1)
    plain = winner_curve(nn, X, y, ["o", "x"], "macro_f1", beta=1.0, positive_label="x",
                         cv_score=0.5, oof_rows=len(y), cv_folds=5, budget_s=60)
    grouped = winner_curve(nn, X, y, ["o", "x"], "macro_f1", beta=1.0, positive_label="x",
                           cv_score=0.5, oof_rows=len(y), cv_folds=5, budget_s=60, groups=entity)
    assert plain.table["score_mean"].iloc[-2] > 0.9  # memorised twins
    assert grouped.table["score_mean"].iloc[:-1].max() < 0.65  # no signal: about chance


class _SlowerThanLinear:
    """A classifier whose fit time grows with the square of its rows, counting its fits."""
    fits: list = []

    def __init__(self, scale: float = 2.0):
        self.scale = scale

    def get_params(self, deep=True):
        return {"scale": self.scale}

    def set_params(self, **params):
        self.scale = params.get("scale", self.scale)
        return self

    def fit(self, X, y):
        import time
        time.sleep(self.scale * (len(X) / 1000) ** 2)
        type(self).fits.append(len(X))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_a_fraction_costlier_than_predicted_is_abandoned_after_one_fold():
    X, y = _checkerboard(3000)
    _SlowerThanLinear.fits = []
    # 10%: 3 fits of 200 rows, 0.08 s each; 25% is predicted at about 0.7 s (linear), and
    # then takes 0.5 s per fit (quadratic): its first fit shows the other two would overrun
    curve = _curve(_SlowerThanLinear(), X, y, cv_score=0.5, budget_s=1.2)
    assert len(curve.table) == 2 and curve.table["train_rows"].iloc[0] == 200
    assert _SlowerThanLinear.fits.count(200) == 3 and len(_SlowerThanLinear.fits) <= 4
    assert "fractions [0.25, 0.5] skipped" in curve.note
