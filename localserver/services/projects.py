"""``projects.*``: flat documents whose ``/``-separated names imply parent projects."""
from __future__ import annotations

import re

from ..core import ApiError, as_list, endpoint, new_id, now, require
from .common import load, query, str_tags

FIELDS = ("name", "description", "tags", "system_tags", "default_output_destination")


def ensure_project(store, name: str, description: str = "", system_tags=None, user="local-user") -> dict:
    """Return the project called ``name``, creating it and its missing parents."""
    name = "/".join(p.strip() for p in name.split("/") if p.strip())
    if not name:
        raise ApiError(400, "Project name cannot be empty")
    with store.tx():
        for doc in store.scan("projects"):
            if doc["name"] == name:
                return doc
        parent_id = None
        if "/" in name:
            parent_id = ensure_project(store, name.rsplit("/", 1)[0], user=user)["id"]
        ts = now()
        doc = {"id": new_id(), "name": name, "basename": name.rsplit("/", 1)[-1], "description": description or "",
               "user": user, "company": "local", "created": ts, "last_update": ts,
               "tags": [], "system_tags": str_tags(system_tags), "default_output_destination": None,
               "parent": parent_id}
        store.put("projects", doc)
        return doc


@endpoint("projects.create")
def create(ctx, body):
    name = require(body, "name")
    with ctx.store.tx():
        clean = "/".join(p.strip() for p in name.split("/") if p.strip())
        if any(d["name"] == clean for d in ctx.store.scan("projects")):
            raise ApiError(400, f"Project with the same name already exists: {clean}", 403)
        doc = ensure_project(ctx.store, clean, body.get("description") or "", body.get("system_tags"), ctx.user)
        if body.get("tags") or body.get("default_output_destination"):
            doc["tags"] = str_tags(body.get("tags"))
            doc["default_output_destination"] = body.get("default_output_destination")
            ctx.store.put("projects", doc)
    return {"id": doc["id"]}


@endpoint("projects.get_by_id")
def get_by_id(ctx, body):
    return {"project": load(ctx.store, "projects", body.get("project"), "project")}


@endpoint("projects.get_all", "projects.get_all_ex")
def get_all(ctx, body):
    body = dict(body)
    if body.get("parent") is not None:
        # direct children of the given parent id(s)
        parents = as_list(body.pop("parent"))
        body["_parent_ids"] = parents
    docs, scroll = query(ctx.store, "projects", body, regex_fields=("name", "basename"),
                         list_fields=("id", "tags", "system_tags", "user"), indexed=())
    if "_parent_ids" in body:
        docs = [d for d in docs if d.get("parent") in body["_parent_ids"]]
    out = {"projects": docs}
    if scroll is not None:
        out["scroll_id"] = scroll
    return out


@endpoint("projects.update")
def update(ctx, body):
    with ctx.store.tx():
        doc = load(ctx.store, "projects", body.get("project"), "project")
        fields = {}
        for key in FIELDS:
            if key in body:
                value = str_tags(body[key]) if key in ("tags", "system_tags") else body[key]
                fields[key] = value
        if "name" in fields:
            fields["basename"] = fields["name"].rsplit("/", 1)[-1]
        doc.update(fields)
        doc["last_update"] = now()
        ctx.store.put("projects", doc)
    return {"updated": 1, "fields": fields}


@endpoint("projects.delete")
def delete(ctx, body):
    doc = load(ctx.store, "projects", body.get("project"), "project")
    with ctx.store.tx():
        prefix = re.escape(doc["name"]) + "(/|$)"
        victims = [p for p in ctx.store.scan("projects") if re.match(prefix, p["name"])]
        ids = [p["id"] for p in victims]
        tasks = ctx.store.scan("tasks", project=ids)
        models = ctx.store.scan("models", project=ids)
        if (tasks or models) and not body.get("force"):
            raise ApiError(400, f"Project has {len(tasks)} tasks and {len(models)} models; use force=true", 408)
        for t in tasks:
            ctx.store.delete_events(t["id"])
            ctx.store.delete("tasks", t["id"])
        for m in models:
            ctx.store.delete("models", m["id"])
        for p in victims:
            ctx.store.delete("projects", p["id"])
    return {"deleted": len(victims), "deleted_tasks": len(tasks), "deleted_models": len(models),
            "disassociated_tasks": 0}


@endpoint("projects.get_hyper_parameters")
def get_hyper_parameters(ctx, body):
    project = body.get("project")
    seen = {}
    for task in ctx.store.scan("tasks", project=[project] if project else None):
        for section, params in (task.get("hyperparams") or {}).items():
            for name in params:
                seen[(section, name)] = {"section": section, "name": name}
    params = list(seen.values())
    return {"parameters": params, "remaining": 0, "total": len(params)}
