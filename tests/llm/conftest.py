"""Fixtures of the LLM client tests: a JSON reply script and request batches."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel


class Item(BaseModel):
    """The structured reply the scripted teacher gives."""

    item: str
    length: int


def first_user(request: dict) -> str:
    """The first user message of a request (repair turns come after it)."""
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


def item_script(request: dict) -> str:
    """A deterministic JSON reply: a function of the first user message only."""
    text = first_user(request).split("\n\n")[0]
    return json.dumps({"item": text, "length": len(text)})


def make_batch(n: int, *, system: str = "You write product copy for a calm skincare brand.") -> list[list[dict]]:
    """``n`` chats sharing one static system prompt."""
    return [[{"role": "system", "content": system}, {"role": "user", "content": f"item number {i}"}] for i in range(n)]


@pytest.fixture
def ledger_path(tmp_path):
    """A fresh ledger file in the test's temp dir."""
    return tmp_path / "ledger.sqlite"
