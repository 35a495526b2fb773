"""File server compatible with the ClearML SDK's storage helper.

* ``POST /`` (or ``POST /<prefix>``) with ``multipart/form-data``: each part's field name (or
  filename) is the object's relative path; the body is stored under ``<root>/<prefix>/<path>``.
  Answers 200 with the JSON list of stored paths.
* ``GET /<path>`` (``?download`` accepted) streams the bytes; ``HEAD`` gives size only;
  ``DELETE`` removes the object; ``POST /delete_many {"files": [...]}`` removes several;
  ``GET /`` is a ping.
* Objects under a locked task's folder (``<name>.<task id>/``: a finalized dataset or a
  published task) cannot be overwritten or deleted (403), so file contents stay consistent
  with the frozen task.
* Writes are atomic (temporary file + ``os.replace``); paths escaping the root are rejected.
"""
from __future__ import annotations

import json
import mimetypes
import os
import re
import shutil
import tempfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .transport import QuietServer

CHUNK = 1024 * 1024


def safe_path(root: Path, rel: str, quoted: bool = True) -> Path | None:
    """Resolve ``rel`` (URL-quoted unless ``quoted`` is false) under ``root``; None when it
    escapes the root or is empty."""
    rel = (unquote(rel) if quoted else rel).replace("\\", "/").lstrip("/")
    if not rel or any(part == ".." for part in rel.split("/")):
        return None
    target = (root / rel).resolve()
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return None
    return target


def atomic_write(target: Path, data) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, (bytes, bytearray)):
                fh.write(data)
                size = len(data)
            else:
                for chunk in data:
                    fh.write(chunk)
                    size += len(chunk)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return size


def _header_param(header: str, key: str) -> str | None:
    m = re.search(rf'(?:^|;)\s*{key}\*?="((?:[^"\\]|\\.)*)"', header, re.I) or \
        re.search(rf'(?:^|;)\s*{key}=([^;]+)', header, re.I)
    if not m:
        return None
    value = m.group(1).strip()
    # a part's name is the object's path as the client spelt it, '%' included (ClearML quotes
    # characters of task names itself); only the RFC 5987 form (name*=utf-8''...) is encoded
    return unquote(value.split("''", 1)[1]) if "''" in value else value


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """Return ``(name, payload)`` for every part of a multipart body (binary-exact)."""
    boundary = _header_param(content_type, "boundary")
    if not boundary:
        return []
    delim = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                disposition = line.split(":", 1)[1]
        name = _header_param(disposition, "name") or _header_param(disposition, "filename")
        if name:
            parts.append((name, payload))
    return parts


class FileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "clearml-localserver-files"
    root: Path = Path(".")
    guard = None  # optional callable(rel_path) -> reason string when the object is read-only

    def log_message(self, fmt, *args):
        pass

    def _send(self, code: int, payload=None, content_type="application/json", length=None):
        data = b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length if length is not None else len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _rel(self) -> str:
        return urlsplit(self.path).path

    def do_GET(self):
        rel = self._rel()
        if rel.strip("/") == "":
            return self._send(200, {"status": "ok"})
        target = safe_path(self.root, rel)
        if target is None:
            return self._send(400, {"error": "invalid path"})
        if not target.is_file():  # stored decoded by versions before part names were literal
            target = safe_path(self.root, unquote(rel))
        if target is None or not target.is_file():
            return self._send(404, {"error": "not found"})
        size = target.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Disposition", f'attachment; filename="{target.name}"')
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            with open(target, "rb") as fh:
                shutil.copyfileobj(fh, self.wfile, CHUNK)
        self.close_connection = True

    do_HEAD = do_GET

    def do_POST(self):
        body = self._read_body()
        prefix = unquote(self._rel()).strip("/")
        if prefix == "delete_many":
            try:
                files = json.loads(body or b"{}").get("files") or []
            except ValueError:
                return self._send(400, {"error": "invalid json"})
            deleted = [f for f in files if self._remove(f)]
            return self._send(200, {"deleted": len(deleted)})
        ctype = self.headers.get("Content-Type", "")
        if "multipart/form-data" not in ctype:
            return self._send(400, {"error": "expected multipart/form-data"})
        saved = []
        for name, payload in parse_multipart(ctype, body):
            rel = f"{prefix}/{name}" if prefix else name
            target = safe_path(self.root, rel, quoted=False)
            if target is None or safe_path(self.root, rel) is None:  # nor once decoded
                return self._send(400, {"error": f"invalid path: {name}"})
            reason = self.guard(rel) if self.guard else None
            if reason:
                return self._send(403, {"error": reason})
            atomic_write(target, payload)
            saved.append(str(target.relative_to(self.root.resolve())))
        if not saved:
            return self._send(400, {"error": "no file parts"})
        self._send(200, saved)

    do_PUT = do_POST

    def _remove(self, rel: str) -> bool:
        target = safe_path(self.root, rel)
        if target is None or not target.is_file() or (self.guard and self.guard(rel)):
            return False
        target.unlink()
        return True

    def do_DELETE(self):
        target = safe_path(self.root, self._rel())
        if target is None:
            return self._send(400, {"error": "invalid path"})
        if not self._remove(self._rel()):
            return self._send(404, {"error": "not found"})
        self._send(200, {"deleted": 1})


def make_file_server(root: Path, host: str, port: int, guard=None) -> QuietServer:
    """``guard(rel_path)`` may return a reason to refuse writing/deleting that object."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    handler = type("BoundFileHandler", (FileHandler,), {"root": root, "guard": staticmethod(guard) if guard else None})
    return QuietServer((host, port), handler)
