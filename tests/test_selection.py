"""Feature selection for wide tables: inside the model pipeline, searched per family."""
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score

from steps.config import ConfigError, PreprocessConfig, TrainConfig, load_config
from steps.recipe import build_model_pipeline, infer_roles
from steps.selection import kept_columns, select_choices
from steps.tuning import tune_family


def _wide(rows=300, columns=400, informative=4, seed=0, signal=1.5):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, columns)),
                     columns=[f"g{i}" for i in range(columns)])
    y = (rng.random(rows) < 0.25).astype(int)
    X.iloc[:, :informative] += signal * y[:, None]  # only the first columns carry the label
    return X, pd.Series(np.where(y == 1, "case", "control"))


def test_only_wide_tables_search_how_many_columns_to_keep():
    wide = {"numeric": [f"g{i}" for i in range(400)], "categorical": []}
    assert select_choices(wide, PreprocessConfig()) == [16, 64, 256]
    narrow = {"numeric": [f"g{i}" for i in range(300)], "categorical": []}
    assert select_choices(narrow, PreprocessConfig()) is None  # `above` is 300
    assert select_choices(wide, PreprocessConfig(feature_selection=None)) is None
    cfg = PreprocessConfig(feature_selection={"above": 10, "search": [8, 64, 500]})
    assert select_choices(wide, cfg) == [8, 64]  # keeping every column is no selection


def test_selection_inside_the_folds_keeps_cross_validation_honest():
    """Pure noise: columns chosen on every row before CV score far above chance, the same
    choice made inside each training fold does not (Ambroise & McLachlan 2002)."""
    X, _ = _wide(rows=120, columns=2000, informative=0)
    y = pd.Series(np.random.default_rng(1).permutation(["a"] * 60 + ["b"] * 60))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    inside = build_model_pipeline(infer_roles(X), PreprocessConfig(), "logreg",
                                  {"C": 1.0, "select_k": 10}, "class_weight", 0)
    honest = cross_val_score(inside, X, y, scoring="balanced_accuracy", cv=cv).mean()
    from sklearn.feature_selection import SelectKBest, f_classif
    chosen = X.columns[SelectKBest(f_classif, k=10).fit(X, y).get_support()]
    outside = build_model_pipeline(infer_roles(X[chosen]), PreprocessConfig(), "logreg",
                                   {"C": 1.0}, "class_weight", 0)
    biased = cross_val_score(outside, X[chosen], y, scoring="balanced_accuracy", cv=cv).mean()
    assert honest < 0.62 and biased > 0.7, (honest, biased)


def test_a_wide_table_is_tuned_with_the_selection_and_the_refit_keeps_the_signal():
    X, y = _wide()
    cfg = TrainConfig(n_trials=6, timeout_s=None, cv_folds=3)
    result = tune_family("logreg", X, y, PreprocessConfig(), cfg)
    assert result.trials["param_select_k"].dropna().isin([16, 64, 256]).all()
    assert result.best_params["select_k"] in (16, 64, 256)
    kept = kept_columns(result.model)
    assert len(kept) == result.best_params["select_k"]
    assert set(kept[:4]) == {"g0", "g1", "g2", "g3"}  # the informative columns rank first
    off = tune_family("logreg", X, y, PreprocessConfig(feature_selection=None), cfg)
    assert kept_columns(off.model) is None and "param_select_k" not in off.trials
    assert result.best_score > off.best_score + 0.05, (result.best_score, off.best_score)


def test_bad_selection_settings_fail_with_the_keys_path(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preprocess:\n  feature_selection:\n    search: []\n")
    with pytest.raises(ConfigError, match="preprocess.feature_selection.search"):
        load_config(path)
    path.write_text("preprocess:\n  feature_selection:\n    scor: f_classif\n")
    with pytest.raises(ConfigError, match="did you mean score"):
        load_config(path)
    path.write_text("preprocess:\n  feature_selection: null\n")
    assert load_config(path).preprocess.feature_selection is None
