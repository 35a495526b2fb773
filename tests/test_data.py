"""Loading, fingerprinting, schema, splitting and profiling of tables."""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from steps.config import DataConfig
from steps.data import (DataSourceError, DataValidationError, class_balance_figure, class_counts,
                        column_roles, content_hash, file_sha256, load_table, missing_rate_figure,
                        profile_frame, schema_of, split_fingerprint, split_frame)

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "datasets"
FIXTURE = ROOT / "tests" / "fixtures" / "weather_small.csv"


def _frame(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 3, n),
                         "c": rng.choice(["a", "b"], n),
                         "y": np.where(np.arange(n) % 5 == 0, "rare", "common")})


# --- loading -------------------------------------------------------------------------

def test_fixture_csv_matches_its_generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURE.parent / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.weather_small()
    pd.testing.assert_frame_equal(pd.read_csv(FIXTURE), expected, check_dtype=False)


def test_load_csv_path_with_target_from_config():
    table = load_table(DataConfig(source=str(FIXTURE), target="label"), DATASETS)
    assert table.source == str(FIXTURE.resolve()) and table.name == "weather_small"
    assert table.card is None and table.target == "label" and len(table.frame) == 240


def test_load_parquet_path(tmp_path):
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path)
    table = load_table(DataConfig(source=str(path), target="y"), DATASETS)
    assert content_hash(table.frame) == content_hash(load_table(
        DataConfig(source=str(path), target="y"), DATASETS).frame)


def test_config_target_overrides_card():
    table = load_table(DataConfig(source="hpc_data", target="day"), DATASETS)
    assert table.target == "day"


@pytest.mark.parametrize("source, message", [
    ("no_such_card", "unknown dataset card 'no_such_card'; available cards: .*hpc_data"),
    ("missing/file.csv", "data file not found: .*file.csv"),
    ("table.xlsx", "unsupported file extension '.xlsx'.*.csv"),
])
def test_load_errors_are_specific(source, message):
    with pytest.raises(DataSourceError, match=message):
        load_table(DataConfig(source=source, target="y"), DATASETS)


def test_missing_target_lists_the_columns():
    with pytest.raises(DataSourceError, match="target column 'nope' not found.*row_id, station"):
        load_table(DataConfig(source=str(FIXTURE), target="nope"), DATASETS)
    with pytest.raises(DataSourceError, match="no target column.*set data.target"):
        load_table(DataConfig(source=str(FIXTURE)), DATASETS)


def test_params_are_refused_for_real_sources():
    with pytest.raises(DataSourceError, match="only apply to synthetic"):
        load_table(DataConfig(source="hpc_data", params={"rows": 10}), DATASETS)


# --- fingerprint ---------------------------------------------------------------------

def test_content_hash_is_stable_and_ignores_the_index():
    a = _frame()
    b = _frame().set_index(pd.RangeIndex(1000, 1100))
    assert content_hash(a) == content_hash(b) == content_hash(a.copy())
    assert len(content_hash(a)) == 64


def test_content_hash_survives_a_parquet_round_trip(tmp_path):
    # Dataset versions are stored as Parquet; re-hashing a fetched copy must agree.
    frame = load_table(DataConfig(source=str(FIXTURE), target="label"), DATASETS).frame
    frame.to_parquet(tmp_path / "v.parquet")
    assert content_hash(pd.read_parquet(tmp_path / "v.parquet")) == content_hash(frame)


@pytest.mark.parametrize("change", ["cell", "order", "rename", "dtype", "missing", "row"])
def test_content_hash_changes_with_content(change):
    a = _frame()
    b = a.copy()
    if change == "cell":
        b.loc[37, "x"] += 1e-9
    elif change == "order":
        b = b.iloc[::-1]
    elif change == "rename":
        b = b.rename(columns={"x": "x2"})
    elif change == "dtype":
        b["k"] = b["k"].astype(float)
    elif change == "missing":
        b.loc[3, "c"] = np.nan
    else:
        b = b.iloc[:-1]
    assert content_hash(a) != content_hash(b)


# --- schema, roles, counts -----------------------------------------------------------

