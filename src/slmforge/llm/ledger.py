"""The SQLite ledger: every model call, its response, usage, cost and status; the client's cache.

One row per logical request in ``calls`` (retries are counted in ``attempts``, not new rows). A
request whose content hash has a good (``ok``, not ``from_cache``) row is answered from it, and the
answer is recorded as a ``from_cache`` row with zero cost, so ``slmforge ledger`` can show cache
hits per run. Request bodies are stored once per hash in ``requests``. The schema is created and
upgraded by the numbered ``MIGRATIONS`` (``PRAGMA user_version`` holds the last applied), as
simonw/llm does for its log database.

Durability: WAL journal, one commit per response, ``synchronous=NORMAL`` (in WAL mode a commit
survives the process being killed; only power loss may lose the last commits — SQLite docs,
"Write-Ahead Logging"). Several processes may share a file (``busy_timeout``); within a process
a lock serialises writers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from slmforge.errors import UserError

MIGRATIONS: list[str] = [
    # 1: calls + request bodies
    """
    CREATE TABLE requests (request_hash TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_hash TEXT NOT NULL,
        run_id TEXT NOT NULL, stage TEXT NOT NULL, role TEXT NOT NULL,
        backend TEXT NOT NULL, model TEXT NOT NULL,
        ok INTEGER NOT NULL, response TEXT, error TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        latency_s REAL NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 1,
        from_cache INTEGER NOT NULL DEFAULT 0,
        fallback_from TEXT,
        warning TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX calls_by_hash ON calls (request_hash, ok, from_cache);
    CREATE INDEX calls_by_run ON calls (run_id, stage);
    """,
    # 2: Batch API jobs and their lines
    """
    CREATE TABLE batches (
        batch_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, stage TEXT NOT NULL, role TEXT NOT NULL,
        model TEXT NOT NULL, input_file_id TEXT NOT NULL, status TEXT NOT NULL,
        n_requests INTEGER NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        collected_at TEXT
    );
    CREATE TABLE batch_items (
        batch_id TEXT NOT NULL, custom_id TEXT NOT NULL, request_hash TEXT NOT NULL,
        PRIMARY KEY (batch_id, custom_id)
    );
    """,
    # 3: token logprobs of replies that asked for them (G-Eval probability-weighted judge scores)
    """
    ALTER TABLE calls ADD COLUMN logprobs TEXT;
    """,
    # 4: the API's finish reason, so a reply answered from the ledger says whether it was cut off
    # ("length") as it did when it was paid for (NULL in rows written before this migration)
    """
    ALTER TABLE calls ADD COLUMN finish_reason TEXT;
    """,
]

GROUPS = {"run": "run_id", "stage": "stage", "role": "role", "model": "model"}


def default_path() -> Path:
    """``$SLMFORGE_HOME/ledger.sqlite`` (``SLMFORGE_HOME`` defaults to ``~/.slmforge``)."""
    return Path(os.environ.get("SLMFORGE_HOME", Path.home() / ".slmforge")) / "ledger.sqlite"


class Ledger:
    """A ledger database file (created with its parents when missing).

    Args:
        path: the SQLite file.

    Raises:
        UserError: the file exists but is not an SQLite database, or is newer than this code.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as e:
            self.conn.close()
            raise UserError(f"not a usable ledger database ({e})", file=self.path,
                            fix="point --db at a slmforge ledger, or move this file away") from None

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise UserError(f"ledger schema version {version} is newer than this slmforge ({len(MIGRATIONS)})",
                            file=self.path, fix="upgrade slmforge")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._lock:
                self.conn.execute("BEGIN IMMEDIATE")
                # re-check inside the write lock: another process may have migrated meanwhile
                if self.conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                    self.conn.execute("COMMIT")
                    continue
                for statement in filter(str.strip, script.split(";")):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number}")
                self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self.conn.close()

    # ---- cache -----------------------------------------------------------------------------
    def lookup(self, request_hash: str) -> sqlite3.Row | None:
        """The latest good paid response for ``request_hash``, or ``None``."""
        with self._lock:
            return self.conn.execute(
                "SELECT * FROM calls WHERE request_hash = ? AND ok = 1 AND from_cache = 0 ORDER BY id DESC LIMIT 1",
                (request_hash,)).fetchone()

    def request_body(self, request_hash: str) -> dict | None:
        """The stored request (messages + parameters) of ``request_hash``."""
        with self._lock:
            row = self.conn.execute("SELECT body FROM requests WHERE request_hash = ?", (request_hash,)).fetchone()
        return json.loads(row[0]) if row else None

    def record(self, *, request_hash: str, request: dict | None, **fields: Any) -> int:
        """Insert one call row (and its request body once) and commit; returns the row id.

        Args:
            request_hash: content hash of the request.
            request: the request body to keep (``None`` for cache hits).
            **fields: columns of ``calls`` (run_id, stage, role, backend, model, ok, response,
                error, finish_reason, prompt_tokens, cached_tokens, completion_tokens (tokens),
                cost_usd (USD), latency_s (seconds), attempts, from_cache, fallback_from, warning,
                logprobs (JSON text)).
        """
        fields = {k: int(v) if isinstance(v, bool) else v for k, v in fields.items()}
        cols = ", ".join(["request_hash", *fields])
        marks = ", ".join("?" * (len(fields) + 1))
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if request is not None:
                    self.conn.execute("INSERT OR IGNORE INTO requests VALUES (?, ?)",
                                      (request_hash, json.dumps(request, ensure_ascii=False, sort_keys=True)))
                cur = self.conn.execute(f"INSERT INTO calls ({cols}) VALUES ({marks})",
                                        (request_hash, *fields.values()))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return int(cur.lastrowid)

    # ---- reports ---------------------------------------------------------------------------
    def summary(self, *, by: str = "run", run_id: str | None = None) -> list[dict]:
        """Spend and counts grouped by run, stage, role or model.

        Returns:
            One dict per group: ``key``, ``calls`` (requests sent to a model), ``cache_hits``,
            ``failures``, ``retries`` (attempts beyond the first), ``prompt_tokens``,
            ``cached_tokens``, ``completion_tokens`` (tokens), ``cost_usd`` (USD),
            ``unpriced`` (rows of models missing from the price table).

        Raises:
            UserError: ``by`` is not one of run, stage, role, model.
        """
        if by not in GROUPS:
            raise UserError(f"cannot group by {by!r}", field="--by", fix=f"use one of {', '.join(GROUPS)}")
        col = GROUPS[by]
        where, args = ("WHERE run_id = ?", (run_id,)) if run_id else ("", ())
        sql = f"""
            SELECT {col} AS key,
                   SUM(from_cache = 0) AS calls, SUM(from_cache = 1) AS cache_hits,
                   SUM(ok = 0 AND from_cache = 0) AS failures,
                   SUM(CASE WHEN from_cache = 0 THEN attempts - 1 ELSE 0 END) AS retries,
                   SUM(prompt_tokens) AS prompt_tokens, SUM(cached_tokens) AS cached_tokens,
                   SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd,
                   SUM(warning IS NOT NULL AND from_cache = 0) AS unpriced
            FROM calls {where} GROUP BY {col} ORDER BY MIN(id)"""
        with self._lock:
            return [dict(r) for r in self.conn.execute(sql, args).fetchall()]

    def rows(self, *, run_id: str | None = None, stage: str | None = None) -> list[dict]:
        """All call rows (optionally of one run / stage), oldest first."""
        clauses = [(c, v) for c, v in (("run_id", run_id), ("stage", stage)) if v is not None]
        where = ("WHERE " + " AND ".join(f"{c} = ?" for c, _ in clauses)) if clauses else ""
        with self._lock:
            rows = self.conn.execute(f"SELECT * FROM calls {where} ORDER BY id", [v for _, v in clauses])
            return [dict(r) for r in rows.fetchall()]

    # ---- batches ---------------------------------------------------------------------------
    def add_batch(self, *, batch_id: str, run_id: str, stage: str, role: str, model: str,
                  input_file_id: str, items: Iterable[tuple[str, str, dict]]) -> None:
        """Persist a submitted Batch API job and its lines ``(custom_id, request_hash, request)``."""
        items = list(items)
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute(
                    "INSERT INTO batches (batch_id, run_id, stage, role, model, input_file_id, status, n_requests) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'submitted', ?)",
                    (batch_id, run_id, stage, role, model, input_file_id, len(items)))
                for custom_id, request_hash, request in items:
                    self.conn.execute("INSERT OR IGNORE INTO requests VALUES (?, ?)",
                                      (request_hash, json.dumps(request, ensure_ascii=False, sort_keys=True)))
                    self.conn.execute("INSERT INTO batch_items VALUES (?, ?, ?)", (batch_id, custom_id, request_hash))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def open_batches(self, *, run_id: str | None = None, stage: str | None = None) -> list[dict]:
        """Batches submitted but not yet collected."""
        clauses = ["collected_at IS NULL"] + [f"{c} = ?" for c, v in (("run_id", run_id), ("stage", stage)) if v]
        args = [v for v in (run_id, stage) if v]
        with self._lock:
            return [dict(r) for r in self.conn.execute(
                f"SELECT * FROM batches WHERE {' AND '.join(clauses)} ORDER BY created_at", args).fetchall()]

    def batch_items(self, batch_id: str) -> dict[str, str]:
        """``{custom_id: request_hash}`` of a batch."""
        with self._lock:
            rows = self.conn.execute("SELECT custom_id, request_hash FROM batch_items WHERE batch_id = ?", (batch_id,))
            return {r[0]: r[1] for r in rows.fetchall()}

    def set_batch_status(self, batch_id: str, status: str, *, collected: bool = False) -> None:
        """Update a batch's status (and mark it collected)."""
        with self._lock:
            self.conn.execute(
                "UPDATE batches SET status = ?, collected_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                "ELSE collected_at END WHERE batch_id = ?", (status, int(collected), batch_id))
