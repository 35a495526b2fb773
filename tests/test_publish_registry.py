"""The publishing step against the real model registry (embedded server, real SDK):
first candidate becomes champion; a better one takes the tag and is published; a worse one
stays an unpublished challenger; the earlier published models are never changed. A candidate
with the champion's exact weights (a rerun from cache) registers nothing new."""
import pytest

from localserver.testing import localserver_handle, run_sdk  # noqa: F401

pytestmark = pytest.mark.slow

SNIPPET = """
import hashlib, json, joblib, tempfile
from pathlib import Path
from clearml import Model, OutputModel, Task
from sklearn.dummy import DummyClassifier
from pipelines import tracking
from pipelines.publish_task import run_publish

task = Task.init(project_name="registry", task_name="publish", reuse_last_task_id=False)

def candidate(score, split="split-1"):
    path = Path(tempfile.mkdtemp()) / "model.joblib"
    n_b = int(score * 100)  # distinct weights per score: the class prior differs
    joblib.dump(DummyClassifier().fit([[0]] * (100 - n_b) + [[1]] * n_b,
                                      ["a"] * (100 - n_b) + ["b"] * n_b), path)
    model = OutputModel(task=task, name="candidate", framework="ScikitLearn")
    model.update_weights(weights_filename=str(path), auto_delete_file=False, async_enable=False)
    tracking.set_model_metadata(model, {
        "family": "dummy", "metric": "macro_f1", "score": score, "split_id": split,
        "weights_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "classes": ["a", "b"]})
    report = {"metric": "macro_f1", "score": score, "split_id": split, "dataset_hash": "h",
              "gates_passed": True, "gate_reasons": ["ok"], "dataset_name": "toy"}
    return model.id, json.dumps(report)

outcomes = []
for score in (0.70, 0.80, 0.75, 0.80, 0.75):  # the last two: the champion's and a challenger's weights again
    cid, report = candidate(score)
    _, decision = run_publish(cid, report, json.dumps({}), "registry", json.dumps({"git_commit": "abc"}))
    outcomes.append(json.loads(decision))
models = {o["model_id"]: Model(model_id=o["model_id"]) for o in outcomes}
registered = [m.id for m in Model.query_models(model_name="toy-classifier", only_published=False,
                                               max_results=100)]
result(outcomes=outcomes, registered=registered,
       state={i: {"published": m.published, "tags": m.tags,
                  "meta": tracking.model_metadata(m)} for i, m in models.items()})
task.close()
"""


def test_champion_moves_only_on_a_strict_win_and_identical_weights_are_reused(run_sdk):
    out = run_sdk(SNIPPET, timeout=240)
    first, second, third, same_as_champion, same_as_challenger = out["outcomes"]
    state = out["state"]
    assert first["publish"] and first["previous_champion"] is None
    assert second["publish"] and second["previous_champion"] == first["model_id"]
    assert not third["publish"] and third["previous_champion"] == second["model_id"]
    assert state[first["model_id"]]["published"] and state[second["model_id"]]["published"]
    assert "champion" not in state[first["model_id"]]["tags"]  # the tag moved...
    assert "champion" in state[second["model_id"]]["tags"]
    assert not state[third["model_id"]]["published"]
    assert "challenger" in state[third["model_id"]]["tags"]
    # ...and the published model itself is otherwise untouched: lineage kept
    assert state[first["model_id"]]["meta"]["git_commit"] == "abc"
    assert state[first["model_id"]]["meta"]["decision"] == "published"
    # identical weights again: the registered models are reused, nothing is uploaded twice
    assert same_as_champion["already_champion"] and not same_as_champion["publish"]
    assert same_as_champion["model_id"] == second["model_id"]
    assert any("Already the champion" in r for r in same_as_champion["reasons"])
    assert not same_as_challenger["publish"]
    assert same_as_challenger["model_id"] == third["model_id"]  # reused, not uploaded again
    assert sorted(out["registered"]) == sorted({o["model_id"] for o in out["outcomes"][:3]})
    assert "champion" in state[second["model_id"]]["tags"]


