"""The SQLite ledger: numbered migrations of an existing file, and what a cache hit carries back."""

import sqlite3

import pytest

from slmforge.errors import UserError
from slmforge.llm import LLMClient, ModelConfig
from slmforge.llm.ledger import MIGRATIONS, Ledger
from slmforge.testing.server import ScriptedServer


def _old_ledger(path, version: int) -> None:
    """A ledger file as an older slmforge left it: migrations 1..version applied, one paid row."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        conn.executescript(script)
    conn.execute("INSERT INTO calls (request_hash, run_id, stage, role, backend, model, ok, response) "
                 "VALUES ('h1', 'old', 'synth', 'teacher', 'openai', 'gpt-4o-mini', 1, 'an old reply')")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def test_an_older_ledger_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, 3)
    ledger = Ledger(path)
    assert ledger.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    (row,) = ledger.rows()
    assert row["response"] == "an old reply" and row["finish_reason"] is None  # unknown, not made up
    assert ledger.lookup("h1")["response"] == "an old reply"
    ledger.close()
    Ledger(path).close()  # reopening an up-to-date file applies nothing


def test_a_ledger_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, len(MIGRATIONS))
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="newer than this slmforge"):
        Ledger(path)


def test_a_cache_hit_says_the_reply_was_cut_off_as_the_paid_call_did(ledger_path):
    cfg = {"timeout_s": 5.0, "max_tokens": 8}
    with ScriptedServer(lambda req: "a reply that the server cuts in half", fault_rate=1.0, faults=["truncated"]) as srv:
        first = LLMClient({"teacher": ModelConfig(backend="openai", model="gpt-4o-mini", base_url=srv.base_url, **cfg)},
                          ledger=ledger_path, run_id="r1").chat("teacher", [{"role": "user", "content": "hi"}],
                                                                stage="synth")
        again = LLMClient({"teacher": ModelConfig(backend="openai", model="gpt-4o-mini", base_url=srv.base_url, **cfg)},
                          ledger=ledger_path, run_id="r2").chat("teacher", [{"role": "user", "content": "hi"}],
                                                                stage="synth")
        assert srv.stats.requests == 1
    assert first.ok and not first.from_cache and first.finish_reason == "length"
    assert again.from_cache and again.finish_reason == "length" and again.text == first.text
