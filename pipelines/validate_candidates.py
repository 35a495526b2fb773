"""The candidates the validation step ranks: each family's trained model with its
out-of-fold predictions, and the greedy blend of those that predicted the same rows."""
from __future__ import annotations

import json
import logging

import joblib
import numpy as np

from pipelines import tracking
from pipelines.train_task import load_oof
from steps.config import EvaluateConfig

log = logging.getLogger(__name__)


def cv_forward(meta: dict) -> bool:
    """Whether a model's out-of-fold predictions come from forward-chaining CV over time
    (the model registry may hand the flag back as text)."""
    return str(meta.get("cv_forward")).strip().lower() in ("true", "1")


def _load_model(model_id: str):
    from clearml import InputModel
    model = InputModel(model_id=model_id)
    return model, joblib.load(model.get_local_copy(raise_on_error=True))


def load_family(model_id: str, data: dict, cfg: EvaluateConfig) -> dict:
    """A trained family's estimator, metadata, out-of-fold predictions and their score."""
    from steps.ensemble import oof_score
    model, estimator = _load_model(model_id)
    meta = tracking.model_metadata(model)
    oof = load_oof(meta["train_task_id"], meta.get("oof_artifact", "oof_proba"))
    cv = oof_score(cfg.metric, oof["y"], oof["proba"], oof["classes"], cfg.beta,
                   data["positive"])
    return {"model_id": model_id, "estimator": estimator, "meta": meta, "oof": oof, "cv": cv}


def blendable(families: dict) -> dict:
    """The families whose out-of-fold rows are the most any family has, and the same rows."""
    rows = max((np.asarray(d["oof"]["rows"]) for d in families.values()), key=len,
               default=np.array([]))
    return {f: d for f, d in families.items() if np.array_equal(d["oof"]["rows"], rows)}


def ensemble_candidate(families: dict, data: dict, cfg: EvaluateConfig):
    """The greedy blend of the families that predicted the most training rows out of fold,
    the same rows (row-capped families are left out), or None when it does not beat its
    best member. Every row, or all but the first period's under forward-chaining CV."""
    from steps.ensemble import ENSEMBLE, EnsembleClassifier, oof_score, select_final
    full = blendable(families)
    if not cfg.ensemble or len(full) < 2:
        return None
    member = next(iter(full.values()))
    first, first_meta = member["oof"], member["meta"]
    objective = None
    if cfg.deciding_costs:  # blend for what the served model will be judged on
        from steps.error_costs import cost_objective
        objective = cost_objective(cfg.deciding_costs)
    choice = select_final({f: d["oof"]["proba"] for f, d in full.items()}, first["y"],
                          first["classes"], cfg.metric, beta=cfg.beta,
                          positive_label=data["positive"], rounds=cfg.ensemble_rounds,
                          objective=objective)
    log.info("model selection: %s", choice.reason)
    if choice.name != ENSEMBLE:
        return None
    sel = choice.ensemble
    estimator = EnsembleClassifier({f: full[f]["estimator"] for f in sel.weights}, sel.weights)
    oof = dict(first, proba=sel.blend({f: full[f]["oof"]["proba"] for f in sel.weights}))
    meta = {"best_params": json.dumps({f: full[f]["meta"].get("best_params") for f in sel.weights}),
            "imbalance": json.dumps({f: full[f]["meta"].get("imbalance") for f in sel.weights}),
            "members": sel.weights,
            # the members share their folds' scheme
            **{k: first_meta[k] for k in ("cv_folds", "cv_forward") if k in first_meta}}
    cv = oof_score(cfg.metric, oof["y"], oof["proba"], oof["classes"], cfg.beta, data["positive"])
    return {"model_id": None, "estimator": estimator, "meta": meta, "oof": oof, "cv": cv}
