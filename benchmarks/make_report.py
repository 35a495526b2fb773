"""Assemble docs/BENCHMARKS.md from whatever lies in benchmarks/results/.

Every ``results/<name>.md`` is included as written by its benchmark (known ones first,
in ``SECTIONS`` order); a ``results/<name>.csv`` without a markdown twin is rendered
as a table; ``*_runs.csv`` (raw per-run rows) are only linked. Known benchmarks that
have no results yet get a placeholder. Machine information heads the document so the
numbers can be judged.

    python benchmarks/make_report.py          # rebuild the doc from existing results
    python benchmarks/make_report.py --run    # rerun benchmarks/quality.py first
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import os
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "BENCHMARKS.md"
# name -> (script, what it measures); order = order in the document
SECTIONS = {
    "quality": ("benchmarks/quality.py", "model quality against peers"),
    "learning_curves": ("benchmarks/learning_curves.py",
                        "test macro-F1 against training rows: short of data, or of signal?"),
    "time_cv": ("benchmarks/time_cv.py",
                "out-of-fold against out-of-time test scores: shuffled, blocked and forward CV"),
    "time_gap": ("benchmarks/time_gap.py",
                 "labels known late: the out-of-time test score with and without time_gap"),
    "prediction_sets": ("benchmarks/prediction_sets.py",
                        "coverage of conformal prediction sets, per class and over all rows"),
    "pipeline_overhead": ("benchmarks/pipeline_bench.py overhead",
                          "orchestration overhead per run (wall minus critical-path compute)"),
    "pipeline_fanout": ("benchmarks/pipeline_bench.py fanout",
                        "training stage with 1 vs 2 local clearml-agent workers"),
    "pipeline_scale": ("benchmarks/pipeline_bench.py scale", "time and peak memory per step as rows grow"),
    "pipeline_wide": ("benchmarks/pipeline_bench.py wide", "time per step as columns grow"),
    "trial_tasks": ("benchmarks/trial_tasks.py",
                    "a ClearML task per trial (train.trial_tasks) against the in-process study"),
    "trial_tasks_agents1": ("benchmarks/trial_tasks.py --agents 1",
                            "the same, with the trials run by a local clearml-agent worker"),
}
LIBRARIES = ["scikit-learn", "imbalanced-learn", "optuna", "pandas", "numpy", "scipy",
             "matplotlib", "clearml", "flaml", "lightgbm", "xgboost"]


def _version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpu_model() -> str:
    try:  # Linux names the CPU here; platform.processor() is often just the arch
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> list[tuple[str, str]]:
    try:
        import psutil
        ram = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:
        ram = "unknown"
    rows = [("generated", dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
            ("commit", _git_commit()), ("platform", platform.platform()),
            ("CPU", _cpu_model()),
            ("CPU count", str(os.cpu_count())), ("RAM", ram),
            ("Python", platform.python_version())]
    return rows + [(lib, _version(lib)) for lib in LIBRARIES]


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def section(name: str) -> str:
    """The benchmark's markdown, else its CSV as a table, else a placeholder."""
    note = SECTIONS.get(name)
    md_path, csv_path = RESULTS / f"{name}.md", RESULTS / f"{name}.csv"
    if md_path.exists():
        return md_path.read_text().strip()
    title = f"## {name}" + (f" — {note[1]}" if note else "")
    if csv_path.exists():
        return f"{title}\n\nFrom `benchmarks/results/{csv_path.name}`:\n\n" + \
            _md_table(pd.read_csv(csv_path))
    return f"{title}\n\n_Not measured yet: `{note[0]}` will write `benchmarks/results/{name}.md`._"


def result_names() -> list[str]:
    found = {p.stem for p in RESULTS.glob("*.md")}
    found |= {p.stem for p in RESULTS.glob("*.csv") if not p.stem.endswith("_runs")}
    return [*SECTIONS, *sorted(found - set(SECTIONS))]


def build() -> str:
    info = "\n".join(f"| {k} | {v} |" for k, v in machine_info())
    raw = sorted(p.name for p in RESULTS.glob("*.csv"))
    parts = [
        "# Benchmarks",
        "_Generated by `python benchmarks/make_report.py` from `benchmarks/results/`; do not "
        "edit by hand (see `benchmarks/README.md`)._",
        "## Machine\n\nNumbers are wall-clock on this machine, one process at a time, "
        "one thread per process (`n_jobs=1`, BLAS/OpenMP limited to 1 thread); the 2 cores "
        "are shared with other users, so timings carry noise.\n\n"
        "| item | value |\n|---|---|\n" + info,
        *(section(name) for name in result_names()),
        "## Raw data\n\n" + ("\n".join(f"- `benchmarks/results/{n}`" for n in raw) or "none"),
    ]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="store_true", help="rerun benchmarks/quality.py first")
    ap.add_argument("quality_args", nargs="*", help="extra arguments for quality.py (after --)")
    args = ap.parse_args(argv)
    if args.run:
        cmd = [sys.executable, str(ROOT / "benchmarks" / "quality.py"), *args.quality_args]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run(cmd, check=True, env=env)
    RESULTS.mkdir(parents=True, exist_ok=True)
    DOC.write_text(build())
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
