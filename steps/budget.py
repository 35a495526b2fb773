"""One wall-clock budget for the whole training stage, spent by successive halving.

Round 1 gives every family an equal small slice; the top half (at least one) by
CV score survive and share the rest of the budget in growing slices until a
single family is left, which gets whatever remains. Each round's budget is
re-planned from the time actually left, so a round that overruns (a family's
first trial always runs to completion) is paid for by later rounds, never by
the deadline. A call is only started if the time left covers the family's
cheapest observed call (one trial plus the refit), so the total overshoot is
at most one trial's worth.

A surviving family resumes its own study in the next round (``tune_family(resume=)``):
the same rows and folds, so its scores stay comparable across rounds, and TPE goes on
from everything it has seen instead of re-running the starting configurations with a
fresh sampler (which spent most of a short round on trials already made). The study's
best can only improve. Only a study that the trial-cost guard sized down for its small
first slice starts afresh (new seed) with the rows a larger slice affords; a family
keeps its best ``TuneResult`` over the rounds.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from steps.config import PreprocessConfig, TrainConfig
from steps.tuning import TuneResult, tune_family

log = logging.getLogger(__name__)
MIN_SLICE_S = 0.01  # tune_family always completes one trial; this only signals "no more"


@dataclass
class BudgetResult:
    results: dict[str, TuneResult]  # best result per family that completed a round
    survivors: list[str]  # families still alive after the last round
    dropped: list[dict]  # {family, round, cv_score, reason}
    rounds: pd.DataFrame  # round, family, slice_s, cv_score, elapsed_s (+ seed, status)
    winner: str | None  # family with the best CV score
    budget_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def best(self) -> TuneResult | None:
        return self.results.get(self.winner) if self.winner else None


def halving_schedule(n: int) -> list[int]:
    """Families per round: n, n//2, ... down to 1 (e.g. 6 -> [6, 3, 1])."""
    counts = [max(1, n)]
    while counts[-1] > 1:
        counts.append(max(1, counts[-1] // 2))
    return counts


def _call_cost(res: TuneResult) -> float:
    """Cheapest honest call for this family: one finished trial plus the refit
    (what tune_family spends even with a vanishing timeout)."""
    durations = pd.to_numeric(res.trials.get("duration_s"), errors="coerce").dropna()
    if durations.empty:
        return res.fit_seconds
    if res.refit_seconds is not None:
        return float(durations.median()) + res.refit_seconds
    refit = max(0.0, res.fit_seconds - float(durations.sum()))
    return float(durations.median()) + refit


@dataclass
class _State:
    """Mutable bookkeeping shared by the rounds."""
    deadline: float
    class_order: list | None = None  # the target's ordered classes, if any
    groups: object = None  # one group label per row (group CV), if any
    results: dict[str, TuneResult] = field(default_factory=dict)
    sessions: dict[str, object] = field(default_factory=dict)  # resumable study per family
    cost: dict[str, float] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def score(self, family: str) -> float:
        res = self.results.get(family)
        return res.best_score if res is not None else -math.inf


def _tagged(on_trial, family: str, round_no: int):
    """``on_trial`` with each row tagged, so a tracker can tell families and rounds apart."""
    return lambda row: on_trial({**row, "family": family, "round": round_no})


def _tune_once(family, round_no, slice_s, X, y, prep_cfg, train_cfg, roles, on_trial, st):
    """One tune_family call; records a row and keeps the result if it is better."""
    # A study the cost guard sized for a smaller slice is not resumed: a fresh one (new seed,
    # so TPE does not replay it) gets the rows this round's slice affords.
    resume = st.sessions.get(family)
    if resume is not None and resume.cost_capped:
        resume, train_cfg = None, train_cfg.model_copy(update={"seed": train_cfg.seed + round_no - 1})
    seed = train_cfg.seed
    forward = None if on_trial is None else _tagged(on_trial, family, round_no)
    t0 = time.monotonic()
    row = {"round": round_no, "family": family, "slice_s": slice_s, "cv_score": np.nan,
           "elapsed_s": np.nan, "seed": seed, "status": "ok"}
    try:
        res = tune_family(family, X, y, prep_cfg, train_cfg, timeout_s=max(slice_s, MIN_SLICE_S),
                          n_trials=train_cfg.n_trials, on_trial=forward, roles=roles,
                          resume=resume, class_order=st.class_order, groups=st.groups)
    except Exception as err:  # one broken family must not end the stage
        log.warning("%s failed in round %d: %s", family, round_no, err)
        row.update(status=f"failed: {type(err).__name__}: {err}",
                   elapsed_s=time.monotonic() - t0)
        st.rows.append(row)
        return
    row.update(cv_score=res.best_score, elapsed_s=time.monotonic() - t0)
    st.rows.append(row)
    st.cost[family] = _call_cost(res)
    st.sessions[family] = res.session
    if res.best_score >= st.score(family):  # a resumed study's best never gets worse
        st.results[family] = res
    log.info("round %d %s: cv %.4f in %.1fs (slice %.1fs, best so far %.4f)", round_no,
             family, res.best_score, row["elapsed_s"], slice_s, st.score(family))


def _run_round(round_no, families, rounds_left, X, y, prep_cfg, train_cfg, roles, on_trial,
               st) -> list[str]:
    """Give each family its share of this round's budget; return those that ran."""
    round_end = time.monotonic() + max(0.0, st.left()) / rounds_left
    ran = []
    for i, family in enumerate(families):
        left = st.left()
        # round 1 must give everyone a first look while any time is left; later rounds
        # skip a family whose cheapest call would not fit before the deadline
        need = st.cost.get(family, 0.0)
        if left <= 0 or left < need:
            log.info("round %d: skipping %s (%.1fs left, needs ~%.1fs)", round_no, family,
                     left, need)
            st.rows.append({"round": round_no, "family": family, "slice_s": 0.0,
                            "cv_score": np.nan, "elapsed_s": 0.0,
                            "seed": train_cfg.seed, "status": "skipped: no time"})
            continue
        share = (round_end - time.monotonic()) / (len(families) - i)
        slice_s = min(max(share, MIN_SLICE_S), left)
        _tune_once(family, round_no, slice_s, X, y, prep_cfg, train_cfg, roles, on_trial, st)
        ran.append(family)
    return ran


def _select(round_no, families, keep, st) -> list[str]:
    """Top ``keep`` by best CV score so far; the rest are dropped with the reason."""
    ranked = sorted(families, key=lambda f: -st.score(f))  # stable: config order on ties
    alive = [f for f in ranked[:keep] if f in st.results]
    cutoff = min((st.score(f) for f in alive), default=math.nan)
    for rank, family in enumerate(ranked, 1):
        if family in alive:
            continue
        cv = st.score(family)
        if family not in st.results:
            reason = "never completed a call (failed or out of time)"
            cv = math.nan
        else:
            reason = f"ranked {rank} of {len(ranked)}: cv {cv:.4f} < cutoff {cutoff:.4f}"
        st.dropped.append({"family": family, "round": round_no, "cv_score": cv, "reason": reason})
        log.info("round %d: dropped %s (%s)", round_no, family, reason)
    return alive


def _notify(on_round, info: dict) -> None:
    if on_round is None:
        return
    try:
        on_round(info)
    except Exception:  # a reporting hiccup must not end the stage
        log.exception("on_round callback failed for round %d", info["round"])


def tune_with_budget(families: list[str], X: pd.DataFrame, y: pd.Series,
                     prep_cfg: PreprocessConfig, train_cfg: TrainConfig, budget_s: float, *,
                     roles: dict[str, list[str]] | None = None,
                     on_round: Callable[[dict], None] | None = None,
                     on_trial: Callable[[dict], None] | None = None,
                     class_order: list | None = None, groups=None) -> BudgetResult:
    """Tune ``families`` on (X, y) within ``budget_s`` wall-clock seconds in total.

    ``on_round(info)`` gets ``{round, rows, survivors, dropped, elapsed_s}`` after each
    round; ``on_trial(row)`` gets tune_family's trial rows tagged with family and round.
    ``train_cfg.n_trials`` caps the trials of each single call; ``class_order`` and
    ``groups`` go to every ``tune_family`` call.
    """
    if not families:
        raise ValueError("tune_with_budget needs at least one family")
    if not budget_s or budget_s <= 0:
        raise ValueError(f"budget_s must be positive, got {budget_s!r}")
    start = time.monotonic()
    st = _State(deadline=start + float(budget_s), class_order=class_order, groups=groups)
    alive = list(dict.fromkeys(families))
    round_no = 0
    while alive:
        round_no += 1
        schedule = halving_schedule(len(alive))
        ran = _run_round(round_no, alive, len(schedule), X, y, prep_cfg, train_cfg, roles,
                         on_trial, st)
        final = len(schedule) == 1 or st.left() <= 0 or not ran
        keep = len(alive) if final else schedule[1]
        alive = _select(round_no, alive, keep, st)
        _notify(on_round, {"round": round_no, "rows": [r for r in st.rows if r["round"] == round_no],
                           "survivors": list(alive), "dropped": list(st.dropped),
                           "elapsed_s": time.monotonic() - start})
        if final:
            break
    return _result(st, alive, budget_s, start)


def _result(st: _State, survivors, budget_s, start) -> BudgetResult:
    rounds = pd.DataFrame(st.rows, columns=["round", "family", "slice_s", "cv_score",
                                            "elapsed_s", "seed", "status"])
    winner = max(st.results, key=st.score) if st.results else None
    elapsed = time.monotonic() - start
    if elapsed > budget_s:
        log.info("budget %.1fs overrun by %.1fs (last call's trial/refit)", budget_s,
                 elapsed - budget_s)
    return BudgetResult(results=st.results, survivors=list(survivors), dropped=st.dropped,
                        rounds=rounds, winner=winner, budget_s=float(budget_s), elapsed_s=elapsed)
