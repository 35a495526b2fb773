"""Ordinal targets: the cumulative decomposition and how training searches it."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from steps.columns import DataValidationError
from steps.config import PreprocessConfig, TrainConfig
from steps.ordinal import OrdinalClassifier, check_class_order, order_tag
from steps.recipe import build_model_pipeline, infer_roles
from steps.tuning import tune_family

ORDER = ["low", "mid", "high", "top"]


def ordinal_frame(n=400, seed=0):
    """A latent score cut into four ordered, imbalanced bins."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["x", "y"], size=n)})
    latent = 1.5 * X.a + X.b + (X.c == "x") * 0.5 + rng.normal(scale=0.5, size=n)
    y = pd.Series(np.array(ORDER, dtype=object)[np.digitize(latent, [-0.5, 1.0, 2.0])])
    return X, y


def test_probabilities_follow_sorted_classes_and_sum_to_one():
    X, y = ordinal_frame()
    model = OrdinalClassifier(LogisticRegression(), ORDER).fit(X[["a", "b"]], y)
    proba = model.predict_proba(X[["a", "b"]])
    assert list(model.classes_) == sorted(ORDER)
    assert proba.shape == (len(X), 4)
    assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1)
    assert len(model.estimators_) == 3  # one binary model per cut
    # the rows with the highest latent drivers land in the top class
    top = X.a.nlargest(5).index
    assert (model.predict(X[["a", "b"]].loc[top]) == "top").all()


def test_each_cut_is_balanced_on_its_own_counts():
    X, y = ordinal_frame()
    model = OrdinalClassifier(LogisticRegression(class_weight="balanced"), ORDER,
                              class_weight_power=0.5).fit(X[["a", "b"]], y)
    for k, est in enumerate(model.estimators_):
        above = (pd.Series(y).map(ORDER.index) > k).to_numpy()
        w = est.class_weight
        # tempered balance: weight = (n / (2 * count)) ** 0.5, so weight**2 * count is equal
        assert w[1] ** 2 * above.sum() == pytest.approx(w[0] ** 2 * (~above).sum())
        assert w[1] > w[0] if above.sum() < (~above).sum() else w[1] <= w[0]
    full = OrdinalClassifier(LogisticRegression(class_weight="balanced"), ORDER).fit(X[["a", "b"]], y)
    assert all(est.class_weight == "balanced" for est in full.estimators_)
    unweighted = OrdinalClassifier(LogisticRegression(), ORDER).fit(X[["a", "b"]], y)
    assert all(est.class_weight is None for est in unweighted.estimators_)


class _Recording(LogisticRegression):
    """Keeps what ``fit`` was given, to check the shared model's replicated rows."""

    def fit(self, X, y, sample_weight=None):
        self.seen_ = (np.asarray(X), np.asarray(y), sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


def test_shared_model_learns_every_cut_from_replicated_rows():
    X, y = ordinal_frame()
    model = OrdinalClassifier(_Recording(class_weight="balanced"), ORDER, shared=True)
    proba = model.fit(X[["a", "b"]], y).predict_proba(X[["a", "b"]])
    assert len(model.estimators_) == 1 and model.estimators_[0].class_weight is None
    rows, labels, weights = model.estimators_[0].seen_
    rank = pd.Series(y).map(ORDER.index).to_numpy()
    assert rows.shape == (3 * len(X), 3)  # every row once per cut, the cut as a last column
    assert list(np.unique(rows[:, -1])) == [0, 1, 2]
    for k in range(3):
        cut = rows[:, -1] == k
        assert np.array_equal(labels[cut], (rank > k).astype(int))
        # balanced within the cut: both sides carry the same total weight
        assert weights[cut][labels[cut] == 1].sum() == pytest.approx(
            weights[cut][labels[cut] == 0].sum())
    assert proba.shape == (len(X), 4) and np.allclose(proba.sum(axis=1), 1)
    assert (proba >= 0).all()
    top = X.a.nlargest(5).index
    assert (model.predict(X[["a", "b"]].loc[top]) == "top").all()


def test_shared_boosting_gets_the_iterations_of_all_its_cuts():
    from sklearn.ensemble import HistGradientBoostingClassifier
    X, y = ordinal_frame()
    hgb = HistGradientBoostingClassifier(max_iter=20, early_stopping=False)
    shared = OrdinalClassifier(hgb, ORDER, shared=True).fit(X[["a", "b"]], y)
    assert shared.estimators_[0].n_iter_ == 60  # the separate fits' 3 x 20 trees, in one model
    assert hgb.max_iter == 20  # the given estimator is left as it was
    unweighted = OrdinalClassifier(_Recording(), ORDER, shared=True).fit(X[["a", "b"]], y)
    assert unweighted.estimators_[0].seen_[2] is None


def test_integer_labels_are_kept():
    X, y = ordinal_frame()
    y_int = y.map(ORDER.index)
    model = OrdinalClassifier(LogisticRegression(), ["0", "1", "2", "3"]).fit(X[["a", "b"]], y_int)
    assert list(model.classes_) == [0, 1, 2, 3]
    assert set(model.predict(X[["a", "b"]])) <= {0, 1, 2, 3}


def test_cross_val_predict_label_codes_are_understood():
    # cross_val_predict(method="predict_proba") label-encodes y (sorted names -> 0..K-1)
    from sklearn.model_selection import cross_val_predict
    X, y = ordinal_frame()
    proba = cross_val_predict(OrdinalClassifier(LogisticRegression(), ORDER), X[["a", "b"]], y,
                              cv=3, method="predict_proba")
    names = np.array(sorted(ORDER), dtype=object)
    assert (names[proba.argmax(axis=1)] == y).mean() > 0.6  # a mapping mix-up scores ~0.3


@pytest.mark.parametrize("order, message", [
    (["low", "mid", "high"], "missing \\['top'\\]"),
    (["low", "mid", "high", "top", "max"], "not in the data \\['max'\\]"),
    (["low", "mid", "mid", "top"], "repeats"),
])
def test_bad_class_order_says_what_differs(order, message):
    with pytest.raises(DataValidationError, match=message):
        check_class_order(order, ORDER)


def test_order_tag_is_stable_and_order_sensitive():
    assert order_tag(ORDER) == order_tag(list(ORDER))
    assert order_tag(ORDER) != order_tag(ORDER[::-1])
    assert order_tag(None) == ""


def test_pipeline_uses_the_decomposition_only_when_asked_and_ordered():
    X, y = ordinal_frame()
    roles = infer_roles(X)
    params = {"max_iter": 20, "ordinal": True}
    ordinal = build_model_pipeline(roles, PreprocessConfig(), "hist_gb", params, "class_weight",
                                   0, y=y, class_order=ORDER)
    assert isinstance(ordinal.steps[-1][1], OrdinalClassifier)
    assert not ordinal.steps[-1][1].shared
    shared = build_model_pipeline(roles, PreprocessConfig(), "hist_gb",
                                  {**params, "ordinal": "shared"}, "class_weight", 0, y=y,
                                  class_order=ORDER)
    assert shared.steps[-1][1].shared
    plain = build_model_pipeline(roles, PreprocessConfig(), "hist_gb", params, "class_weight",
                                 0, y=y, class_order=None)
    assert not isinstance(plain.steps[-1][1], OrdinalClassifier)
    # logreg's cumulative fits lost badly on hpc_data: it never decomposes
    logreg = build_model_pipeline(roles, PreprocessConfig(), "logreg", {"ordinal": True},
                                  "class_weight", 0, y=y, class_order=ORDER)
    assert not isinstance(logreg.steps[-1][1], OrdinalClassifier)
    proba = ordinal.fit(X, y).predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1)


