"""Table captions say which average a metric key stands for: binary and multiclass differ."""
from steps.metric_names import metric_meaning


def test_f_beta_and_ranking_metrics_name_their_class_or_average():
    assert metric_meaning("f_beta", "yes", 2.0) == "F2 of class yes"
    assert metric_meaning("f_beta", None, 0.5) == "macro F0.5 over classes"
    assert metric_meaning("pr_auc", "churn") == "PR-AUC (average precision) of class churn"
    assert metric_meaning("roc_auc", None).endswith("one-vs-rest macro over classes")


def test_loss_metrics_say_lower_is_better_and_unknown_keys_are_blank():
    assert "lower is better" in metric_meaning("log_loss")
    assert "lower is better" in metric_meaning("brier", "yes")
    assert metric_meaning("macro_f1", "yes") == "F1 averaged over classes, each class equal"
    assert metric_meaning("not_a_metric") == ""
