"""Input checks at scoring time: new rows from the training distribution pass quietly; a unit
change, new categories or a column that stopped being filled are named with their share."""
import json

import numpy as np
import pandas as pd
import pytest

from steps.drift import MAX_LEVELS, check_inputs, input_profile, summary
from steps.scoring import ScoringSpec


def _rows(n, seed):
    rng = np.random.default_rng(seed)
    weight = rng.normal(70, 12, n)
    weight[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame({"weight_kg": weight, "age": rng.integers(18, 90, n).astype(float),
                         "site": rng.choice(["north", "south", "east"], n)})


@pytest.fixture(scope="module")
def profile():
    return input_profile(_rows(3000, 0), ["weight_kg", "age"], ["site"])


def test_rows_like_the_training_rows_raise_nothing(profile):
    assert check_inputs(_rows(800, 1), profile) == []
    assert summary([], 800) == []


def test_unit_change_new_levels_and_missing_values_are_named(profile):
    new = _rows(1000, 2)
    new.loc[:299, "weight_kg"] *= 1000  # grams
    new.loc[:99, "site"] = "west"
    new.loc[:399, "age"] = np.nan
    findings = {f["column"]: f for f in check_inputs(new, profile)}
    assert set(findings) == {"weight_kg", "site", "age"}
    assert findings["weight_kg"]["issue"] == "out_of_range"
    assert findings["weight_kg"]["share"] == pytest.approx(300 / new.weight_kg.notna().sum(), abs=0.01)
    assert findings["site"]["issue"] == "unseen_levels" and "'west'" in findings["site"]["detail"]
    assert findings["site"]["share"] == pytest.approx(0.1)
    assert findings["age"]["issue"] == "missing" and findings["age"]["share"] == pytest.approx(0.4)
    lines = summary(check_inputs(new, profile), 1000)
    assert lines[0].startswith("input check: 3 column(s) of the 1000 scored rows differ")
    assert lines[1].startswith("  age: missing in 40.0% of rows (training: 0.0%)")  # largest first


def test_missing_rate_is_judged_against_training(profile):
    new = _rows(1000, 3)
    new.loc[:29, "weight_kg"] = np.nan  # ~5% missing where training had ~2%: within the margin
    assert check_inputs(new, profile) == []


def test_a_small_batch_is_allowed_its_sampling_scatter():
    training = pd.DataFrame({"income": [np.nan] * 16 + list(range(84))})  # 16% missing
    profile = input_profile(training, ["income"], [])
    small = pd.DataFrame({"income": [np.nan] * 8 + list(range(22))})  # 27% of 30 rows: chance
    assert check_inputs(small, profile) == []
    large = pd.DataFrame({"income": [np.nan] * 270 + [i % 84 for i in range(730)]})  # 27% of 1000
    assert [f["issue"] for f in check_inputs(large, profile)] == ["missing"]


def test_high_cardinality_levels_are_not_stored_nor_checked():
    X = pd.DataFrame({"city": [f"c{i}" for i in range(MAX_LEVELS + 1)]})
    profile = input_profile(X, [], ["city"])
    assert profile["city"]["levels"] is None
    assert check_inputs(pd.DataFrame({"city": ["elsewhere"] * 50}), profile) == []


def test_profile_travels_in_the_scoring_spec_and_old_specs_still_load(profile):
    recipe = {"target": "y", "classes": ["a", "b"], "derivations": [],
              "roles": {"numeric": ["weight_kg", "age"], "categorical": ["site"]}}
    spec = ScoringSpec.from_recipe(recipe, _rows(3000, 0))
    again = ScoringSpec.from_metadata({"scoring_spec": spec.to_json()})
    assert again.profile == json.loads(json.dumps(profile))
    old = json.loads(spec.to_json())
    del old["profile"]  # a model registered before input checks existed
    assert ScoringSpec.from_metadata({"scoring_spec": old}).profile == {}
    assert check_inputs(_rows(10, 1), {}) == []


def test_a_range_finding_prints_enough_digits_to_tell_the_bounds_apart():
    profile = input_profile(pd.DataFrame({"days": [18628.5, 19000.0, 19440.2]}), ["days"], [])
    findings = check_inputs(pd.DataFrame({"days": [18627.9, 18628.1, 18627.95]}), profile)
    assert findings[0]["detail"].endswith(
        "outside the training range [18628.5, 19440.2] (new rows: 18627.9 to 18628.1)")
