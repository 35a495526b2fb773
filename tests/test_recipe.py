"""Recipe: samplers act only in fit, tiny classes are handled, preprocessing is robust."""
import logging

import numpy as np
import pandas as pd
import pytest
from imblearn import FunctionSampler
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

from steps.config import ImbalanceConfig, OutlierConfig, PreprocessConfig
from steps import recipe
from steps.recipe import AdaptiveSampler, build_model_pipeline, infer_roles

SEEN: list[np.ndarray] = []  # module level: clone() deep-copies estimator params


def _record(X, y):
    SEEN.append(np.asarray(X)[:, 0].astype(int))  # column 0 is the row id
    return X, y


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.15, "rare", "common")
    X = pd.DataFrame({"row_id": np.arange(n, dtype=float),
                      "x": rng.normal(size=n) + (y == "rare") * 2,
                      "cat": rng.choice(["p", "q", "r"], size=n)})
    return X, pd.Series(y)


def _recording_pipeline(cfg, imbalance="smote"):
    X, y = _frame()
    model = build_model_pipeline(infer_roles(X), cfg, "logreg", {}, imbalance, seed=0)
    names = [name for name, _ in model.steps]
    # a recorder right before the sampler sees exactly what the sampler is given
    model.steps.insert(names.index("sampler"), ("recorder", FunctionSampler(func=_record,
                                                                            validate=False)))
    return model


@pytest.mark.parametrize("outliers", [False, True])
def test_sampler_never_sees_test_rows_or_validation_folds(outliers):
    cfg = PreprocessConfig(scaling="none", outliers=OutlierConfig(enabled=outliers))
    X, y = _frame()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    model = _recording_pipeline(cfg)
    test_ids = set(X_te["row_id"].astype(int))

    SEEN.clear()
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X_tr, y_tr))
    cross_val_predict(model, X_tr, y_tr, cv=folds, method="predict_proba")
    assert len(SEEN) == len(folds)  # once per fold fit, never during predict
    for seen, (train_idx, valid_idx) in zip(SEEN, folds):
        fold_train = set(X_tr["row_id"].iloc[train_idx].astype(int))
        assert set(seen) <= fold_train  # outlier filter may drop some, never add
        assert not set(seen) & set(X_tr["row_id"].iloc[valid_idx].astype(int))
        assert not set(seen) & test_ids
        if not outliers:
            assert set(seen) == fold_train

    SEEN.clear()
    model.fit(X_tr, y_tr)
    assert not set(SEEN[0]) & test_ids
    SEEN.clear()
    assert len(model.predict(X_te)) == len(X_te)  # every test row predicted, none resampled
    model.predict_proba(X_te)
    assert SEEN == []


def test_smote_k_neighbors_reduced_for_tiny_minority(caplog):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(43, 2))
    y = np.array(["big"] * 40 + ["tiny"] * 3)
    sampler = AdaptiveSampler("smote", k_neighbors=5, seed=0)
    recipe._SAID.clear()  # said once per process: start from nothing said
    with caplog.at_level(logging.INFO, logger="steps.recipe"):
        X_res, y_res = sampler.fit_resample(X, y)
        sampler.fit_resample(X, y)  # the next CV fold, the next trial: not said again
    assert sampler.k_used_ == 2
    assert (y_res == "tiny").sum() == 40
    assert caplog.text.count("k_neighbors reduced 5 -> 2") == 1


@pytest.mark.parametrize("kind", ["smote", "borderline_smote", "svm_smote", "adasyn", "smoteenn"])
def test_smote_family_survives_cv_on_small_minority(kind):
    X, y = _frame(n=120, seed=3)
    y.iloc[np.flatnonzero(y == "rare")[6:]] = "common"  # 6 rare rows: ~4 per CV training fold
    cfg = PreprocessConfig(imbalance=ImbalanceConfig(k_neighbors=5))
    model = build_model_pipeline(infer_roles(X), cfg, "logreg", {}, kind, seed=0)
    proba = cross_val_predict(model, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                              method="predict_proba")
    assert proba.shape == (120, 2)


def test_single_row_class_falls_back_to_random_oversampling(caplog):
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.array(["a"] * 9 + ["b"])
    sampler = AdaptiveSampler("smote", seed=0)
    recipe._SAID.clear()
    with caplog.at_level(logging.WARNING, logger="steps.recipe"):
        _, y_res = sampler.fit_resample(X, y)
    assert (y_res == "b").sum() == 9
    assert "random oversampling" in caplog.text


