"""Quality gates, leaderboard ordering and winner selection."""
import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from steps.config import GateConfig
from steps.evaluation import check_gates, leaderboard, leaderboard_figure, select_winner

GATES = GateConfig(min_primary=0.5, min_margin_over_baseline=0.05)
BASELINE = {"macro_f1": 0.40}


def test_gates_pass_with_reasons():
    result = check_gates({"macro_f1": 0.842}, BASELINE, GATES, "macro_f1")
    assert result.passed and not result.failed
    assert result.reasons[0] == "macro_f1 0.842 >= minimum 0.500"
    assert "beats the most-frequent baseline 0.400" in result.reasons[1]


def test_gate_below_minimum_fails():
    result = check_gates({"macro_f1": 0.48}, {"macro_f1": 0.1}, GATES, "macro_f1")
    assert not result.passed
    assert result.failed == ["macro_f1 0.480 < minimum 0.500"]
    assert len(result.reasons) == 2  # the passing baseline gate is reported too


def test_gate_margin_over_baseline():
    fail = check_gates({"macro_f1": 0.52}, {"macro_f1": 0.50}, GATES, "macro_f1")
    assert not fail.passed and "does not beat" in fail.failed[0]
    # exactly the margin passes despite float rounding (0.55 - 0.50 != 0.05 in binary)
    assert check_gates({"macro_f1": 0.55}, {"macro_f1": 0.50}, GATES, "macro_f1").passed


def test_nan_metric_fails_with_reason():
    result = check_gates({"roc_auc": float("nan")}, {"roc_auc": 0.5}, GATES, "roc_auc")
    assert not result.passed
    assert all("NaN" in r for r in result.reasons) and result.failed == result.reasons


def test_nan_baseline_fails_safe():
    result = check_gates({"macro_f1": 0.9}, {"macro_f1": math.nan}, GATES, "macro_f1")
    assert not result.passed and "undefined" in result.failed[0]


ROWS = [
    {"family": "knn", "macro_f1": 0.80, "roc_auc": 0.85, "ci_low": 0.75, "ci_high": 0.85},
    {"family": "svm", "macro_f1": 0.80, "roc_auc": 0.90, "ci_low": 0.74, "ci_high": 0.86},
    {"family": "logreg", "macro_f1": 0.70, "roc_auc": 0.95, "ci_low": 0.65, "ci_high": 0.75},
    {"family": "hist_gb", "macro_f1": 0.80, "roc_auc": 0.90, "ci_low": 0.73, "ci_high": 0.87},
    {"family": "extra_trees", "macro_f1": float("nan"), "roc_auc": 0.99, "ci_low": float("nan"),
     "ci_high": float("nan")},
]


def test_leaderboard_orders_and_breaks_ties():
    board = leaderboard(ROWS, "macro_f1")
    # 0.80 three-way tie -> roc_auc (0.90, 0.90, 0.85) -> name (hist_gb < svm); NaN last
    assert list(board["family"]) == ["hist_gb", "svm", "knn", "logreg", "extra_trees"]
    assert list(board["rank"]) == [1, 2, 3, 4, 5]
    assert list(board.columns[:5]) == ["rank", "family", "macro_f1", "ci_low", "ci_high"]
    assert select_winner(board) == "hist_gb"


def test_leaderboard_keeps_extra_columns_and_rejects_duplicates():
    board = leaderboard([dict(r, model_id=f"id-{r['family']}") for r in ROWS], "roc_auc")
    assert board.loc[0, "family"] == "extra_trees" and board.loc[0, "model_id"] == "id-extra_trees"
    with pytest.raises(ValueError):
        leaderboard([ROWS[0], ROWS[0]], "macro_f1")
    with pytest.raises(ValueError):
        select_winner(pd.DataFrame(columns=["rank", "family"]))


def test_leaderboard_figure_is_labelled():
    fig = leaderboard_figure(leaderboard(ROWS, "macro_f1"), "macro_f1")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() == "Test macro_f1"
    assert ax.get_legend() is not None


LEAK = [{"column": "refund_amount", "auc": 0.991}]


def test_a_suspected_leak_blocks_only_when_told_to():
    metrics, baseline = {"macro_f1": 0.97}, {"macro_f1": 0.45}
    warned = check_gates(metrics, baseline, GATES, "macro_f1", LEAK)
    assert warned.passed and len(warned.reasons) == 3
    assert "'refund_amount' (ROC-AUC 0.991 alone)" in warned.reasons[2]
    assert "suspected_leakage=warn" in warned.reasons[2]
    block = GATES.model_copy(update={"suspected_leakage": "block"})
    blocked = check_gates(metrics, baseline, block, "macro_f1", LEAK)
    assert not blocked.passed and blocked.failed == [blocked.reasons[2]]
    assert "nothing is published" in blocked.failed[0] and "drop_columns" in blocked.failed[0]
    clean = check_gates(metrics, baseline, block, "macro_f1", [])
    assert clean.passed and clean.reasons[2] == "no column is suspected of target leakage"
    # without suspects and in warn mode, the gates read as before
    assert check_gates(metrics, baseline, GATES, "macro_f1", []).reasons == warned.reasons[:2]
    # no leakage check was made: block cannot be honoured, so it fails and says why
    unchecked = check_gates(metrics, baseline, block, "macro_f1", None)
    assert not unchecked.passed and "preprocess.leakage_auc: null" in unchecked.failed[0]
    assert check_gates(metrics, baseline, GATES, "macro_f1", None).passed


def test_the_leakage_gate_setting_is_checked():
    from steps.config import ConfigError, parse_config
    assert parse_config({"evaluate": {"gates": {"suspected_leakage": "block"}}}
                        ).evaluate.gates.suspected_leakage == "block"
    with pytest.raises(ConfigError, match=r"evaluate\.gates\.suspected_leakage"):
        parse_config({"evaluate": {"gates": {"suspected_leakage": "stop"}}})
