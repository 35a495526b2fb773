"""Date/time columns: detected ISO 8601 text and datetime dtypes become numeric parts, declared
formats parse what detection will not guess, and scoring replays the same derivations."""
import logging

import numpy as np
import pandas as pd
import pytest

from steps.columns import DataValidationError
from steps.config import ConfigError, PreprocessConfig, parse_config
from steps.config_types import DatetimeParts
from steps.prepare import prepare_frame
from steps.scoring import ScoringSpec, prepare_rows

N = 60


@pytest.fixture
def visits():
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2024-03-01 13:45") + pd.to_timedelta(rng.integers(0, 20000, N), "h")
    return pd.DataFrame({
        "seen": stamps.strftime("%Y-%m-%dT%H:%M:%S"),
        "born": (pd.Timestamp("1980-01-01") + pd.to_timedelta(rng.integers(0, 9000, N), "D")).strftime("%Y-%m-%d"),
        "local": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, N), "D")).strftime("%d/%m/%Y"),
        "x": rng.normal(size=N),
        "label": rng.choice(["a", "b"], N),
    })


def test_iso_text_columns_become_parts(visits):
    visits.loc[0, "seen"] = "2024-03-01T13:45:00"  # a Friday
    prepared = prepare_frame(visits, "label", PreprocessConfig(drop_id_like=False))
    out = prepared.frame
    assert "seen" not in out and "born" not in out
    assert {"seen_year", "seen_month", "seen_dayofweek", "seen_hour", "seen_days"} <= set(out)
    row = out.loc[0]
    assert (row.seen_year, row.seen_month, row.seen_dayofweek, row.seen_hour) == (2024, 3, 4, 13)
    assert row.seen_days == pytest.approx(19783 + 13.75 / 24)
    assert "born_hour" not in out, "dates without a time of day get no clock parts"
    assert [d.column for d in prepared.derivations] == ["seen", "born"]
    assert {"seen_year", "born_days"} <= set(prepared.derived)


def test_ambiguous_text_is_not_guessed_but_a_declared_format_parses(visits):
    guessed = prepare_frame(visits, "label", PreprocessConfig(drop_id_like=False)).frame
    assert "local" in guessed and "local_month" not in guessed  # 03/04/2024: March or April?
    declared = DatetimeParts(kind="datetime_parts", column="local", format="%d/%m/%Y",
                             parts=["month", "day"])
    visits.loc[0, "local"] = "03/04/2024"
    out = prepare_frame(visits, "label", PreprocessConfig(derivations=[declared])).frame
    assert (out.loc[0, "local_month"], out.loc[0, "local_day"]) == (4, 3)
    assert "local" not in out


def test_detection_can_be_turned_off(visits):
    out = prepare_frame(visits, "label", PreprocessConfig(datetime_features=False, drop_id_like=False)).frame
    assert {"seen", "born"} <= set(out) and "seen_year" not in out


def test_datetime_dtype_columns_are_expanded_not_rejected(visits):
    frame = visits.assign(seen=pd.to_datetime(visits["seen"]).dt.tz_localize("Europe/Paris"))
    out = prepare_frame(frame, "label", PreprocessConfig()).frame
    assert out["seen_hour"].equals(pd.to_datetime(visits["seen"]).dt.hour.astype(float))


def test_wrong_format_fails_naming_the_column_and_a_value(visits):
    declared = DatetimeParts(kind="datetime_parts", column="local", format="%Y-%m-%d")
    with pytest.raises(DataValidationError, match=r"column 'local': 60 of 60 values are not dates "
                                                  r"in format '%Y-%m-%d', e\.g\. '\d\d/"):
        prepare_frame(visits, "label", PreprocessConfig(derivations=[declared]))


def test_a_few_unparseable_values_are_left_missing(visits, caplog):
    visits.loc[[3, 7], "seen"] = "unknown"
    visits.loc[5, "seen"] = None
    with caplog.at_level(logging.WARNING):
        out = prepare_frame(visits, "label", PreprocessConfig(
            derivations=[DatetimeParts(kind="datetime_parts", column="seen")])).frame
    assert out["seen_days"].isna().sum() == 3
    assert "2 value(s) are not dates" in caplog.text


def test_mixed_offsets_are_read_in_utc():
    frame = pd.DataFrame({"t": ["2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00+00:00"] * 15,
                          "label": ["a", "b"] * 15, "x": range(30)})
    out = prepare_frame(frame, "label", PreprocessConfig()).frame
    assert list(out["t_hour"][:2]) == [8.0, 10.0]


def test_scoring_replays_detected_derivations(visits):
    prepared = prepare_frame(visits, "label", PreprocessConfig(drop_id_like=False))
    features = [c for c in prepared.frame if c != "label"]
    spec = ScoringSpec("label", [c for c in features if c != "local"], ["local"], ["a", "b"],
                       [d.model_dump(mode="json") for d in prepared.derivations])
    X = prepare_rows(visits.drop(columns="label").head(5), spec)
    pd.testing.assert_frame_equal(X, prepared.frame[spec.features].head(5).astype(X.dtypes),
                                  check_dtype=False)


def test_target_cannot_be_a_datetime_source(visits):
    declared = DatetimeParts(kind="datetime_parts", column="label")
    with pytest.raises(DataValidationError, match="consume the target column 'label'"):
        prepare_frame(visits, "label", PreprocessConfig(derivations=[declared]))


def test_bad_part_fails_with_the_key_path():
    with pytest.raises(ConfigError, match=r"preprocess\.derivations\.0\.datetime_parts\.parts\.0"):
        parse_config({"preprocess": {"derivations": [
            {"kind": "datetime_parts", "column": "t", "parts": ["weekday"]}]}})
