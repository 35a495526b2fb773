"""The pipeline DAG as plain data, built from config.

One definition drives every execution mode: ``pipelines.controller`` applies
these specs to a ClearML ``PipelineController``. Nothing here imports
``clearml``, so the graph (names, parents, references, queues, caching) is
unit-tested without a server.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from steps.config import PipelineConfig

# Sections exposed as pipeline parameters: editable on the pipeline task in the
# web UI (clone, edit, enqueue) and routed to the one step that owns each.
STEP_SECTIONS = ("data", "preprocess", "train", "evaluate", "publish")


@dataclass(frozen=True)
class StepSpec:
    name: str
    function: str  # "module:function" of the thin wrapper in pipelines.nodes
    kwargs: dict[str, Any]
    returns: tuple[str, ...]
    parents: tuple[str, ...] = ()
    queue: str | None = None
    cache: bool = True
    task_type: str = "data_processing"
    description: str = ""


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    project: str
    parameters: dict[str, str]
    steps: tuple[StepSpec, ...] = field(default_factory=tuple)

    def step(self, name: str) -> StepSpec:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no step named {name!r}; steps: {[s.name for s in self.steps]}")


def pipeline_parameters(cfg: PipelineConfig, run_info: dict | None = None) -> dict[str, str]:
    """Each step's config section as a JSON string parameter, plus the project and
    ``run_info`` (config digest, git commit) that the publish step records on the model."""
    params = {sec: json.dumps(getattr(cfg, sec).model_dump(mode="json"), sort_keys=True)
              for sec in STEP_SECTIONS}
    params["project"] = cfg.project.name
    # Read by the controller itself (pipelines.controller_main), never by a step.
    params["execution"] = json.dumps(cfg.execution.model_dump(mode="json"), sort_keys=True)
    params["run_info"] = json.dumps(run_info or {"config_sha256": cfg.digest()}, sort_keys=True)
    return params


def _ref(step: str, value: str) -> str:
    # By value, not as an artifact link ("${step.name}" resolves to "<task id>.name"): a
    # consumer's cache key then holds the dataset/model ID itself, which is stable when the
    # producer reused a version, instead of the producer's task ID, which is new every run.
    return "${%s.parameters.return/%s}" % (step, value)


def _param(name: str) -> str:
    return "${pipeline.%s}" % name


def train_step_name(family: str) -> str:
    return f"train_{family}"


def _training_steps(cfg: PipelineConfig, steps: list, queue, cache: bool):
    """One step per family (parallel), or with ``train.budget_s`` one step that splits a
    single budget across families by successive halving (weak families dropped early)."""
    common = {"prepared_id": _ref("preprocess", "prepared_id"), "train_cfg": _param("train"),
              "preprocess_cfg": _param("preprocess"), "project": _param("project")}
    if cfg.train.budget_s is not None:
        steps.append(StepSpec(
            "train", "pipelines.nodes:train_budgeted", common, ("model_ids",), ("preprocess",),
            queue("train"), cache, "training",
            f"Successive halving over {len(cfg.train.families)} families in {cfg.train.budget_s:g} s"))
        return ["train"], {"models": _ref("train", "model_ids")}
    names = []
    for family in cfg.train.families:
        step = train_step_name(family)
        names.append(step)
        steps.append(StepSpec(
            step, "pipelines.nodes:train_family", {**common, "family": family},
            ("model_id",), ("preprocess",), queue(step), cache,
            "training", f"Optuna search for {family} under stratified CV"
            + (", a ClearML task per trial" if family in cfg.train.trial_tasks.families else "")))
    return names, {f"model_{n.removeprefix('train_')}": _ref(n, "model_id") for n in names}


def build_dag(cfg: PipelineConfig, name: str = "tabular-imbalanced",
              run_info: dict | None = None) -> PipelineSpec:
    """Dataset -> preprocess -> one training step per family (parallel) -> validate -> publish."""
    ex = cfg.execution
    cache = ex.cache and not ex.force_rerun

    def queue(step: str) -> str:
        return ex.step_queues.get(step, ex.queue)

    steps: list[StepSpec] = [
        # Never cached: the source may change under the same path. The step itself
        # reuses the existing version when the content hash is unchanged.
        StepSpec("dataset", "pipelines.nodes:version_dataset",
                 {"data_cfg": _param("data"), "project": _param("project")},
                 ("dataset_id", "dataset_hash"), (), queue("dataset"), False,
                 "data_processing", "Register the table as a ClearML Dataset version"),
        StepSpec("preprocess", "pipelines.nodes:preprocess",
                 {"dataset_id": _ref("dataset", "dataset_id"),
                  "dataset_hash": _ref("dataset", "dataset_hash"),
                  "preprocess_cfg": _param("preprocess"), "project": _param("project")},
                 ("prepared_id",), ("dataset",), queue("preprocess"), cache,
                 "data_processing", "Validate, derive, freeze the split, profile"),
    ]
    train_names, model_refs = _training_steps(cfg, steps, queue, cache)
    steps.append(StepSpec(
        "validate", "pipelines.nodes:validate",
        {"prepared_id": _ref("preprocess", "prepared_id"),
         "evaluate_cfg": _param("evaluate"), "project": _param("project"), **model_refs},
        ("candidate_id", "report"), ("preprocess", *train_names), queue("validate"), cache,
        "qc", "Frozen test split: leaderboard, plots, gates"))
    steps.append(StepSpec(
        "publish", "pipelines.nodes:publish",
        {"candidate_id": _ref("validate", "candidate_id"), "report": _ref("validate", "report"),
         "publish_cfg": _param("publish"), "project": _param("project"),
         "run_info": _param("run_info")},
        ("published_model_id", "decision"), ("validate",), queue("publish"), False,
        "custom", "Register the winner; publish only if it earns it"))
    return PipelineSpec(name=name, project=cfg.project.name,
                        parameters=pipeline_parameters(cfg, run_info), steps=tuple(steps))
