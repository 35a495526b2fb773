"""Dataset version diffs: what a new version changed relative to its parent."""
import numpy as np
import pandas as pd

from steps.versions import describe_diff, version_diff


def _parent(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.normal(40, 10, n).round(1),
                         "city": rng.choice(["a", "b", "c"], n),
                         "label": rng.choice(["no", "yes"], n, p=[0.8, 0.2])})


def test_identical_content_in_another_order_is_no_change():
    parent = _parent()
    diff = version_diff(parent, parent.sample(frac=1, random_state=1), "label")
    assert (diff["rows_kept"], diff["rows_added"], diff["rows_removed"]) == (400, 0, 0)
    assert not any(c["changed"] for c in diff["changes"])
    assert describe_diff(diff) == ["rows 400 -> 400: 400 kept, 0 added, 0 removed"]


def test_appended_edited_and_dropped_rows_are_counted():
    parent = _parent()
    new = pd.concat([parent.iloc[10:], _parent(50, seed=9)], ignore_index=True)
    new.loc[0, "age"] = 999.0  # an edited row: one removed, one added
    diff = version_diff(parent, new, "label")
    assert diff["rows_removed"] == 11 and diff["rows_added"] == 51 and diff["rows_kept"] == 389
    assert diff["class_counts"]["before"] != diff["class_counts"]["after"]
    assert describe_diff(diff)[0] == ("rows 400 -> 440: 389 kept, 51 new or edited, 11 removed "
                                      "or edited (an edited row counts in both)")


def test_column_changes_are_flagged_and_described():
    parent = _parent()
    new = parent.copy()
    new["age"] = new["age"] + 5  # half a standard deviation
    new.loc[:49, "city"] = "z"  # a new level
    new.loc[new.index[::10], "city"] = None  # 10% missing
    new["income"] = 1.0
    new = new.drop(columns=[])
    diff = version_diff(parent, new, "label")
    flagged = {c["column"]: c for c in diff["changes"] if c["changed"]}
    assert set(flagged) == {"age", "city"}
    assert abs(flagged["age"]["mean_shift_sd"] - 0.5) < 0.05
    assert flagged["city"]["new_levels"] == 1
    text = "\n".join(describe_diff(diff))
    assert "columns added: income" in text and "column age: mean moved +0.5" in text
    assert "column city: 1 new levels; missing 0.0% -> 10.0%" in text
    dropped = version_diff(parent, parent.drop(columns=["city"]), "label")
    assert dropped["columns_removed"] == ["city"]
    # rows are compared on the shared columns: dropping a column alone keeps every row
    assert dropped["rows_kept"] == 400


def test_run_page_lists_the_changes_since_the_parent_version():
    from steps.report import _lineage
    parent = _parent()
    lines = describe_diff(version_diff(parent, parent.iloc[5:], "label"))
    page = _lineage({"dataset_id": "new", "dataset_hash": "abc", "split_id": "s",
                     "parent_dataset_id": "old", "data_changes": lines})
    assert "Changes since the parent version <code>old</code>" in page
    assert "rows 400 -&gt; 395: 395 kept, 0 added, 5 removed" in page
    assert "Changes since" not in _lineage({"dataset_id": "first", "split_id": "s"})
