"""Runs grouped by setting across test splits: the split seed and the execution section do not
split a group, every other setting and the dataset content do; a rerun of a split counts once;
groups are compared with group 1 split by split."""
import pytest

from steps.split_summary import format_split_groups, paired_over_splits, split_groups


def _run(run_id, seed, test, *, strategy="class_weight", cv=0.8, winner="hist_gb",
         dataset_hash="h1", agents=0, dataset="hpc_data"):
    row = {"run": run_id, "dataset": dataset, "dataset_hash": dataset_hash,
           "split": f"split{seed}-{dataset_hash}", "metric": "macro_f1", "winner": winner,
           "cv": cv, "test": test}
    settings = {"preprocess": {"split_seed": seed, "imbalance": {"strategy": strategy}},
                "train": {"timeout_s": 60}, "execution": {"agents": agents}}
    if seed == 0:
        del settings["preprocess"]["split_seed"]  # the default seed, omitted
    return row, settings


def test_runs_group_by_setting_and_dataset_and_summarise_over_splits():
    runs = [_run("r6", 2, 0.80, agents=2), _run("r5", 1, 0.82), _run("r4", 0, 0.86, winner="ensemble"),
            _run("r3", 1, 0.79, strategy="smote"), _run("r2", 0, 0.83, strategy="smote"),
            _run("r1", 0, 0.70, dataset_hash="h0"), ({"run": "r0", "test": None}, {})]
    groups = split_groups(runs)
    assert [g["runs"] for g in groups] == [["r4", "r5", "r6"], ["r2", "r3"], ["r1"]]
    first = groups[0]
    assert first["seeds"] == [0, 1, 2] and first["splits"] == 3
    assert first["test"]["mean"] == pytest.approx((0.80 + 0.82 + 0.86) / 3)
    assert first["test"]["sd"] == pytest.approx(0.030551, abs=1e-6)
    assert (first["test"]["min"], first["test"]["max"]) == (0.80, 0.86)
    assert first["winners"] == {"hist_gb": 2, "ensemble": 1}
    assert groups[2]["test"]["sd"] is None  # one split: no spread


def test_a_rerun_of_a_split_counts_once_with_its_newest_score():
    groups = split_groups([_run("new", 1, 0.84), _run("old", 1, 0.81), _run("r0", 0, 0.86)])
    assert groups[0]["runs"] == ["r0", "new"] and groups[0]["test_by_split"]["split1-h1"] == 0.84


def test_settings_are_paired_on_the_splits_they_share():
    a, b, c = split_groups([_run("a2", 2, 0.80), _run("a1", 1, 0.82), _run("a0", 0, 0.86),
                            _run("b1", 1, 0.80, strategy="smote"),
                            _run("b0", 0, 0.83, strategy="smote"),
                            _run("c", 0, 0.9, dataset_hash="h9")])
    paired = paired_over_splits(b, a)
    assert paired["splits"] == 2 and paired["mean"] == pytest.approx(-0.025)
    assert (paired["min"], paired["max"]) == (pytest.approx(-0.03), pytest.approx(-0.02))
    assert paired_over_splits(c, a) is None  # other data, other splits
    text = format_split_groups([a, b, c])
    assert "group 2 against group 1: preprocess.imbalance.strategy: \"class_weight\" -> \"smote\"" in text
    assert "paired over 2 shared split(s): mean difference -0.0250" in text
    assert "group 3 against group 1: the dataset version" in text and "not paired" in text
    header, row = text.splitlines()[:2]
    assert header.split()[:4] == ["group", "dataset", "splits", "seeds"]
    assert row.split()[:4] == ["1", "hpc_data", "3", "0,1,2"] and "0.8267" in row


def test_a_single_split_per_setting_says_how_to_add_more():
    text = format_split_groups(split_groups([_run("r0", 0, 0.86)]))
    assert "repeat it on others with `tabpipe run --split-seeds 0 1 2`" in text
    assert format_split_groups([]).startswith("no finished pipeline runs")


def test_each_group_is_set_against_its_own_datasets_newest_group():
    """A server holds studies of several tables: a churn setting is compared with the newest
    churn group, never with an hpc_data group whose scores measure another table."""
    from steps.split_summary import contrasts, of_dataset
    groups = split_groups([_run("h0", 0, 0.83), _run("m0", 0, 0.91, dataset="mlc_churn",
                                                     dataset_hash="m"),
                           _run("h1", 0, 0.80, strategy="smote"),
                           _run("m1", 0, 0.90, dataset="mlc_churn", dataset_hash="m",
                                strategy="smote")])
    versus = {c["group"]: (c["reference"], c["paired"]["mean"]) for c in contrasts(groups)}
    assert versus == {3: (1, pytest.approx(-0.03)), 4: (2, pytest.approx(-0.01))}
    text = format_split_groups(groups)
    assert "group 4 against group 2: preprocess.imbalance.strategy" in text
    assert "group 2 against" not in text  # mlc_churn's newest: nothing to set it against
    assert [g["group"] for g in of_dataset(groups, "m1")] == [2, 4]
    assert of_dataset(groups, "unknown") == groups
