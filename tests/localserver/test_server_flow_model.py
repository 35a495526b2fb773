"""Flow 3: OutputModel weights/tags/metadata/publish, query_models, InputModel local copy."""
import pytest

pytestmark = pytest.mark.slow

PUBLISH = """
import pickle
from clearml import Task, OutputModel

task = Task.init(project_name="ls-tests/models", task_name="train-model", reuse_last_task_id=False,
                 output_uri=True)
with open("weights.pkl", "wb") as fh:
    pickle.dump({"w": list(range(100))}, fh)
model = OutputModel(task=task, framework="scikit-learn", name="clf")
model.update_weights(weights_filename="weights.pkl", auto_delete_file=False, async_enable=False)
model.tags = ["candidate", "tabular"]
model.set_metadata("auc", "0.91", "float")
with open("draft.pkl", "wb") as fh:
    pickle.dump({"w": []}, fh)
draft = OutputModel(task=task, framework="scikit-learn", name="draft-model")
draft.update_weights(weights_filename="draft.pkl", auto_delete_file=False, async_enable=False)
draft.tags = ["candidate"]
model.publish()
result(task=task.id, model=model.id, draft=draft.id, url=model.url)
task.close()
"""

QUERY = """
from clearml import InputModel, Model

published = Model.query_models(project_name="ls-tests/models", tags=["candidate"], only_published=True)
every = Model.query_models(project_name="ls-tests/models", tags=["candidate"])
m = InputModel(model_id={model!r})
path = m.get_local_copy()
import pickle
with open(path, "rb") as fh:
    weights = pickle.load(fh)
result(published=[x.id for x in published], every=sorted(x.id for x in every), weights_ok=weights == {{"w": list(range(100))}},
       tags=sorted(m.tags), metadata=m.get_all_metadata(), auc=m.get_metadata("auc"), is_published=m.published,
       framework=m.framework, task=m.task)
"""


def test_model_publish_query_and_download(run_sdk, localserver_handle):
    made = run_sdk(PUBLISH)
    assert made["url"].startswith(localserver_handle.files_url)
    got = run_sdk(QUERY.format(model=made["model"]))
    assert got["published"] == [made["model"]]
    assert got["every"] == sorted([made["model"], made["draft"]])
    assert got["weights_ok"] is True
    assert got["tags"] == ["candidate", "tabular"]
    assert got["auc"] == "0.91"
    assert got["metadata"]["auc"]["type"] == "float"
    assert got["is_published"] is True
    assert got["task"] == made["task"]

    api = localserver_handle.api()
    code, body = api.raw("models.edit", model=made["model"], uri="http://elsewhere/w.pkl")
    assert code == 400 and "published" in body["meta"]["result_msg"]
    code, _ = api.raw("models.add_or_update_metadata", model=made["model"], metadata=[{"key": "auc", "value": "1"}])
    assert code == 400
    model = api.call("models.get_by_id", model=made["model"])["model"]
    assert model["uri"] == made["url"] and model["metadata"]["auc"]["value"] == "0.91"
    task = api.call("tasks.get_by_id", task=made["task"])["task"]
    assert {m["model"] for m in task["models"]["output"]} == {made["model"], made["draft"]}
