"""Unit tests of the query engine (no server, no SDK)."""
from localserver.query import match_terms, matches, order, paginate, project_fields, run_query

TASKS = [
    {"id": "a1", "name": "Train model", "status": "completed", "type": "training", "tags": ["x", "y"],
     "system_tags": ["dataset"], "runtime": {"version": "1.0.2", "pipeline_job_hash": "abc"},
     "last_metrics": {"m": {"v": {"value": 10.0}}}, "last_update": "2024-01-01T00:00:02.000000+00:00"},
    {"id": "b2", "name": "train", "status": "in_progress", "type": "training", "tags": ["y"],
     "system_tags": ["dataset", "archived"], "runtime": {"version": "1.0.10"},
     "last_metrics": {"m": {"v": {"value": 9.5}}}, "last_update": "2024-01-01T00:00:03.000000+00:00"},
    {"id": "c3", "name": "eval", "status": "failed", "type": "testing", "tags": [], "system_tags": ["hidden"],
     "runtime": {}, "last_metrics": {"m": {"v": {"value": 100.0}}},
     "last_update": "2024-01-01T00:00:01.000000+00:00"},
    {"id": "d4", "name": "TRAIN (copy)", "status": "created", "type": "training", "tags": ["x"],
     "system_tags": [], "runtime": {"pipeline_job_hash": "abcd"}, "last_update": "2024-01-01T00:00:04.000000+00:00"},
]
LIST = ("id", "status", "type", "tags", "system_tags")


def ids(body):
    docs, _ = run_query(TASKS, body, regex_fields=("name",), list_fields=LIST)
    return [d["id"] for d in docs]


def test_name_is_case_insensitive_regex_search():
    assert ids({"name": "train"}) == ["a1", "b2", "d4"]
    assert ids({"name": "^train$"}) == ["b2"]
    assert ids({"name": r"TRAIN \(copy\)"}) == ["d4"]
    assert ids({"name": "^nothing$"}) == []


def test_tag_operators():
    assert match_terms(["x", "y"], ["x"]) and match_terms(["y"], ["x", "y"])
    assert not match_terms(["y"], ["x"])
    assert ids({"tags": ["x"]}) == ["a1", "d4"]
    assert ids({"tags": ["x", "y"]}) == ["a1", "b2", "d4"]          # any by default
    assert ids({"tags": ["__$all", "x", "y"]}) == ["a1"]
    assert ids({"tags": ["-x"]}) == ["b2"]                          # hidden c3 excluded
    assert ids({"system_tags": ["__$all", "dataset", "__$not", "archived"]}) == ["a1"]
    assert ids({"system_tags": ["-archived"], "tags": ["__$any", "y", "x"]}) == ["a1", "d4"]
    assert ids({"tags": []}) == ["a1", "b2", "d4"]


def test_list_filters_on_plain_fields():
    assert ids({"status": ["completed", "created"]}) == ["a1", "d4"]
    assert ids({"status": "in_progress"}) == ["b2"]
    assert ids({"status": ["-completed"], "type": ["training"]}) == ["b2", "d4"]
    assert ids({"id": ["a1", "c3"]}) == ["a1", "c3"]                # id given: hidden included


def test_hidden_excluded_unless_requested():
    assert "c3" not in ids({})
    assert ids({"search_hidden": True, "status": ["failed"]}) == ["c3"]
    assert ids({"search_hidden": "true", "name": "eval"}) == ["c3"]


def test_all_any_patterns_on_dotted_fields():
    assert ids({"_all_": {"fields": ["runtime.pipeline_job_hash"], "pattern": "^abc$"}}) == ["a1"]
    assert ids({"_all_": {"fields": ["runtime.pipeline_job_hash"], "pattern": "abc"}}) == ["a1", "d4"]
    assert ids({"_any_": {"fields": ["name", "runtime.version"], "pattern": "^1\\.0\\.10$"}}) == ["b2"]
    assert ids({"_all_": {"fields": ["name", "runtime.version"], "pattern": "^train"}}) == []


def test_order_by_numeric_timestamps_and_missing_last():
    assert [d["id"] for d in order(TASKS, ["last_metrics.m.v.value"])] == ["b2", "a1", "c3", "d4"]
    assert [d["id"] for d in order(TASKS, ["-last_metrics.m.v.value"])] == ["c3", "a1", "b2", "d4"]
    assert [d["id"] for d in order(TASKS, ["-last_update"])] == ["d4", "b2", "a1", "c3"]
    assert [d["id"] for d in order(TASKS, ["type", "-last_update"])] == ["c3", "d4", "b2", "a1"]


def test_paging_and_projection():
    docs = [{"id": str(i)} for i in range(7)]
    assert [d["id"] for d in paginate(docs, {"page": 1, "page_size": 3})[0]] == ["3", "4", "5"]
    assert [d["id"] for d in paginate(docs, {"page": 2, "page_size": 3})[0]] == ["6"]
    first, scroll = paginate(docs, {"size": 4})
    rest, _ = paginate(docs, {"size": 4, "scroll_id": scroll})
    assert len(first) == 4 and len(rest) == 3
    doc = TASKS[0]
    assert project_fields(doc, ["runtime.version", "status"]) == {"id": "a1", "runtime": {"version": "1.0.2"},
                                                                   "status": "completed"}
    assert project_fields(TASKS[2], ["runtime.version"]) == {"id": "c3", "runtime": {}}
    assert project_fields(TASKS[3], ["last_metrics.m.v"]) == {"id": "d4"}


def test_bool_fields_and_search_text():
    models = [{"id": "m1", "name": "a", "ready": True}, {"id": "m2", "name": "b", "ready": False}]
    assert [m["id"] for m in models if matches(m, {"ready": True}, (), (), ("ready",))] == ["m1"]
    assert [m["id"] for m in models if matches(m, {"ready": "false"}, (), (), ("ready",))] == ["m2"]
    assert ids({"search_text": "copy"}) == ["d4"]
