"""Weights dtype names: one resolution for training, the local backend and the pipeline."""

from __future__ import annotations

import pytest
import torch

from slmforge.errors import ConfigError
from slmforge.llm import ModelConfig
from slmforge.models import load
from slmforge.models.load import resolve_dtype
from slmforge.train.config import ModelSection
from slmforge.train.models import device_defaults


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_names_resolve_on_cpu(cpu_only, monkeypatch):
    assert resolve_dtype("auto", None) is torch.float32
    assert resolve_dtype("float32", None) is torch.float32
    assert resolve_dtype("bfloat16", None) is torch.bfloat16
    monkeypatch.setattr(load, "cpu_has_native_bf16", lambda: True)
    assert resolve_dtype("fast", None) is torch.bfloat16
    assert resolve_dtype("auto", None) is torch.float32  # auto never switches a CPU to bf16
    monkeypatch.setattr(load, "cpu_has_native_bf16", lambda: False)
    assert resolve_dtype("fast", "cpu") is torch.float32


def test_fast_and_auto_are_bf16_on_cuda(monkeypatch):
    monkeypatch.setattr(load, "cpu_has_native_bf16", lambda: False)
    assert resolve_dtype("fast", "cuda:0") is torch.bfloat16
    assert resolve_dtype("auto", "cuda") is torch.bfloat16
    assert resolve_dtype("float32", "cuda") is torch.float32


def test_unknown_name_is_a_config_error():
    with pytest.raises(ConfigError) as e:
        resolve_dtype("fp8", None)
    assert "fast" in e.value.fix


def test_training_turns_on_bf16_autocast_only_for_bf16_weights(cpu_only, monkeypatch):
    monkeypatch.setattr(load, "cpu_has_native_bf16", lambda: True)
    assert device_defaults(ModelSection(base=["m"]))["bf16"] is False
    assert device_defaults(ModelSection(base=["m"], dtype="fast"))["bf16"] is True
    assert device_defaults(ModelSection(base=["m"], dtype="float32"))["bf16"] is False
    monkeypatch.setattr(load, "cpu_has_native_bf16", lambda: False)
    assert device_defaults(ModelSection(base=["m"], dtype="fast"))["bf16"] is False


def test_configs_refuse_an_unknown_dtype():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ModelConfig(backend="local", model="m", dtype="half")
    with pytest.raises(ValidationError):
        ModelSection(base=["m"], dtype="half")


def test_local_model_loads_in_the_asked_dtype(tmp_path):
    from slmforge.llm.local import LocalModel
    from slmforge.train.tiny import build_tiny_model

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Calm gentle serum copy for sensitive skin. " * 40, encoding="utf-8")
    folder = build_tiny_model(tmp_path / "tiny", [corpus], vocab_size=300, hidden_size=32)
    assert LocalModel(str(folder), device="cpu", dtype="bfloat16").model.dtype is torch.bfloat16
    assert LocalModel(str(folder), device="cpu").model.dtype is torch.float32
