"""Categorical encoding by cardinality: one-hot for few levels, cross-fitted target encoding
for many, inside the model pipeline."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from steps.config import PreprocessConfig
from steps.encoding import CardinalityEncoder
from steps.recipe import build_model_pipeline, infer_roles

ROWS = 1200


def _table(seed=0, n=ROWS, classes=("a", "b")):
    """``shop`` (150 levels) decides the class through a hidden per-level label; ``colour``
    (3 levels) is noise."""
    rng = np.random.default_rng(seed)
    shops = np.array([f"s{i:03d}" for i in range(150)])
    owner = np.random.default_rng(99).choice(list(classes), len(shops))  # fixed across seeds
    idx = rng.integers(0, len(shops), n)
    label = np.where(rng.random(n) < 0.85, owner[idx], rng.choice(list(classes), n))
    return pd.DataFrame({"shop": shops[idx], "colour": rng.choice(["r", "g", "b"], n),
                         "x": rng.normal(size=n)}), pd.Series(label, name="y")


def test_few_levels_stay_one_hot_many_are_target_encoded():
    X, y = _table()
    enc = CardinalityEncoder(max_categories=30).fit(X[["colour", "shop"]].to_numpy(object), y)
    assert (enc.low_, enc.high_) == ([0], [1])
    assert enc.transform(X[["colour", "shop"]].to_numpy(object)).shape == (ROWS, 3 + 1)
    X3, y3 = _table(classes=("a", "b", "c"))
    out = CardinalityEncoder(30).fit_transform(X3[["colour", "shop"]].to_numpy(object), y3)
    assert out.shape == (ROWS, 3 + 3), "multiclass: one encoded column per class"
    assert list(enc.get_feature_names_out(["colour", "shop"]))[:3] == ["colour_b", "colour_g", "colour_r"]


def test_training_rows_are_encoded_without_their_own_label():
    """A level per row (an id) carries nothing once cross-fitted; a leaky encoder would hand
    each row its own label."""
    rng = np.random.default_rng(1)
    ids = np.array([f"row{i}" for i in range(ROWS)], dtype=object).reshape(-1, 1)
    y = pd.Series(rng.choice(["a", "b"], ROWS, p=[0.7, 0.3]))
    encoded = CardinalityEncoder(30).fit_transform(ids, y)[:, 0]
    assert abs(np.corrcoef(encoded, y == "b")[0, 1]) < 0.1
    assert np.ptp(encoded) < 0.1  # each row gets (about) its fold's prior


def test_unseen_and_missing_levels_score_through_the_pipeline():
    X, y = _table()
    pipe = build_model_pipeline(infer_roles(X), PreprocessConfig(encoding="auto"), "logreg",
                                {"C": 1.0}, "class_weight", 0, y=y).fit(X, y)
    new = X.head(4).copy()
    new.loc[new.index[0], "shop"] = "never-seen"
    new.loc[new.index[1], "shop"] = np.nan
    proba = pipe.predict_proba(new)
    assert proba.shape == (4, 2) and np.isfinite(proba).all()


@pytest.mark.parametrize("family, params", [("logreg", {"C": 1.0})])
def test_target_encoding_keeps_what_one_hot_groups_away(family, params):
    X, y = _table(seed=0)
    X_new, y_new = _table(seed=1)
    scores = {}
    for encoding in ("onehot", "auto"):
        pipe = build_model_pipeline(infer_roles(X), PreprocessConfig(encoding=encoding), family,
                                    params, "class_weight", 0, y=y).fit(X, y)
        scores[encoding] = f1_score(y_new, pipe.predict(X_new), average="macro")
    assert scores["auto"] > scores["onehot"] + 0.1, scores
