"""``tasks.*`` parameter/configuration endpoints, plus delete, archive and move."""
from __future__ import annotations

from ..core import ApiError, as_list, endpoint, now, require
from .common import load
from .projects import ensure_project
from .tasks import _locked_edit, _norm_config, _norm_params, clear_outputs
from .tasks_status import remove_from_queue


@endpoint("tasks.edit_hyper_params")
def edit_hyper_params(ctx, body):
    items = [p for p in as_list(require(body, "hyperparams")) if isinstance(p, dict)]
    replace = body.get("replace_hyperparams") or "none"

    def mutate(doc):
        params = doc.get("hyperparams") or {}
        if replace == "all":
            params = {}
        elif replace == "section":
            for sec in {p.get("section") or "General" for p in items}:
                params.pop(sec, None)
        for p in items:
            sec = p.get("section") or "General"
            params.setdefault(sec, {})[p.get("name")] = {**p, "section": sec}
        doc["hyperparams"] = _norm_params(params)
        return {"updated": 1}
    return _locked_edit(ctx, body, "hyperparams", mutate)


@endpoint("tasks.delete_hyper_params")
def delete_hyper_params(ctx, body):
    items = [p for p in as_list(require(body, "hyperparams")) if isinstance(p, dict)]

    def mutate(doc):
        params, deleted = doc.get("hyperparams") or {}, 0
        for p in items:
            sec, name = p.get("section"), p.get("name")
            if sec in params and not name:
                deleted += len(params.pop(sec))
            elif sec in params and name in params[sec]:
                del params[sec][name]
                deleted += 1
                if not params[sec]:
                    params.pop(sec)
        doc["hyperparams"] = params
        return {"deleted": deleted}
    return _locked_edit(ctx, body, "hyperparams", mutate)


@endpoint("tasks.get_hyper_params")
def get_hyper_params(ctx, body):
    out = []
    for tid in as_list(body.get("tasks")):
        doc = load(ctx.store, "tasks", tid, "task")
        flat = [dict(item, section=sec, name=name)
                for sec, params in (doc.get("hyperparams") or {}).items() for name, item in params.items()]
        out.append({"task": tid, "hyperparams": flat})
    return {"params": out}


@endpoint("tasks.edit_configuration")
def edit_configuration(ctx, body):
    items = [c for c in as_list(require(body, "configuration")) if isinstance(c, dict) and c.get("name")]

    def mutate(doc):
        conf = {} if body.get("replace_configuration") else (doc.get("configuration") or {})
        for c in items:
            conf[c["name"]] = c
        doc["configuration"] = _norm_config(conf)
        return {"updated": 1}
    return _locked_edit(ctx, body, "configuration", mutate)


@endpoint("tasks.delete_configuration")
def delete_configuration(ctx, body):
    names = set(as_list(require(body, "configuration")))

    def mutate(doc):
        conf = doc.get("configuration") or {}
        doc["configuration"] = {k: v for k, v in conf.items() if k not in names}
        return {"deleted": len(conf) - len(doc["configuration"])}
    return _locked_edit(ctx, body, "configuration", mutate)


@endpoint("tasks.get_configurations")
def get_configurations(ctx, body):
    names = set(as_list(body.get("names")))
    out = []
    for tid in as_list(body.get("tasks")):
        doc = load(ctx.store, "tasks", tid, "task")
        items = [dict(v, name=k) for k, v in (doc.get("configuration") or {}).items() if not names or k in names]
        out.append({"task": tid, "configuration": items})
    return {"configurations": out}


@endpoint("tasks.get_configuration_names")
def get_configuration_names(ctx, body):
    return {"configurations": [{"task": tid, "names": sorted((load(ctx.store, "tasks", tid, "task")
                                                             .get("configuration") or {}).keys())}
                               for tid in as_list(body.get("tasks"))]}


def _delete_one(ctx, tid: str, force: bool, delete_models: bool) -> dict:
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", tid, "task")
        if doc.get("status") == "in_progress" and not force:
            raise ApiError(400, f"Task {tid} is in progress: delete requires force=true", 110)
        if doc.get("status") == "published" and not force:
            raise ApiError(400, f"Task {tid} is published: delete requires force=true", 110)
        if doc.get("status") == "queued":
            remove_from_queue(ctx.store, doc)
        deleted_models = clear_outputs(ctx.store, doc, delete_models)
        children = 0
        for child in ctx.store.scan("tasks", parent=[tid]):
            child["parent"] = None
            ctx.store.put("tasks", child)
            children += 1
        ctx.store.delete("tasks", tid)
    return {"deleted": True, "updated_children": children, "updated_models": deleted_models, "events": {},
            "urls": {"model_urls": [], "event_urls": [], "artifact_urls": []}}


@endpoint("tasks.delete")
def delete(ctx, body):
    return _delete_one(ctx, body.get("task"), bool(body.get("force")), bool(body.get("delete_output_models", True)))


def _many(ctx, ids, fn):
    ok, failed = [], []
    for tid in as_list(ids):
        try:
            ok.append({"id": tid, **(fn(tid) or {})})
        except ApiError as err:
            failed.append({"id": tid, "error": {"codes": [err.code, err.subcode], "msg": err.msg, "data": {}}})
    return {"succeeded": ok, "failed": failed}


@endpoint("tasks.delete_many")
def delete_many(ctx, body):
    return _many(ctx, body.get("ids"), lambda t: _delete_one(ctx, t, bool(body.get("force")),
                                                             bool(body.get("delete_output_models", True))))


def _set_archived(ctx, tid: str, archived: bool) -> dict:
    with ctx.store.tx():
        doc = load(ctx.store, "tasks", tid, "task")
        tags = [t for t in doc.get("system_tags") or [] if t != "archived"]
        if archived:
            tags.append("archived")
            if doc.get("status") == "queued":
                remove_from_queue(ctx.store, doc)
                doc["status"] = "created"
        doc["system_tags"] = tags
        doc["last_update"] = now()
        ctx.store.put("tasks", doc)
    return {"archived": 1} if archived else {"unarchived": 1}


@endpoint("tasks.archive")
def archive(ctx, body):
    count = sum(_set_archived(ctx, t, True)["archived"] for t in as_list(body.get("tasks")))
    return {"archived": count}


@endpoint("tasks.archive_many")
def archive_many(ctx, body):
    return _many(ctx, body.get("ids"), lambda t: _set_archived(ctx, t, True))


@endpoint("tasks.unarchive_many")
def unarchive_many(ctx, body):
    return _many(ctx, body.get("ids"), lambda t: _set_archived(ctx, t, False))


@endpoint("tasks.move")
def move(ctx, body):
    with ctx.store.tx():
        project = body.get("project")
        if not project and body.get("project_name"):
            project = ensure_project(ctx.store, body["project_name"], user=ctx.user)["id"]
        elif project:
            load(ctx.store, "projects", project, "project")
        for tid in as_list(body.get("ids")):
            doc = load(ctx.store, "tasks", tid, "task")
            doc["project"] = project
            ctx.store.put("tasks", doc)
    return {"project_id": project}
