"""The winner's test score period by period, for out-of-time splits (``data.time_column``).

One test score averages over the whole test period; a model whose score slides from the
first month to the last will be worse still next month. The test rows are cut into
consecutive periods of about equal rows (equal times share a period), each scored with a
bootstrap interval, and the earliest and latest periods are compared.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from steps.bootstrap import bootstrap_ci
from steps.figures import new_figure
from steps.metrics import metric_value
from steps.splits import shown_time
from steps.time_folds import time_blocks

log = logging.getLogger(__name__)

MAX_PERIODS = 5
MIN_PERIOD_ROWS = 50  # fewer rows per period make intervals too wide to read a trend


def period_scores(y_true, y_pred, proba, classes, times: pd.Series, metric: str, *,
                  beta: float = 1.0, positive_label=None, bootstrap: int = 200, seed: int = 0,
                  max_periods: int = MAX_PERIODS, min_rows: int = MIN_PERIOD_ROWS,
                  covered=None) -> pd.DataFrame | None:
    """One row per test period (start, end, rows, score, 95% interval; with ``covered``, one
    flag per row, the share of the period's rows whose prediction set held the true class);
    None when the test rows are too few for two periods."""
    periods = min(max_periods, len(times) // min_rows)
    if periods < 2:
        return None
    times = pd.Series(times).reset_index(drop=True)
    block = time_blocks(times, periods)
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    proba = np.asarray(proba, dtype=float)
    rows = []
    for b in np.unique(block):
        at = block == b
        args = (y_true[at], y_pred[at], proba[at], classes)
        value = metric_value(metric, *args, beta=beta, positive_label=positive_label)
        low, high = (bootstrap_ci(*args, metric, n=bootstrap, seed=seed, beta=beta,
                                  positive_label=positive_label)
                     if bootstrap and np.isfinite(value) else (np.nan, np.nan))
        rows.append({"period": int(b) + 1, "start": shown_time(times[at].min()),
                     "end": shown_time(times[at].max()), "rows": int(at.sum()),
                     metric: value, "ci_low": low, "ci_high": high})
        if covered is not None:
            rows[-1]["set_coverage"] = float(np.asarray(covered, dtype=bool)[at].mean())
    return pd.DataFrame(rows)


def trend_note(table: pd.DataFrame, metric: str, rows: str = "the test period") -> str:
    """Earliest against latest period, and whether their intervals separate. A period where
    the metric is undefined (a ranking metric with a class absent there) is said so."""
    scores = ", ".join(f"{v:.3f}" if np.isfinite(v) else "undefined" for v in table[metric])
    defined = table[np.isfinite(table[metric].to_numpy(dtype=float))]
    if len(defined) < 2:
        return (f"test {metric} by period, earliest to latest: {scores} (undefined where a "
                "class has no test rows in the period)")
    first, last = defined.iloc[0], defined.iloc[-1]
    if last["ci_high"] < first["ci_low"]:
        verdict = "the latest period's interval lies below the earliest's: the score decays over time"
    elif last["ci_low"] > first["ci_high"]:
        verdict = "the latest period's interval lies above the earliest's"
    else:
        verdict = f"their intervals overlap: no clear trend within {rows}"
    coverage = ("; prediction sets held the true class on " + ", ".join(
        f"{v:.0%}" for v in table["set_coverage"]) if "set_coverage" in table else "")
    return (f"test {metric} by period, earliest to latest: {scores}; latest "
            f"{last[metric] - first[metric]:+.3f} against earliest ({verdict}){coverage}")


def over_time_figure(table: pd.DataFrame, metric: str, overall: float,
                     cv_score: float | None = None) -> Figure:
    """The score per test period with its interval, against the whole test split's score
    and the out-of-fold score the model was chosen by."""
    fig, axes = new_figure(7.0, 4.2)
    ax = axes[0, 0]
    x = np.arange(len(table))
    y = table[metric].to_numpy(dtype=float)
    err = np.vstack([y - table["ci_low"], table["ci_high"] - y])
    ax.errorbar(x, y, yerr=np.clip(np.nan_to_num(err), 0, None), fmt="o-", capsize=4,
                color="tab:blue", label="test period (95% bootstrap interval)")
    ax.axhline(overall, color="gray", linestyle="--", label=f"whole test split {overall:.3f}")
    if cv_score is not None and np.isfinite(cv_score):
        ax.axhline(cv_score, color="tab:green", linestyle=":", label=f"out of fold {cv_score:.3f}")
    ax.set_xticks(x, [f"{s}\nto {e}\n(n={n})" for s, e, n in
                      zip(table["start"], table["end"], table["rows"])], fontsize=7)
    ax.set(ylabel=f"Test {metric}", title=f"Test {metric} over time (earliest period first)")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def labelled_periods(scored: pd.DataFrame, target: str, classes, period: dict | None,
                     metric: str = "macro_f1") -> tuple[pd.DataFrame | None, int]:
    """Scoring new rows that carry labels and the model's time column: ``metric`` per
    period of those rows, and how many of them fall inside the model's training period
    (``period``: ``steps.splits.period_bounds`` as recorded with the model)."""
    column = (period or {}).get("time_column")
    if not column or column not in scored.columns or target not in scored.columns:
        return None, 0
    from steps.scoring import PREDICTION, PROBA_PREFIX
    from steps.splits import bound_value, sortable_times
    known = scored[scored[target].notna() & scored[column].notna()]
    if known.empty:
        return None, 0
    try:  # a bonus on top of the scores: unreadable times skip it, never the scoring
        times = sortable_times(known[column], column).reset_index(drop=True)
        until = bound_value(period.get("train_until"),
                            utc=isinstance(times.dtype, pd.DatetimeTZDtype))
        seen = int((times <= until).sum()) if until is not None else 0
    except (ValueError, TypeError) as err:  # DataValidationError is a ValueError
        log.warning("scores per period skipped: %s", err)
        return None, 0
    proba = known[[f"{PROBA_PREFIX}{c}" for c in classes]].to_numpy(dtype=float)
    table = period_scores(known[target].astype(str).to_numpy(), known[PREDICTION].to_numpy(),
                          proba, list(classes), times, metric, bootstrap=200)
    return table, seen
