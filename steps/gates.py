"""Quality gates on the primary test metric. Gates explain themselves; the caller decides.

Every gate contributes one human-readable sentence to ``reasons`` whether it passes or
fails, so a report shows the whole decision; ``failed`` repeats only the failing ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

from steps.config import GateConfig

_TOLERANCE = 1e-9  # 0.55 - 0.50 must count as a 0.05 margin despite float rounding


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reasons: list[str]
    failed: list[str] = field(default_factory=list)


def _is_nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _minimum_gate(metric: str, value: float, minimum: float) -> tuple[bool, str]:
    if value + _TOLERANCE >= minimum:
        return True, f"{metric} {value:.3f} >= minimum {minimum:.3f}"
    return False, f"{metric} {value:.3f} < minimum {minimum:.3f}"


def _baseline_gate(metric: str, value: float, baseline, margin: float) -> tuple[bool, str]:
    if _is_nan(baseline):
        return False, (f"{metric} baseline is undefined (NaN), so the required margin "
                       f"{margin:.3f} over the most-frequent baseline cannot be checked")
    gain = value - baseline
    if gain + _TOLERANCE >= margin:
        return True, (f"{metric} {value:.3f} beats the most-frequent baseline {baseline:.3f} "
                      f"by {gain:+.3f} (required margin {margin:.3f})")
    return False, (f"{metric} {value:.3f} does not beat the most-frequent baseline "
                   f"{baseline:.3f} by the required margin {margin:.3f} (difference {gain:+.3f})")


def _leakage_gate(suspects: list[dict] | None, mode: str) -> tuple[bool, str] | None:
    """``suspects``: the columns the leakage check flagged (``column``, ``auc``); None: no
    check was made. None when there is nothing to say: no suspect, and suspects only warned
    about."""
    if suspects is None:
        return None if mode == "warn" else (False, (
            "evaluate.gates.suspected_leakage=block, but this dataset version was prepared "
            "without the leakage check (preprocess.leakage_auc: null, or a version prepared "
            "before the gate existed: rerun with tabpipe run --force)"))
    if not suspects:
        return (True, "no column is suspected of target leakage") if mode == "block" else None
    named = ", ".join(f"{s['column']!r} (ROC-AUC {s['auc']:.3f} alone)" for s in suspects)
    it, is_ = ("them", "they are") if len(suspects) > 1 else ("it", "it is")
    if mode == "block":
        return False, (f"suspected target leakage: {named}; with evaluate.gates."
                       f"suspected_leakage=block nothing is published: drop {it} "
                       f"(preprocess.drop_columns), or set suspected_leakage=warn if {is_} "
                       "known when predicting")
    return True, (f"suspected target leakage: {named}, allowed by evaluate.gates."
                  f"suspected_leakage=warn: check {is_} known when predicting")


def check_gates(metrics: Mapping[str, float], baseline: Mapping[str, float], gates: GateConfig,
                metric: str, leakage_suspects: list[dict] | None = ()) -> GateResult:
    """Minimum primary metric, a margin over the most-frequent baseline's value, and what to
    do about columns suspected of target leakage (``gates.suspected_leakage``)."""
    leakage = _leakage_gate(leakage_suspects, gates.suspected_leakage)
    result = _metric_gates(metrics, baseline, gates, metric)
    if leakage is None:
        return result
    ok, reason = leakage
    failed = result.failed + ([] if ok else [reason])
    return GateResult(passed=not failed, reasons=result.reasons + [reason], failed=failed)


def _metric_gates(metrics: Mapping[str, float], baseline: Mapping[str, float], gates: GateConfig,
                  metric: str) -> GateResult:
    value = metrics.get(metric)
    if _is_nan(value):
        reasons = [f"{metric} is NaN (undefined on this test set, e.g. a class is missing), "
                   f"so it cannot meet the minimum {gates.min_primary:.3f}",
                   f"{metric} is NaN, so it cannot beat the most-frequent baseline by "
                   f"{gates.min_margin_over_baseline:.3f}"]
        return GateResult(passed=False, reasons=reasons, failed=list(reasons))
    checks = [_minimum_gate(metric, float(value), gates.min_primary),
              _baseline_gate(metric, float(value), baseline.get(metric),
                             gates.min_margin_over_baseline)]
    reasons = [reason for _, reason in checks]
    failed = [reason for ok, reason in checks if not ok]
    return GateResult(passed=not failed, reasons=reasons, failed=failed)
