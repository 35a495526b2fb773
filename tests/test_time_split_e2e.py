"""Out of time, end to end: a dated table, then the same table with later rows appended.

The second run's test period begins after the first champion's training ended, so the
champion never saw those rows: it is scored on them and the two models compete head to
head, where any other change of test split would only keep the champion unchallenged.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.runner import run_pipeline
from steps.config import parse_config

pytestmark = pytest.mark.slow


def _accounts(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    usage = rng.normal(size=n)
    plan = rng.choice(["basic", "pro", "team"], n)
    p = 1 / (1 + np.exp(-(-1.8 + 1.5 * usage + 0.8 * (plan == "basic"))))
    return pd.DataFrame({"signup": pd.date_range("2022-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                         "usage": usage.round(3), "plan": plan,
                         "label": np.where(rng.random(n) < p, "churn", "stay")})


READ_SCALARS = """
import json, sys
from clearml import Task
print(json.dumps(Task.get_task(task_id=sys.argv[1]).get_reported_scalars()))
"""


def _scalars(task_id: str, execution) -> dict:
    import os
    import subprocess
    import sys

    from pipelines.runner import embedded_server
    with embedded_server(execution) as handle:
        done = subprocess.run([sys.executable, "-c", READ_SCALARS, task_id], capture_output=True,
                              text=True, timeout=120, env={**os.environ, **handle.client_env()})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cfg(path, data_dir):
    return parse_config({
        "project": {"name": "e2e-time"},
        "data": {"source": str(path), "target": "label", "time_column": "signup",
                 "dataset_name": "accounts"},
        "train": {"families": ["logreg"], "n_trials": 2, "timeout_s": 10, "cv_folds": 3},
        "evaluate": {"bootstrap": 200, "permutation_repeats": 1, "learning_curve_s": 0},
        "execution": {"data_dir": str(data_dir)}})


def test_a_later_period_challenges_the_champion_on_rows_it_never_saw(tmp_path):
    table = _accounts(1400)
    path = tmp_path / "accounts.csv"
    table.iloc[:1000].to_csv(path, index=False)
    cfg = _cfg(path, tmp_path / "server")
    first = run_pipeline(cfg)
    assert first.decision["publish"] is True, first.decision
    report = json.loads(first.steps["validate"]["returns"]["report"])
    assert report["over_time"]["periods"][0]["start"] == table.signup[800]  # the last 200 days
    assert len(report["over_time"]["periods"]) == 4  # 200 test rows: 4 periods of 50
    scalars = _scalars(first.steps["validate"]["task_id"], cfg.execution)
    series = scalars["over_time/macro_f1"]["macro_f1"]  # the web UI overlays runs on these
    assert series["x"] == [1, 2, 3, 4]
    assert series["y"] == pytest.approx([p["macro_f1"] for p in report["over_time"]["periods"]])
    # a binary winner is ranked at thresholds cross-fitted out of fold, and the UI shows that score
    assert "thresholds tuned on the other folds" in report["selected_by"]
    assert report["threshold_for"] == "macro_f1"  # the served threshold serves the metric
    page = Path(first.report).read_text()  # ...and its curve is drawn on the run's page
    assert "<figcaption>cv/decision_threshold</figcaption>" in page
    ranked = report["family_scores"]["logreg"]["cv"]  # the score the ranking used
    assert scalars["leaderboard/cv_selection"]["logreg"]["y"] == [pytest.approx(ranked)]

    table.to_csv(path, index=False)  # 400 later days arrive: a new dataset version
    second = run_pipeline(_cfg(path, tmp_path / "server"))
    decision = second.decision
    reasons = " ".join(decision["reasons"])
    assert f"was trained on rows up to {table.signup[799]}, before" in reasons, reasons
    assert f"before this run's test period (from {table.signup[1120]})" in reasons
    assert "on the same test split" in reasons  # decided head to head, not kept unchallenged
    paired = decision["versus_champion"]
    assert paired is not None and paired["metric"] == "macro_f1"
    assert decision["previous_champion"] == first.decision["model_id"]

    # the champion scores later labelled rows period by period from the command line
    import subprocess
    import sys
    later = _accounts(1800, seed=1).iloc[1400:]  # days after every row it learnt from
    later.to_csv(tmp_path / "later.csv", index=False)
    done = subprocess.run([sys.executable, "-m", "pipelines", "predict", str(tmp_path / "later.csv"),
                           "--set", f"execution.data_dir={tmp_path / 'server'}"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "by period of the model's time column:" in done.stdout
    assert f"  {later.signup.iloc[0]} .. " in done.stdout and "(80 rows): macro-F1" in done.stdout
    assert "fall inside the model's training period" not in done.stdout
    assert "macro-F1 by period, earliest to latest: " in done.stdout



READ_OOF_ROWS = """
import json, sys
from pipelines.train_task import load_oof
print(json.dumps({t: [int(r) for r in load_oof(t)["rows"]] for t in sys.argv[1:]}))
"""


def test_in_process_and_trial_task_families_score_the_same_later_rows(tmp_path):
    """Forward-chaining CV under both ways of running a study: the earliest period is
    learnt from but never scored, in the trial tasks' out-of-fold artifacts as in-process."""
    import os
    import subprocess
    import sys

    from pipelines.runner import embedded_server
    path = tmp_path / "accounts.csv"
    _accounts(600).to_csv(path, index=False)
    cfg = parse_config({
        "project": {"name": "e2e-time-trials"},
        "data": {"source": str(path), "target": "label", "time_column": "signup"},
        "train": {"families": ["logreg", "knn"], "n_trials": 2, "timeout_s": 60, "cv_folds": 3,
                  "trial_tasks": {"families": ["knn"], "concurrency": 1}},
        "evaluate": {"bootstrap": 100, "permutation_repeats": 1, "learning_curve_s": 0},
        "execution": {"data_dir": str(tmp_path / "server")}})
    result = run_pipeline(cfg)
    tasks = [result.steps[f"train_{f}"]["task_id"] for f in ("logreg", "knn")]
    with embedded_server(cfg.execution) as handle:
        done = subprocess.run([sys.executable, "-c", READ_OOF_ROWS, *tasks], capture_output=True,
                              text=True, timeout=120, env={**os.environ, **handle.client_env()})
    assert done.returncode == 0, done.stderr
    logreg, knn = json.loads(done.stdout.strip().splitlines()[-1]).values()
    assert logreg == knn  # the same scored rows, so the two can be blended
    assert len(logreg) == 360 and logreg == list(range(120, 480))  # 4 periods of 120: not the first
