"""Shared test fixtures: offline Hugging Face, temp state dirs, paths to the kits and the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                   "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "TOKENIZERS_PARALLELISM": "false"})

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "adgenius"
EXAMPLE_KIT = ROOT / "examples" / "elemental-equation"
MINIKIT = ROOT / "tests" / "fixtures" / "minikit"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def minikit_path() -> Path:
    """The small English test kit."""
    return MINIKIT


@pytest.fixture
def example_kit_path() -> Path:
    """The shipped example kit (原素方程)."""
    return EXAMPLE_KIT


@pytest.fixture
def shared_data() -> Path:
    """../shared/data/adgenius; tests that need it skip with a reason when it is absent."""
    if not (SHARED / "rm_dataset_final.jsonl").is_file():
        pytest.skip(f"shared seed data not found at {SHARED}")
    return SHARED


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave screenshots and reports for people to look at (test-artifacts/, git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Point slmforge's user state and HF caches at a temp dir so tests never share state."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SLMFORGE_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
