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
