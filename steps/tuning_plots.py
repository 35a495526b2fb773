"""Matplotlib figures for a tuning study, returned and never shown.

Figures are built with ``Figure()`` rather than pyplot: nothing is registered
with a GUI backend and long studies do not pile up open figures."""
from __future__ import annotations

import logging

import numpy as np
import optuna
from matplotlib.figure import Figure

log = logging.getLogger(__name__)


def history_figure(study: optuna.Study, metric: str):
    """Completed trial values and the running best, by trial number."""
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    if done:
        xs = [t.number for t in done]
        vals = [t.value for t in done]
        ax.scatter(xs, vals, s=14, alpha=0.6, label="trial")
        ax.step(xs, np.maximum.accumulate(vals), where="post", color="C1", label="best so far")
        ax.legend(loc="lower right")
    failed = sum(t.state.name == "FAIL" for t in study.trials)
    pruned = sum(t.state.name == "PRUNED" for t in study.trials)
    ax.set(xlabel="trial", ylabel=metric,
           title=f"Optimization history ({len(done)} done, {pruned} pruned, {failed} failed)")
    fig.tight_layout()
    return fig


def importance_figure(study: optuna.Study):
    """fANOVA parameter importance; a placeholder figure says why when there is
    too little to estimate it (fewer than 2 completed trials, nothing varied)."""
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    importances, reason = {}, None
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(done) < 2:
        reason = f"needs >= 2 completed trials (have {len(done)})"
    else:
        try:
            importances = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
        except (RuntimeError, ValueError, ZeroDivisionError) as err:
            reason = f"not estimable: {err}"
        if not importances and reason is None:
            reason = "no parameter varied across completed trials"
    if reason:
        log.debug("parameter importance skipped: %s", reason)
        ax.text(0.5, 0.5, f"Parameter importance unavailable:\n{reason}",
                ha="center", va="center", wrap=True)
        ax.set_axis_off()
    else:
        names = list(importances)[::-1]
        ax.barh(names, [importances[n] for n in names])
        ax.set(xlabel="importance (fANOVA)", title="Parameter importance")
    fig.tight_layout()
    return fig
