"""The validation step's output: the winner, its decision rule included, registered as the
candidate model with the metadata the publishing step and ``tabpipe predict`` read."""
from __future__ import annotations

import joblib

from pipelines import tracking
from steps.data import file_sha256
from steps.scoring import SPEC_KEY


def register_candidate(task, estimator, report: dict, project: str) -> str:
    """The winner (threshold included) as this step's output model: the publish candidate."""
    from clearml import OutputModel
    from steps.model_card import render_model_card
    path = tracking.scratch_dir("candidate") / "model.joblib"
    joblib.dump(estimator, path)
    card = render_model_card(report)  # the publish step adds its decision
    model = OutputModel(task=task, name=f"{report['winner']} (candidate)", framework="ScikitLearn",
                        tags=["candidate", "family:" + report["winner"]], comment=card,
                        label_enumeration={c: i for i, c in enumerate(report["classes"])})
    model.update_weights(weights_filename=str(path), auto_delete_file=False, async_enable=False)
    tracking.set_model_metadata(model, candidate_metadata(report, path))
    return model.id


def candidate_metadata(report: dict, path) -> dict:
    import platform
    from importlib.metadata import version
    meta = {f"test_{k}": v for k, v in report["metrics"].items() if isinstance(v, float)}
    meta.update({
        "family": report["winner"], "metric": report["metric"], "score": report["score"],
        "ci_low": report["ci"][0], "ci_high": report["ci"][1], "split_id": report["split_id"],
        "dataset_id": report["dataset_id"], "dataset_hash": report["dataset_hash"],
        "prepared_dataset_id": report["prepared_id"], "classes": report["classes"],
        "class_order": report.get("class_order"),
        "threshold": report["threshold"], "positive_label": report["positive_label"],
        "threshold_for": report.get("threshold_for"),
        "calibration": (report.get("calibration") or {}).get("method", "none"),
        "costs": report.get("costs"), "cost_decisions": report.get("cost_decisions"),
        "train_rows": report["train_rows"], "gates_passed": report["gates_passed"],
        "best_params": report["best_params"], "imbalance": report["imbalance"],
        "cv_score": report["cv_score"], "ensemble_members": report["members"],
        "period": report.get("period"),  # out-of-time runs: where training ended
        "prediction_sets": {k: v for k, v in (report.get("prediction_sets") or {}).items()
                            if k in ("alpha", "by_class", "thresholds", "order", "method")}
                           or None,
        SPEC_KEY: report["scoring_spec"],
        "weights_sha256": file_sha256(path),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("scikit-learn", "imbalanced-learn", "optuna",
                                             "pandas", "numpy", "clearml")},
    })
    return meta
