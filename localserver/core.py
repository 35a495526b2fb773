"""Shared building blocks: API errors, the endpoint registry, ids and timestamps.

Every API endpoint is a plain function ``fn(ctx, body) -> dict`` registered under its
``service.action`` name with :func:`endpoint`. ``ctx`` is a :class:`Context` carrying the
store and the server settings; ``body`` is the merged request payload (JSON body plus query
string). Endpoints read only the fields they know and never persist ``body`` wholesale.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

ENDPOINTS: dict[str, Callable[["Context", dict], Any]] = {}


class ApiError(Exception):
    """An error answered to the client as HTTP ``code`` with the same ``meta.result_code``.

    Codes are always <= 500: the SDK retries forever on result codes above 500.
    """

    def __init__(self, code: int, msg: str, subcode: int = 0):
        super().__init__(msg)
        self.code = min(int(code), 500)
        self.subcode = subcode
        self.msg = msg


def bad_request(msg: str, subcode: int = 0) -> ApiError:
    return ApiError(400, msg, subcode)


def not_found(kind: str, ident: Any) -> ApiError:
    # clearml-server reports missing entities as 400 with a kind-specific subcode (e.g. 400/201
    # "invalid task id"); the SDK only looks at the 400.
    sub = {"task": 101, "project": 401, "model": 201, "queue": 701}.get(kind, 0)
    return ApiError(400, f"Invalid {kind} id: {ident}", sub)


@dataclass
class Context:
    store: Any
    files_url: str = ""
    worker: str = ""
    user: str = "local-user"
    company: str = "local"
    extra: dict = field(default_factory=dict)


def endpoint(*names: str):
    """Register ``fn`` as the handler of each ``service.action`` in ``names``."""

    def deco(fn):
        for name in names:
            ENDPOINTS[name] = fn
        return fn

    return deco


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def require(body: dict, key: str) -> Any:
    value = body.get(key)
    if value in (None, "", []):
        raise bad_request(f"Missing required field: {key}")
    return value


def pick(body: dict, keys) -> dict:
    """Return only the known ``keys`` present in ``body`` (never store a body wholesale)."""
    return {k: body[k] for k in keys if k in body}
