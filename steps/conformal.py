"""Prediction sets with a coverage guarantee (split conformal prediction).

A decision names one class; a prediction set names every class the model cannot rule out at
a chosen error rate ``alpha``, so an uncertain row gets {F, M} instead of a confident-looking
F. A class is in a row's set when its nonconformity, 1 - p(class), is at most that class's
threshold: the ceil((n + 1)(1 - alpha)) / n quantile of the nonconformity of the true class
over n calibration rows (the out-of-fold training predictions, never test rows). With
``by_class`` (Mondrian conformal prediction, Vovk et al. 2005) each class gets its own
threshold from its own rows, so a rare class is covered at 1 - alpha too; one shared
threshold covers 1 - alpha of the rows on average and can leave a rare class far below it.
For ordered classes (``data.class_order``) a set is widened to the run of neighbouring
classes between its lowest and highest member, which can only add coverage. The guarantee
assumes calibration and new rows are exchangeable; the validation step measures the coverage
on the test split instead of assuming it.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

SEPARATOR = "|"  # between the classes of a set written as text
SET_COLUMN = "prediction_set"  # the column ``tabpipe predict`` writes the sets to


def _threshold(scores: np.ndarray, alpha: float) -> float:
    """The finite-sample conformal quantile; 1.0 (every class admitted) when the rows are too
    few for the level (n < 1/alpha - 1)."""
    n = len(scores)
    rank = math.ceil((n + 1) * (1 - alpha))
    if n == 0 or rank > n:
        return 1.0
    return float(np.sort(scores)[rank - 1])


def _calibration(y, proba, classes) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(labels, classes as text, each calibration row's nonconformity 1 - p(its class))."""
    y, proba = np.asarray(y, dtype=str), np.asarray(proba, dtype=float)
    classes = [str(c) for c in classes]
    unknown = sorted(map(str, set(y) - set(classes)))
    if unknown:
        raise ValueError(f"calibration labels {unknown} are not among the classes {classes}")
    return y, classes, 1.0 - proba[np.arange(len(y)), [classes.index(c) for c in y]]


def fit_thresholds(y, proba, classes, alpha: float = 0.1, by_class: bool = True) -> dict:
    """Per class, the nonconformity threshold of its prediction sets, from calibration rows
    (labels ``y``, probabilities ``proba`` with columns in ``classes`` order)."""
    y, classes, scores = _calibration(y, proba, classes)
    if not by_class:
        shared = _threshold(scores, alpha)
        return {c: shared for c in classes}
    return {c: _threshold(scores[y == c], alpha) for c in classes}


def prediction_sets(proba, classes, thresholds: dict, order=None) -> np.ndarray:
    """Rows x classes, True where the class is in the row's set. With ``order`` (ordered
    classes, lowest first) a set is the run of neighbouring classes from its lowest to its
    highest member: "between fast and moderate", never {very fast, moderate} without fast."""
    limits = np.array([thresholds[str(c)] for c in classes], dtype=float)
    sets = _never_empty((1.0 - np.asarray(proba, dtype=float)) <= limits + 1e-12, proba)
    return _intervals(sets, classes, order) if order else sets


def _never_empty(sets: np.ndarray, proba) -> np.ndarray:
    """``sets`` with each empty one given its most probable class. A model right on more
    than 1 - alpha of the rows meets the level with some sets empty, which says nothing
    useful about those rows; adding a class can only raise coverage, so the promise holds."""
    empty = ~sets.any(axis=1)
    if empty.any():
        sets = sets.copy()
        sets[np.flatnonzero(empty), np.argmax(np.asarray(proba)[empty], axis=1)] = True
    return sets


def cv_plus_sets(y, proba, folds, fold_proba, classes, alpha: float = 0.1,
                 by_class: bool = True, order=None) -> np.ndarray:
    """Rows x classes prediction sets by CV+ (Barber et al. 2021; Romano et al. 2020 for
    classes). The split rule above compares a new row's score under the *refit* model with
    calibration scores from the fold models, which learnt from fewer rows and are less sharp,
    so its coverage runs short. CV+ scores the new row with each fold's own model instead:
    class c is in the set when fewer than ceil((n + 1)(1 - alpha)) of the calibration rows
    (those of class c with ``by_class``) have a smaller nonconformity than the new row's for c
    under the fold model that did not see them.

    ``y``, ``proba``: calibration labels and out-of-fold probabilities (columns in ``classes``
    order); ``folds``: each calibration row's fold (which fold model predicted it);
    ``fold_proba``: fold index -> the new rows' probabilities from that fold's model."""
    y, classes, scores = _calibration(y, proba, classes)
    folds = np.asarray(folds)
    n_new = len(next(iter(fold_proba.values())))
    sets = np.zeros((n_new, len(classes)), dtype=bool)
    for j, c in enumerate(classes):
        mine = (y == c) if by_class else np.ones(len(y), dtype=bool)
        rank = math.ceil((mine.sum() + 1) * (1 - alpha))
        below = np.zeros(n_new)
        for fold, new in fold_proba.items():
            calibration = np.sort(scores[mine & (folds == fold)])
            below += np.searchsorted(calibration, 1.0 - np.asarray(new)[:, j], side="left")
        sets[:, j] = below < rank  # rank > n: too few rows for the level, every class admitted
    sets = _never_empty(sets, np.mean([np.asarray(p) for p in fold_proba.values()], axis=0))
    return _intervals(sets, classes, order) if order else sets


def _ranks(classes, order) -> np.ndarray:
    """Each class's position in ``order`` (lowest first)."""
    order = [str(o) for o in order]
    return np.array([order.index(str(c)) for c in classes])


