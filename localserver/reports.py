"""Static pages a client wrote under ``<data dir>/reports/`` (the pipeline's run reports and
their figures), served read-only at ``/reports/...`` so a browser on the server's address
can open them; nothing outside that folder is reachable."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

PREFIX = "/reports/"


def report_file(reports_dir: Path, path: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body) for a ``/reports/...`` address, else None."""
    route = unquote(urlsplit(path).path)
    if not route.startswith(PREFIX):
        return None
    root = reports_dir.resolve()
    target = (root / route[len(PREFIX):]).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(root) or not target.is_file():
        return 404, "text/plain; charset=utf-8", b"no such report file\n"
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return 200, kind + ("; charset=utf-8" if kind.startswith("text/") else ""), target.read_bytes()


def report_link(reports_dir: Path, run_id: str) -> str | None:
    """The address of a run's report page, when one was written."""
    return f"{PREFIX}{run_id}/" if (reports_dir / run_id / "index.html").is_file() else None
