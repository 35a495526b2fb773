"""Compare model families on the frozen test split and pick the winner."""
from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from steps.paired import gain_verdict, paired_difference
from steps.figures import new_figure
from steps.metrics import METRIC_KEYS, columns_in_order

log = logging.getLogger(__name__)

_TIE_DIGITS = 12  # scores equal to 12 decimals are ties (float noise must not pick a winner)


def leaderboard(rows: list[dict], metric: str, rank_by: str | None = None,
                lower_is_better: bool = False) -> pd.DataFrame:
    """One row per family, best first by ``rank_by`` (default ``metric``; higher is better;
    NaN last), ties broken by ``roc_auc`` (higher first; only when ranking by ``metric``
    itself, so a test column never breaks an out-of-fold tie) then family name
    (``lower_is_better``: ``rank_by`` ascending, e.g. an expected cost). Adds a 1-based
    ``rank`` column. The pipeline ranks by out-of-fold ``cv_score`` so that the test split
    only reports the winner's quality and never picks it.

    Each row needs ``family`` and ``metric``; ``ci_low``/``ci_high`` and any other keys
    (model ids, thresholds...) are kept.
    """
    if not rows:
        raise ValueError("leaderboard needs at least one row")
    frame = pd.DataFrame(rows)
    rank_by = rank_by or metric
    for column in dict.fromkeys(("family", metric, rank_by)):
        if column not in frame.columns:
            raise ValueError(f"leaderboard rows need a {column!r} entry")
    duplicated = frame["family"][frame["family"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"one row per family expected; repeated: {duplicated}")
    no_auc = pd.Series(np.nan, index=frame.index)
    keys = pd.DataFrame({
        "primary": pd.to_numeric(frame[rank_by], errors="coerce").round(_TIE_DIGITS),
        "auc": pd.to_numeric(frame.get("roc_auc", no_auc) if rank_by == metric else no_auc,
                             errors="coerce").round(_TIE_DIGITS),
        "family": frame["family"].astype(str),
    })
    order = keys.sort_values(["primary", "auc", "family"], ascending=[lower_is_better, False, True],
                             na_position="last", kind="mergesort").index
    board = frame.loc[order].reset_index(drop=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    first = ["rank", "family", metric, "ci_low", "ci_high"]
    first += [m for m in METRIC_KEYS if m != metric]
    columns = [c for c in first if c in board.columns]
    board = board[columns + [c for c in board.columns if c not in columns]]
    board.attrs["metric"] = metric
    board.attrs["rank_by"] = rank_by
    return board


def select_winner(df: pd.DataFrame) -> str:
    """Family name of the best-ranked row."""
    if df.empty:
        raise ValueError("empty leaderboard: no family to select")
    best = df.loc[df["rank"].idxmin()] if "rank" in df.columns else df.iloc[0]
    metric = df.attrs.get("metric")
    if metric and not math.isfinite(float(best[metric])):
        log.warning("winner %s has an undefined %s; the quality gates will reject it",
                    best["family"], metric)
    return str(best["family"])


GAIN_COLUMNS = ("winner_gain", "winner_gain_ci_low", "winner_gain_ci_high",
                "winner_gain_significant", "winner_gain_verdict", "winner_gain_in")
COST_SAVED = "cost saved per row"


def add_winner_gains(rows: list[dict], predictions: dict, winner: str, y_test, metric: str, *,
                     n: int = 1000, seed: int = 0, beta: float = 1.0,
                     positive_label=None, costs=None) -> list[dict]:
    """Each leaderboard row plus how much the winner beats that family on the same test rows,
    with a paired bootstrap 95% interval (``steps.paired.paired_difference``).

    Two families' separate intervals overlap even when one is better on almost every
    resample; the paired gain says whether the winner's lead is more than the test split's
    noise. ``predictions``: family -> ``(y_pred, proba, classes)`` on every test row, or None
    for a family scored on a sample of them (its gain stays NaN, as does the winner's own).
    With ``costs`` (true -> predicted -> cost) the winner was chosen for its cost, so the
    gain is the cost per row it saves against the family (``winner_gain_in`` says which).
    """
    base = predictions.get(winner)
    out = []
    for row in rows:
        row = dict(row, **{c: np.nan for c in GAIN_COLUMNS[:3]}, winner_gain_significant=None,
                   winner_gain_verdict=None, winner_gain_in=COST_SAVED if costs else metric)
        other = predictions.get(row["family"])
        if row["family"] != winner and base is not None and other is not None and n > 0:
            classes = list(base[2])
            if costs:
                from steps.error_costs import decision_cost_saving
                gain = decision_cost_saving(y_test, base[0], other[0], classes, costs, n, seed)
            else:
                gain = paired_difference(y_test, (base[0], base[1]),
                                         (other[0], columns_in_order(other[1], other[2], classes)),
                                         classes, metric, n=n, seed=seed, beta=beta,
                                         positive_label=positive_label)
            row.update(winner_gain=gain.delta, winner_gain_ci_low=gain.ci_low,
                       winner_gain_ci_high=gain.ci_high,
                       winner_gain_significant=gain.significant,
                       winner_gain_verdict=gain_verdict(gain.ci_low, gain.ci_high))
        out.append(row)
    return out


def family_scores(board: pd.DataFrame, metric: str) -> dict[str, dict]:
    """Per leaderboard row (each family, and the blend): its out-of-fold and test ``metric``,
    None where missing, in rank order; small enough to travel with the step's return so
    runs can be compared family by family. Out of fold is the score the ranking used
    (``cv_selection``: binary decisions at cross-fitted thresholds, or on shared rows) when
    there is one, else ``cv_score``."""
    def number(value):
        value = pd.to_numeric(value, errors="coerce")
        return None if pd.isna(value) else float(value)

    def cv(row: dict):
        ranked = number(row.get("cv_selection"))
        return number(row.get("cv_score")) if ranked is None else ranked
    return {str(r["family"]): {"cv": cv(r), "test": number(r.get(metric))}
            for r in board.to_dict(orient="records")}


def leaderboard_figure(df: pd.DataFrame, metric: str) -> Figure:
    """Horizontal bars of the primary metric per family with bootstrap CI error bars."""
    board = df.sort_values("rank") if "rank" in df.columns else df
    values = pd.to_numeric(board[metric], errors="coerce").to_numpy(dtype=float)
    fig, axes = new_figure(7.0, max(3.0, 0.5 * len(board) + 1.5))
    ax = axes[0, 0]
    y = np.arange(len(board))[::-1]  # best at the top
    colors = ["tab:green" if i == 0 else "tab:blue" for i in range(len(board))]
    ax.barh(y, np.nan_to_num(values), color=colors, alpha=0.8)
    if {"ci_low", "ci_high"} <= set(board.columns):
        low = pd.to_numeric(board["ci_low"], errors="coerce").to_numpy(dtype=float)
        high = pd.to_numeric(board["ci_high"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(values)
        err = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
        ax.errorbar(values[ok], y[ok], xerr=err[:, ok], fmt="none", ecolor="black", capsize=4,
                    label="bootstrap CI")
        if ok.any():
            ax.legend(loc="lower right", fontsize=8)
    for yi, v in zip(y, values):
        ax.text(0.005, yi, "NaN" if np.isnan(v) else f"{v:.3f}", va="center", fontsize=8,
                color="white" if np.isfinite(v) and v > 0.1 else "black")
    if "winner_gain" in board.columns:
        _annotate_gains(ax, board, y)
    ax.set_yticks(y, [f"{r}. {f}" for r, f in zip(board.get("rank", range(1, len(board) + 1)),
                                                     board["family"])])
    rank_by = df.attrs.get("rank_by", metric)
    order = "" if rank_by == metric else f", ranked by {rank_by}"
    ax.set(xlim=(0, 1.0), xlabel=f"Test {metric}", ylabel="Family",
           title=f"Leaderboard: test {metric}{order} (winner in green)")
    return fig


def _annotate_gains(ax, board: pd.DataFrame, y: np.ndarray) -> None:
    """Beside each runner-up: the winner's paired lead over it, and whether it is noise."""
    for yi, (_, r) in zip(y, board.iterrows()):
        gain = pd.to_numeric(r.get("winner_gain"), errors="coerce")
        if not np.isfinite(gain):
            continue
        low, high = r["winner_gain_ci_low"], r["winner_gain_ci_high"]
        what = "cost saved by winner" if r.get("winner_gain_in") == COST_SAVED else "winner − this"
        ax.text(0.08, yi, f"{what} {gain:+.3f} [{low:+.3f}, {high:+.3f}]: "
                f"{r['winner_gain_verdict']}", va="center", fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.75, "linewidth": 0, "pad": 1})
