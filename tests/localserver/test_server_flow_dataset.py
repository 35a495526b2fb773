"""Flow 2: Dataset versions on the local server (create/add/upload/finalize, parent, get, local copy)."""

import pytest

pytestmark = pytest.mark.slow

CREATE = """
import os
from clearml import Dataset

os.makedirs("v1", exist_ok=True)
with open("v1/a.csv", "w") as fh:
    fh.write("x,y\\n1,2\\n3,4\\n")
with open("v1/b.bin", "wb") as fh:
    fh.write(bytes(range(256)) * 64)
ds = Dataset.create(dataset_name="iris", dataset_project="ls-tests/datasets")
ds.add_files("v1")
ds.upload()
ds.finalize()
# modifying the finalized version must not change it (the server refuses task edits,
# artifact registration and file overwrites of a finalized dataset)
os.makedirs("late", exist_ok=True)
with open("late/late.txt", "w") as fh:
    fh.write("added after finalize\\n")
try:
    ds.add_files("late")
    ds.upload()
except Exception:
    pass

os.makedirs("v2", exist_ok=True)
with open("v2/c.txt", "w") as fh:
    fh.write("third file\\n")
child = Dataset.create(dataset_name="iris", dataset_project="ls-tests/datasets", parent_datasets=[ds.id])
child.add_files("v2")
child.upload()
child.finalize()
result(parent=ds.id, child=child.id, child_version=child._dataset_version)
"""

GET = """
import os
from clearml import Dataset

latest = Dataset.get(dataset_project="ls-tests/datasets", dataset_name="iris")
by_id = Dataset.get(dataset_id={parent!r})
root = latest.get_local_copy()
files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
with open(os.path.join(root, "b.bin"), "rb") as fh:
    same = fh.read() == bytes(range(256)) * 64
parent_root = by_id.get_local_copy()
result(latest=latest.id, by_id=by_id.id, files=files, same=same, parent_files=sorted(os.listdir(parent_root)),
       parent_listed=sorted(by_id.list_files()), listed=sorted(latest.list_files()),
       parent_is_final=by_id.is_final(), latest_parents=latest._dependency_graph.get(latest.id))
"""


def test_dataset_versions(run_sdk, localserver_handle):
    made = run_sdk(CREATE)
    assert made["child_version"] == "1.0.1"
    got = run_sdk(GET.format(parent=made["parent"]))
    assert got["latest"] == made["child"]
    assert got["by_id"] == made["parent"]
    assert got["files"] == ["a.csv", "b.bin", "c.txt"]
    assert got["listed"] == ["a.csv", "b.bin", "c.txt"]
    assert got["same"] is True
    assert got["parent_files"] == ["a.csv", "b.bin"]
    assert got["parent_listed"] == ["a.csv", "b.bin"]
    assert got["parent_is_final"] is True
    assert got["latest_parents"] == [made["parent"]]

    # the server itself refuses to modify the finalized (completed) dataset task
    api = localserver_handle.api()
    code, body = api.raw("tasks.edit", task=made["parent"], force=True, comment="changed")
    assert code == 400 and body["meta"]["result_code"] == 400
    assert "finalized" in body["meta"]["result_msg"]
    code, _ = api.raw("tasks.add_or_update_artifacts", task=made["parent"], force=True,
                      artifacts=[{"key": "x", "type": "custom", "uri": "http://x"}])
    assert code == 400
    task = api.call("tasks.get_by_id", task=made["parent"])["task"]
    assert task["status"] == "completed" and "dataset" in task["system_tags"]
    assert task["comment"] != "changed"
    state_url = next(a["uri"] for a in task["execution"]["artifacts"] if a["key"] == "state")
    import urllib.request
    rel = state_url[len(localserver_handle.files_url):]
    req = urllib.request.Request(localserver_handle.files_url + rel, data=b"", method="DELETE")
    try:
        urllib.request.urlopen(req)
        deleted = True
    except urllib.error.HTTPError as err:
        deleted = err.code not in (403, 404)
    assert not deleted, "files of a finalized dataset must not be deletable"
