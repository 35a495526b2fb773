"""HTTP transport for the API: routing, authentication and the ``{meta, data}`` envelope.

* Routes on ``service.action`` taken from the last path segment, whatever the version prefix
  (``/v2.23/tasks.get_by_id``, ``/tasks.get_by_id``, ``/api/v2.5/queues.get_all``).
* Accepts GET/POST/PUT with a JSON body (or JSON lines for ``events.add_batch``) and merges
  query-string parameters into it.
* ``meta.result_code`` always equals the HTTP status and never exceeds 500 (the SDK retries
  forever on > 500 and waits endlessly on 503).
* GET on a web-app address the SDK prints (``/projects/<p>/experiments/<task>/...``, a model,
  ``/`` from a browser) answers with a read-only HTML page (``localserver.webpages``).
* Every response carries ``Connection: close`` and the socket is closed afterwards: the SDK
  forks a reporter process that may share a pooled keep-alive socket with its parent.
"""
from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .core import ENDPOINTS, ApiError, Context
from .reports import report_file
from .webpages import web_page

log = logging.getLogger("localserver.api")
_VERSION_RE = re.compile(r"^v?(\d+\.\d+)$")
MAX_BODY = 512 * 1024 * 1024


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def parse_route(path: str) -> tuple[str, str]:
    """Return ``(endpoint_name, requested_version)`` for a request path."""
    parts = [p for p in urlsplit(path).path.split("/") if p]
    name = parts[-1] if parts else ""
    version = ""
    if len(parts) >= 2:
        m = _VERSION_RE.match(parts[-2])
        if m:
            version = m.group(1)
    return name, version


def parse_body(raw: bytes, content_type: str, query: str) -> dict:
    body: dict = {}
    text = raw.decode("utf-8") if raw else ""
    if text.strip():
        if "json-lines" in content_type or "ndjson" in content_type:
            # one parse of the whole batch is much faster than one json.loads per line
            lines = [line for line in text.splitlines() if line.strip()]
            body = {"requests": json.loads("[" + ",".join(lines) + "]")}
        else:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
            body = parsed if isinstance(parsed, dict) else {"requests": parsed}
    for key, value in parse_qsl(query, keep_blank_values=True):
        body.setdefault(key, value)
    return body


def envelope(name: str, version: str, code: int, data, msg: str = "OK", subcode: int = 0, stack=None) -> dict:
    return {
        "meta": {
            "id": uuid.uuid4().hex,
            "trx": uuid.uuid4().hex,
            "endpoint": {"name": name, "requested_version": version or "2.31", "actual_version": "2.31"},
            "result_code": code,
            "result_subcode": subcode,
            "result_msg": msg,
            "error_stack": stack,
        },
        "data": data,
    }


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "clearml-localserver"
    app = None  # set by make_api_server

    def log_message(self, fmt, *args):  # silence default stderr logging
        pass

    def _reply(self, code: int, payload: dict):
        data = json.dumps(payload, default=str).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _reply_html(self, code: int, text: str, content_type: str = "text/html; charset=utf-8"):
        data = text.encode() if isinstance(text, str) else text
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _handle(self):
        if self.command == "GET":  # the SDK's printed web-app links (read-only pages)
            reports = self.app.layout.root / "reports"
            found = report_file(reports, self.path)
            if found is not None:
                code, kind, body = found
                return self._reply_html(code, body, kind)
            page = web_page(self.app.store, self.path, self.headers.get("Accept", ""), reports)
            if page is not None:
                return self._reply_html(*page)
        started = time.perf_counter()
        name, version = parse_route(self.path)
        # errors still carry an (empty) data object: the SDK builds its response class from it
        # and some callers read attributes of that response without checking the result code
        code, subcode, msg, data, stack = 200, 0, "OK", {}, None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ApiError(413, "request body too large")
            raw = self.rfile.read(length) if length else b""
            body = parse_body(raw, self.headers.get("Content-Type", ""), urlsplit(self.path).query)
            body.pop("method", None)  # leaked by the SDK's request classes
            fn = ENDPOINTS.get(name)
            if fn is None:
                raise ApiError(404, f"Unsupported endpoint: {name}")
            self._authenticate(name)
            ctx = Context(store=self.app.store, files_url=self.app.files_url,
                          worker=self.headers.get("X-ClearML-Worker", ""),
                          extra={"credentials": self.app.credentials, "app": self.app})
            data = fn(ctx, body)
            if data is None:
                data = {}
        except ApiError as err:
            code, subcode, msg = err.code, err.subcode, err.msg
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            code, msg = 400, f"Invalid request: {err}"
            stack = traceback.format_exc()
            log.warning("bad request %s: %s", name, err)
        except Exception as err:  # noqa: BLE001 - answer 500, never crash the thread
            code, msg = 500, f"Internal error: {err}"
            stack = traceback.format_exc()
            log.exception("internal error in %s", name)
        self._reply(code, envelope(name, version, code, data, msg, subcode, stack))
        if self.app.request_log is not None:
            self.app.request_log(name, code, (time.perf_counter() - started) * 1000.0)

    def _authenticate(self, name: str):
        creds = self.app.credentials
        auth = self.headers.get("Authorization", "")
        if name == "auth.login":
            ok = creds.check_basic(auth) or creds.check_bearer(auth)
            if not ok:
                raise ApiError(401, "Invalid credentials (access/secret key)")
        elif not (creds.check_bearer(auth) or creds.check_basic(auth)):
            raise ApiError(401, "Unauthorized: missing or invalid token")

    do_GET = do_POST = do_PUT = _handle


def make_api_server(app, host: str, port: int) -> QuietServer:
    handler = type("BoundApiHandler", (ApiHandler,), {"app": app})
    return QuietServer((host, port), handler)
