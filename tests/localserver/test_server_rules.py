"""Unit tests of the task status machine, edit locks, queues and transport (in-process, no SDK)."""
import base64
import json
import urllib.error
import urllib.request


from localserver.services.tasks_status import check_editable, check_transition


def new_task(api, name="t", **extra):
    return api.call("tasks.create", name=name, type="training", **extra)["id"]


def status(api, task):
    return api.call("tasks.get_by_id", task=task)["task"]["status"]


def test_transition_table():
    assert check_transition("created", "in_progress") is None
    assert check_transition("queued", "in_progress") is None
    assert check_transition("in_progress", "completed") is None
    assert check_transition("created", "queued") is None
    assert check_transition("completed", "queued") is not None
    assert check_transition("completed", "queued", force=True) is None
    assert check_transition("completed", "published") is None
    assert check_transition("in_progress", "published") is not None
    assert "published" in check_transition("published", "created", force=True)
    assert check_transition("created", "bogus") is not None


def test_edit_rules():
    assert check_editable({"id": "t", "status": "created"}, ["name"], False) is None
    assert check_editable({"id": "t", "status": "in_progress"}, ["name"], False) is not None
    assert check_editable({"id": "t", "status": "in_progress"}, ["name"], True) is None
    assert "published" in check_editable({"id": "t", "status": "published"}, ["script"], True)
    assert check_editable({"id": "t", "status": "published"}, ["tags"], False) is None
    ds = {"id": "t", "status": "completed", "system_tags": ["dataset"]}
    assert "finalized" in check_editable(ds, ["runtime"], True)
    assert check_editable({"id": "t", "status": "completed"}, ["runtime"], True) is None


def test_lifecycle_counters_and_publish_lock(api):
    tid = new_task(api)
    assert api.call("tasks.started", task=tid)["started"] == 1
    assert status(api, tid) == "in_progress"
    code, body = api.raw("tasks.edit", task=tid, comment="no force")
    assert code == 400 and body["meta"]["result_code"] == 400
    assert api.call("tasks.edit", task=tid, force=True, comment="forced")["updated"] == 1
    assert api.call("tasks.completed", task=tid)["updated"] == 1
    assert api.call("tasks.publish", task=tid)["updated"] == 1
    code, body = api.raw("tasks.edit", task=tid, force=True, name="renamed")
    assert code == 400 and "published" in body["meta"]["result_msg"]
    code, _ = api.raw("tasks.reset", task=tid, force=True)
    assert code == 400
    assert api.call("tasks.edit", task=tid, force=True, tags=["kept"])["updated"] == 1
    doc = api.call("tasks.get_by_id", task=tid)["task"]
    assert doc["name"] == "t" and doc["tags"] == ["kept"] and doc["comment"] == "forced"


def test_queue_fifo_dequeue_and_stale_entries(api):
    qid = api.call("queues.create", name="unit-q")["id"]
    t1, t2, t3 = new_task(api, "q1"), new_task(api, "q2"), new_task(api, "q3")
    for t in (t1, t2, t3):
        out = api.call("tasks.enqueue", task=t, queue=qid)
        assert out["queued"] == 1 and out["updated"] == 1
    assert status(api, t1) == "queued"
    assert api.call("queues.get_num_entries", queue=qid)["num"] == 3
    assert api.call("tasks.dequeue", task=t2)["updated"] == 1
    assert status(api, t2) == "created"
    assert api.call("tasks.dequeue", task=t2)["updated"] == 0          # not queued: no-op
    api.call("tasks.stop", task=t3)                                     # queued -> stopped, entry removed
    assert status(api, t3) == "stopped"
    assert api.call("queues.get_next_task", queue=qid)["entry"]["task"] == t1
    assert api.call("queues.get_next_task", queue=qid) == {}
    code, _ = api.raw("tasks.enqueue", task=new_task(api), queue="no-such-queue")
    assert code == 400
    by_name = api.call("tasks.enqueue", task=new_task(api), queue_name="unit-q")
    assert by_name["fields"]["execution.queue"] == qid
    default = api.call("queues.get_default")
    assert default["name"] == "default"


def test_stop_running_remote_task_only_flags_it(api):
    remote = new_task(api, "remote")
    api.call("tasks.started", task=remote)
    api.call("tasks.stop", task=remote)
    doc = api.call("tasks.get_by_id", task=remote)["task"]
    assert doc["status"] == "in_progress" and doc["status_message"] == "stopping"
    local = new_task(api, "local", system_tags=["development"])
    api.call("tasks.started", task=local)
    api.call("tasks.stop", task=local)
    assert status(api, local) == "stopped"