PAIRED_SNIPPET = """
import hashlib, json, joblib, tempfile
import numpy as np, pandas as pd
from pathlib import Path
from clearml import Model, OutputModel, Task
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from pipelines import tracking
from pipelines.datastore import create_version
from pipelines.publish_task import run_publish
from steps.error_costs import with_cost_decisions

task = Task.init(project_name="paired", task_name="publish", reuse_last_task_id=False)
rng = np.random.default_rng(0)
x = rng.normal(size=(800, 2))
y = np.where(x[:, 0] + 0.3 * rng.normal(size=800) > 0.6, "b", "a")
frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "label": y})
train, test = frame.iloc[:500], frame.iloc[500:]
recipe = {"target": "label", "classes": ["a", "b"], "positive_label": "b", "group_column": None}
prepared = create_version("paired", "toy-prepared", {"train.parquet": train, "test.parquet": test,
                                                     "recipe.json": recipe})
X_tr, y_tr = train[["x0", "x1"]], train["label"]

def candidate(estimator, score, costs=None):
    path = Path(tempfile.mkdtemp()) / "model.joblib"
    joblib.dump(estimator.fit(X_tr, y_tr), path)
    model = OutputModel(task=task, name="candidate", framework="ScikitLearn")
    model.update_weights(weights_filename=str(path), auto_delete_file=False, async_enable=False)
    tracking.set_model_metadata(model, {
        "family": "toy", "metric": "macro_f1", "score": score, "split_id": "split-1",
        "prepared_dataset_id": prepared,
        "weights_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "classes": ["a", "b"]})
    report = {"metric": "macro_f1", "score": score, "split_id": "split-1", "dataset_hash": "h",
              "gates_passed": True, "gate_reasons": ["ok"], "dataset_name": "toy",
              "positive_label": "b", "beta": 1.0, "costs": costs, "cost_decisions": bool(costs)}
    return model.id, json.dumps(report)

strict = json.dumps({"require_significant_gain": True})
costs = {"b": {"a": 10}}  # a missed "b" costs ten false alarms
aware = with_cost_decisions(LogisticRegression(C=1.0).fit(X_tr, y_tr), costs)
steps = [(DummyClassifier(strategy="prior"), 0.45, "{}"),         # first: nothing to beat
         (LogisticRegression(C=1.0), 0.90, strict),               # a real gain
         (LogisticRegression(C=0.9), 0.905, strict),              # the same model, noise
         (aware, 0.85, "{}")]                                     # lower F1, cheaper decisions
outcomes = []
for estimator, score, cfg in steps:
    cid, report = candidate(estimator, score, costs if estimator is aware else None)
    _, decision = run_publish(cid, report, cfg, "paired", "{}")
    outcomes.append(json.loads(decision))
result(outcomes=outcomes,
       meta={o["model_id"]: tracking.model_metadata(Model(model_id=o["model_id"])) for o in outcomes})
task.close()
"""


def test_candidate_and_champion_are_compared_on_the_same_test_rows(run_sdk):
    out = run_sdk(PAIRED_SNIPPET, timeout=240)
    first, real, noise, by_cost = out["outcomes"]
    assert first["publish"] and first["versus_champion"] is None
    # the logistic model re-scored against the dummy champion on the 300 frozen test rows
    gain = real["versus_champion"]
    assert real["publish"] and gain["rows"] == 300 and gain["significant"]
    assert gain["ci_low"] > 0.2 and gain["delta"] < 1
    assert any("paired gain" in r and "whole interval clears" in r for r in real["reasons"])
    # a near-identical model claims a higher score: noise, so the strict rule keeps the champion
    tie = noise["versus_champion"]
    assert not noise["publish"] and tie["ci_low"] <= 0 <= tie["ci_high"]
    assert any("require_significant_gain" in r and "champion stays" in r for r in noise["reasons"])
    assert out["meta"][noise["model_id"]]["decision"] == "kept unpublished"
    assert '"significant": false' in out["meta"][noise["model_id"]]["versus_champion"]
    # under costs both models' decisions are priced by them: the cheaper one wins, although
    # its recorded macro-F1 (0.85) is below the champion's (0.90)
    saving = by_cost["versus_champion"]
    assert by_cost["publish"] and saving["metric"] == "expected_cost" and saving["delta"] > 0
    assert any("expected cost per row" in r for r in by_cost["reasons"])