def _hits(sets: np.ndarray, classes, y) -> np.ndarray:
    """Per row, whether its set holds its label ``y``."""
    classes = [str(c) for c in classes]
    return np.asarray(sets, dtype=bool)[np.arange(len(sets)), [classes.index(str(c)) for c in y]]


def _intervals(sets: np.ndarray, classes, order) -> np.ndarray:
    rank = _ranks(classes, order)
    ranked = np.where(sets, rank, np.nan)
    with np.errstate(invalid="ignore"):  # (sets are never empty; kept safe for any input)
        low = np.nanmin(ranked, axis=1, initial=np.inf)
        high = np.nanmax(ranked, axis=1, initial=-np.inf)
    return (rank >= low[:, None]) & (rank <= high[:, None])


def set_labels(sets: np.ndarray, classes, order=None) -> list[str]:
    """Each row's set as text: its classes joined by ``SEPARATOR``, lowest first for ordered
    classes (``order``), else in the model's order."""
    position = np.argsort(_ranks(classes, order), kind="stable") if order else \
        np.arange(len(classes))
    names = np.array([str(classes[i]) for i in position], dtype=object)
    sets = np.asarray(sets, dtype=bool)[:, position]
    return [SEPARATOR.join(names[row]) for row in sets]


def with_sets(scored: pd.DataFrame, classes, rule: dict, proba_prefix: str) -> pd.DataFrame:
    """``scored`` (one ``<proba_prefix><class>`` column per class) with each row's set as
    text in ``SET_COLUMN``; ``rule``: the ``thresholds`` recorded with the model."""
    classes = [str(c) for c in classes]
    proba = scored[[proba_prefix + c for c in classes]].to_numpy(dtype=float)
    order = rule.get("order")
    sets = prediction_sets(proba, classes, rule["thresholds"], order)
    return scored.assign(**{SET_COLUMN: set_labels(sets, classes, order)})


def covered_rows(y, proba, classes, rule: dict) -> np.ndarray:
    """Per row, whether its set (``rule``: the recorded thresholds and order) holds ``y``."""
    return _hits(prediction_sets(proba, classes, rule["thresholds"], rule.get("order")),
                 classes, y)


def coverage_table(y, sets: np.ndarray, classes) -> pd.DataFrame:
    """Per true class and over all rows: rows, coverage (the true class is in the set), mean
    set size, the share of rows whose set is a single class, and how often such a set is
    right (the rows a reviewer could leave to the model)."""
    y, sets = np.asarray(y, dtype=str), np.asarray(sets, dtype=bool)
    classes = [str(c) for c in classes]
    covered = _hits(sets, classes, y)
    size = sets.sum(axis=1)
    rows = []
    nan = float("nan")
    for name, at in [(c, y == c) for c in classes] + [("all", np.ones(len(y), dtype=bool))]:
        n, single = int(at.sum()), at & (size == 1)
        rows.append({"class": name, "rows": n,
                     "coverage": float(covered[at].mean()) if n else nan,
                     "mean_size": float(size[at].mean()) if n else nan,
                     "singletons": float(single.sum() / n) if n else nan,
                     "singleton_accuracy": float(covered[single].mean()) if single.any() else nan})
    return pd.DataFrame(rows)


RULES = {"split": "thresholds from out-of-fold training predictions",
         "cv_plus": "CV+: each fold model scores every row"}


def coverage_note(table: pd.DataFrame, alpha: float, by_class: bool, ordered: bool = False,
                  method: str = "split") -> str:
    """One sentence: the level, the test coverage overall and of the worst-covered class;
    ``method``: the rule that built the sets (``RULES``)."""
    per_class = table[table["class"] != "all"].dropna(subset=["coverage"])
    overall = table[table["class"] == "all"].iloc[0]
    worst = per_class.loc[per_class["coverage"].idxmin()] if len(per_class) else None
    kind = ("per class" if by_class else "over all rows") + \
        ("; ordered classes: each set a run of neighbours" if ordered else "")
    text = (f"prediction sets at {1 - alpha:.0%} ({kind}, {RULES[method]}): test coverage "
            f"{overall['coverage']:.3f}, mean set size "
            f"{overall['mean_size']:.2f}, {overall['singletons']:.0%} single-class"
            + (f" (right on {overall['singleton_accuracy']:.0%} of them)"
               if pd.notna(overall["singleton_accuracy"]) else ""))
    if worst is not None:
        text += (f"; least covered class {worst['class']} {worst['coverage']:.3f} "
                 f"({int(worst['rows'])} rows)")
    return text


def coverage_figure(table: pd.DataFrame, alpha: float):
    """Test coverage per class against the target level, with each class's mean set size."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    shown = table.reset_index(drop=True)
    bars = ax.bar(shown["class"].astype(str), shown["coverage"],
                  color=["#4c72b0"] * (len(shown) - 1) + ["#55a868"])
    ax.axhline(1 - alpha, color="#c44e52", linestyle="--", label=f"target {1 - alpha:.0%}")
    for bar, size, n in zip(bars, shown["mean_size"], shown["rows"]):
        ax.annotate(f"size {size:.2f}\n{n} rows", (bar.get_x() + bar.get_width() / 2, 0.02),
                    ha="center", va="bottom", fontsize=8, color="white")
    ax.set_ylim(0, 1.2)  # room above the bars for the legend
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("test coverage")
    ax.set_title("Prediction sets: coverage per true class")
    ax.legend(loc="upper right", ncols=1, frameon=False)
    fig.tight_layout()
    return fig
