"""Orchestration benchmarks on the embedded server: overhead, agent fan-out, scale.

    python benchmarks/pipeline_bench.py overhead           # wall time minus step compute, per mode
    python benchmarks/pipeline_bench.py fanout             # training stage with 1 vs 2 local agents
    python benchmarks/pipeline_bench.py scale --rows 10000 100000 1000000

Each step records its own compute time and peak RSS (``step_compute_s``,
``step_peak_rss_mb``); these scripts read them back from the server. Results go to
benchmarks/results/pipeline_<kind>.csv and .md. Figures, not tests.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.runner import embedded_server, run_pipeline  # noqa: E402
from steps.config import parse_config  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_TRAIN = {"families": ["logreg", "hist_gb"], "n_trials": 3, "timeout_s": 10, "cv_folds": 3}


def _cfg(data_dir: Path, train: dict, data: dict | None = None, **execution) -> object:
    return parse_config({
        "project": {"name": "bench"}, "data": data or {"source": "hpc_data"}, "train": train,
        "evaluate": {"bootstrap": 200, "permutation_repeats": 1},
        "execution": {"data_dir": str(data_dir), "force_rerun": True, **execution}})


def step_costs(result) -> pd.DataFrame:
    """Per step: compute seconds and peak RSS reported by the step, plus task wall time."""
    from clearml import Task
    rows = []
    for name, info in result.steps.items():
        task = Task.get_task(task_id=info["task_id"])
        values = {v["metric"] if isinstance(v, dict) else k: v
                  for k, v in (task.get_reported_single_values() or {}).items()}
        started, completed = task.data.started, task.data.completed
        wall = (completed - started).total_seconds() if started and completed else float("nan")
        rows.append({"step": name, "status": info["status"], "task_wall_s": wall,
                     "compute_s": values.get("step_compute_s"),
                     "peak_rss_mb": values.get("step_peak_rss_mb")})
    return pd.DataFrame(rows)


def _critical_compute(costs: pd.DataFrame) -> float:
    """Compute on the DAG's critical path: training steps run in parallel."""
    c = costs.set_index("step")["compute_s"].fillna(0.0)
    train = c[[s for s in c.index if s.startswith("train_")]]
    return float(c.drop(train.index).sum() + (train.max() if len(train) else 0.0))


def _timed_run(cfg):
    t0 = time.perf_counter()
    result = run_pipeline(cfg)
    return result, time.perf_counter() - t0


def bench_overhead(args) -> pd.DataFrame:
    rows = []
    for label, agents in (("embedded, in-process steps", 0), ("embedded, 1 local agent", 1)):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = _cfg(Path(tmp), QUICK_TRAIN, agents=agents)
            with embedded_server(cfg.execution):
                result, wall = _timed_run(cfg)
                costs = step_costs(result)
        critical = _critical_compute(costs)
        rows.append({"mode": label, "wall_s": round(wall, 1), "critical_path_compute_s":
                     round(critical, 1), "sum_compute_s": round(costs["compute_s"].sum(), 1),
                     "overhead_s": round(wall - critical, 1),
                     "overhead_per_step_s": round((wall - critical) / len(costs), 2)})
        print(f"{label}: wall {wall:.1f}s, critical compute {critical:.1f}s", file=sys.stderr)
    return pd.DataFrame(rows)


def bench_fanout(args) -> pd.DataFrame:
    train = {"families": ["logreg", "hist_gb", "random_forest", "extra_trees"], "n_trials": 4,
             "timeout_s": 20, "cv_folds": 3}
    rows = []
    for agents in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = _cfg(Path(tmp), train, agents=agents)
            with embedded_server(cfg.execution):
                result, wall = _timed_run(cfg)
                costs = step_costs(result)
        stage = _training_stage_seconds(result)
        rows.append({"agents": agents, "pipeline_wall_s": round(wall, 1),
                     "training_stage_s": round(stage, 1)})
        print(f"{agents} agent(s): training stage {stage:.1f}s", file=sys.stderr)
    df = pd.DataFrame(rows)
    df["ratio_vs_1"] = (df["training_stage_s"] / df["training_stage_s"].iloc[0]).round(2)
    return df


def _training_stage_seconds(result) -> float:
    """From the first training step's start to the last one's completion."""
    from clearml import Task
    spans = []
    for name, info in result.steps.items():
        if name.startswith("train_"):
            t = Task.get_task(task_id=info["task_id"]).data
            spans.append((t.started, t.completed))
    return (max(c for _, c in spans) - min(s for s, _ in spans)).total_seconds()


def bench_scale(args) -> pd.DataFrame:
    frames = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = _cfg(Path(tmp), {"timeout_s": args.timeout},
                       data={"source": "synthetic_imbalanced", "params": {"rows": rows}})
            with embedded_server(cfg.execution):
                result, wall = _timed_run(cfg)
                costs = step_costs(result)
        costs.insert(0, "rows", rows)
        costs["pipeline_wall_s"] = round(wall, 1)
        frames.append(costs)
        print(f"{rows} rows: {wall:.1f}s, peak step RSS {costs['peak_rss_mb'].max():.0f} MB",
              file=sys.stderr)
    return pd.concat(frames, ignore_index=True)


def markdown_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["overhead", "fanout", "scale"])
    p.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--timeout", type=float, default=60.0, help="scale: per-family timeout_s")
    args = p.parse_args()
    df = {"overhead": bench_overhead, "fanout": bench_fanout, "scale": bench_scale}[args.kind](args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    df.to_csv(RESULTS / f"pipeline_{args.kind}.csv", index=False)
    (RESULTS / f"pipeline_{args.kind}.md").write_text(markdown_table(df))
    print(df.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
