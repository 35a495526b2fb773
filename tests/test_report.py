"""The run page: what was decided and why, the leaderboard, every figure; text escaped."""
import re

from steps.report import Figure, render_report

RUN = {"id": "r1", "name": "tabular-imbalanced", "project": "p", "created": "2026-12-02"}
STEPS = [{"name": "validate", "status": "completed", "task_id": "t-val"},
         {"name": "publish", "status": "completed", "task_id": "t-pub"}]
VALIDATION = {
    "winner": "hist_gb", "metric": "macro_f1", "score": 0.8123, "cv_score": 0.8001,
    "ci": [0.78, 0.84], "gates_passed": False, "gate_reasons": ["macro_f1 0.812 < minimum 0.9"],
    "leaderboard": [{"rank": 1, "family": "hist_gb", "cv_score": 0.8001, "macro_f1": 0.8123},
                    {"rank": 2, "family": "<b>logreg</b>", "cv_score": 0.6, "macro_f1": 0.61}],
    "metrics": {"macro_f1": 0.8123, "roc_auc": 0.95, "per_class_note": "text is skipped"},
    "baseline": {"macro_f1": 0.17}, "dataset_name": "hpc_data", "dataset_id": "ds42",
    "dataset_hash": "abcdef0123456789", "train_rows": 3464, "split_id": "split0123456789",
    "per_class": [{"class": "L", "precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 52}]}


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page)))


def test_page_shows_decision_validation_and_figures():
    figs = [Figure("validate", "test/confusion_matrix", "figures/validate/cm.jpeg"),
            Figure("train_hist_gb", "tuning/optimization_history", "figures/train_hist_gb/h.jpeg")]
    decision = {"publish": False, "name": "hpc-classifier", "model_id": "m9",
                "reasons": ["Not published: the quality gates failed"]}
    page = render_report(RUN, STEPS, figs, VALIDATION, decision)
    text = _text(page)
    assert "kept unpublished" in text and "Not published: the quality gates failed" in text
    assert "Winner hist_gb" in text and "0.8123" in text and "FAILED" in text
    assert "macro_f1 0.812 < minimum 0.9" in page.replace("&lt;", "<")
    # leaderboard in rank order with the primary metric as a column
    assert text.index("hist_gb 0.8001 0.8123") < text.index("logreg")
    assert "most-frequent baseline" in text and "0.1700" in text
    assert "per_class_note" not in text  # only numeric metrics in the table
    assert "ROC-AUC, one-vs-rest macro over classes" in text  # multiclass: no positive label
    assert "hpc_data version ds42 (sha256 abcdef012345), 3464 training rows" in text
    assert "frozen test split split0123456" in text
    assert "L 0.9000 0.8000 0.8500 52" in text
    for f in figs:
        assert f'src="{f.path}"' in page and f.title in text
    assert text.index("validate completed t-val") < text.index("publish completed t-pub")


def test_text_from_the_server_is_escaped():
    page = render_report({**RUN, "name": "<script>x</script>"}, STEPS, [], VALIDATION,
                         {"publish": True, "name": "n", "model_id": "m", "reasons": ["a<b"]})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>logreg</b>" not in page and "a&lt;b" in page


def test_verdicts_and_missing_steps_are_said():
    champion = {"publish": False, "already_champion": True, "name": "n", "model_id": "m",
                "reasons": []}
    assert "already the champion" in _text(render_report(RUN, STEPS, [], VALIDATION, champion))
    published = {"publish": True, "name": "n", "model_id": "m", "reasons": []}
    assert "PUBLISHED" in _text(render_report(RUN, STEPS, [], VALIDATION, published))
    empty = _text(render_report(RUN, STEPS, [], None, None))
    assert "publish step did not run" in empty and "validate step did not complete" in empty
    assert "No figures were reported" in empty


def test_an_out_of_time_run_states_its_trend_and_others_do_not():
    note = "test macro_f1 by period, earliest to latest: 0.80, 0.70; latest -0.100 against earliest"
    page = _text(render_report(RUN, STEPS, [], {**VALIDATION, "over_time": {"note": note}}, None))
    assert f"Out of time: {note}." in page
    assert "Out of time" not in _text(render_report(RUN, STEPS, [], VALIDATION, None))


def test_page_says_what_a_binary_threshold_was_tuned_for():
    binary = {**VALIDATION, "positive_label": "yes", "threshold": 0.161, "threshold_for": "macro_f1",
              "calibration": {"method": "sigmoid", "oof_log_loss_before": 0.48,
                              "oof_log_loss_after": 0.31}}
    decision = {"publish": True, "name": "churn-classifier", "model_id": "m1", "reasons": []}
    text = _text(render_report(RUN, STEPS, [], binary, decision))
    assert ("decisions follow the threshold tuned for macro_f1 on the calibrated values: yes "
            "when its probability is &ge; 0.161") in text
    untuned = _text(render_report(RUN, STEPS, [], {**binary, "threshold": None}, decision))
    assert "decisions take the most probable class after calibration" in untuned