def test_schema_roles():
    frame = _frame()
    frame["row"] = np.arange(len(frame))
    frame["const"] = 1
    frame["when"] = pd.Timestamp("2024-01-01")
    frame["span"] = pd.Timedelta("1h")
    roles = {d["column"]: d["role"] for d in schema_of(frame, "y", ["k"])}
    assert roles == {"x": "numeric", "k": "id", "c": "categorical", "y": "target",
                     "row": "id", "const": "constant", "when": "datetime", "span": "unsupported"}
    assert all(set(d) == {"column", "dtype", "role"} for d in schema_of(frame, "y", []))


def test_column_roles_bool_is_categorical_small_ints_stay_numeric():
    frame = _frame()
    frame["flag"] = frame["x"] > 0
    assert column_roles(frame, "y") == {"numeric": ["x", "k"], "categorical": ["c", "flag"]}


def test_column_roles_rejects_datetimes_by_name():
    frame = _frame().assign(when=pd.Timestamp("2024-01-01"))
    with pytest.raises(DataValidationError, match="'when'.*drop_columns"):
        column_roles(frame, "y")


def test_class_counts_most_frequent_first():
    assert class_counts(pd.Series(["b", "a", "b", None, 1])) == {"b": 2, "1": 1, "a": 1}


# --- split ---------------------------------------------------------------------------

def test_split_is_stratified_deterministic_and_disjoint():
    frame = _frame(500)
    train, test = split_frame(frame, "y", 0.2, seed=3)
    again_train, again_test = split_frame(frame, "y", 0.2, seed=3)
    assert test.index.equals(again_test.index) and train.index.equals(again_train.index)
    assert not set(train.index) & set(test.index)
    assert sorted([*train.index, *test.index]) == list(frame.index)
    assert len(test) == 100
    assert class_counts(test["y"]) == {"common": 80, "rare": 20}
    assert test.index.is_monotonic_increasing  # original row order kept
    _, other = split_frame(frame, "y", 0.2, seed=4)
    assert not other.index.equals(test.index)


def test_split_keeps_a_non_default_index():
    frame = _frame(50).set_index(pd.Index(range(1000, 1050)))
    train, test = split_frame(frame, "y", 0.3, seed=0)
    assert set(test.index) <= set(range(1000, 1050))


def test_split_refuses_impossible_stratification():
    frame = _frame(20)
    with pytest.raises(DataValidationError, match="cannot stratify.*class counts"):
        split_frame(frame, "y", 0.05, seed=0)


def test_split_fingerprint_identifies_the_test_rows():
    assert split_fingerprint([3, 1, 2], "abc") == split_fingerprint(np.array([1, 2, 3]), "abc")
    assert split_fingerprint([1, 2, 3], "abc") != split_fingerprint([1, 2, 4], "abc")
    assert split_fingerprint([1, 2, 3], "abc") != split_fingerprint([1, 2, 3], "abd")
    # Same value the wiring layer stores as split_id next to the frozen test rows.
    expected = hashlib.sha256("abc:[1, 2, 3]".encode()).hexdigest()
    assert split_fingerprint(pd.Index([3, 2, 1]), "abc") == expected


# --- profile -------------------------------------------------------------------------

def test_profile_and_figures():
    frame = load_table(DataConfig(source=str(FIXTURE), target="label"), DATASETS).frame
    profile = profile_frame(frame, "label")
    assert list(profile.columns) == ["dtype", "missing_rate", "n_unique", "role"]
    assert profile.index.name == "column"
    assert profile.loc["wet_bulb_c", "missing_rate"] > 0.1
    assert profile.loc["station", "role"] == "constant"
    assert profile.loc["row_id", "role"] == "id"
    fig = class_balance_figure(class_counts(frame["label"]))
    assert isinstance(fig, Figure) and fig.axes[0].get_title().startswith("Class balance (237 rows")
    assert isinstance(missing_rate_figure(profile), Figure)
    empty = missing_rate_figure(profile.assign(missing_rate=0.0))
    assert "no missing values" in [t.get_text() for t in empty.axes[0].texts]


def test_file_sha256_reads_large_files_in_blocks(tmp_path):
    blob = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)  # spans several 1 MiB blocks
    path = tmp_path / "weights.bin"
    path.write_bytes(blob)
    assert file_sha256(path) == hashlib.sha256(blob).hexdigest()
    assert file_sha256(str(path)) == file_sha256(path)
