"""Fixtures of the synth tests: a ScriptedServer teacher and an LLMClient on it with exact prices."""

from __future__ import annotations

from pathlib import Path

import pytest

from slmforge.llm import LLMClient, ModelConfig
from slmforge.testing.server import ScriptedServer
from tests.synth.teacher import make_teacher

PRICE = {"input": 1.0, "cached_input": 0.5, "output": 2.0}
"""USD per 1M tokens of the scripted models (so costs are exact sums over tokens)."""


def make_client(base_url: str, ledger: Path, **kw) -> LLMClient:
    """Teacher and weak roles on the scripted server; fast retries so injected faults cost little time."""
    common = {"backend": "openai", "base_url": base_url, "price": PRICE, "timeout_s": 2.0, "backoff_base_s": 0.01,
              "backoff_max_s": 0.05, "max_retries": 8, "max_concurrency": 8}
    models = {"teacher": ModelConfig(model="teach", **common), "weak": ModelConfig(model="weak-base", **common)}
    return LLMClient(models, ledger=ledger, **kw)


@pytest.fixture
def scripted():
    """``scripted(lk, **server_kw)`` → a started ScriptedServer running the scripted teacher for ``lk``."""
    servers = []

    def start(lk, *, defects=None, unfixable=None, **kw):
        srv = ScriptedServer(make_teacher(lk, defects=defects, unfixable=unfixable), **kw).start()
        servers.append(srv)
        return srv

    yield start
    for s in servers:
        s.stop()
