"""Evaluation figures. Each function returns a matplotlib ``Figure`` bound to an Agg
canvas (no pyplot state, nothing shown); callers report or save it.

Figures use constrained layout (tight layout that also accounts for legends/colorbars).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from steps.metrics import as_labels

TOP_FEATURES = 20  # permutation-importance rows shown; the full table is returned separately


def new_figure(width: float = 6.4, height: float = 4.8, nrows: int = 1, ncols: int = 1, **kw):
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # explicit Agg canvas: savefig/draw work without pyplot
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


def _curve_targets(y_true, classes: Sequence, positive_label) -> list[tuple[int, str, np.ndarray]]:
    """(column, label, is-this-class mask of ``y_true``) of the classes to draw: the
    positive class (binary) or every class (one-vs-rest)."""
    classes = list(classes)
    columns = [classes.index(positive_label)] if positive_label is not None else range(len(classes))
    return [(k, str(classes[k]), y_true == classes[k]) for k in columns]


def _absent(ax, skipped: list[str]) -> None:
    if skipped:
        ax.text(0.01, 0.01, "not drawn (absent from y_true or no negatives): " + ", ".join(skipped),
                transform=ax.transAxes, fontsize=8, color="gray")


def confusion_matrix_figure(confusion: pd.DataFrame) -> Figure:
    """Counts (left) and row-normalised recall view (right)."""
    counts = confusion.to_numpy(dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(rows > 0, counts / rows, np.nan)
    k = len(confusion)
    size = max(4.0, 0.6 * k + 2.5)
    fig, axes = new_figure(2 * size + 1, size, 1, 2)
    for ax, values, title, fmt in ((axes[0, 0], counts, "Counts", "{:.0f}"),
                                   (axes[0, 1], normalized, "Normalized by true class", "{:.2f}")):
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if values is normalized else None)
        fig.colorbar(image, ax=ax, shrink=0.8)
        top = np.nanmax(values) if np.isfinite(values).any() else 1.0
        for i in range(k):
            for j in range(k):
                v = values[i, j]
                ax.text(j, i, "-" if np.isnan(v) else fmt.format(v), ha="center", va="center",
                        fontsize=9, color="white" if v > top / 2 else "black")
        labels = [str(c) for c in confusion.columns]
        ax.set_xticks(range(k), labels, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
        ax.set_yticks(range(k), [str(c) for c in confusion.index])
        ax.set_xlabel("Predicted label")
        ax.set_ylabel("True label")
        ax.set_title(title)
    fig.suptitle("Confusion matrix (test)")
    return fig


def roc_figure(y_true, proba, classes: Sequence, positive_label=None) -> Figure:
    y_true, proba = as_labels(y_true), np.asarray(proba, dtype=float)
    fig, axes = new_figure()
    ax, skipped = axes[0, 0], []
    for k, label, target in _curve_targets(y_true, classes, positive_label):
        if target.all() or not target.any():
            skipped.append(label)
            continue
        fpr, tpr, _ = roc_curve(target, proba[:, k])
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", label="chance")
    _absent(ax, skipped)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="False positive rate", ylabel="True positive rate",
           title="ROC curve (test)" + ("" if positive_label is not None else ", one-vs-rest"))
    ax.legend(loc="lower right", fontsize=8)
    return fig


def pr_figure(y_true, proba, classes: Sequence, positive_label=None) -> Figure:
    y_true, proba = as_labels(y_true), np.asarray(proba, dtype=float)
    fig, axes = new_figure()
    ax, skipped = axes[0, 0], []
    for k, label, target in _curve_targets(y_true, classes, positive_label):
        if not target.any():
            skipped.append(label)
            continue
        precision, recall, _ = precision_recall_curve(target, proba[:, k])
        line, = ax.step(recall, precision, where="post",
                        label=f"{label} (AP {average_precision_score(target, proba[:, k]):.3f})")
        # a random ranking scores the class prevalence: the floor to beat
        ax.axhline(target.mean(), linestyle=":", color=line.get_color(), linewidth=1)
    _absent(ax, skipped)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Recall", ylabel="Precision",
           title="Precision-recall curve (test; dotted = prevalence)")
    ax.legend(loc="best", fontsize=8)
    return fig


def calibration_figure(y_true, proba, classes: Sequence, positive_label=None,
                       n_bins: int = 10) -> Figure:
    """Reliability diagram (quantile bins) above a histogram of predicted probabilities."""
    y_true, proba = as_labels(y_true), np.asarray(proba, dtype=float)
    fig, axes = new_figure(6.4, 6.4, 2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    top, bottom, skipped = axes[0, 0], axes[1, 0], []
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfectly calibrated")
    for k, label, target in _curve_targets(y_true, classes, positive_label):
        bottom.hist(proba[:, k], bins=20, range=(0, 1), histtype="step", label=label)
        if target.all() or not target.any():
            skipped.append(label)
            continue
        frac_pos, mean_pred = calibration_curve(target, proba[:, k], n_bins=n_bins,
                                                strategy="quantile")
        top.plot(mean_pred, frac_pos, marker="o", label=label)
    _absent(top, skipped)
    top.set(xlim=(0, 1), ylim=(0, 1.02), ylabel="Observed frequency",
            title="Calibration (test, quantile bins)")
    top.legend(loc="upper left", fontsize=8)
    bottom.set(xlabel="Predicted probability", ylabel="Rows")
    return fig


def permutation_importance_figure(importance: pd.DataFrame, metric: str) -> Figure:
    """Box plot per feature of the score drop when that feature is shuffled.

    ``importance``: one row per feature, columns ``feature``, ``importance_mean`` and
    ``repeat_<i>`` (one per repeat), sorted most important first.
    """
    shown = importance.head(TOP_FEATURES).iloc[::-1]  # most important at the top
    repeats = shown[[c for c in shown.columns if c.startswith("repeat_")]].to_numpy()
    fig, axes = new_figure(7.0, max(3.0, 0.35 * len(shown) + 1.5))
    ax = axes[0, 0]
    ax.boxplot(list(repeats), orientation="horizontal", tick_labels=[str(f) for f in shown["feature"]])
    ax.axvline(0, color="gray", linestyle="--", linewidth=1)
    more = f" (top {TOP_FEATURES} of {len(importance)})" if len(importance) > TOP_FEATURES else ""
    ax.set(xlabel=f"Decrease in {metric} when shuffled", ylabel="Feature",
           title=f"Permutation importance on test{more}")
    return fig


def threshold_curve_figure(curve: pd.DataFrame, threshold: float, beta: float = 1.0,
                           metric: str = "f_beta") -> Figure:
    """Precision, recall, F-beta and (when it is another) the metric the threshold was tuned
    for, against the threshold (out-of-fold training data)."""
    fig, axes = new_figure()
    ax = axes[0, 0]
    lines = [("precision", "precision"), ("recall", "recall"), ("f_beta", f"F{beta:g}")]
    if metric != "f_beta" and metric in curve:
        lines.append((metric, f"{metric} (tuned for)"))
    for column, name in lines:
        ax.plot(curve["threshold"], curve[column], label=name,
                linewidth=2.5 if column == metric else 1.5)
    ax.axvline(threshold, color="black", linestyle="--", label=f"chosen {threshold:.3f}")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Threshold on P(positive)", ylabel="Score",
           title="Decision threshold (out-of-fold training predictions)")
    ax.legend(loc="best", fontsize=8)
    return fig
