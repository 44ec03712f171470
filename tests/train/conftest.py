"""Fixtures of the training tests: a tiny model built once per session on the minikit + a small corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINIKIT = ROOT / "tests" / "fixtures" / "minikit"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny Qwen2 model + tokenizer trained on the minikit's catalog and golden texts (~1 s)."""
    from slmforge.train.tiny import build_tiny_model

    out = tmp_path_factory.mktemp("tiny")
    return build_tiny_model(out, [MINIKIT / "products.csv", MINIKIT / "golden.jsonl"], vocab_size=600,
                            hidden_size=32, num_layers=2)


@pytest.fixture
def sft_file(tmp_path):
    """A 12-row OpenAI-chat SFT file (user asks about tea i, assistant answers) for the hosted-path tests."""
    from slmforge.data.io import write_jsonl

    rows = [{"messages": [{"role": "user", "content": f"Describe tea {i}"},
                          {"role": "assistant", "content": f"Tea {i} is green and light."}]} for i in range(12)]
    path = tmp_path / "sft.jsonl"
    write_jsonl(path, rows)
    return path
