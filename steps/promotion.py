"""The promotion decision: publish a candidate only if it passed the gates and earned it.

Rules, in order (every rule that applies adds a sentence to ``reasons``):

1. Gates failed -> never publish; the gate reasons are repeated.
2. No champion -> publish (nothing to beat).
3. Champion scored on a different frozen test split, with a different metric, or with no
   recorded score -> the scores cannot be compared (the champion's score belongs to another
   test set, usually an older dataset version or another split seed). By default
   (``other_split: keep``) the champion stays and the reasons say how to publish anyway;
   ``other_split: publish`` publishes the gated candidate and says plainly that no
   head-to-head comparison was made.
   Out-of-time runs (``data.time_column``) are the exception: when the champion's training
   ended before the candidate's test period began, the publishing step scores the champion
   on the candidate's test rows, which it never saw, and rule 4 decides.
4. Same split and metric -> publish only if ``score > champion + min_improvement``
   (strictly greater, also when min_improvement is 0: a tie keeps the incumbent, which avoids
   churning the registry on noise). A 1e-9 tolerance absorbs float rounding, so a candidate
   exactly at the margin is not published. When both models were re-scored on the same test
   rows (``head_to_head``), the reasons give the gain's paired bootstrap interval, and with
   ``require_significant_gain`` the interval's lower end, not the point, must clear the margin:
   a gain the test split cannot tell from noise keeps the champion. Under misclassification
   costs both models' decisions are priced by the candidate's costs and the cost saved per row
   decides, the same way (``min_improvement`` is then a saving per row).

All supported metrics (macro_f1, balanced_accuracy, f_beta, roc_auc, pr_auc) are
higher-is-better.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from steps.paired import PairedDifference, paired_difference
from steps.config import PublishConfig
from steps.metrics import columns_in_order
from steps.numbers import is_finite_number

TOLERANCE = 1e-9
REQUIRED_KEYS = ("metric", "score", "split_id")


@dataclass
class Decision:
    publish: bool
    reasons: list[str] = field(default_factory=list)


def _short(split_id: str | None) -> str:
    return str(split_id)[:12] if split_id else "unknown"


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
    if not is_finite_number(champion.get("score")):
        return "the champion has no recorded score"
    return None


def head_to_head(candidate, champion, X_test, y_test, metric: str, *, X_champion=None,
                 n: int = 1000, seed: int = 0, beta: float = 1.0, positive_label=None,
                 costs=None) -> PairedDifference:
    """Both fitted models on the same test rows, each with its own decision rule (threshold,
    calibration, costs), and the candidate's paired gain over the champion: in ``metric``,
    or with ``costs`` in expected cost per row (whatever the champion was chosen for, its
    decisions are priced by these costs). ``X_champion``: the same rows as the champion's
    preprocessing prepared them (default ``X_test``)."""
    X_champion = X_test if X_champion is None else X_champion
    if len(X_champion) != len(X_test):
        raise ValueError(f"the champion's test rows ({len(X_champion)}) are not the "
                         f"candidate's ({len(X_test)})")
    from steps.evaluation import labels_from_proba
    classes = list(candidate.classes_)
    if sorted(map(str, champion.classes_)) != sorted(map(str, classes)):
        raise ValueError(f"the champion predicts classes {list(champion.classes_)}, the candidate "
                         f"{classes}")
    scored = []
    for model, X in ((candidate, X_test), (champion, X_champion)):
        proba = np.asarray(model.predict_proba(X), dtype=float)
        scored.append((labels_from_proba(model, proba, list(model.classes_)),
                       columns_in_order(proba, model.classes_, classes)))
    y = np.asarray(y_test, dtype=object)
    if costs:
        from steps.error_costs import decision_cost_saving
        return decision_cost_saving(y, scored[0][0], scored[1][0], classes, costs, n, seed)
    return paired_difference(y, scored[0], scored[1], classes, metric, n=n, seed=seed,
                             beta=beta, positive_label=positive_label)


def _head_to_head_rule(metric: str, score: float, best: float, paired: PairedDifference | None,
                       cfg: PublishConfig) -> tuple[bool, str]:
    """(publish, sentence) for a candidate and a champion scored on the same test split."""
    gain, margin = score - best, cfg.min_improvement
    pairing = f"; paired gain {paired.describe()}" if paired is not None else ""
    if cfg.require_significant_gain and paired is not None and np.isfinite(paired.ci_low):
        versus = f"{metric} {score:.4f} against the champion's {best:.4f} on the same test split"
        if paired.ci_low > margin + TOLERANCE:
            return True, (f"Published: {versus}{pairing}, whose whole interval clears the "
                          f"required {margin:.4f}.")
        return False, (f"Not published: {versus}{pairing}; publish.require_significant_gain asks "
                       f"the interval's lower end to clear {margin:.4f}, so the champion stays.")
    if gain > margin + TOLERANCE:
        noise = ("" if paired is None or paired.significant else
                 " The interval includes 0, so the test split cannot tell the two apart; "
                 "publish.require_significant_gain: true would have kept the champion.")
        return True, (f"Published: {metric} {score:.4f} beats the champion's {best:.4f} by "
                      f"{gain:+.4f} on the same test split (required: more than {margin:.4f})"
                      f"{pairing}.{noise}")
    return False, (f"Not published: {metric} {score:.4f} does not beat the champion's {best:.4f} "
                   f"on the same test split by more than {margin:.4f} (needed > "
                   f"{best + margin:.4f}, difference {gain:+.4f}){pairing}; the champion stays.")


def _cost_rule(paired: PairedDifference, cfg: PublishConfig) -> tuple[bool, str]:
    """(publish, sentence) when both models' decisions were priced by the same costs."""
    margin = cfg.min_improvement
    versus = (f"expected cost per row {paired.value_a:.4f} against the champion's "
              f"{paired.value_b:.4f} on the same test rows under these costs; paired saving "
              f"{paired.describe()}")
    enough = paired.ci_low if cfg.require_significant_gain else paired.delta
    if np.isfinite(enough) and enough > margin + TOLERANCE:
        return True, f"Published: {versus}, more than the required {margin:.4f}."
    what = "the interval's lower end" if cfg.require_significant_gain else "the saving"
    return False, (f"Not published: {versus}; {what} does not exceed the required "
                   f"{margin:.4f}, so the champion stays.")