def test_knn_class_weight_becomes_random_oversampling():
    X, y = _frame()
    model = build_model_pipeline(infer_roles(X), PreprocessConfig(), "knn", {}, "class_weight", 0)
    assert model.named_steps["sampler"].kind == "random_over"
    hgb = build_model_pipeline(infer_roles(X), PreprocessConfig(), "hist_gb", {}, "class_weight", 0)
    assert "sampler" not in hgb.named_steps
    assert hgb.named_steps["clf"].class_weight == "balanced"


@pytest.mark.parametrize("encoding", ["onehot", "ordinal", "auto"])
@pytest.mark.parametrize("imputer", ["median", "mean", "knn"])
def test_unseen_and_missing_categories_at_predict(encoding, imputer):
    X, y = _frame()
    cfg = PreprocessConfig(encoding=encoding, numeric_imputer=imputer, max_categories=2)
    model = build_model_pipeline(infer_roles(X), cfg, "logreg", {}, "class_weight", 0).fit(X, y)
    new = X.head(3).copy()
    new["cat"] = ["never-seen", None, "p"]
    new.loc[0, "x"] = np.nan
    assert model.predict_proba(new).shape == (3, 2)


def test_tree_families_skip_scaling_and_string_dtypes_work():
    X, y = _frame()
    X["cat"] = X["cat"].astype("string")
    model = build_model_pipeline(infer_roles(X), PreprocessConfig(), "random_forest", {},
                                 "none", 0)
    num = model.named_steps["prep"].transformers[0][1]
    assert [type(s).__name__ for s in num] == ["SimpleImputer"]
    model.fit(X, y)


def test_unknown_family_or_sampler_is_a_clear_error():
    X, y = _frame()
    with pytest.raises(ValueError, match="unknown family"):
        build_model_pipeline(infer_roles(X), PreprocessConfig(), "xgb", {}, "none", 0)
    with pytest.raises(ValueError, match="unknown sampler"):
        AdaptiveSampler("magic").fit_resample(np.zeros((4, 1)), np.array([0, 0, 1, 1]))


def _missing_signal(n=600, seed=0):
    """A table whose label is whether ``x`` is missing; its values and ``cat`` (missing at
    random) say nothing."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n),
                      "cat": rng.choice(["p", "q"], n).astype(object)})
    X.loc[(y == 1) & (rng.random(n) < 0.8), "x"] = np.nan
    X.loc[rng.random(n) < 0.3, "cat"] = None
    return X, pd.Series(np.where(y == 1, "yes", "no"))


@pytest.mark.parametrize("imputer", ["median", "knn"])
def test_missing_indicators_carry_missingness_as_a_signal(imputer):
    X, y = _missing_signal()
    scores = {}
    for flag in (False, True):
        cfg = PreprocessConfig(numeric_imputer=imputer, missing_indicators=flag)
        model = build_model_pipeline(infer_roles(X), cfg, "logreg", {}, "class_weight", 0)
        scores[flag] = model.fit(X[:400], y[:400]).score(X[400:], y[400:])
    assert scores[True] > 0.85 > 0.65 > scores[False], scores
    names = model.named_steps["prep"].get_feature_names_out()
    assert [n for n in names if n.startswith("missing__")] == [
        "missing__missingindicator_x", "missing__missingindicator_cat"]


def test_missing_indicators_only_for_columns_missing_when_fitted():
    X, y = _missing_signal()
    X["x"] = X["x"].fillna(0.0)
    model = build_model_pipeline(infer_roles(X), PreprocessConfig(), "logreg", {},
                                 "class_weight", 0).fit(X, y)
    prep = model.named_steps["prep"]
    assert [n for n in prep.get_feature_names_out() if n.startswith("missing__")] == [
        "missing__missingindicator_cat"]
    new = X.head(4).copy()
    new.loc[0, "x"] = np.nan  # missing only at predict time: imputed, not refused
    assert model.predict_proba(new).shape == (4, 2)
    complete = X.dropna()
    plain = build_model_pipeline(infer_roles(complete), PreprocessConfig(), "logreg", {},
                                 "class_weight", 0).fit(complete, y[complete.index])
    assert plain.named_steps["prep"].transform(complete).shape[1] == 4
