"""The promotion decision: publish a candidate only if it passed the gates and earned it.

Rules, in order (every rule that applies adds a sentence to ``reasons``):

1. Gates failed -> never publish; the gate reasons are repeated.
2. No champion -> publish (nothing to beat).
3. Champion scored on a different frozen test split, with a different metric, or with no
   recorded score -> the scores cannot be compared. This does NOT block: the champion's score
   belongs to another test set (usually an older dataset version) and cannot be recomputed
   here, so the gated candidate is published and the reasons say plainly that no head-to-head
   comparison was made.
4. Same split and metric -> publish only if ``score > champion + min_improvement``
   (strictly greater, also when min_improvement is 0: a tie keeps the incumbent, which avoids
   churning the registry on noise). A 1e-9 tolerance absorbs float rounding, so a candidate
   exactly at the margin is not published.

All supported metrics (macro_f1, balanced_accuracy, f_beta, roc_auc, pr_auc) are
higher-is-better.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from steps.config import PublishConfig

TOLERANCE = 1e-9
REQUIRED_KEYS = ("metric", "score", "split_id")


@dataclass
class Decision:
    publish: bool
    reasons: list[str] = field(default_factory=list)


def _short(split_id: str | None) -> str:
    return str(split_id)[:12] if split_id else "unknown"


def _valid_score(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _comparability(candidate: dict, champion: dict) -> str | None:
    """Why the two scores cannot be compared, or None if they can."""
    if champion.get("metric") != candidate["metric"]:
        return (f"the champion was scored with {champion.get('metric') or 'an unrecorded metric'}, "
                f"the candidate with {candidate['metric']}")
    if champion.get("split_id") != candidate["split_id"]:
        why = (f"the champion was scored on test split {_short(champion.get('split_id'))}, "
               f"the candidate on {_short(candidate['split_id'])}")
        if champion.get("dataset_hash") and champion.get("dataset_hash") != candidate.get("dataset_hash"):
            why += " (a different dataset version)"
        return why
    if not _valid_score(champion.get("score")):
        return "the champion has no recorded score"
    return None


def decide_promotion(candidate: dict, champion: dict | None, gates_passed: bool,
                     gate_reasons: list[str], cfg: PublishConfig) -> Decision:
    """Decide whether ``candidate`` becomes the published champion; see module docstring."""
    missing = [k for k in REQUIRED_KEYS if k not in candidate]
    if missing:
        raise ValueError(f"candidate summary lacks {missing}; it needs {list(REQUIRED_KEYS)}")
    metric, score = candidate["metric"], candidate["score"]
    if not gates_passed:
        details = "; ".join(gate_reasons) if gate_reasons else "no reason given"
        return Decision(False, [f"Not published: the quality gates failed ({details})."])
    if not _valid_score(score):
        return Decision(False, [f"Not published: the candidate's {metric} score {score!r} is not a number."])
    reasons = ["The quality gates passed" + (f" ({'; '.join(gate_reasons)})." if gate_reasons else ".")]
    if champion is None:
        reasons.append(f"Published: there is no champion yet; the candidate scores {metric} = {score:.4f}.")
        return Decision(True, reasons)
    blocked = _comparability(candidate, champion)
    if blocked:
        reasons.append(f"Cannot compare with the champion: {blocked}. A champion on another split or "
                       "metric does not block promotion, so the candidate is published without a "
                       f"head-to-head comparison ({metric} = {score:.4f} on split "
                       f"{_short(candidate['split_id'])}).")
        return Decision(True, reasons)
    best = float(champion["score"])
    needed = best + cfg.min_improvement
    gain = score - best
    if gain > cfg.min_improvement + TOLERANCE:
        reasons.append(f"Published: {metric} {score:.4f} beats the champion's {best:.4f} by {gain:+.4f} "
                       f"on the same test split (required: more than {cfg.min_improvement:.4f}).")
        return Decision(True, reasons)
    reasons.append(f"Not published: {metric} {score:.4f} does not beat the champion's {best:.4f} on the "
                   f"same test split by more than {cfg.min_improvement:.4f} (needed > {needed:.4f}, "
                   f"difference {gain:+.4f}); the champion stays.")
    return Decision(False, reasons)