def test_metrics_clone_and_reset(api):
    tid = new_task(api, "metrics", hyperparams={"Args": {"lr": {"section": "Args", "name": "lr", "value": 0.5}}})
    api.call("tasks.started", task=tid)
    api.call("tasks.add_or_update_artifacts", task=tid, artifacts=[{"key": "a", "type": "custom", "uri": "u"}])
    lines = "\n".join(json.dumps({"type": "training_stats_scalar", "task": tid, "iter": i, "metric": "loss",
                                  "variant": "train", "value": v}) for i, v in [(0, 3.0), (1, 1.0), (2, 2.0)])
    out = api.call("events.add_batch", requests=[json.loads(x) for x in lines.splitlines()])
    assert out["added"] == 3
    doc = api.call("tasks.get_by_id", task=tid)["task"]
    import hashlib
    h = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    entry = doc["last_metrics"][h("loss")][h("train")]
    assert (entry["value"], entry["min_value"], entry["max_value"]) == (2.0, 1.0, 3.0)
    assert entry["min_value_iteration"] == 1 and doc["last_iteration"] == 2
    assert doc["hyperparams"]["Args"]["lr"]["value"] == "0.5"
    hist = api.call("events.scalar_metrics_iter_histogram", task=tid)
    assert hist == {"loss": {"train": {"name": "train", "x": [0, 1, 2], "y": [3.0, 1.0, 2.0]}}}
    clone = api.call("tasks.clone", task=tid, new_task_name="copy")["id"]
    cdoc = api.call("tasks.get_by_id", task=clone)["task"]
    assert cdoc["status"] == "created" and cdoc["parent"] == tid and cdoc["name"] == "copy"
    assert cdoc["hyperparams"] == doc["hyperparams"] and cdoc["last_metrics"] == {}
    assert cdoc["execution"]["artifacts"] == []
    api.call("tasks.reset", task=tid, force=True)
    doc = api.call("tasks.get_by_id", task=tid)["task"]
    assert doc["status"] == "created" and doc["last_metrics"] == {} and doc["execution"]["artifacts"] == []
    assert api.call("events.get_task_events", task=tid)["total"] == 0


def test_event_scroll_terminates(api):
    tid = new_task(api, "scroll")
    api.call("events.add_batch", requests=[{"type": "log", "task": tid, "msg": f"line {i}"} for i in range(25)])
    seen, scroll, total = [], None, None
    while True:
        out = api.call("events.get_task_events", task=tid, event_type="log", batch_size=10, scroll_id=scroll)
        total = out["total"]
        seen += [e["msg"] for e in out["events"]]
        scroll = out["scroll_id"]
        if out["returned"] < 10:
            break
    assert total == 25 and seen == [f"line {i}" for i in range(25)]
    log = api.call("events.get_task_log", task=tid, batch_size=5, navigate_earlier=True, order="asc")
    assert [e["msg"] for e in log["events"]] == [f"line {i}" for i in range(20, 25)]


def test_published_model_is_frozen(api):
    mid = api.call("models.create", name="m", uri="http://x/m.pkl")["id"]
    api.call("models.add_or_update_metadata", model=mid, metadata=[{"key": "k", "type": "int", "value": 3}])
    assert api.call("models.get_by_id", model=mid)["model"]["metadata"]["k"] == {"key": "k", "type": "int",
                                                                                 "value": "3"}
    assert api.call("models.set_ready", model=mid, publish_task=False)["updated"] == 1
    for endpoint, extra in [("models.edit", {"uri": "http://x/other"}), ("models.edit", {"name": "n"}),
                            ("models.add_or_update_metadata", {"metadata": [{"key": "k", "value": "4"}]})]:
        code, body = api.raw(endpoint, model=mid, **extra)
        assert code == 400 and "published" in body["meta"]["result_msg"], endpoint
    assert api.call("models.edit", model=mid, tags=["prod"])["updated"] == 1
    # The SDK's tags setter re-sends every field: unchanged values are not an edit.
    assert api.call("models.edit", model=mid, name="m", uri="http://x/m.pkl",
                    tags=["prod", "champion"])["updated"] == 1
    api.call("models.edit", model=mid, tags=["prod"])
    assert api.call("models.get_by_id", model=mid)["model"]["uri"] == "http://x/m.pkl"
    ready = api.call("models.get_all", ready=True, tags=["prod"], only_fields=["id"])["models"]
    assert [m["id"] for m in ready] == [mid]


