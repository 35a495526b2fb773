"""Model families: every family builds and fits; search spaces are exercised."""
import numpy as np
import optuna
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from steps.config import PreprocessConfig
from steps.models import FAMILIES, ScoreSVC, class_weights
from steps.recipe import build_model_pipeline, infer_roles


@pytest.fixture(autouse=True)
def _one_thread():
    """OpenMP boosting oversubscribes a shared 2-core box; one thread is faster."""
    with threadpool_limits(1):
        yield


FAST = {"max_iter": 30}  # keeps boosting quick in tests; ignored by other families


def mixed_frame(n=120, seed=0):
    """Numeric + categorical columns with missing values, 3 imbalanced classes."""
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    X = pd.DataFrame({
        "x1": rng.normal(size=n) + (y == "b") * 1.5,
        "x2": rng.exponential(size=n) + (y == "c") * 2.0,
        "n": rng.integers(0, 10, size=n).astype(float),
        "color": rng.choice(["red", "green", "blue"], size=n),
        "flag": rng.choice(["yes", "no"], size=n),
    })
    X.loc[rng.random(n) < 0.1, "x1"] = np.nan
    X.loc[rng.random(n) < 0.1, "color"] = None
    return X, pd.Series(y, name="target")


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("imbalance", ["class_weight", "none", "smote"])
def test_every_family_builds_and_fits(family, imbalance):
    X, y = mixed_frame()
    model = build_model_pipeline(infer_roles(X), PreprocessConfig(), family,
                                 {**FAMILIES[family].defaults, **FAST}, imbalance, seed=0, y=y)
    model.fit(X, y)
    proba = model.predict_proba(X.head(7))
    assert proba.shape == (7, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {"a", "b", "c"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fixed_trial_exercises_search_space(family):
    spec = FAMILIES[family]
    params = spec.suggest(optuna.trial.FixedTrial(dict(spec.defaults)))
    assert params == spec.defaults  # defaults lie inside the search space
    spec.make(params, 0, "balanced" if spec.class_weight else None)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_sampled_params_build_valid_estimators(family):
    spec = FAMILIES[family]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    X, y = mixed_frame(n=80)
    for _ in range(3):
        trial = study.ask()
        params = spec.suggest(trial)
        model = build_model_pipeline(infer_roles(X), PreprocessConfig(), family, {**params, **FAST},
                                     "class_weight", seed=0, y=y)
        model.fit(X, y)  # sklearn validates every parameter at fit
        study.tell(trial, 0.0)


def test_class_weight_power_interpolates_none_and_balanced():
    y = np.array(["a"] * 90 + ["b"] * 10)
    assert class_weights("balanced", {}, y) == "balanced"
    assert class_weights(None, {"class_weight_power": 0.5}, y) is None
    half = class_weights("balanced", {"class_weight_power": 0.5}, y)
    full = class_weights("balanced", {"class_weight_power": 1.0 - 1e-12}, y)
    assert half["b"] == pytest.approx(full["b"] ** 0.5, rel=1e-6)
    assert class_weights("balanced", {"class_weight_power": 0.0}, y) == {"a": 1.0, "b": 1.0}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("power", [1.0, 0.5])
def test_integer_labels_read_as_text_are_weighted_like_any_other(family, power):
    # a 0/1 target read from a CSV reaches the models as '0'/'1'; scikit-learn 1.9 looks such
    # labels up in class_weight as ints, and forests failed with "The classes, [0, 1], are not
    # in class_weight"
    X, letters = mixed_frame()
    y = letters.map({"a": "0", "b": "1", "c": "10"})
    params = {**FAMILIES[family].defaults, **FAST, "class_weight_power": power}
    model = build_model_pipeline(infer_roles(X), PreprocessConfig(), family, params,
                                 "class_weight", seed=0, y=y).fit(X, y)
    assert list(model.classes_) == ["0", "1", "10"] and set(model.predict(X)) <= {"0", "1", "10"}
    weights = class_weights("balanced", {"class_weight_power": power}, y)
    counts = y.value_counts()
    for label in ("0", "1", "10"):
        expected = (len(y) / (3 * counts[label])) ** power
        assert weights[label] == weights[int(label)] == pytest.approx(expected)


def test_score_svc_proba_is_consistent_with_predict():
    X, y = mixed_frame(n=90)
    Xn = X[["x1", "x2", "n"]].fillna(0).to_numpy()
    model = ScoreSVC(C=1.0).fit(Xn, y)
    proba = model.predict_proba(Xn)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (model.classes_[proba.argmax(axis=1)] == model.predict(Xn)).all()
    binary = ScoreSVC().fit(Xn, y == "a")
    assert binary.predict_proba(Xn).shape == (90, 2)


def test_hist_gb_bins_wide_tables_coarsely_and_keeps_its_parameters():
    from sklearn.base import clone

    from steps.models import FAMILIES, WIDE_BINS, WIDE_COLUMNS
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b"], size=300)
    model = FAMILIES["hist_gb"].make({"max_iter": 20}, 0, "balanced")
    for width, bins in ((20, 255), (WIDE_COLUMNS + 1, WIDE_BINS)):
        X = rng.normal(size=(300, width)) + (y == "b")[:, None] * 0.5
        fitted = clone(model).fit(X, y)
        assert fitted.max_bins_used_ == bins
        assert fitted._bin_mapper.n_bins_non_missing_.max() <= bins
        assert fitted.get_params()["max_bins"] == 255 and (fitted.predict(X) == y).mean() > 0.8
