"""Dataset versioning against the embedded server with the real SDK: a changed table becomes
a child version that records its parent and what changed; unchanged content is reused."""
import pytest

from localserver.testing import localserver_handle, run_sdk  # noqa: F401

pytestmark = pytest.mark.slow

SNIPPET = """
import json, tempfile
import numpy as np, pandas as pd
from pathlib import Path
from clearml import Task
from pipelines.datastore import fetch_json
from pipelines.step_tasks import run_version_dataset

task = Task.init(project_name="versions", task_name="dataset", reuse_last_task_id=False)
folder = Path(tempfile.mkdtemp())
rng = np.random.default_rng(0)
first = pd.DataFrame({"x": rng.normal(size=300).round(3), "city": rng.choice(["a", "b"], 300),
                      "label": rng.choice(["no", "yes"], 300, p=[0.8, 0.2])})
flipped = first.iloc[:5].assign(label=np.where(first.label.iloc[:5] == "yes", "no", "yes"))
second = pd.concat([first.iloc[20:], flipped], ignore_index=True)
second.loc[0, "city"] = "z"
cfg = json.dumps({"source": str(folder / "table.csv"), "target": "label", "dataset_name": "t"})
ids = []
for frame in (first, second, second):
    frame.to_csv(folder / "table.csv", index=False)
    ids.append(run_version_dataset(cfg, "versions")[0])
summary = fetch_json(ids[1], "summary.json")
result(ids=ids, parent=summary["parent"], changes=summary["changes_since_parent"],
       first_changes=fetch_json(ids[0], "summary.json")["changes_since_parent"])
task.close()
"""


def test_a_new_version_records_its_parent_and_what_changed(run_sdk):
    out = run_sdk(SNIPPET, timeout=240)
    first, second, again = out["ids"]
    assert second != first and again == second  # unchanged content: the version is reused
    assert out["parent"] == first and out["first_changes"] is None
    changes = out["changes"]
    # 20 rows dropped; 5 of them back with the other label; one kept row edited (city -> z)
    assert changes["rows_removed"] == 21 and changes["rows_added"] == 6
    assert changes["class_counts"]["before"] != changes["class_counts"]["after"]
    city = next(c for c in changes["changes"] if c["column"] == "city")
    assert city["new_levels"] == 1 and city["changed"]


TIME_SNIPPET = """
import json, tempfile
import numpy as np, pandas as pd
from pathlib import Path
from clearml import Task
from pipelines.datastore import fetch_frame, fetch_json
from pipelines.step_tasks import run_preprocess, run_version_dataset

task = Task.init(project_name="versions-time", task_name="steps", reuse_last_task_id=False)
folder = Path(tempfile.mkdtemp())
rng = np.random.default_rng(0)
days = pd.date_range("2024-01-01", periods=300, freq="D")
frame = pd.DataFrame({"signup": days.strftime("%Y-%m-%d"), "x": rng.normal(size=300),
                      "days_on": np.arange(300) + rng.normal(0, 0.3, 300),  # a trend
                      "label": rng.choice(["no", "yes"], 300, p=[0.8, 0.2])})
frame = frame.sample(frac=1, random_state=1)  # file order is not time order
frame.to_csv(folder / "accounts.csv", index=False)
base = {"source": str(folder / "accounts.csv"), "target": "label", "dataset_name": "acc"}
plain_id, digest = run_version_dataset(json.dumps(base), "versions-time")
timed_id, _ = run_version_dataset(json.dumps({**base, "time_column": "signup"}), "versions-time")
again_id, _ = run_version_dataset(json.dumps({**base, "time_column": "signup"}), "versions-time")
prepared = run_preprocess(timed_id, digest, json.dumps({}), "versions-time")
train, test = fetch_frame(prepared, "train.parquet"), fetch_frame(prepared, "test.parquet")
recipe = fetch_json(prepared, "recipe.json")
schema = {c["column"]: c["role"] for c in fetch_json(timed_id, "summary.json")["schema"]}
# a backtest, then the same split reused under another recipe; then a gap, reusing seed 0's
spans = {}
for name, settings in (("backtest", {"split_seed": 1}),
                       ("backtest_reused", {"split_seed": 1, "scaling": "robust"}),
                       ("gap_reused", {"time_gap": "10D"})):
    version = run_preprocess(timed_id, digest, json.dumps(settings), "versions-time")
    part, scored = fetch_frame(version, "train.parquet"), fetch_frame(version, "test.parquet")
    spans[name] = [part.signup.max(), scored.signup.min(), scored.signup.max(), len(part),
                   fetch_json(version, "recipe.json")["time_gap"],
                   fetch_json(version, "recipe.json")["data_notes"][0]]
result(ids=[plain_id, timed_id, again_id], train_last=train.signup.max(), schema=schema,
       test_first=test.signup.min(), test_rows=len(test), recipe=recipe, spans=spans)
task.close()
"""


def test_a_time_column_makes_a_new_version_and_an_out_of_time_split(run_sdk):
    out = run_sdk(TIME_SNIPPET, timeout=240)
    plain, timed, again = out["ids"]
    assert timed != plain and again == timed  # the declaration is part of the version
    assert out["schema"] == {"signup": "time", "x": "numeric", "days_on": "numeric",
                             "label": "target"}
    assert out["train_last"] < out["test_first"] and out["test_rows"] == 60
    recipe = out["recipe"]
    assert recipe["time_column"] == "signup"
    assert "signup" not in recipe["roles"]["numeric"] + recipe["roles"]["categorical"]
    assert recipe["data_notes"][0].startswith("out-of-time split on 'signup': training rows "
                                              "2024-01-01 .. 2024-08-27, test rows 2024-08-28 .. 2024-10-26")
    trend = recipe["data_notes"][1]  # the counter is named, x (noise) is not
    assert trend.startswith("column 'days_on' tells the test period from the training period")
    assert not any("'x'" in line for line in recipe["data_notes"])
    spans = out["spans"]
    # a reused backtest split never trains on the rows after its test period
    assert spans["backtest_reused"][:4] == spans["backtest"][:4]
    last, first, _, rows, _, note = spans["backtest_reused"]
    assert last < first and rows == 180 and "the 60 later rows are left out" in note
    # a gap on a reused split: the same test rows, 10 fewer training days
    last, first, _, rows, gap, note = spans["gap_reused"]
    assert first == out["test_first"] and last.startswith("2024-08-17") and rows == 230 and gap == "10D"
    assert "the 10 rows within time_gap=10D before the test period are left out" in note
