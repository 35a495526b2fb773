"""Runs side by side: settings from pipeline parameters, the keys two runs differ in, rows of
runs that stopped early, and the warning when test splits differ."""
import json

import pytest

from steps.runs import (comparison, config_changes, format_changes, format_runs, run_config,
                        run_row)

REPORT = {"winner": "hist_gb", "metric": "macro_f1", "score": 0.83, "cv_score": 0.81,
          "ci": [0.80, 0.86], "gates_passed": True, "split_id": "a" * 64,
          "dataset_hash": "b" * 64, "dataset_name": "hpc_data"}


def _params(**train):
    return {"Args/train": json.dumps({"families": ["hist_gb"], "timeout_s": 60, **train}),
            "Args/preprocess": json.dumps({"imbalance": {"strategy": "class_weight"}}),
            "Args/project": "tabpipe", "Args/run_info": json.dumps({"config_sha256": "x"}),
            "pipeline/default_queue": "default"}


def _row(run_id, report=REPORT, decision=None):
    return run_row({"id": run_id, "created": "2026-12-02 05:12:07.123+00:00", "status": "completed"},
                   report, decision)


def test_settings_come_from_the_run_parameters_without_bookkeeping():
    config = run_config(_params())
    assert config == {"train": {"families": ["hist_gb"], "timeout_s": 60},
                      "preprocess": {"imbalance": {"strategy": "class_weight"}}, "project": "tabpipe"}


def test_changes_name_nested_keys_and_keys_one_run_lacks():
    a = run_config(_params())
    b = run_config(_params(timeout_s=30, budget_s=120))
    b["preprocess"]["imbalance"]["strategy"] = "smote"
    assert config_changes(a, b) == [("preprocess.imbalance.strategy", "class_weight", "smote"),
                                    ("train.budget_s", None, 120), ("train.timeout_s", 60, 30)]
    assert config_changes(a, a) == []


def test_rows_of_runs_that_stopped_early_have_no_scores():
    row = _row("r1", report=None)
    assert (row["winner"], row["test"], row["decision"], row["gates"]) == ("-", None, "-", None)
    table = format_runs([row, _row("r2", decision={"publish": True, "model_id": "m"})])
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["run", "created", "status"]
    assert "published" in lines[2] and "0.8300" in lines[2] and "0.800-0.860" in lines[2]
    assert "2026-12-02 05:12:07  completed" in lines[1]


def test_verdicts_and_the_different_split_warning():
    same = _row("r1", decision={"publish": False, "already_champion": True, "model_id": "m"})
    assert same["decision"] == "already the champion"
    other = _row("r2", report={**REPORT, "split_id": "c" * 64, "score": 0.85},
                 decision={"publish": False, "model_id": "m2"})
    assert other["decision"] == "kept unpublished"
    assert "2 different test splits" in format_runs([same, other])
    compared = comparison(same, other, [("train.timeout_s", 60, 30)])
    assert compared["changes"] == [{"key": "train.timeout_s", "a": 60, "b": 30}]
    assert compared["delta"]["test"] == pytest.approx(0.02) and not compared["same_test_split"]
    text = format_changes(compared)
    assert "train.timeout_s  A: 60   B: 30" in text
    assert "B - A: +0.0200" in text and "not comparable" in text
    assert text.index("not comparable") < text.index("B - A")  # said before the numbers
    itself = format_changes(comparison(same, same, []))
    assert "same settings" in itself and "not comparable" not in itself
    missing = comparison(same, _row("r3", report=None), [])
    assert missing["delta"] == {"cv": None, "test": None} and missing["same_test_split"]


def test_comparison_says_how_each_winner_was_chosen_and_flags_leakage():
    a = _row("r1", report={**REPORT, "selected_by": "out-of-fold macro_f1"})
    b = _row("r2", report={**REPORT, "selected_by": "out-of-fold expected cost",
                           "leakage_findings": ["column 'refund' alone predicts the target"]})
    text = format_changes(comparison(a, b, []))
    assert "chosen by:     A: out-of-fold macro_f1   B: out-of-fold expected cost" in text
    assert "possible leakage in B: column 'refund' alone predicts the target" in text
    assert "possible leakage in A" not in text


def test_comparison_shows_per_class_f1_and_the_data_changes_when_the_data_differ():
    a = _row("r1", report={**REPORT, "per_class_f1": {"F": 0.80, "L": 0.70, "VF": 0.95}})
    b = _row("r2", report={**REPORT, "dataset_hash": "d" * 64,
                           "per_class_f1": {"F": 0.82, "L": 0.64, "VF": 0.95},
                           "data_changes": ["+120 rows", "column 'hour' changed dtype"]})
    compared = comparison(a, b, [])
    assert [r["class"] for r in compared["per_class_f1"]] == ["F", "L", "VF"]
    assert compared["per_class_f1"][1]["delta"] == pytest.approx(-0.06)
    text = format_changes(compared)
    assert "L   A: 0.7000   B: 0.6400   B - A: -0.0600" in text
    assert "  +120 rows" in text and "column 'hour' changed dtype" in text
    same_data = format_changes(comparison(a, _row("r3", report={**REPORT, **{
        "per_class_f1": {"F": 0.8}, "data_changes": ["+120 rows"]}}), []))
    assert "+120 rows" not in same_data  # same dataset hash: nothing to explain
    assert "test F1 per class" not in format_changes(comparison(_row("old"), a, []))


def test_comparison_lists_every_family_of_either_run_with_its_deltas():
    import pandas as pd

    from steps.leaderboard import family_scores
    board = pd.DataFrame([{"family": "ensemble", "cv_score": 0.82, "macro_f1": 0.85},
                          {"family": "hist_gb", "cv_score": 0.81, "macro_f1": float("nan")},
                          {"family": "svm", "cv_score": 0.69, "macro_f1": 0.72}])
    scores_a = family_scores(board, "macro_f1")
    assert list(scores_a) == ["ensemble", "hist_gb", "svm"]  # rank order kept
    assert scores_a["hist_gb"] == {"cv": 0.81, "test": None}  # NaN travels as None
    # binary runs rank by the served rule: that is the out-of-fold score shown
    ranked = family_scores(board.assign(cv_selection=[0.84, 0.80, float("nan")]), "macro_f1")
    assert ranked["ensemble"]["cv"] == 0.84 and ranked["svm"]["cv"] == 0.69
    scores_b = {"hist_gb": {"cv": 0.83, "test": 0.86}, "ensemble": {"cv": 0.825, "test": 0.84},
                "knn": {"cv": 0.72, "test": 0.73}}
    compared = comparison(_row("r1", report={**REPORT, "family_scores": scores_a}),
                          _row("r2", report={**REPORT, "family_scores": scores_b}), [])
    rows = {r["family"]: r for r in compared["families"]}
    assert list(rows) == ["hist_gb", "ensemble", "knn", "svm"]  # B's order, then A-only ones
    assert rows["ensemble"]["cv_delta"] == pytest.approx(0.005)
    assert rows["ensemble"]["test_delta"] == pytest.approx(-0.01)
    assert rows["hist_gb"]["test_delta"] is None  # A has no test score for it
    assert rows["knn"]["cv_a"] is None and rows["svm"]["cv_b"] is None
    text = format_changes(compared)
    assert "per family, A -> B (B - A):" in text
    assert "ensemble  0.8200 -> 0.8250 (+0.0050)" in text and "0.8500 -> 0.8400 (-0.0100)" in text
    assert "svm       0.6900 -> -" in text
    json.dumps(compared)  # what `runs --compare --json` prints
    assert "per family" not in format_changes(comparison(_row("old"), _row("older"), []))
