"""Leakage checks: a column that gives the target away is flagged, honest columns are not,
and test rows repeating training rows are counted."""
import numpy as np
import pandas as pd
import pytest

from steps.leakage import (feature_signal, leakage_findings, signal_figure,
                           repeated_test_rows)


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    y = pd.Series(rng.choice(["no", "yes"], size=n, p=[0.85, 0.15]))
    yes = (y == "yes").to_numpy()
    X = pd.DataFrame({
        "useful": rng.normal(size=n) + yes * 1.0,  # real but partial signal
        "noise": rng.normal(size=n),
        "refund_amount": np.where(yes, rng.uniform(10, 50, n), 0.0),  # only churners get refunds
        "plan": rng.choice(["a", "b", "c"], size=n),
        "customer_id": [f"c{i}" for i in range(n)],  # unique per row: memorisable, not predictive
    })
    X.loc[rng.random(n) < 0.01, "refund_amount"] = 5.0  # a little noise: still a leak
    return X, y


def test_a_target_derived_column_is_flagged_and_honest_ones_are_not():
    X, y = _table()
    signal = feature_signal(X, y).set_index("column")
    assert signal.loc["refund_amount", "suspect"] and signal.loc["refund_amount", "auc"] > 0.98
    assert 0.65 < signal.loc["useful", "auc"] < 0.9 and not signal.loc["useful", "suspect"]
    for col in ("noise", "plan", "customer_id"):
        assert abs(signal.loc[col, "auc"] - 0.5) < 0.05, col  # cross-fitted: no memorising
    assert list(signal.index[:2]) == ["refund_amount", "useful"]  # strongest first


def test_missingness_that_follows_the_target_is_a_leak_too():
    X, y = _table()
    X["closing_note"] = np.where(y == "yes", "left", None)  # filled in only after churn
    signal = feature_signal(X[["closing_note", "noise"]], y).set_index("column")
    assert signal.loc["closing_note", "suspect"]


def test_multiclass_signal_and_a_custom_threshold():
    rng = np.random.default_rng(1)
    y = pd.Series(rng.choice(["VF", "F", "M", "L"], size=2000, p=[0.5, 0.3, 0.15, 0.05]))
    X = pd.DataFrame({"runtime_bin": y.map({"VF": 1, "F": 2, "M": 3, "L": 4}) * 10.0,
                      "size": rng.normal(size=2000) + (y == "L") * 2})
    signal = feature_signal(X, y, threshold=0.9).set_index("column")
    assert signal.loc["runtime_bin", "auc"] == pytest.approx(1.0)
    assert signal.loc["runtime_bin", "suspect"] and not signal.loc["size", "suspect"]


def test_test_rows_repeating_training_rows_are_counted():
    X, _ = _table(n=200)
    test = pd.concat([X.iloc[:7], X.iloc[:3].assign(noise=99.0)])  # 7 repeats, 3 changed
    assert repeated_test_rows(X, test) == 7
    assert repeated_test_rows(X, X.iloc[:0]) == 0


def test_findings_say_what_to_do_and_the_figure_marks_suspects():
    X, y = _table()
    signal = feature_signal(X, y)
    lines = leakage_findings(signal, repeated=12, test_rows=600)
    assert len(lines) == 2
    assert "'refund_amount'" in lines[0] and "preprocess.drop_columns" in lines[0]
    assert "12 of 600 test rows (2.0%)" in lines[1] and "data.group_column" in lines[1]
    assert leakage_findings(signal[~signal["suspect"]], 0, 600) == []
    later = leakage_findings(signal[~signal["suspect"]], 12, 600, out_of_time=True)
    assert "repeat an earlier training row" in later[0] and "group_column" not in later[0]
    fig = signal_figure(signal, 0.98)
    reds = [p for p in fig.axes[0].patches if p.get_facecolor()[0] > 0.7]
    assert len(reds) == 1  # the one suspect bar


def test_run_page_and_config_carry_the_findings():
    from steps.config import ConfigError, parse_config
    from steps.report import _lineage
    page = _lineage({"dataset_id": "d1", "dataset_hash": "h", "split_id": "s", "train_rows": 10,
                     "leakage_findings": ["column 'refund_amount' alone predicts ..."]})
    assert "Possible leakage" in page and "refund_amount" in page
    assert "Possible leakage" not in _lineage({"dataset_id": "d1", "leakage_findings": []})
    assert parse_config({"preprocess": {"leakage_auc": None}}).preprocess.leakage_auc is None
    with pytest.raises(ConfigError, match=r"preprocess\.leakage_auc"):
        parse_config({"preprocess": {"leakage_auc": 0.3}})


def test_columns_that_repeat_another_are_noted():
    from steps.profile import redundancy_notes, redundant_pairs
    from steps.report import _lineage
    rng = np.random.default_rng(2)
    minutes = rng.gamma(2.0, 90.0, size=1500)
    frame = pd.DataFrame({"minutes": minutes, "charge": minutes * 0.17,  # billed per minute
                          "minutes_left": 1000 - minutes ** 1.1,  # monotone, decreasing
                          "calls": rng.poisson(100, 1500), "constant": 1.0,
                          "plan": rng.choice(["a", "b"], 1500)})
    pairs = redundant_pairs(frame)
    found = {frozenset((r.column, r.same_as)): r.spearman for r in pairs.itertuples()}
    assert set(found) == {frozenset(("minutes", "charge")), frozenset(("minutes", "minutes_left")),
                          frozenset(("charge", "minutes_left"))}
    assert found[frozenset(("minutes", "minutes_left"))] == pytest.approx(-1.0)
    notes = redundancy_notes(pairs)
    assert any("'charge' repeats 'minutes'" in n and "drop_columns" in n for n in notes)
    page = _lineage({"dataset_id": "d1", "data_notes": notes})
    assert "Notes on the data" in page and "repeats" in page
    assert redundant_pairs(frame[["calls", "plan"]]).empty


