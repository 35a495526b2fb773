"""Publishing step: register the winner, publish it only if it earns it, move the champion tag.

Order matters so that nothing published is ever changed and nothing half-uploaded is ever
promoted: register -> verify the upload byte for byte -> decide -> tag -> publish -> untag
the old champion.
"""
from __future__ import annotations

import json
import logging

from pipelines import tracking
from pipelines.challenge import (comparable, paired_on_new_period, paired_with_champion,
                                 rescored_champion)
from steps.config import PublishConfig
from steps.data import file_sha256
from steps.splits import unseen_period

log = logging.getLogger(__name__)


def find_champion(project_id: str, model_name: str, tag: str):
    """The currently published champion with this name in this project, or None.

    Filtered by project ID here: the SDK's project-name filter cannot see the hidden
    pipeline project that step-registered models belong to.
    """
    from clearml import Model
    hits = Model.query_models(model_name=model_name, tags=[tag],  # the SDK anchors and escapes
                              only_published=True, max_results=50)
    hits = [m for m in hits if m.project == project_id]
    return hits[0] if hits else None


def weights_tag(sha256: str) -> str:
    """Tag naming a model's weights, so a registered copy can be found server-side."""
    return "weights:" + sha256[:16]


def _same_weights(meta: dict, sha256: str, split_id: str) -> bool:
    return meta.get("weights_sha256") == sha256 and meta.get("split_id") == split_id


def find_challenger_copy(project_id: str, model_name: str, sha256: str, split_id: str):
    """An unpublished model already registered under this name with these exact weights,
    scored on the same test split (a rerun's earlier candidate), or None. Published models
    are frozen and never reused."""
    from clearml import Model
    hits = Model.query_models(model_name=model_name, tags=[weights_tag(sha256)],
                              only_published=False, max_results=50)
    for model in hits:
        if model.project == project_id and not model.published \
                and _same_weights(tracking.model_metadata(model), sha256, split_id):
            return model
    return None


def _champion_summary(model) -> dict | None:
    if model is None:
        return None
    meta = tracking.model_metadata(model)
    return {"id": model.id, "metric": meta.get("metric"), "score": meta.get("score"),
            "split_id": meta.get("split_id"), "dataset_hash": meta.get("dataset_hash"),
            "weights_sha256": meta.get("weights_sha256"),
            "period": tracking.json_metadata(meta, "period")}


def _register(task, weights: str, name: str, meta: dict, labels: list[str]) -> str:
    from clearml import InputModel, OutputModel
    model = OutputModel(task=task, name=name, framework="ScikitLearn",
                        tags=["family:" + meta["family"], weights_tag(meta["weights_sha256"])],
                        label_enumeration={c: i for i, c in enumerate(labels)})
    model.update_weights(weights_filename=weights, auto_delete_file=False, async_enable=False)
    tracking.set_model_metadata(model, meta)
    uploaded = InputModel(model_id=model.id).get_local_copy(raise_on_error=True)
    if file_sha256(uploaded) != meta["weights_sha256"]:
        raise RuntimeError(f"upload of model {model.id} could not be verified: checksum differs")
    return model.id


def _finish(task, outcome: dict) -> str:
    """Log the reasons on the step, upload the decision artifact; the decision as JSON."""
    for reason in outcome["reasons"]:
        task.get_logger().report_text(reason)
    tracking.upload_json(task, "decision", outcome)
    return json.dumps(outcome)


def _already_champion(task, champion_id: str, name: str, reasons: list[str]) -> tuple[str, str]:
    """The candidate is the champion's exact weights on the same split (a rerun whose steps
    all came from cache): nothing is registered, uploaded or changed."""
    # gate failures stay in the reasons (a stricter gate than the champion faced); the
    # champion itself is never changed
    reasons = [r for r in reasons if not r.startswith("Not published: ") or "gates" in r] + [
        f"Already the champion: model {champion_id} holds these exact weights, scored on the "
        "same test split; nothing new was registered and the champion is unchanged."]
    return champion_id, _finish(task, {
        "publish": False, "already_champion": True, "model_id": champion_id, "name": name,
        "reasons": reasons, "previous_champion": champion_id})


