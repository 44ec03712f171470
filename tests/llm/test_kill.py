"""Kill test: a run SIGKILLed halfway resumes from the ledger, pays only for what is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from slmforge.llm import Ledger
from slmforge.testing.server import ScriptedServer
from tests.llm.conftest import item_script
from tests.llm.kill_worker import main

ROOT = Path(__file__).resolve().parents[2]
N, CONCURRENCY = 300, 8


def _worker(srv: ScriptedServer, ledger: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.llm.kill_worker", srv.base_url, str(ledger), str(out),
                             str(N), str(CONCURRENCY)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sigkill_halfway_then_resume(tmp_path):
    with ScriptedServer(item_script, latency_s=0.005) as srv:
        # reference: an uninterrupted run on its own ledger (in this process: same code, no start-up cost)
        ref_out = tmp_path / "reference.jsonl"
        main(srv.base_url, str(tmp_path / "ref.sqlite"), str(ref_out), N, CONCURRENCY)
        baseline = srv.stats.completed
        assert baseline == N

        ledger, out = tmp_path / "ledger.sqlite", tmp_path / "out.jsonl"
        proc = _worker(srv, ledger, out)
        deadline = time.monotonic() + 120
        while srv.stats.completed - baseline < N // 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not out.exists()
        killed_at = srv.stats.completed - baseline
        assert N // 2 <= killed_at < N
        recorded = len(Ledger(ledger).rows())
        assert killed_at - CONCURRENCY <= recorded <= killed_at  # commit per response: at most the in-flight lost

        assert _worker(srv, ledger, out).wait(timeout=120) == 0
        assert out.read_text() == ref_out.read_text()
        paid = srv.stats.completed - baseline
        assert paid <= N + CONCURRENCY
        print(f"\nkilled after {killed_at} completed, {recorded} recorded; total completed {paid} (limit {N + CONCURRENCY})")

        before = srv.stats.requests
        assert _worker(srv, ledger, out).wait(timeout=120) == 0
        assert srv.stats.requests == before  # a second full rerun makes 0 requests
        assert out.read_text() == ref_out.read_text()
    rows = Ledger(ledger).rows()
    assert sum(1 for r in rows if not r["from_cache"]) == N  # each request paid once in the ledger
