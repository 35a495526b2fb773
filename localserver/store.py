"""SQLite document store.

One table per entity kind holds JSON documents plus a few indexed columns used to pre-filter
queries (``project``, ``parent``, ``task``); everything else is matched in Python by
:mod:`localserver.query`. Events live in their own table keyed by task.

The server process is the only writer. A single re-entrant lock serialises all access to the
shared connection, and :meth:`Store.tx` wraps read-modify-write sequences in one
``BEGIN IMMEDIATE`` transaction. WAL mode lets read-only tools (``localserver show``) read
while the server writes.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

KINDS = ("projects", "tasks", "models", "queues", "workers")
_COLUMNS = ("name", "project", "parent", "task")

_SCHEMA = [
    *[
        f"CREATE TABLE IF NOT EXISTS {k} (id TEXT PRIMARY KEY, name TEXT, project TEXT, parent TEXT,"
        f" task TEXT, doc TEXT NOT NULL)"
        for k in KINDS
    ],
    *[f"CREATE INDEX IF NOT EXISTS {k}_project ON {k}(project)" for k in KINDS],
    *[f"CREATE INDEX IF NOT EXISTS {k}_parent ON {k}(parent)" for k in KINDS],
    "CREATE INDEX IF NOT EXISTS models_task ON models(task)",
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL,"
    " type TEXT NOT NULL, iter INTEGER, metric TEXT, variant TEXT, value REAL, ts INTEGER, doc TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_task_type ON events(task, type, seq)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
]


_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode  # one encoder, reused


class Store:
    def __init__(self, path: Path | str, readonly: bool = False):
        self.path = str(path)
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        else:
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            for stmt in _SCHEMA:
                self.conn.execute(stmt)
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.lock = threading.RLock()
        self._depth = 0

    def close(self):
        with self.lock:
            self.conn.close()

    @contextmanager
    def tx(self):
        """Hold the writer lock and run the block in one transaction (re-entrant)."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    # ---- documents -------------------------------------------------------------------
    def get(self, kind: str, ident: str) -> dict | None:
        with self.lock:
            row = self.conn.execute(f"SELECT doc FROM {kind} WHERE id=?", (ident,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, doc: dict) -> None:
        cols = [doc.get(c) if isinstance(doc.get(c), str) or doc.get(c) is None else None for c in _COLUMNS]
        with self.tx():
            self.conn.execute(
                f"INSERT INTO {kind} (id, name, project, parent, task, doc) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project,"
                " parent=excluded.parent, task=excluded.task, doc=excluded.doc",
                (doc["id"], *cols, _dumps(doc)),
            )

    def delete(self, kind: str, ident: str) -> bool:
        with self.tx():
            cur = self.conn.execute(f"DELETE FROM {kind} WHERE id=?", (ident,))
        return cur.rowcount > 0

    def scan(self, kind: str, ids: Iterable[str] | None = None, **equals) -> list[dict]:
        """Documents in insertion order, pre-filtered by id list and indexed column values.

        ``equals`` maps a column (project/parent/task/name) to a list of accepted values.
        """
        where, args = [], []
        if ids is not None:
            ids = list(ids)
            if not ids:
                return []
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args += ids
        for col, values in equals.items():
            if col not in _COLUMNS or values is None:
                continue
            values = list(values)
            if not values:
                return []
            where.append(f"{col} IN ({','.join('?' * len(values))})")
            args += values
        sql = f"SELECT doc FROM {kind}" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY rowid"
        with self.lock:
            rows = self.conn.execute(sql, args).fetchall()
        return [json.loads(r[0]) for r in rows]

    def project_names(self) -> dict[str, str]:
        """Project ID -> name, for views that show tasks and models by project name."""
        return {p["id"]: p["name"] for p in self.scan("projects")}

    def count(self, kind: str) -> int:
        with self.lock:
            return self.conn.execute(f"SELECT COUNT(*) FROM {kind}").fetchone()[0]

    # ---- events ----------------------------------------------------------------------
    def add_events(self, rows: list[tuple]) -> None:
        """rows: (task, type, iter, metric, variant, value, ts, doc_dict)."""
        with self.tx():
            self.conn.executemany(
                "INSERT INTO events (task, type, iter, metric, variant, value, ts, doc) VALUES (?,?,?,?,?,?,?,?)",
                [(*r[:7], _dumps(r[7])) for r in rows],
            )

    def events(self, task: str, types: Iterable[str] | None = None, after_seq: int = 0,
               limit: int | None = None, descending: bool = False, metric: str | None = None) -> list[tuple]:
        """Return ``(seq, doc)`` for a task's events, ordered by insertion sequence."""
        where, args = ["task=?"], [task]
        if types is not None:
            types = list(types)
            where.append(f"type IN ({','.join('?' * len(types))})")
            args += types
        if metric is not None:
            where.append("metric=?")
            args.append(metric)
        if after_seq:
            where.append("seq < ?" if descending else "seq > ?")
            args.append(after_seq)
        sql = (f"SELECT seq, doc FROM events WHERE {' AND '.join(where)} ORDER BY seq "
               f"{'DESC' if descending else 'ASC'}")
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.lock:
            rows = self.conn.execute(sql, args).fetchall()
        return [(seq, json.loads(doc)) for seq, doc in rows]

    def count_events(self, task: str, types: Iterable[str]) -> int:
        types = list(types)
        with self.lock:
            return self.conn.execute(
                f"SELECT COUNT(*) FROM events WHERE task=? AND type IN ({','.join('?' * len(types))})",
                [task, *types],
            ).fetchone()[0]

    def scalar_rows(self, task: str) -> list[tuple]:
        """(metric, variant, iter, value, ts) of a task's scalar events in report order."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT metric, variant, iter, value, ts FROM events WHERE task=? AND type='training_stats_scalar'"
                " ORDER BY seq", (task,)).fetchall()
        return rows

    def delete_events(self, task: str) -> int:
        with self.tx():
            return self.conn.execute("DELETE FROM events WHERE task=?", (task,)).rowcount

    # ---- meta ------------------------------------------------------------------------
    def meta_get(self, key: str, default=None):
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_put(self, key: str, value) -> None:
        with self.tx():
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, _dumps(value)))
