"""``tabpipe run --split-seeds 0 1 2``: one config on several frozen test splits, then its
mean and spread over them.

On a table of a few thousand rows one test split moves the score more than most settings
do, so a method comparison repeats each setting on a few split seeds. This runs the one
DAG once per seed (the same server throughout, so later seeds reuse the dataset version)
and ends with ``tabpipe runs --splits``: the study's group first, earlier settings against it.

A study registers its winners under a model name of its own (``<dataset>-split-study``
unless ``publish.model_name`` is set), so it never touches the working champion: seed 0
shares the champion's test split and would compete with it head to head.
"""
from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from steps.config import ConfigError, PipelineConfig, load_config

STUDY_SUFFIX = "-split-study"
RUNS_PER_SEED_SHOWN = 10  # how far back the closing summary looks, per seed of the study


@dataclass
class StudyResult:
    seeds: list[int]
    runs: list = field(default_factory=list)  # pipelines.runner.RunResult, one per seed
    groups: list[dict] = field(default_factory=list)  # steps.split_summary.split_groups


def study_model_name(cfg: PipelineConfig) -> str:
    return f"{cfg.data.dataset_name or Path(cfg.data.source).stem}{STUDY_SUFFIX}"


def study_configs(config: Path | None, overrides: list[str], seeds: list[int]) -> list[PipelineConfig]:
    """One config per distinct seed (in the order given), each with ``preprocess.split_seed``
    set and, unless the user named the model, the study's own model name."""
    if any(o.split("=", 1)[0].strip() == "preprocess.split_seed" for o in overrides):
        raise ConfigError("--split-seeds sets preprocess.split_seed for each run; "
                          "drop --set preprocess.split_seed")
    bad = [s for s in seeds if s < 0]
    if bad:
        raise ConfigError(f"--split-seeds: seeds are non-negative integers, got {bad}")
    base = load_config(config, overrides)
    if base.execution.mode == "remote":
        raise ConfigError("--split-seeds waits for each run and summarises them, which remote "
                          "mode does not (it only enqueues); enqueue one run per "
                          "--set preprocess.split_seed=N and read `tabpipe runs --splits "
                          "--mode local` once they have finished")
    named = [] if base.publish.model_name else [f"publish.model_name={study_model_name(base)}"]
    return [load_config(config, [*overrides, *named, f"preprocess.split_seed={seed}"])
            for seed in dict.fromkeys(seeds)]


def run_study(cfgs: list[PipelineConfig], run, on_run=None, summarise=None,
              progress=None) -> StudyResult:
    """Run each config with ``run(cfg)`` (``pipelines.runner.run_pipeline``), calling
    ``on_run(seed, result)`` after each, on one server kept up throughout; then group the
    newest runs with ``summarise(limit)`` (default ``pipelines.runs.split_summary``).
    Progress headers go to ``progress`` (default stdout)."""
    from pipelines.runner import embedded_server
    from steps.split_summary import of_dataset
    if summarise is None:
        from pipelines.runs import split_summary as summarise
    ex = cfgs[0].execution
    seeds = [c.preprocess.split_seed for c in cfgs]
    study = StudyResult(seeds)
    server = embedded_server(ex) if ex.mode == "embedded" else contextlib.nullcontext()
    with server as handle:
        for number, cfg in enumerate(cfgs, start=1):
            print(f"\n=== split study: run {number} of {len(cfgs)}, "
                  f"preprocess.split_seed={cfg.preprocess.split_seed} ===", file=progress or sys.stdout,
                  flush=True)
            result = run(cfg)
            if result.server and handle is not None and handle.auto_stop:
                # up for the study, stopped at its end
                result.server.update(stays_up=False, for_another_run=False)
            study.runs.append(result)
            if on_run is not None:
                on_run(cfg.preprocess.split_seed, result)
        if handle is not None and not handle.is_running():  # its calls would retry for hours
            from pipelines.controller_process import ServerGone
            raise ServerGone("the embedded server stopped before the split study's summary; "
                             "every run finished (their summaries are above). `tabpipe runs "
                             "--splits` prints the summary once a server runs again")
        groups = summarise(RUNS_PER_SEED_SHOWN * len(cfgs))
        newest = study.runs[-1].pipeline_task_id if study.runs else None
        study.groups = of_dataset(groups, newest) if newest else groups  # other tables: noise
    return study


def study_lines(study: StudyResult) -> list[str]:
    """One line per seed (run, winner, test score, decision), for above the group table."""
    from pipelines.summary import validation_report
    from steps.runs import verdict as decision_verdict
    lines = []
    for seed, result in zip(study.seeds, study.runs):
        report = validation_report(result)
        score = (f"{report['winner']}  test {report['metric']} {report['score']:.4f}"
                 if report else "no test score (a step failed; see its log)")
        d = result.decision or {}
        verdict = decision_verdict(d, missing="no decision")
        lines.append(f"  seed {seed}: run {result.pipeline_task_id}  {score}  "
                     f"{d.get('name', '')} {verdict}".rstrip())
    return lines


def failed_steps(study: StudyResult) -> list[str]:
    return [f"seed {seed}: {name}" for seed, result in zip(study.seeds, study.runs)
            for name, step in result.steps.items() if step["status"] == "failed"]


def write_split_page(groups: list[dict], out_dir: Path, reports: Path | None = None) -> Path:
    """``out_dir/index.html`` and its figure (``steps.split_page``); runs with a report page
    under ``reports`` (``<reports>/<run id>/index.html``) are linked to it."""
    import os

    from steps.split_page import FIGURE, render_split_page, split_figure
    out_dir.mkdir(parents=True, exist_ok=True)
    links = {}
    for group in groups:
        for run in group["runs"]:
            page = reports / run / "index.html" if reports else None
            if page is not None and page.is_file():
                links[run] = Path(os.path.relpath(page, out_dir)).as_posix()
    if groups:
        split_figure(groups).savefig(out_dir / FIGURE, dpi=110)
    path = out_dir / "index.html"
    path.write_text(render_split_page(groups, links, "Settings over test splits"), encoding="utf-8")
    return path


def run_and_print(cfgs: list[PipelineConfig], verbose: bool, as_json: bool) -> int:
    """The CLI's study: each run's summary as it ends, then the seeds and the group table
    (or everything as one JSON document on stdout); 1 if any step failed."""
    from pipelines.runner import reports_root, run_pipeline
    from pipelines.summary import print_summary, summary_dict
    from steps.split_summary import format_split_groups
    progress = sys.stderr if as_json else None
    study = run_study(cfgs, lambda cfg: run_pipeline(cfg, verbose=verbose, progress=progress),
                      on_run=None if as_json else lambda _seed, result: print_summary(result),
                      progress=progress)
    page = None
    if cfgs[0].execution.report and study.runs and study.runs[0].pipeline_task_id:
        root = reports_root(cfgs[0].execution)
        page = write_split_page(study.groups, root / f"splits-{study.runs[0].pipeline_task_id}",
                                root)
    if as_json:
        print(json.dumps({"seeds": study.seeds, "runs": [summary_dict(r) for r in study.runs],
                          "groups": study.groups, "page": str(page) if page else None},
                         indent=2, default=str))
    else:
        print(f"\nsplit study over seeds {', '.join(map(str, study.seeds))}:")
        print("\n".join(study_lines(study)))
        print("\n" + format_split_groups(study.groups))
        if page:
            print(f"\nsplit study page: {page.as_uri()}")
    failed = failed_steps(study)
    if failed:
        print(f"failed steps: {'; '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
