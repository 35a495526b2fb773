"""Query semantics of the ``*.get_all`` endpoints, as pure functions over documents.

* ``name`` (and other regex fields): case-insensitive regular-expression *search*.
* tag lists (``tags``, ``system_tags``) and list filters on plain fields (``id``, ``status``,
  ``type``, ``project``, ``parent``, ``task``...): a value matches when any listed value is
  present; ``"-x"`` excludes ``x``; ``"__$all"`` / ``"__$any"`` switch the mode of the values
  that follow; ``"__$not"`` negates the next value.
* ``_all_`` / ``_any_``: ``{"fields": [dotted paths], "pattern": regex}``; all / any of the
  fields must match.
* hidden documents (``"hidden"`` in ``system_tags``) are excluded unless ``search_hidden`` is
  true or an ``id`` filter is given.
* ``order_by``: list of dotted paths, ``-`` prefix = descending; numbers sort numerically,
  strings (ISO timestamps included) lexically; documents missing the field sort last.
* ``page`` (0-based) / ``page_size``; or ``size`` + ``scroll_id`` for scroll paging.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable

MISSING = object()
TRUE_STRINGS = {"true", "1", "yes", "on"}


def get_path(doc: Any, path: str, default: Any = MISSING) -> Any:
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return default
    return cur


def is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUE_STRINGS
    return bool(value)


@lru_cache(maxsize=2048)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(pattern), re.IGNORECASE)


def regex_search(pattern: Any, value: Any) -> bool:
    if pattern is None:
        return True
    if value is None or value is MISSING:
        return False
    return _regex(str(pattern)).search(value if isinstance(value, str) else str(value)) is not None


def match_terms(present: Iterable[Any], terms: Iterable[Any]) -> bool:
    """Evaluate a tag-style filter ``terms`` against the set of values ``present``."""
    have = {str(v) for v in present if v is not None}
    if any(v is None for v in present) or not have:
        have_null = True
    else:
        have_null = False
    mode, negate_next = "any", False
    any_pos, all_terms, negatives = [], [], []
    for term in terms:
        if term == "__$all":
            mode = "all"
            continue
        if term == "__$any":
            mode = "any"
            continue
        if term in ("__$not", "__$nor"):
            negate_next = True
            continue
        negated = negate_next
        negate_next = False
        if isinstance(term, str) and term.startswith("-") and len(term) > 1:
            negated, term = not negated, term[1:]
        if term is None:
            hit = have_null
        else:
            hit = str(term) in have
        if negated:
            negatives.append(hit)
        elif mode == "all":
            all_terms.append(hit)
        else:
            any_pos.append(hit)
    if any(negatives):
        return False
    if not all(all_terms):
        return False
    return any(any_pos) if any_pos else True


def _values(doc: dict, field: str) -> list:
    value = get_path(doc, field, None)
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value.get("id")]
    return [value]


def match_pattern_fields(doc: dict, spec: dict, require_all: bool) -> bool:
    fields = spec.get("fields") or []
    pattern = spec.get("pattern")
    if not fields or pattern is None:
        return True
    hits = []
    for field in fields:
        value = get_path(doc, field, None)
        if isinstance(value, list):
            hits.append(any(regex_search(pattern, v) for v in value))
        elif isinstance(value, dict):
            hits.append(False)
        else:
            hits.append(regex_search(pattern, value))
    return all(hits) if require_all else any(hits)


def matches(doc: dict, body: dict, regex_fields: Iterable[str], list_fields: Iterable[str],
            bool_fields: Iterable[str] = ()) -> bool:
    for field in regex_fields:
        pattern = body.get(field)
        if pattern not in (None, "") and not regex_search(pattern, get_path(doc, field, None)):
            return False
    for field in list_fields:
        terms = body.get(field)
        if terms is None:
            continue
        if not isinstance(terms, list):
            terms = [terms]
        if not terms:
            continue
        if not match_terms(_values(doc, field), terms):
            return False
    for field in bool_fields:
        if field in body and body[field] is not None:
            if bool(get_path(doc, field, False)) != is_true(body[field]):
                return False
    if isinstance(body.get("_all_"), dict) and not match_pattern_fields(doc, body["_all_"], True):
        return False
    if isinstance(body.get("_any_"), dict) and not match_pattern_fields(doc, body["_any_"], False):
        return False
    text = body.get("search_text")
    if text:
        hay = [doc.get("id"), doc.get("name"), doc.get("comment")]
        if not any(regex_search(re.escape(str(text)), h) for h in hay):
            return False
    if not is_true(body.get("search_hidden")) and not body.get("id"):
        if "hidden" in (doc.get("system_tags") or []):
            return False
    return True


def _sort_key(value: Any):
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, (int, float)):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value)
    return (2, str(value))


def order(docs: list[dict], order_by: Iterable[str] | str | None) -> list[dict]:
    if not order_by:
        return docs
    if isinstance(order_by, str):
        order_by = [order_by]
    result = list(docs)
    for spec in reversed([o for o in order_by if o]):
        desc = spec.startswith("-")
        field = spec.lstrip("-+")
        present, missing = [], []
        for doc in result:
            (missing if get_path(doc, field, None) is None else present).append(doc)
        present.sort(key=lambda d: _sort_key(get_path(doc=d, path=field)), reverse=desc)
        result = present + missing
    return result


def paginate(docs: list[dict], body: dict) -> tuple[list[dict], str | None]:
    """Apply page/page_size (or size/scroll_id). Returns the page and the next scroll id."""
    size = body.get("page_size")
    page = body.get("page")
    if size is None and page is None and body.get("size") is not None:
        start = int(body.get("scroll_id") or 0) if str(body.get("scroll_id") or "0").isdigit() else 0
        end = start + int(body["size"])
        return docs[start:end], str(min(end, len(docs)))
    if size is None and page is None:
        return docs, None
    size = int(size if size is not None else 500)
    page = int(page or 0)
    return docs[page * size:(page + 1) * size], None


def project_fields(doc: dict, only_fields: Iterable[str] | None) -> dict:
    """Keep only the requested (dotted) fields; ``id`` is always kept.

    Like a document-store projection, existing parent objects of a missing leaf are kept
    (``runtime.version`` on ``{"runtime": {}}`` gives ``{"runtime": {}}``).
    """
    if not only_fields:
        return doc
    out: dict = {"id": doc.get("id")}
    for path in only_fields:
        src, dst = doc, out
        parts = path.split(".")
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            if i == len(parts) - 1:
                dst[part] = src[part]
                break
            src = src[part]
            if not isinstance(src, dict):
                dst[part] = src
                break
            nxt = dst.get(part)
            if not isinstance(nxt, dict):
                nxt = dst[part] = {}
            dst = nxt
    return out


def run_query(docs: list[dict], body: dict, regex_fields=("name",), list_fields=(), bool_fields=()):
    """Filter, order, page and project ``docs`` per ``body``; returns (docs, scroll_id)."""
    hits = [d for d in docs if matches(d, body, regex_fields, list_fields, bool_fields)]
    hits = order(hits, body.get("order_by"))
    page, scroll = paginate(hits, body)
    return [project_fields(d, body.get("only_fields")) for d in page], scroll
