"""The candidate against the published champion on the same frozen test rows.

The registry records one score per model; two scores on the same split differ by noise as
well as by skill. Re-scoring both models on the test rows gives a paired bootstrap interval
of the gain, which the promotion rule reports (and, with ``require_significant_gain``,
obeys). Anything that stops the comparison (weights unreadable, columns changed) is logged
and leaves the decision to the recorded scores: it never fails the publish step.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from steps.config import PublishConfig

if TYPE_CHECKING:  # the bootstrap imports scikit-learn: only the publish step needs it
    from steps.paired import PairedDifference

log = logging.getLogger(__name__)


def deciding_costs(report: dict) -> dict | None:
    """The costs the candidate decides by (evaluate.costs with cost_decisions), if any: then
    both models are compared by what their decisions cost."""
    return report.get("costs") if report.get("cost_decisions") else None


def comparable(report: dict, champion_summary: dict | None, candidate_sha: str) -> bool:
    """Same split, the same metric or costs to price both models' decisions by, and not the
    champion's own weights (a cached rerun)."""
    return (champion_summary is not None
            and champion_summary.get("split_id") == report["split_id"]
            and (champion_summary.get("metric") == report["metric"] or bool(deciding_costs(report)))
            and champion_summary.get("weights_sha256") != candidate_sha)


def paired_with_champion(candidate_model, champion, candidate_meta: dict, report: dict,
                         cfg: PublishConfig) -> PairedDifference | None:
    """The candidate's paired gain over ``champion`` on the frozen test rows, or None."""
    if cfg.bootstrap == 0:
        return None
    from pipelines import tracking
    from pipelines.predict import load_weights
    from pipelines.validate_task import load_data
    try:
        _, data = load_data(candidate_meta["prepared_dataset_id"])
        champion_prepared = tracking.model_metadata(champion).get("prepared_dataset_id")
        X_champion = data["X_test"]
        if champion_prepared and champion_prepared != candidate_meta["prepared_dataset_id"]:
            X_champion = load_data(champion_prepared)[1]["X_test"]
            if not X_champion.index.equals(data["X_test"].index):
                raise ValueError("the champion's prepared test rows are not the candidate's")
        gain = _head_to_head(candidate_model, load_weights(champion)[0], data, X_champion,
                             report, cfg)
    except Exception as err:  # the comparison informs the decision; it must not sink it
        log.warning("candidate vs champion %s on the test rows skipped: %s", champion.id, err)
        return None
    log.info("candidate vs champion %s: %s gain %s", champion.id, gain.metric, gain.describe())
    return gain


def paired_on_new_period(candidate_model, champion, candidate_meta: dict, report: dict,
                         cfg: PublishConfig) -> PairedDifference | None:
    """Out-of-time runs: the champion scored on the candidate's test period, which began after
    the champion's training ended (``steps.splits.unseen_period``). Its inputs are prepared
    from the dataset version's rows as ``tabpipe predict`` prepares new rows."""
    if cfg.bootstrap == 0:
        return None
    from pipelines.datastore import fetch_frame
    from pipelines.predict import load_weights
    from pipelines.step_tasks import RAW_FILE
    from pipelines.validate_task import load_data
    from steps.scoring import ScoringSpec, prepare_rows
    try:
        _, data = load_data(candidate_meta["prepared_dataset_id"])
        estimator, champion_meta = load_weights(champion)
        raw = fetch_frame(report["dataset_id"], RAW_FILE)
        X_champion = prepare_rows(raw.loc[data["X_test"].index],
                                  ScoringSpec.from_metadata(champion_meta, f"champion {champion.id}"))
        gain = _head_to_head(candidate_model, estimator, data, X_champion, report, cfg)
    except Exception as err:  # as above: informs the decision, never sinks it
        log.warning("champion %s on the new test period skipped: %s", champion.id, err)
        return None
    log.info("champion %s re-scored on the new test period: %s %.4f; candidate's gain %s",
             champion.id, gain.metric, gain.value_b, gain.describe())
    return gain


def _head_to_head(candidate_model, champion_estimator, data: dict, X_champion, report: dict,
                  cfg: PublishConfig) -> PairedDifference:
    from pipelines.predict import load_weights
    from steps.promotion import head_to_head
    return head_to_head(load_weights(candidate_model)[0], champion_estimator, data["X_test"],
                        data["y_test"], report["metric"], X_champion=X_champion, n=cfg.bootstrap,
                        beta=float(report.get("beta") or 1.0),
                        positive_label=report.get("positive_label"),
                        costs=deciding_costs(report))


def rescored_champion(summary: dict, report: dict, paired: PairedDifference) -> tuple[dict, str]:
    """The champion's summary as if scored on the candidate's split (it now has been), and the
    sentence that says so."""
    from steps.numbers import is_finite_number
    from steps.splits import shown_bound
    recorded = summary.get("score")
    recorded = f"{recorded:.4f}" if is_finite_number(recorded) else "no score"
    sentence = (f"The champion was trained on rows up to "
                f"{shown_bound((summary.get('period') or {}).get('train_until'))}, before this "
                f"run's test period (from {shown_bound((report.get('period') or {}).get('test_from'))})"
                f", so it was scored on the same new test rows: {paired.metric} "
                f"{paired.value_b:.4f} (recorded {recorded} on its own test split).")
    return {**summary, "split_id": report["split_id"], "metric": report["metric"],
            "score": paired.value_b}, sentence
