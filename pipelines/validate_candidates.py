"""The candidates the validation step ranks: each family's trained model with its
out-of-fold predictions, and the greedy blend of them on the rows they all predicted."""
from __future__ import annotations

import json
import logging

import joblib
import numpy as np
import pandas as pd

from pipelines import tracking
from pipelines.train_task import load_oof
from steps.config import EvaluateConfig

log = logging.getLogger(__name__)
# blend weights, and the ranking of families tuned on different rows, need this many
# training rows that every family predicted out of fold, and this many of each class: on
# ISLR's Default (3% positives) 2065 shared rows held 68 positives, and a blend weighted on
# them scored 0.69 on test where the best family kept on all its rows scored 0.78
MIN_SHARED_ROWS = 1000
MIN_SHARED_CLASS_ROWS = 100


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


def calibrated(candidate: dict, positive: str | None, cfg: EvaluateConfig):
    """(estimator, out-of-fold proba) with probabilities calibrated on the out-of-fold
    *training* predictions; computed once per candidate (selection by cost needs it too)."""
    from steps.calibration import calibrate
    if "calibrated" not in candidate:
        oof = candidate["oof"]
        candidate["calibrated"] = calibrate(candidate["estimator"], oof["proba"], oof["y"],
                                            oof["classes"], positive, cfg.calibration)
    return candidate["calibrated"]


def served_oof_proba(candidate: dict, positive: str | None, cfg: EvaluateConfig):
    """The out-of-fold probabilities as the served model gives them (calibrated or not)."""
    if cfg.calibration == "none":
        return candidate["oof"]["proba"]
    return calibrated(candidate, positive, cfg)[1]


def served_wrapper(candidate: dict, positive: str | None, cfg: EvaluateConfig):
    """A function wrapping a model of the candidate's configuration the way the served model
    wraps the candidate (its calibration); None when probabilities are served as they are."""
    if cfg.calibration == "none":
        return None
    from steps.calibration import CalibratedClassifier
    calibrator = calibrated(candidate, positive, cfg)[0].calibrator
    return lambda model: CalibratedClassifier(model, calibrator)


def on_rows(oof: dict, rows) -> dict:
    """``oof`` restricted to ``rows`` (positions in the training split, a subset of its own),
    in ``rows``' order."""
    at = {int(r): i for i, r in enumerate(np.asarray(oof["rows"]))}
    take = np.array([at[int(r)] for r in rows], dtype=int)
    return dict(oof, rows=np.asarray(rows), y=oof["y"].iloc[take].reset_index(drop=True),
                proba=np.asarray(oof["proba"])[take])


def _labels(families: dict) -> pd.Series:
    """Each out-of-fold row's label, by its position in the training split, from the family
    that predicted the most rows (row caps nest: the others' rows are among them)."""
    oof = max((d["oof"] for d in families.values()), key=lambda o: len(o["rows"]))
    return pd.Series(np.asarray(oof["y"]), index=np.asarray(oof["rows"]))


def _enough(labels: pd.Series, rows: np.ndarray, min_rows: int) -> bool:
    """Whether ``rows`` can choose a blend or a winner: ``min_rows`` of them, and
    ``MIN_SHARED_CLASS_ROWS`` of each class (fewer when the class has fewer in all)."""
    if len(rows) < min_rows:
        return False
    needed = labels.value_counts().clip(upper=MIN_SHARED_CLASS_ROWS)
    counts = labels.loc[rows].value_counts().reindex(needed.index, fill_value=0)
    return bool((counts >= needed).all())


def blendable(families: dict, min_rows: int = MIN_SHARED_ROWS) -> tuple[dict, np.ndarray]:
    """(families, rows): the families that predicted the most training rows out of fold,
    joined by the others, most rows first, while the rows all of them predicted stay enough
    (``_enough``; row caps nest, ``steps.subsample``, so a capped family's rows are among
    the others'); each family's out-of-fold predictions restricted to those shared rows."""
    by_rows = sorted(families.items(), key=lambda kv: -len(kv[1]["oof"]["rows"]))
    if not by_rows:
        return {}, np.array([], dtype=int)
    labels = _labels(families)
    shared, chosen = np.asarray(by_rows[0][1]["oof"]["rows"]), []
    for name, family in by_rows:
        rows = np.intersect1d(shared, family["oof"]["rows"])
        if len(rows) == len(shared) or _enough(labels, rows, min_rows):
            shared = rows
            chosen.append(name)
    return {n: _restricted(families[n], shared) for n in chosen}, shared


def _restricted(family: dict, rows: np.ndarray) -> dict:
    if np.array_equal(family["oof"]["rows"], rows):
        return family
    return dict(family, oof=on_rows(family["oof"], rows))


def shared_rows(candidates: dict, min_rows: int = MIN_SHARED_ROWS) -> np.ndarray | None:
    """The training rows every candidate predicted out of fold, when the candidates' rows
    differ (row caps) and enough are shared (``_enough``): ranking them all on the same rows
    compares like with like. None otherwise: each is judged on its own rows."""
    rows = [np.asarray(c["oof"]["rows"]) for c in candidates.values()]
    if len(rows) < 2 or all(np.array_equal(r, rows[0]) for r in rows):
        return None
    shared = rows[0]
    for r in rows[1:]:
        shared = np.intersect1d(shared, r)
    return shared if _enough(_labels(candidates), shared, min_rows) else None


def threshold_rule(cfg: EvaluateConfig) -> tuple[str, float]:
    """(metric, beta) binary decision thresholds are tuned for (``evaluate.threshold_metric``)."""
    from steps.thresholds import threshold_metric
    return threshold_metric(cfg.metric, cfg.beta, cfg.threshold_metric, cfg.threshold_beta)


def threshold_label(cfg: EvaluateConfig) -> str:
    """What binary thresholds are tuned for, as the model card and metadata say it."""
    from steps.thresholds import metric_label
    return metric_label(*threshold_rule(cfg))


def selection_objective(cfg: EvaluateConfig, positive: str | None):
    """What model selection maximises out of fold, as the served model will be judged: the
    least expected cost of cost decisions; for binary targets served with a tuned threshold,
    the metric at thresholds cross-fitted on the out-of-fold rows; else None (the metric of
    argmax decisions)."""
    if cfg.deciding_costs:
        from steps.error_costs import cost_objective
        return cost_objective(cfg.deciding_costs)
    if positive is not None and cfg.threshold_tuning:
        from steps.served_rule import served_objective
        return served_objective(cfg.metric, positive, cfg.beta, threshold_rule(cfg))
    return None


def ensemble_candidate(families: dict, data: dict, cfg: EvaluateConfig):
    """The greedy blend of the families whose out-of-fold rows share enough rows
    (``blendable``), weighted on those rows, or None when it does not beat its best member.
    Every row, or all but the first period's under forward-chaining CV."""
    from steps.ensemble import ENSEMBLE, EnsembleClassifier, oof_score, select_final
    full, rows = blendable(families)
    if not cfg.ensemble or len(full) < 2:
        return None
    if any(len(d["oof"]["rows"]) > len(rows) for d in families.values()):
        log.info("blend of %s weighted on the %d training rows they all predicted out of fold "
                 "(row caps)", ", ".join(full), len(rows))
    member = next(iter(full.values()))
    first, first_meta = member["oof"], member["meta"]
    objective = selection_objective(cfg, data["positive"])
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
