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
