"""Scoring new rows: the training derivations and column types, clear errors, the model's
own decisions (stored threshold included)."""
import numpy as np
import pandas as pd
import pytest

from steps.columns import DataValidationError, column_roles
from steps.config import PreprocessConfig
from steps.config_types import StullWetBulb
from steps.derive import stull_wet_bulb
from steps.prepare import prepare_frame
from steps.recipe import build_model_pipeline
from steps.scoring import (PREDICTION, PROBA_PREFIX, SPEC_KEY, ScoringSpec, agreement,
                           prepare_rows, score_rows)
from steps.thresholds import ThresholdedClassifier

WET_BULB = StullWetBulb(name="wet_bulb_c", kind="stull_wet_bulb", temperature="temp_c",
                      humidity="rh_pct")


def _raw(n=300, seed=0):
    rng = np.random.default_rng(seed)
    temp, rh = rng.uniform(5, 35, n), rng.uniform(20, 95, n)
    label = np.where(stull_wet_bulb(temp, rh) + rng.normal(0, 2, n) > 22, "hot", "ok")
    return pd.DataFrame({"temp_c": temp, "rh_pct": rh, "site": rng.choice(["1", "2", "3"], n),
                         "label": label})


def _trained(cfg=PreprocessConfig(derivations=[WET_BULB], drop_columns=["temp_c"])):
    """A fitted model and its spec, the way the pipeline makes them."""
    prepared = prepare_frame(_raw(), "label", cfg).frame
    X, y = prepared.drop(columns=["label"]), prepared["label"]
    recipe = {"target": "label", "roles": column_roles(prepared, "label"),
              "classes": sorted(y.unique()),
              "derivations": [d.model_dump(mode="json") for d in cfg.derivations]}
    model = build_model_pipeline(recipe["roles"], cfg, "logreg", {}, "class_weight", 0, y=y)
    return model.fit(X, y), ScoringSpec.from_recipe(recipe), X


def test_scores_raw_rows_like_the_prepared_ones():
    model, spec, X_prepared = _trained()
    new = _raw(40, seed=1).drop(columns=["label"])
    scored = score_rows(model, new, spec)
    assert list(scored.columns[:3]) == ["temp_c", "rh_pct", "site"]  # input kept, in order
    # the derived column was computed from the raw inputs, as in training
    expected = model.predict(new.assign(wet_bulb_c=stull_wet_bulb(new.temp_c, new.rh_pct))
                             [X_prepared.columns])
    assert (scored[PREDICTION].to_numpy() == expected).all()
    proba = scored[[PROBA_PREFIX + c for c in ("hot", "ok")]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(scored[PREDICTION]) <= {"hot", "ok"}


def test_missing_feature_column_is_named():
    model, spec, _ = _trained()
    new = _raw(10).drop(columns=["label", "site"])
    with pytest.raises(DataValidationError, match=r"lacks 1 column.*'site'"):
        score_rows(model, new, spec)


def test_missing_derivation_input_is_named_unless_the_column_is_complete():
    model, spec, _ = _trained()
    raw = _raw(10).drop(columns=["label"])
    with pytest.raises(DataValidationError, match="humidity column 'rh_pct' not found"):
        score_rows(model, raw.drop(columns=["rh_pct"]), spec)
    # with the derived column already filled in, its inputs are not needed
    complete = raw.assign(wet_bulb_c=stull_wet_bulb(raw.temp_c, raw.rh_pct))
    scored = score_rows(model, complete.drop(columns=["temp_c"]), spec)
    assert len(scored) == 10


def test_column_types_follow_training():
    model, spec, _ = _trained()
    raw = _raw(20, seed=2).drop(columns=["label"])
    as_text = score_rows(model, raw, spec)
    # a CSV reader turns the "1"/"2"/"3" sites into integers: still the same categories
    as_ints = score_rows(model, raw.assign(site=raw.site.astype(int)), spec)
    pd.testing.assert_series_equal(as_text[PREDICTION], as_ints[PREDICTION])
    bad = raw.assign(rh_pct=raw.rh_pct.astype(object))
    bad.loc[bad.index[3], "rh_pct"] = "humid"
    with pytest.raises(DataValidationError, match=r"'rh_pct' must be numeric.*'humid'"):
        prepare_rows(bad, spec)


def test_numbers_read_from_a_text_column_take_the_training_levels():
    """Training held "1", "3.5", "x" and "02134"; five new rows without the "x" come back from
    the CSV reader as floats (1.0, 3.5, 2134.0): they are the same levels."""
    levels = ["02134", "1", "3.5", "x"]
    spec = ScoringSpec("label", [], ["code"], ["a", "b"],
                       profile={"code": {"levels": levels, "missing": 0.0}})
    read = pd.DataFrame({"code": [1.0, 3.5, 2134.0, np.nan, 7.0]})
    out = prepare_rows(read, spec)["code"]
    assert out.iloc[:3].tolist() == ["1", "3.5", "02134"]
    assert pd.isna(out.iloc[3]) and out.iloc[4] == "7.0"  # unseen: the drift check flags it
    # without stored levels (a column of more than 200), plain text as before
    plain = ScoringSpec("label", [], ["code"], ["a", "b"])
    assert prepare_rows(read, plain)["code"].iloc[0] == "1.0"


def test_stored_threshold_decides():
    model, spec, _ = _trained()
    raw = _raw(200, seed=3).drop(columns=["label"])
    plain = score_rows(model, raw, spec)
    eager = score_rows(ThresholdedClassifier(model, "hot", 0.05), raw, spec)
    assert (eager[PREDICTION] == "hot").sum() > (plain[PREDICTION] == "hot").sum()
    assert (eager[PREDICTION] == np.where(plain[PROBA_PREFIX + "hot"] >= 0.05, "hot", "ok")).all()


def test_spec_round_trips_through_metadata_and_old_models_get_a_clear_error():
    _, spec, _ = _trained()
    assert ScoringSpec.from_metadata({SPEC_KEY: spec.to_json()}) == spec
    with pytest.raises(DataValidationError, match="--force"):
        ScoringSpec.from_metadata({}, "model m1")


def test_agreement_only_with_known_labels():
    model, spec, _ = _trained()
    raw = _raw(50, seed=4)
    scored = score_rows(model, raw, spec)
    a = agreement(scored, "label")
    assert a["rows"] == 50
    assert a["accuracy"] == pytest.approx((scored[PREDICTION] == raw["label"]).mean())
    assert "set_coverage" not in a  # a model without prediction sets
    assert agreement(scored.drop(columns=["label"]), "label") is None
    # with sets: the share of labelled rows whose set holds the true class
    labels = list(raw["label"].astype(str))
    sets = [labels[i] if i % 4 else "" for i in range(50)]  # every 4th set misses
    a = agreement(scored.assign(prediction_set=sets), "label")
    assert a["set_coverage"] == pytest.approx(37 / 50)


def test_empty_table_is_refused():
    model, spec, _ = _trained()
    with pytest.raises(DataValidationError, match="no rows"):
        score_rows(model, _raw(5).iloc[:0], spec)