def run_publish(candidate_id: str, report: str, publish_cfg: str, project: str,
                run_info: str = "{}") -> tuple[str, str]:
    from clearml import InputModel

    cfg = PublishConfig.model_validate(json.loads(publish_cfg))
    report = json.loads(report)
    task = tracking.current_task()
    candidate = InputModel(model_id=candidate_id)
    meta = tracking.model_metadata(candidate)
    meta.update(json.loads(run_info), candidate_model_id=candidate_id)
    name = cfg.model_name or f"{report.get('dataset_name') or project}-classifier"
    with one_publisher(task.project, name):
        return _publish(task, candidate, candidate_id, meta, report, cfg, name, run_info)


def one_publisher(project_id: str, name: str):
    """Runs publishing the same model name on this machine at once take turns: each reads the
    champion, decides and moves the tag as one step, so two winners never both take the tag
    from the same old champion. (Publish steps on different machines are not serialised.)"""
    import hashlib
    import os
    import tempfile
    from pathlib import Path

    from pipelines.locks import file_lock
    key = hashlib.sha256(f"{os.environ.get('CLEARML_API_HOST', '')}|{project_id}|{name}"
                         .encode()).hexdigest()[:16]
    return file_lock(Path(tempfile.gettempdir()) / f"tabpipe-publish-{key}.lock")


def _publish(task, candidate, candidate_id: str, meta: dict, report: dict, cfg: PublishConfig,
             name: str, run_info: str) -> tuple[str, str]:
    from clearml import Model
    from steps.model_card import with_decision
    from steps.promotion import decide_promotion
    # Registered models live in the project of the step that created them (the pipeline's).
    champion = find_champion(task.project, name, cfg.champion_tag)
    summary = _champion_summary(champion)
    sha, split_id = meta["weights_sha256"], report["split_id"]
    paired, rescored = None, None
    if report["gates_passed"] and comparable(report, summary, sha):
        paired = paired_with_champion(candidate, champion, meta, report, cfg)
    elif report["gates_passed"] and summary and unseen_period(report.get("period"), summary["period"]):
        paired = paired_on_new_period(candidate, champion, meta, report, cfg)
        if paired is not None:
            summary, rescored = rescored_champion(summary, report, paired)
    decision = decide_promotion(
        {"metric": report["metric"], "score": report["score"], "split_id": report["split_id"],
         "dataset_hash": report["dataset_hash"]},
        summary, report["gates_passed"], report["gate_reasons"], cfg, paired)
    if rescored:
        decision.reasons.insert(1, rescored)
    if summary is not None and _same_weights(summary, sha, split_id):
        return _already_champion(task, champion.id, name, decision.reasons)
    copy = find_challenger_copy(task.project, name, sha, split_id)
    if copy is not None:  # an identical rerun: decide again, upload nothing new
        model_id = copy.id
        decision.reasons.append(f"Reused the registered challenger {model_id}: same weights "
                                f"(sha256 {sha[:12]}) on the same test split.")
    else:
        weights = candidate.get_local_copy(raise_on_error=True)
        if file_sha256(weights) != sha:
            raise RuntimeError(f"candidate {candidate_id} weights do not match their recorded "
                               "checksum")
        classes = tracking.json_metadata(meta, "classes") or []
        model_id = _register(task, weights, name, meta, classes)
    registered = Model(model_id=model_id)
    # Everything about the model is written before publishing: a published model is frozen.
    card = with_decision(candidate.comment or "", {
        "publish": decision.publish, "model_id": model_id, "name": name,
        "reasons": decision.reasons}, json.loads(run_info))
    registered.comment = card  # the run page rebuilds the same card from the artifacts
    tracking.set_model_metadata(registered, {
        "decision": "published" if decision.publish else "kept unpublished",
        "decision_reasons": decision.reasons,
        "versus_champion": paired.to_dict() if paired else None})
    if decision.publish:
        registered.tags = sorted((set(registered.tags) - {"challenger"}) | {cfg.champion_tag})
        registered.publish()
        if champion is not None:
            champion.tags = [t for t in champion.tags if t != cfg.champion_tag]
    else:
        registered.tags = sorted(set(registered.tags) | {"challenger"})
    return (model_id if decision.publish else ""), _finish(task, {
        "publish": decision.publish, "model_id": model_id, "name": name,
        "reasons": decision.reasons, "previous_champion": getattr(champion, "id", None),
        "versus_champion": paired.to_dict() if paired else None})
