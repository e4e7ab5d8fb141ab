"""The sandbox's own records: in memory, and written through to SQLite when a file is given.

The records are plain dicts kept in memory (fast enough for a few hundred requests per
second); with a ``state_path`` every change is also written to a small key/value table so
that ``make run`` keeps its persons, subscriptions and texts across restarts. The sandbox
never touches Django's database.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KINDS = ("person", "subscription", "participant", "block", "callback", "message", "meta")


class Store:
    """Records by kind and key. Callers hold the sandbox lock while they change records."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self._records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS record ("
                "kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, "
                "PRIMARY KEY (kind, key))"
            )
            for kind, key, data in self._db.execute("SELECT kind, key, data FROM record"):
                if kind in self._records:
                    self._records[kind][key] = json.loads(data)

    @property
    def is_empty(self) -> bool:
        return not any(self._records[kind] for kind in KINDS if kind != "meta")

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._records[kind].get(key)

    def all(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(list(self._records[kind].values()))

    def count(self, kind: str) -> int:
        return len(self._records[kind])

    def put(self, kind: str, key: str, record: dict[str, Any]) -> dict[str, Any]:
        """Store ``record`` (the same dict object stays live in memory) and persist it."""
        self._records[kind][key] = record
        if self._db is not None:
            with self._db_lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO record (kind, key, data) VALUES (?, ?, ?)",
                    (kind, key, json.dumps(record)),
                )
        return record

    def delete(self, kind: str, key: str) -> None:
        self._records[kind].pop(key, None)
        if self._db is not None:
            with self._db_lock:
                self._db.execute("DELETE FROM record WHERE kind = ? AND key = ?", (kind, key))

    def next_id(self, name: str) -> int:
        """A counter that survives restarts (person ids, message ids...)."""
        meta = self._records["meta"].get(name) or {"value": 0}
        meta = {"value": int(meta["value"]) + 1}
        self.put("meta", name, meta)
        return meta["value"]

    def clear(self) -> None:
        for kind in KINDS:
            self._records[kind].clear()
        if self._db is not None:
            with self._db_lock:
                self._db.execute("DELETE FROM record")

    def close(self) -> None:
        if self._db is not None:
            with self._db_lock:
                self._db.close()
            self._db = None
