"""What a ClearML task per trial costs (``train.trial_tasks``) against the in-process study.

Runs the whole pipeline twice on one dataset card in embedded mode, one family, the same
``n_trials`` and no time limit, first with the study inside the training step, then with each
trial a task (subprocesses of the step, ``--concurrency`` at a time); prints the training
step's wall time, the trials that ran, the best out-of-fold score and the mean time per
trial, and writes ``results/trial_tasks.md``. For the task-per-trial run it also splits a
trial's time into phases, medians over the trials, read from each trial task's timestamps:
waiting (created to started: the optimizer's launch, an agent's queue poll), start-up
(started to its first fold's report, less one fold: interpreter or fork, imports, the task's
registration, loading the dataset), folds (its cross-validation) and finish (last fold to
completed: uploading its out-of-fold predictions, closing the task).

    python benchmarks/trial_tasks.py --family svm --trials 12
    python benchmarks/trial_tasks.py --family svm --trials 12 --agents 1   # trials on an agent
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _measure(data_dir: Path, args, as_tasks: bool) -> dict:
    from localserver.datadir import Layout
    from localserver.store import Store
    from pipelines.runner import run_pipeline
    from steps.config import parse_config
    train = {"families": [args.family], "n_trials": args.trials, "timeout_s": None,
             "cv_folds": args.folds}
    if as_tasks:
        train["trial_tasks"] = {"families": [args.family], "concurrency": args.concurrency,
                                "queue": "trials" if args.agents else None}
    cfg = parse_config({"project": {"name": "bench"}, "data": {"source": args.dataset},
                        "train": train, "evaluate": {"bootstrap": 0, "learning_curve_s": 0,
                                                     "permutation_repeats": 1},
                        "execution": {"data_dir": str(data_dir)}})
    if as_tasks and args.agents:  # trials on real clearml-agent workers of a `trials` queue
        from localserver.agents import start_agents
        from localserver.sharing import shared_server
        with shared_server(data_dir) as handle:  # the run reuses this server
            pool = start_agents(handle, queues=["trials"], count=args.agents,
                                work_dir=data_dir / "agents")
            try:
                result = run_pipeline(cfg)
            finally:
                pool.stop()
    else:
        result = run_pipeline(cfg)
    step = result.steps[f"train_{args.family}"]
    store = Store(Layout(data_dir).db, readonly=True)
    try:
        task = store.get("tasks", step["task_id"])
        model = store.get("models", step["returns"]["model_id"])
        trials = store.scan("tasks", parent=[step["task_id"]])
        phases = _phases(store, trials, args.folds) if as_tasks else {}
    finally:
        store.close()
    seconds = (_iso(task["completed"]) - _iso(task["started"])).total_seconds()
    meta = {k: v["value"] for k, v in model["metadata"].items()}
    ran = len(trials) if as_tasks else args.trials
    where = f"a task per trial, {args.agents} agent(s)" if args.agents else \
        "a task per trial, subprocesses of the step"
    return {"mode": where if as_tasks else "in the step", "step_s": seconds,
            "trials": ran, "per_trial_s": seconds / max(ran, 1),
            "best_cv": float(meta["cv_score"]), "best_params": meta["best_params"], **phases}


def _phases(store, trials: list[dict], folds: int) -> dict:
    """Median seconds of each phase of a completed trial task (see the module's doc)."""
    import numpy as np
    rows = []
    for trial in trials:
        reports = sorted(ts for title, _, _, _, ts in store.scalar_rows(trial["id"])
                         if title == "cv")  # one per fold, in milliseconds
        if trial["status"] != "completed" or len(reports) < 2:
            continue
        created, started, completed = (_iso(trial[k]).timestamp() for k in
                                       ("created", "started", "completed"))
        fold = (reports[-1] - reports[0]) / 1000 / (len(reports) - 1)
        rows.append({"wait_s": started - created,
                     "startup_s": reports[0] / 1000 - started - fold,
                     "folds_s": fold * folds, "finish_s": completed - reports[-1] / 1000})
    return {k: float(np.median([r[k] for r in rows])) for k in rows[0]} if rows else {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="hpc_data")
    parser.add_argument("--family", default="svm")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--agents", type=int, default=0,
                        help="run the trials on this many local clearml-agent workers")
    args = parser.parse_args(argv)
    rows = []
    for as_tasks in (False, True):
        with tempfile.TemporaryDirectory(prefix="trial-bench-") as folder:
            rows.append(_measure(Path(folder), args, as_tasks))
            print(json.dumps(rows[-1]), flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip()
    how = (f"run by {args.agents} local clearml-agent worker(s), which start a new "
           "interpreter per task" if args.agents else
           "forked from a process that imported their libraries (the first waits for it to "
           "start)")
    lines = [f"## A task per trial{', on agents' if args.agents else ''} "
             "(`benchmarks/trial_tasks.py`)", "",
             f"`train.trial_tasks` on {args.dataset}, family {args.family}, {args.trials} trials "
             f"requested, {args.folds} folds, no time limit, concurrency {args.concurrency}, "
             f"commit {commit}. Trial tasks {how}; the best configuration is the same when "
             "the study is.", "",
             "| where trials run | training step (s) | trials run | s per trial | best cv |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['mode']} | {r['step_s']:.1f} | {r['trials']} | {r['per_trial_s']:.1f} | "
              f"{r['best_cv']:.4f} |" for r in rows]
    phased = [r for r in rows if "startup_s" in r]
    if phased:
        lines += ["", "A trial task's time by phase (median seconds over its trials):", "",
                  "| where trials run | waiting | start-up | folds | finish |", "|---|---|---|---|---|"]
        lines += [f"| {r['mode']} | {r['wait_s']:.1f} | {r['startup_s']:.1f} | "
                  f"{r['folds_s']:.1f} | {r['finish_s']:.1f} |" for r in phased]
    out = ROOT / "benchmarks" / "results" / (
        f"trial_tasks_agents{args.agents}.md" if args.agents else "trial_tasks.md")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
