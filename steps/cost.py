"""Trial-cost guard: how many rows a family can afford within its time budget.

A trial cannot be interrupted: a forest on 100k rows took ten minutes for one
5-fold trial under a 60 s timeout. Before a study on a large table, the family's
most expensive starting configuration is timed on a small stratified probe, the
cost is extrapolated (``rows ** exponent``: ~1 for boosting and linear models,
n log n for forests, quadratic for kernel SVMs) and the study and refit are run on
the largest stratified subsample for which one full CV trial, and the refit, each
fit in a share of the budget. Small tables are never probed.
"""
from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from steps.config import PreprocessConfig, TrainConfig
from steps.models import FAMILIES
from steps.recipe import build_model_pipeline

log = logging.getLogger(__name__)
GUARD_MIN_ROWS = 5_000  # below this a trial is cheap enough everywhere
PROBE_ROWS = 2_000
TRIAL_SHARE = 0.25  # one CV trial, and the refit, may each use this share of the budget
EXPONENTS = {"svm": 2.0, "knn": 1.5, "random_forest": 1.15, "extra_trees": 1.15}


@dataclass(frozen=True)
class CostPlan:
    rows: int | None  # None: no cap needed
    probe_rows: int
    probe_seconds: float
    note: str | None = None


def extrapolate(probe_s: float, probe_rows: int, rows: float, exponent: float) -> float:
    """Seconds to fit ``rows`` rows given ``probe_s`` for ``probe_rows`` rows."""
    return probe_s * (rows / probe_rows) ** exponent


def affordable_rows(probe_s: float, probe_rows: int, budget_s: float, n_folds: int,
                    exponent: float = 1.0, share: float = TRIAL_SHARE) -> int:
    """Largest row count whose CV trial (``n_folds`` fits on (k-1)/k of the rows)
    and whose refit each take at most ``share * budget_s`` by the power-law model."""
    allowed = share * budget_s
    per_fit = max(probe_s, 1e-6)
    trial_rows = (allowed / (n_folds * per_fit)) ** (1 / exponent) * probe_rows
    rows_from_trial = trial_rows * n_folds / max(n_folds - 1, 1)
    refit_rows = (allowed / per_fit) ** (1 / exponent) * probe_rows
    return max(probe_rows, int(min(rows_from_trial, refit_rows)))


def _probe_seconds(family: str, X: pd.DataFrame, y: pd.Series, roles, prep_cfg: PreprocessConfig,
                   cfg: TrainConfig, params: dict, imbalance: str, rows: int) -> float:
    X_p, _, y_p, _ = train_test_split(X, y, train_size=rows, stratify=y, random_state=cfg.seed)
    model = build_model_pipeline(roles, prep_cfg, family, params, imbalance, cfg.seed, y=y_p)
    start = time.monotonic()
    with warnings.catch_warnings(), threadpool_limits(cfg.n_jobs):
        warnings.simplefilter("ignore")
        model.fit(X_p, y_p)
        model.predict_proba(X_p.iloc[: max(1, rows // 4)])  # validation folds predict too
    return time.monotonic() - start


def plan_rows(family: str, X: pd.DataFrame, y: pd.Series, roles, prep_cfg: PreprocessConfig,
              cfg: TrainConfig, budget_s: float | None, n_folds: int, params: dict,
              imbalance: str) -> CostPlan:
    """Row cap that keeps one trial and the refit within the budget (see module doc)."""
    if budget_s is None or math.isinf(budget_s) or len(X) < GUARD_MIN_ROWS:
        return CostPlan(None, 0, 0.0)
    probe_rows = min(PROBE_ROWS, len(X) // 2)
    seconds = _probe_seconds(family, X, y, roles, prep_cfg, cfg, params, imbalance, probe_rows)
    exponent = EXPONENTS.get(family, 1.0)
    rows = affordable_rows(seconds, probe_rows, budget_s, n_folds, exponent)
    if rows >= len(X):
        return CostPlan(None, probe_rows, seconds)
    trial_s = n_folds * extrapolate(seconds, probe_rows, len(X) * (n_folds - 1) / n_folds,
                                    exponent)
    note = (f"cost guard: one {n_folds}-fold trial on all {len(X)} rows would take "
            f"~{trial_s:.0f}s (probe: {seconds:.2f}s for {probe_rows} rows) against a "
            f"{budget_s:.0f}s budget; tuned and fit on a stratified {rows} rows")
    log.warning("%s: %s", family, note)
    return CostPlan(rows, probe_rows, seconds, note)


def starting_imbalance(prep_cfg: PreprocessConfig) -> str:
    """The imbalance strategy of the enqueued first trials: the configured one, unless a
    search is configured that leaves it out (then the search's first)."""
    search, strategy = prep_cfg.imbalance.search, prep_cfg.imbalance.strategy
    return strategy if not search or strategy in search else search[0]


def starting_config(family: str, prep_cfg: PreprocessConfig) -> tuple[dict, str]:
    """The family's enqueued defaults (its costliest starting trial) and imbalance."""
    return dict(FAMILIES[family].defaults), starting_imbalance(prep_cfg)
