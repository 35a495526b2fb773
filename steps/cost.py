"""Trial-cost guard: how many rows a family can afford within its time budget.

A trial cannot be interrupted: a forest on 100k rows took ten minutes for one
5-fold trial under a 60 s timeout. Before a study on a large table, the family's
most expensive starting configuration is timed on two small stratified probes, the
cost is modelled as fixed + rows ** exponent (~1 for boosting and linear models,
n log n for forests, quadratic for kernel SVMs), the study runs on the largest
stratified subsample for which one full CV trial fits in a share of the budget, and
the winner is refit on the largest one a single fit affords in that share. Small
tables are never probed.
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


SECOND_PROBE_FACTOR = 4  # the second probe's rows, as a multiple of the first's
MIN_VARIABLE_SHARE = 0.1  # noise guard: the row-dependent part is >= 10% of a probe's time


@dataclass(frozen=True)
class CostModel:
    """Seconds to fit ``n`` rows: ``fixed_s + per_unit_s * n ** exponent``.

    Boosting has a large fixed cost (400 trees on any size of data): extrapolating a
    2k-row probe linearly predicted 12 000 s for a trial that takes about a tenth of that,
    so two probe sizes separate the fixed from the row-dependent part."""
    fixed_s: float
    per_unit_s: float
    exponent: float

    def seconds(self, rows: float) -> float:
        return self.fixed_s + self.per_unit_s * rows ** self.exponent

    def rows_within(self, seconds: float) -> float:
        if seconds <= self.fixed_s:
            return 0.0
        return ((seconds - self.fixed_s) / max(self.per_unit_s, 1e-12)) ** (1 / self.exponent)


def fit_cost(probes: list[tuple[int, float]], exponent: float = 1.0) -> CostModel:
    """Cost model from one probe (all cost row-dependent: the cautious reading) or two."""
    (n1, s1), *rest = sorted(probes)
    if not rest:
        return CostModel(0.0, s1 / n1 ** exponent, exponent)
    n2, s2 = rest[-1]
    slope = (s2 - s1) / (n2 ** exponent - n1 ** exponent)
    slope = max(slope, MIN_VARIABLE_SHARE * s2 / n2 ** exponent)
    return CostModel(max(0.0, s2 - slope * n2 ** exponent), slope, exponent)


def affordable_rows(model: CostModel, budget_s: float, n_folds: int, minimum: int,
                    share: float = TRIAL_SHARE) -> tuple[int, int]:
    """(study rows, refit rows): the largest row counts whose CV trial (``n_folds`` fits
    on (k-1)/k of the rows), and whose single refit, each take at most ``share * budget_s``.
    Tuning on a subsample and refitting the winner on more rows is how a fixed budget
    still uses a large table. Never below ``minimum`` (the probe's rows)."""
    allowed = share * budget_s
    fold_rows = model.rows_within(allowed / n_folds)
    study = max(minimum, int(fold_rows * n_folds / max(n_folds - 1, 1)))
    refit = max(study, int(model.rows_within(allowed)))
    return study, refit


@dataclass(frozen=True)
class CostPlan:
    rows: int | None  # study rows; None: no cap needed
    probe_rows: int
    probe_seconds: float
    note: str | None = None
    refit_rows: int | None = None  # None: refit on every row
    model: CostModel | None = None

    def refit_factor(self, n_folds: int) -> float | None:
        """Predicted refit time over one CV fold's fit time (None: no model)."""
        if self.model is None or self.rows is None:
            return None
        fold = self.model.seconds(self.rows * (n_folds - 1) / n_folds)
        return self.model.seconds(self.refit_rows or self.rows) / max(fold, 1e-9)


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


def _probe_points(family: str, X, y, roles, prep_cfg, cfg, params, imbalance,
                  allowed_s: float) -> list[tuple[int, float]]:
    """One probe on ``PROBE_ROWS`` rows, and a second, larger one when the table has
    room and the first suggests it fits in the allowed time."""
    rows = min(PROBE_ROWS, len(X) // 2)
    points = [(rows, _probe_seconds(family, X, y, roles, prep_cfg, cfg, params, imbalance, rows))]
    big = rows * SECOND_PROBE_FACTOR
    exponent = EXPONENTS.get(family, 1.0)
    if big * 2 <= len(X) and points[0][1] * SECOND_PROBE_FACTOR ** exponent <= allowed_s:
        points.append((big, _probe_seconds(family, X, y, roles, prep_cfg, cfg, params,
                                           imbalance, big)))
    return points


def plan_rows(family: str, X: pd.DataFrame, y: pd.Series, roles, prep_cfg: PreprocessConfig,
              cfg: TrainConfig, budget_s: float | None, n_folds: int, params: dict,
              imbalance: str) -> CostPlan:
    """Row caps that keep one trial, and the refit, within the budget (see module doc)."""
    if budget_s is None or math.isinf(budget_s) or len(X) < GUARD_MIN_ROWS:
        return CostPlan(None, 0, 0.0)
    exponent = EXPONENTS.get(family, 1.0)
    points = _probe_points(family, X, y, roles, prep_cfg, cfg, params, imbalance,
                           TRIAL_SHARE * budget_s)
    model = fit_cost(points, exponent)
    probe_rows, seconds = points[0]
    study, refit = affordable_rows(model, budget_s, n_folds, minimum=probe_rows)
    if study >= len(X):
        return CostPlan(None, probe_rows, seconds, model=model)
    refit_rows = None if refit >= len(X) else refit
    trial_s = n_folds * model.seconds(len(X) * (n_folds - 1) / n_folds)
    probes = ", ".join(f"{s:.2f}s for {n} rows" for n, s in points)
    note = (f"cost guard: one {n_folds}-fold trial on all {len(X)} rows would take "
            f"~{trial_s:.0f}s (probes: {probes}) against a {budget_s:.0f}s budget; tuned on a "
            f"stratified {study} rows, refit on {refit_rows or len(X)}")
    log.warning("%s: %s", family, note)
    return CostPlan(study, probe_rows, seconds, note, refit_rows, model)


def starting_imbalance(prep_cfg: PreprocessConfig) -> str:
    """The imbalance strategy of the enqueued first trials: the configured one, unless a
    search is configured that leaves it out (then the search's first)."""
    search, strategy = prep_cfg.imbalance.search, prep_cfg.imbalance.strategy
    return strategy if not search or strategy in search else search[0]


def starting_config(family: str, prep_cfg: PreprocessConfig, overrides: dict | None = None,
                    roles: dict | None = None) -> tuple[dict, str]:
    """The family's enqueued defaults (its costliest starting trial), within ``train.search``'s
    overrides, with the starting column selection on a wide table, and imbalance."""
    from steps.search_space import constrain
    from steps.selection import PARAM, first_k
    params = constrain(FAMILIES[family].defaults, overrides or {})
    k = first_k(roles or {}, prep_cfg)
    if k is not None:
        params[PARAM] = k
    return params, starting_imbalance(prep_cfg)