def test_with_groups_an_entity_attribute_is_not_mistaken_for_a_leak():
    """40 patients, each with a label of their own and a ward: across plain folds the ward
    identifies the patient (and so the label); across grouped folds, as the split is, it
    carries no signal."""
    rng = np.random.default_rng(5)
    patient = np.repeat(np.arange(40), 25)
    y = pd.Series(rng.choice(["no", "yes"], size=40)[patient])
    X = pd.DataFrame({"ward": [f"w{p}" for p in patient]})
    plain = feature_signal(X, y).set_index("column")
    grouped = feature_signal(X, y, groups=patient).set_index("column")
    assert plain.loc["ward", "suspect"]
    assert grouped.loc["ward", "auc"] < 0.7 and not grouped.loc["ward", "suspect"]


def test_rows_no_model_can_separate_are_counted():
    from steps.profile import conflict_note, conflicting_rows
    X = pd.DataFrame({"a": [1, 1, 1, 2, 2, 3], "b": ["x", "x", "x", "y", "y", "z"]})
    y = pd.Series(["p", "q", "p", "p", "p", "q"])  # rows 0-2 share features, two classes
    assert conflicting_rows(X, y) == 3  # rows 3-4 agree; row 5 is alone
    note = conflict_note(3, 6)
    assert note and note[0].startswith("3 of 6 training rows (50.0%) share every feature value")
    assert conflict_note(0, 6) == [] and conflicting_rows(X.iloc[:0], y.iloc[:0]) == 0


def test_missingness_notes_name_columns_missing_not_at_random():
    from steps.profile import missingness_notes
    rng = np.random.default_rng(3)
    n = 2000
    y = pd.Series(np.where(rng.random(n) < 0.3, "bad", "good"))
    X = pd.DataFrame({"income": rng.normal(size=n), "random_gap": rng.normal(size=n),
                      "complete": rng.normal(size=n)})
    X.loc[(y == "bad") & (rng.random(n) < 0.2), "income"] = np.nan  # missing for a reason
    X.loc[rng.random(n) < 0.1, "random_gap"] = np.nan  # missing at random
    notes = missingness_notes(X, y, indicators=True)
    assert len(notes) == 1 and notes[0].startswith("income is missing in")
    overall = f"{(y == 'bad').mean():.0%}"
    assert f"100% of those are 'bad' against {overall} overall" in notes[0]
    assert "kept as a 0/1 column" in missingness_notes(X, y, True)[0]
    assert "false lets imputation erase it" in missingness_notes(X, y, False)[0]
    assert missingness_notes(X[["random_gap", "complete"]], y, True) == []


def test_redundant_pairs_in_blocks_match_pairwise_correlation():
    from steps.profile import _complete_pairs
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 11)), columns=[f"c{i}" for i in range(11)])
    X["c9"] = np.exp(X["c2"])  # monotone: Spearman 1, across a block boundary below
    X["c10"] = -X["c8"]
    ranks = X.rank()
    i, j, values = _complete_pairs(ranks.to_numpy(), 0.999, block=4)
    assert sorted(zip(i.tolist(), j.tolist())) == [(2, 9), (8, 10)]
    corr = ranks.corr().to_numpy()
    assert np.allclose(values, corr[i, j])
    i, j, _ = _complete_pairs(ranks.to_numpy(), 0.05, block=4)  # every weak pair too
    expected = np.argwhere(np.triu(np.abs(corr) >= 0.05, k=1))
    assert sorted(zip(i.tolist(), j.tolist())) == sorted(map(tuple, expected.tolist()))


def test_many_redundant_pairs_make_one_note_with_a_drop_list_that_removes_them():
    """A survey table with counts and shares of the same answers (Caravan's A* and P*
    columns): one sentence, not one per pair, and its drop list leaves no pair behind."""
    from steps.profile import redundancy_notes, redundant_pairs, redundant_sets
    rng = np.random.default_rng(5)
    base = {f"count_{k}": rng.integers(0, 9, 800).astype(float) for k in "abcde"}
    frame = pd.DataFrame(base)
    for k in "abcde":
        frame[f"share_{k}"] = frame[f"count_{k}"] / 9
    frame["share_a_pct"] = frame["share_a"] * 100  # a chain: three columns, one measurement
    frame["other"] = rng.normal(size=800)
    pairs = redundant_pairs(frame)
    assert len(pairs) == 7
    sets = redundant_sets(pairs)
    assert sets[0] == ["count_a", "share_a", "share_a_pct"] and len(sets) == 5
    [note] = redundancy_notes(pairs)
    assert note.startswith("7 column pairs repeat each other") and "in 5 sets" in note
    drop = note.split("drop_columns=[")[1].split("]")[0].split(", ")
    assert sorted(drop) == ["share_a", "share_a_pct", "share_b", "share_c", "share_d", "share_e"]
    assert redundant_pairs(frame.drop(columns=drop)).empty
    one = pd.DataFrame({f"size_{k}": frame["count_a"] * (k + 1) for k in range(5)})
    [note] = redundancy_notes(redundant_pairs(one))  # cells' area columns: one measurement
    assert "in one set, e.g." in note and "drop_columns=[size_1, size_2, size_3, size_4]" in note
    assert len(redundancy_notes(pairs.head(3))) == 3  # a few pairs: one sentence each
