"""What each metric key measures, in words for table captions (no heavy imports: the
report page and the model card use it). The conventions are those of ``steps.metrics``."""
from __future__ import annotations


def metric_meaning(metric: str, positive_label=None, beta: float = 1.0) -> str:
    """What a metric key measures under the conventions above, for table captions: the
    same key means the positive class's score for binary targets and a macro average for
    multiclass ones (``positive_label`` None)."""
    if metric == "f_beta":
        return (f"F{beta:g} of class {positive_label}" if positive_label is not None
                else f"macro F{beta:g} over classes")
    if metric in ("roc_auc", "pr_auc"):
        name = "ROC-AUC" if metric == "roc_auc" else "PR-AUC (average precision)"
        return (f"{name} of class {positive_label}" if positive_label is not None
                else f"{name}, one-vs-rest macro over classes")
    return _MEANINGS.get(metric, "")


_MEANINGS = {"accuracy": "share of rows predicted right",
             "balanced_accuracy": "mean recall over classes",
             "macro_f1": "F1 averaged over classes, each class equal",
             "weighted_f1": "F1 averaged over classes, weighted by support",
             "log_loss": "cross-entropy of the probabilities (lower is better)",
             "brier": "squared error of the probabilities (lower is better)",
             "expected_cost": "mean cost per row under the cost matrix (lower is better)"}