def test_study_searches_ordinal_when_the_target_is_ordered():
    X, y = ordinal_frame(n=300)
    cfg = TrainConfig(cv_folds=3, n_trials=4)
    res = tune_family("hist_gb", X, y, PreprocessConfig(), cfg, timeout_s=None,
                      class_order=ORDER)
    # the starting configurations: quick start and defaults as ordinal, then plain; TPE
    # then chooses among the shared model, separate cuts and none
    assert list(res.trials["param_ordinal"][:3]) == [True, True, False]
    assert set(res.trials["param_ordinal"]) <= {"shared", True, False}
    assert "ordinal" in res.best_params
    assert res.oof_proba.shape == (len(y), 4)
    off = tune_family("hist_gb", X, y, PreprocessConfig(), cfg.model_copy(update={"ordinal": False}),
                      timeout_s=None, n_trials=2, class_order=ORDER)
    assert "param_ordinal" not in off.trials.columns
    unordered = tune_family("hist_gb", X, y, PreprocessConfig(), cfg, timeout_s=None, n_trials=2)
    assert "param_ordinal" not in unordered.trials.columns


def test_a_search_can_be_held_to_the_shared_model():
    X, y = ordinal_frame(n=300)
    cfg = TrainConfig(cv_folds=3, search={"hist_gb": {"ordinal": "shared", "max_iter": 20}})
    res = tune_family("hist_gb", X, y, PreprocessConfig(), cfg, timeout_s=None, n_trials=2,
                      class_order=ORDER)
    assert set(res.trials["param_ordinal"]) == {"shared"}
    classifier = res.model.steps[-1][1]
    assert classifier.shared and classifier.estimators_[0].n_iter_ == 60
    with pytest.raises(ValueError, match="train.search.hist_gb.ordinal"):
        TrainConfig(search={"hist_gb": {"ordinal": "pooled"}})


def test_data_step_takes_the_order_from_config_then_card_and_checks_it():
    from types import SimpleNamespace

    from pipelines.step_tasks import _class_order
    from steps.config import DataConfig
    frame = pd.DataFrame({"y": ["low", "mid", "high", "top", None]})
    table = SimpleNamespace(target="y", card={"class_order": ORDER})
    assert _class_order(DataConfig(source="x.csv"), table, frame) == ORDER
    assert _class_order(DataConfig(source="x.csv"), SimpleNamespace(target="y", card=None),
                        frame) is None
    with pytest.raises(DataValidationError, match="missing \\['top'\\]"):
        _class_order(DataConfig(source="x.csv", class_order=["low", "mid", "high"]), table, frame)


def test_a_new_class_order_makes_a_new_version_but_other_tags_do_not():
    from pipelines.step_tasks import _same_version
    sha, order = "sha256:0123456789abcdef", order_tag(ORDER)
    assert _same_version([sha, order, "anything"], [sha, order])
    assert not _same_version([sha], [sha, order])  # the order was declared since
    assert not _same_version([sha, order], [sha, order_tag(ORDER[::-1])])
    assert not _same_version(["sha256:fedcba9876543210", order], [sha, order])
