"""The model card: rendered from the validation report, completed by the publishing decision."""
from steps.model_card import DECISION_HEADING, render_model_card, with_decision

REPORT = {
    "winner": "hist_gb", "metric": "macro_f1", "score": 0.83, "cv_score": 0.81,
    "ci": [0.80, 0.86], "gates_passed": True, "gate_reasons": ["macro_f1 0.830 >= minimum 0.000"],
    "target": "churn", "classes": ["no", "yes"], "positive_label": "yes", "threshold": 0.31,
    "threshold_for": "macro_f1",
    "selected_by": "out-of-fold macro_f1", "dataset_name": "mlc_churn", "dataset_id": "d1",
    "dataset_hash": "ab" * 32, "parent_dataset_id": "d0", "split_id": "cd" * 32,
    "train_rows": 4000, "data_changes": ["rows 4900 -> 5000: 4900 kept, 100 added"],
    "metrics": {"macro_f1": 0.83, "roc_auc": 0.92, "expected_cost": 0.14},
    "baseline": {"macro_f1": 0.46, "roc_auc": 0.5},
    "per_class": [{"class": "no", "precision": 0.95, "recall": 0.97, "f1": 0.96, "support": 850},
                  {"class": "yes", "precision": 0.8, "recall": 0.6, "f1": 0.69, "support": 150}],
    "leaderboard": [{"family": "hist_gb", "cv_score": 0.81, "macro_f1": 0.83},
                    {"family": "logreg|v2", "cv_score": 0.66, "macro_f1": 0.67}],
    "slices": [{"column": "state", "slice": "CA", "rows": 30, "error_rate": 0.3,
                "overall_error": 0.05, "worse_than_overall": True},
               {"column": "state", "slice": "NY", "rows": 40, "error_rate": 0.06,
                "overall_error": 0.05, "worse_than_overall": False}],
    "leakage_findings": ["column 'refund' alone predicts the target with ROC-AUC 0.999"],
    "data_notes": ["column 'total_day_charge' repeats 'total_day_minutes'"],
    "learning_curve": {"verdict": "flat: +0.001 per doubling of the training rows"},
}


def test_card_says_what_the_model_is_how_good_and_where_it_is_weak():
    card = render_model_card(REPORT)
    assert card.startswith("# Model card: mlc_churn hist_gb")
    assert "predict `churn` among no, yes" in card
    assert "0.8300 (95% bootstrap CI 0.8000 to 0.8600)" in card
    assert ("predicts yes when its calibrated probability is >= 0.310 (tuned for macro_f1 on "
            "out-of-fold training predictions)") in card
    assert "| roc_auc | 0.9200 | 0.5000 | ROC-AUC of class yes |" in card
    assert "| yes | 0.8000 | 0.6000 |" in card
    assert "logreg\\|v2" in card  # a pipe inside a cell does not break the table
    limits = card.split("## Limitations and caveats")[1]
    assert "possible leakage: column 'refund'" in limits
    assert "weaker on state = CA: test error 0.300 against 0.050 overall (30 rows)" in limits
    assert "NY" not in limits  # not worse beyond noise
    assert "learning curve: flat" in limits and "within about ±0.030" in limits
    assert "rows 4900 -> 5000" in card and "parent `d0`" in card
    assert "Misclassification costs" not in card and DECISION_HEADING not in card


def test_costs_and_cost_decisions_are_stated():
    card = render_model_card({**REPORT, "costs": {"yes": {"no": 5}}, "cost_decisions": True,
                              "cost_ci": [0.12, 0.16]})
    assert "least expected misclassification cost" in card
    assert "yes as no: 5 (other errors 1); expected cost per row 0.1400 (95% CI 0.1200 to 0.1600)" \
        in card


def test_the_decision_is_appended_once():
    card = render_model_card(REPORT)
    kept = with_decision(card, {"publish": False, "model_id": "m1", "name": "churn-classifier",
                                "reasons": ["the champion stays"]}, {"git_commit": "abc123"})
    assert "**kept unpublished**" in kept and "- the champion stays" in kept
    assert "- git_commit: `abc123`" in kept
    again = with_decision(kept, {"publish": True, "model_id": "m2", "name": "churn-classifier",
                                 "reasons": ["beats the champion"]})
    assert again.count(DECISION_HEADING) == 1 and "**published**" in again
    assert "the champion stays" not in again and again.startswith(card.rstrip())
    # the registry prepends notes to a model's description: the card starts at its title
    noted = with_decision("snapshot model.joblib stored\nCreated by task id: t1\n" + card,
                          {"publish": True, "model_id": "m3", "name": "n", "reasons": []})
    assert noted.startswith("# Model card: mlc_churn hist_gb")


def test_a_rerun_of_the_champion_is_called_the_champion_not_unpublished():
    card = with_decision(render_model_card(REPORT), {
        "publish": False, "already_champion": True, "model_id": "m1", "name": "n",
        "reasons": ["Already the champion"]})
    assert "**already the champion**" in card and "unpublished" not in card


def test_an_out_of_time_card_carries_the_trend_among_its_caveats():
    note = "test macro_f1 by period, earliest to latest: 0.80, 0.70"
    limits = render_model_card({**REPORT, "over_time": {"note": note}}).split(
        "## Limitations and caveats")[1]
    assert f"over time: {note}" in limits
    assert "over time:" not in render_model_card(REPORT)


def test_the_card_states_what_the_prediction_sets_do():
    note = "prediction sets at 90% (per class, ...): test coverage 0.903, mean set size 1.35"
    card = render_model_card({**REPORT, "prediction_sets": {"note": note}})
    summary = card.split("## Data")[0]
    assert f"- **Prediction sets**: {note}; `tabpipe predict` writes each row's set" in summary
    assert "Prediction sets" not in render_model_card({**REPORT, "prediction_sets": None})
