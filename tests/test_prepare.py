"""prepare_frame: validation messages, drops, missing targets and the wet-bulb derivation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steps.config import PreprocessConfig
from steps.config_types import StullWetBulb
from steps.data import DataValidationError, prepare_frame, split_frame
from steps.derive import stull_wet_bulb

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "weather_small.csv"
WET_BULB = StullWetBulb(name="wet_bulb_c", kind="stull_wet_bulb", temperature="temp_c", humidity="rh_pct")


@pytest.fixture
def weather():
    return pd.read_csv(FIXTURE)


def test_stull_matches_the_published_value():
    # Stull (2011): T = 20 degC, RH = 50 % -> Tw = 13.7 degC.
    assert float(stull_wet_bulb(20.0, 50.0)) == pytest.approx(13.7, abs=0.05)
    assert float(stull_wet_bulb(30.0, 99.0)) == pytest.approx(30.0, abs=0.3)  # saturated air
    assert np.isnan(stull_wet_bulb([np.nan], [50.0])[0])


def test_drops_constant_id_like_and_configured_columns(weather):
    cfg = PreprocessConfig(drop_columns=["wind_ms"])
    prepared = prepare_frame(weather, "label", cfg)
    assert prepared.dropped == {"wind_ms": "listed in preprocess.drop_columns",
                                "row_id": "id-like: a distinct value in every row",
                                "station": "constant: one distinct value"}
    assert list(prepared.frame.columns) == ["region", "temp_c", "rh_pct", "wet_bulb_c", "label"]


def test_switches_keep_constant_and_id_like_columns(weather):
    cfg = PreprocessConfig(drop_constant=False, drop_id_like=False)
    prepared = prepare_frame(weather, "label", cfg)
    assert prepared.dropped == {} and "station" in prepared.frame and "row_id" in prepared.frame


def test_declared_id_columns_are_dropped_even_if_not_unique(weather):
    prepared = prepare_frame(weather, "label", PreprocessConfig(), id_columns=["region"])
    assert prepared.dropped["region"] == "declared id column"


def test_missing_target_rows_are_dropped_and_counted_index_kept(weather):
    prepared = prepare_frame(weather, "label", PreprocessConfig())
    assert prepared.rows_dropped == {"missing target": 3}
    assert len(prepared.frame) == 237
    assert not {5, 77, 150} & set(prepared.frame.index)
    assert prepared.frame.index.max() == 239  # row ids still refer to the raw table


def test_derivation_fills_only_missing_values(weather):
    prepared = prepare_frame(weather, "label", PreprocessConfig(derivations=[WET_BULB]))
    out, raw = prepared.frame, weather.loc[prepared.frame.index]
    assert prepared.derived == ["wet_bulb_c"]
    known = raw["wet_bulb_c"].notna()
    assert out.loc[known, "wet_bulb_c"].equals(raw.loc[known, "wet_bulb_c"])
    filled = out.loc[~known]
    assert filled["wet_bulb_c"].notna().all()
    np.testing.assert_allclose(filled["wet_bulb_c"], stull_wet_bulb(filled["temp_c"], filled["rh_pct"]))


def test_derivation_overwrites_or_creates_when_asked(weather):
    overwrite = WET_BULB.model_copy(update={"only_missing": False})
    out = prepare_frame(weather, "label", PreprocessConfig(derivations=[overwrite])).frame
    np.testing.assert_allclose(out["wet_bulb_c"], stull_wet_bulb(out["temp_c"], out["rh_pct"]))
    new = WET_BULB.model_copy(update={"name": "tw"})
    assert "tw" in prepare_frame(weather, "label", PreprocessConfig(derivations=[new])).frame


def test_derivation_runs_before_its_inputs_are_dropped(weather):
    cfg = PreprocessConfig(derivations=[WET_BULB], drop_columns=["temp_c", "rh_pct"])
    out = prepare_frame(weather, "label", cfg).frame
    assert "temp_c" not in out and out["wet_bulb_c"].notna().all()


def test_integer_targets_become_text_labels():
    frame = pd.DataFrame({"x": np.arange(40.0) % 7, "y": [1.0, 0.0, 0.0, 0.0] * 10})
    out = prepare_frame(frame, "y", PreprocessConfig()).frame
    assert sorted(out["y"].unique()) == ["0", "1"]
    assert pd.api.types.is_string_dtype(out["y"].dtype)


@pytest.mark.parametrize("mutate, cfg, message", [
    (lambda f: f, PreprocessConfig(drop_columns=["nope"]),
     r"drop_columns names unknown column\(s\) \['nope'\]; columns: row_id"),
    (lambda f: f, PreprocessConfig(derivations=[WET_BULB.model_copy(update={"humidity": "rh"})]),
     r"derivation 'wet_bulb_c'.*humidity column 'rh' not found"),
    (lambda f: f.assign(rh_pct="high"), PreprocessConfig(derivations=[WET_BULB]),
     r"humidity column 'rh_pct' has dtype .*expected numbers"),
    (lambda f: f.assign(label="calm"), PreprocessConfig(),
     r"target 'label' has 1 class\(es\).*at least 2"),
    (lambda f: f.assign(label=["calm"] * 239 + ["heat"]), PreprocessConfig(),
     r"class\(es\) \{'heat': 1\} have fewer than 2 rows.*stratified"),
    (lambda f: f.assign(label=np.linspace(0.5, 99.5, len(f))), PreprocessConfig(),
     r"target 'label' looks continuous \(240 distinct non-integer values in 240 rows, 0.5 to "
     r"99.5\); tabpipe classifies: bin it"),
    (lambda f: f.assign(label=np.arange(len(f))), PreprocessConfig(),
     r"240 class\(es\) \{'0': 1, .*'106': 1, \.\.\. 230 more\} have fewer than 2 rows"),
    (lambda f: f.rename(columns={"rh_pct": "temp_c"}), PreprocessConfig(),
     r"column name\(s\) 'temp_c' appear more than once; rename them"),
    (lambda f: f.assign(seen=pd.Timestamp("2024-05-01") + pd.to_timedelta(f.index, "h")),
     PreprocessConfig(datetime_features=False),
     r"column 'seen' has dtype datetime64.*drop it with preprocess.drop_columns"),
    (lambda f: f.assign(blob=[{"a": i} for i in range(len(f))]), PreprocessConfig(drop_id_like=False),
     r"column 'blob' holds mixed Python objects \(dict\)"),
    (lambda f: f.drop(columns="label"), PreprocessConfig(),
     r"target column 'label' not found; columns: row_id"),
])
def test_validation_errors_name_the_column_and_the_fix(weather, mutate, cfg, message):
    with pytest.raises(DataValidationError, match=message):
        prepare_frame(mutate(weather), "label", cfg)


def test_unusable_columns_are_fine_once_dropped(weather):
    frame = weather.assign(seen=pd.Timestamp("2024-05-01"), blob=[{"a": 1}] * len(weather))
    prepared = prepare_frame(frame, "label", PreprocessConfig(drop_columns=["seen"]), id_columns=("blob",))
    assert {"seen", "blob"} <= set(prepared.dropped)


def test_prepared_frame_splits_cleanly(weather):
    frame = prepare_frame(weather, "label", PreprocessConfig()).frame
    train, test = split_frame(frame, "label", 0.25, seed=0)
    assert len(train) + len(test) == 237
    assert set(test["label"]) == {"calm", "heat", "wind"}


def _with_rare_class(rows: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    # 598/454/425 + 3: stratification rounds the small class's 0.6 test rows down to none
    labels = ["a"] * 598 + ["b"] * 454 + ["c"] * 425 + ["rare"] * rows
    return pd.DataFrame({"x": rng.normal(size=len(labels)), "y": labels})


def test_a_class_too_small_to_learn_or_score_is_dropped_and_said(caplog):
    from steps.prepare import dropped_row_notes
    frame = _with_rare_class().assign(y=lambda f: f["y"].where(f.index != 0))  # one missing target
    prepared = prepare_frame(frame, "y", PreprocessConfig())
    assert set(prepared.frame["y"]) == {"a", "b", "c"}
    assert prepared.rare_classes == {"rare": 3}
    assert prepared.rows_dropped == {"missing target": 1, "rare class": 3}
    assert "dropping class(es) {'rare': 3}" in caplog.text and "min_class_rows=2 keeps them" in caplog.text
    assert dropped_row_notes(prepared, 10) == [
        "1 rows without a target value were dropped",
        "class(es) {'rare': 3} had fewer than preprocess.min_class_rows=10 rows and were dropped "
        "with their rows: the model never predicts them"]
    # at the threshold a class stays; null keeps every class of two rows or more
    assert "rare" in set(prepare_frame(_with_rare_class(10), "y", PreprocessConfig()).frame["y"])
    kept = prepare_frame(_with_rare_class(), "y", PreprocessConfig(min_class_rows=None))
    assert kept.rare_classes == {} and dropped_row_notes(kept, None) == []


def test_a_split_that_leaves_a_class_without_test_rows_is_refused():
    frame = prepare_frame(_with_rare_class(), "y", PreprocessConfig(min_class_rows=None)).frame
    with pytest.raises(DataValidationError, match=r"\{'rare': 3\} got no test rows at test_size=0.2.*"
                                                  r"preprocess.min_class_rows"):
        split_frame(frame, "y", 0.2, seed=0)
    train, test = split_frame(frame, "y", 0.34, seed=0)  # a third of 3 rows: one test row
    assert "rare" in set(test["y"]) and "rare" in set(train["y"])
