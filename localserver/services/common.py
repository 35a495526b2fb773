"""Helpers shared by the service modules."""
from __future__ import annotations

from ..core import as_list, bad_request, not_found
from ..query import run_query

OPS = ("__$all", "__$any", "__$not", "__$nor", "__$and", "__$or")


def plain_values(value) -> list | None:
    """The filter values when ``value`` is a plain inclusion list (usable for SQL pre-filtering)."""
    if value is None:
        return None
    values = as_list(value)
    if not values or any((not isinstance(v, str)) or v.startswith("-") or v in OPS for v in values):
        return None
    return values


def query(store, kind: str, body: dict, regex_fields=("name",), list_fields=(), bool_fields=(),
          indexed=("project", "parent", "task")):
    """Run a get_all style query for ``kind``; returns (docs, scroll_id)."""
    pre = {}
    ids = plain_values(body.get("id"))
    for col in indexed:
        vals = plain_values(body.get(col))
        if vals is not None:
            pre[col] = vals
    docs = store.scan(kind, ids=ids, **pre)
    return run_query(docs, body, regex_fields=regex_fields, list_fields=list_fields, bool_fields=bool_fields)


def load(store, kind: str, ident, label: str) -> dict:
    if not ident or not isinstance(ident, str):
        raise bad_request(f"Missing or invalid {label} id")
    doc = store.get(kind, ident)
    if doc is None:
        raise not_found(label, ident)
    return doc


def str_tags(value) -> list[str]:
    return [str(v) for v in as_list(value)]