def _http(url, body=None, headers=None, method="GET"):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_transport_auth_envelope_and_routing(server, api):
    bad = "Basic " + base64.b64encode(b"nope:wrong").decode()
    code, headers, body = _http(f"{server.api_url}/auth.login", headers={"Authorization": bad})
    assert code == 401 and body["meta"]["result_code"] == 401
    code, _, body = _http(f"{server.api_url}/v2.23/tasks.get_all")          # no token
    assert code == 401
    token = api.login()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    tid = new_task(api, "routing")
    for path in ("/v2.23/tasks.get_by_id", "/tasks.get_by_id", "/v2.5/tasks.get_by_id"):
        code, headers, body = _http(server.api_url + path, {"task": tid, "method": "get"}, auth)
        assert code == 200 and body["meta"]["result_code"] == 200 and body["data"]["task"]["id"] == tid
        assert headers["Connection"] == "close"
    code, _, body = _http(f"{server.api_url}/tasks.get_by_id?task={tid}", None, auth, method="GET")
    assert code == 200 and body["data"]["task"]["id"] == tid
    code, _, body = _http(f"{server.api_url}/tasks.edit", {"task": tid, "name": "n2", "method": "get",
                                                           "junk": 1}, auth, method="PUT")
    assert code == 200
    doc = api.call("tasks.get_by_id", task=tid)["task"]
    assert "method" not in doc and "junk" not in doc and doc["name"] == "n2"
    code, _, body = _http(f"{server.api_url}/nosuch.endpoint", {}, auth, method="POST")
    assert code == 404 and body["meta"]["result_code"] == 404
    code, _, body = _http(f"{server.api_url}/tasks.get_by_id", {"task": "missing"}, auth, method="POST")
    assert code == 400 and body["meta"]["result_subcode"] == 101
    assert body["data"] == {}          # the SDK reads attributes of error responses too


def _raw(url_base, method, path, body=b"", headers=None):
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(url_base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def _multipart(name: str, payload: bytes):
    boundary = "----lsboundary42"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_file_server_roundtrip_and_traversal(server):
    payload = bytes(range(256)) * 10 + b"\r\n--not-a-boundary\r\n"
    body, headers = _multipart("proj/task.abc/artifacts/x/data.bin", payload)
    code, _, out = _raw(server.files_url, "POST", "/", body, headers)
    assert code == 200 and json.loads(out) == ["proj/task.abc/artifacts/x/data.bin"]
    code, hdrs, data = _raw(server.files_url, "GET", "/proj/task.abc/artifacts/x/data.bin?download=")
    assert code == 200 and data == payload and hdrs["Connection"] == "close"
    code, hdrs, data = _raw(server.files_url, "HEAD", "/proj/task.abc/artifacts/x/data.bin")
    assert code == 200 and int(hdrs["Content-Length"]) == len(payload) and data == b""
    assert not list((server.data_dir / "files" / "proj" / "task.abc" / "artifacts" / "x").glob(".upload-*"))
    for evil in ("../escape.txt", "a/../../escape.txt", "%2e%2e/escape.txt"):
        body, headers = _multipart(evil, b"x")
        assert _raw(server.files_url, "POST", "/", body, headers)[0] == 400, evil
    assert _raw(server.files_url, "GET", "/../credentials.json")[0] in (400, 404)
    assert _raw(server.files_url, "GET", "/%2e%2e/credentials.json")[0] == 400
    assert not (server.data_dir / "escape.txt").exists()
    assert _raw(server.files_url, "DELETE", "/proj/task.abc/artifacts/x/data.bin")[0] == 200
    assert _raw(server.files_url, "GET", "/proj/task.abc/artifacts/x/data.bin")[0] == 404


def test_file_names_keep_the_percent_signs_clearml_put_in_them(server):
    # ClearML quotes some characters of a task name in the object path it uploads to, then
    # quotes the whole link it stores: the name is literal, the link is decoded once
    body, headers = _multipart("proj/knn trial%3A x.abc/artifacts/oof.npz", b"oof")
    code, _, out = _raw(server.files_url, "POST", "/", body, headers)
    assert code == 200 and json.loads(out) == ["proj/knn trial%3A x.abc/artifacts/oof.npz"]
    link = "/proj/knn%20trial%253A%20x.abc/artifacts/oof.npz"
    assert _raw(server.files_url, "GET", link)[2] == b"oof"
    # files written by earlier versions, which decoded the name as well, are still found
    old = server.data_dir / "files" / "proj" / "old: x.abc" / "a.bin"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"old")
    assert _raw(server.files_url, "GET", "/proj/old%253A%20x.abc/a.bin")[2] == b"old"
