"""Grouped rows (a patient, a customer) never straddle the test split or a CV fold."""
import numpy as np
import pandas as pd
import pytest

from steps.columns import DataValidationError
from steps.config import DataConfig, PreprocessConfig, TrainConfig
from steps.data import load_table, prepare_frame, split_frame
from steps.study import _folds
from steps.tuning import tune_family


def _grouped(n=600, n_groups=90, seed=0):
    """Rows of a group share its label tendency and a group-level feature: a model that saw
    the group in training would score too well on it."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n)
    rare_group = rng.random(n_groups) < 0.25
    y = np.where(rare_group[group] ^ (rng.random(n) < 0.1), "rare", "common")
    return pd.DataFrame({"patient": [f"p{g}" for g in group], "x": rng.normal(size=n) + group,
                         "z": rng.normal(size=n), "label": y})


def test_test_split_keeps_groups_whole_and_classes_on_both_sides():
    frame = _grouped()
    train, test = split_frame(frame, "label", 0.2, seed=0, group_column="patient")
    assert not set(train.patient) & set(test.patient)
    assert 0.12 < len(test) / len(frame) < 0.28
    assert set(test.label) == set(train.label) == {"rare", "common"}
    again, _ = split_frame(frame, "label", 0.2, seed=0, group_column="patient")
    assert again.index.equals(train.index)  # seeded: the same split every time
    other, _ = split_frame(frame, "label", 0.2, seed=1, group_column="patient")
    assert not other.index.equals(train.index)


def test_too_few_groups_for_a_split_is_a_clear_error():
    frame = _grouped().assign(patient="only-one")
    with pytest.raises(DataValidationError, match="1 group"):
        split_frame(frame, "label", 0.2, seed=0, group_column="patient")


def test_cv_folds_keep_groups_whole():
    frame = _grouped()
    notes = []
    folds = _folds(frame["label"], 5, 0, notes, frame["patient"].to_numpy())
    assert len(folds) == 5 and not notes
    seen = [set(frame.patient.iloc[va]) for _, va in folds]
    for i, a in enumerate(seen):
        for b in seen[i + 1:]:
            assert not a & b
        assert not a & set(frame.patient.iloc[folds[i][0]])
    few = _folds(frame["label"].iloc[:40], 5, 0, notes,
                 np.array(["a", "b", "c"] * 13 + ["a"]))
    assert len(few) == 3 and notes == ["cv folds reduced 5 -> 3 (number of groups)"]


def test_group_cv_scores_lower_than_row_cv_when_groups_leak():
    """The feature identifies the group, so row-wise folds reward memorising groups."""
    frame = _grouped(n=500, n_groups=60)
    X, y = frame[["x", "z"]], frame["label"]
    cfg = TrainConfig(n_trials=1, cv_folds=4, timeout_s=60)
    rows = tune_family("random_forest", X, y, PreprocessConfig(), cfg)
    grouped = tune_family("random_forest", X, y, PreprocessConfig(), cfg,
                          groups=frame["patient"].to_numpy())
    assert grouped.best_score < rows.best_score - 0.05
    assert grouped.oof_proba.shape == rows.oof_proba.shape


def test_prepare_keeps_the_group_column_and_checks_it():
    frame = _grouped()
    unique_groups = frame.assign(patient=[f"p{i}" for i in range(len(frame))])  # id-like
    out = prepare_frame(unique_groups, "label", PreprocessConfig(), group_column="patient").frame
    assert "patient" in out  # kept although it looks like an id
    with pytest.raises(DataValidationError, match="1 missing value"):
        prepare_frame(frame.assign(patient=frame.patient.where(frame.index != 3)), "label",
                      PreprocessConfig(), group_column="patient")
    with pytest.raises(DataValidationError, match="also preprocess.drop_columns"):
        prepare_frame(frame, "label", PreprocessConfig(drop_columns=["patient"]),
                      group_column="patient")
    with pytest.raises(DataValidationError, match="'visit' not found"):
        prepare_frame(frame, "label", PreprocessConfig(), group_column="visit")


def test_load_table_takes_the_group_column_from_config(tmp_path):
    path = tmp_path / "visits.csv"
    _grouped().to_csv(path, index=False)
    table = load_table(DataConfig(source=str(path), target="label", group_column="patient"),
                       tmp_path)
    assert table.group_column == "patient"
    with pytest.raises(DataValidationError, match="group column 'visit' not found"):
        load_table(DataConfig(source=str(path), target="label", group_column="visit"), tmp_path)