def decide_promotion(candidate: dict, champion: dict | None, gates_passed: bool,
                     gate_reasons: list[str], cfg: PublishConfig,
                     paired: PairedDifference | None = None) -> Decision:
    """Decide whether ``candidate`` becomes the published champion; see module docstring."""
    missing = [k for k in REQUIRED_KEYS if k not in candidate]
    if missing:
        raise ValueError(f"candidate summary lacks {missing}; it needs {list(REQUIRED_KEYS)}")
    metric, score = candidate["metric"], candidate["score"]
    if not gates_passed:
        details = "; ".join(gate_reasons) if gate_reasons else "no reason given"
        return Decision(False, [f"Not published: the quality gates failed ({details})."])
    if not is_finite_number(score):
        return Decision(False, [f"Not published: the candidate's {metric} score {score!r} is not a number."])
    reasons = ["The quality gates passed" + (f" ({'; '.join(gate_reasons)})." if gate_reasons else ".")]
    if champion is None:
        reasons.append(f"Published: there is no champion yet; the candidate scores {metric} = {score:.4f}.")
        return Decision(True, reasons)
    if paired is not None and paired.metric == "expected_cost" \
            and champion.get("split_id") == candidate["split_id"]:
        # re-scored under the candidate's costs: comparable whatever the champion was chosen by
        publish, sentence = _cost_rule(paired, cfg)
        reasons.append(sentence)
        return Decision(publish, reasons)
    blocked = _comparability(candidate, champion)
    if blocked and cfg.other_split == "publish":
        reasons.append(f"Cannot compare with the champion: {blocked}. With publish.other_split="
                       "publish that does not block promotion, so the candidate is published "
                       f"without a head-to-head comparison ({metric} = {score:.4f} on split "
                       f"{_short(candidate['split_id'])}).")
        return Decision(True, reasons)
    if blocked:
        reasons.append(f"Not published: cannot compare with the champion: {blocked}, so the "
                       f"candidate ({metric} = {score:.4f} on split "
                       f"{_short(candidate['split_id'])}) has not been shown to beat it and the "
                       "champion stays. To replace it without a head-to-head comparison (e.g. "
                       "after a new dataset version), rerun with --set publish.other_split=publish; "
                       "or register under another publish.model_name.")
        return Decision(False, reasons)
    publish, sentence = _head_to_head_rule(metric, score, float(champion["score"]), paired, cfg)
    reasons.append(sentence)
    return Decision(publish, reasons)
