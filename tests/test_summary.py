"""The end-of-run summary on the terminal: steps, winner, findings on the data, decision."""
import json

from pipelines.runner import RunResult
from pipelines.summary import print_summary


def test_summary_names_the_winner_the_findings_and_the_decision(capsys):
    from pipelines.validate_task import RETURNED_KEYS
    full = {"winner": "hist_gb", "metric": "macro_f1", "score": 0.8123, "ci": [0.79, 0.83],
              "gates_passed": True, "leakage_findings": ["'exit_code' alone predicts the target"],
              "data_notes": ["'extra' repeats 'age'"], "per_class": "only in the artifact",
              "over_time": {"note": "test macro_f1 by period, earliest to latest: 0.8, 0.7",
                            "periods": []}}
    report = {k: v for k, v in full.items() if k in RETURNED_KEYS}  # what the step returns
    steps = {"preprocess": {"status": "cached", "task_id": "p1"},
             "validate": {"status": "completed", "task_id": "v1",
                          "returns": {"report": json.dumps(report)}}}
    decision = {"name": "m", "model_id": "id1", "publish": False, "already_champion": True,
                "reasons": ["Already the champion"]}
    print_summary(RunResult("embedded", "run1", steps, decision))
    out = capsys.readouterr().out
    assert "preprocess             cached   task p1" in out
    assert "winner: hist_gb  test macro_f1 0.8123 (95% CI 0.7900-0.8300); gates passed" in out
    assert "possible leakage: 'exit_code' alone predicts the target" in out
    assert "data note: 'extra' repeats 'age'" in out
    assert "over time: test macro_f1 by period, earliest to latest: 0.8, 0.7" in out
    assert "model m id1: already the champion" in out
