"""``slmforge model import``: any model source → a standard folder with ``provenance.json``."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from slmforge.errors import ConfigError
from slmforge.models.gguf_import import PROVENANCE, cached_import
from slmforge.models.sources import resolve_source


def import_source(spec: str, out: str | Path) -> Path:
    """Write ``out``: safetensors weights, tokenizer with chat template, and ``provenance.json``.

    GGUF sources are dequantized into the model cache once (:func:`slmforge.models.gguf_import.cached_import`) and copied; folders and hub ids
    are loaded and saved again with ``save_pretrained`` (float32 safetensors).

    Args:
        spec: a model source (:mod:`slmforge.models.sources`).
        out: folder to create; must not exist or be empty.

    Returns:
        ``out``.

    Raises:
        ConfigError: ``out`` exists and is not empty, ``tiny``, or a source that does not load.
    """
    import torch

    from slmforge.models.load import load_model

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and is not an empty folder", field="--out",
                          fix="choose a new folder or remove this one")
    source = resolve_source(spec)
    if source.kind == "tiny":
        raise ConfigError("`tiny` is built from a corpus", field="SOURCE", fix="use `slmforge model tiny DIR --corpus FILE`")
    if source.is_gguf:  # dequantized once into the model cache, then copied
        if out.exists():
            out.rmdir()
        shutil.copytree(cached_import(source), out)
        return out
    loaded = load_model(spec, dtype=torch.float32)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    loaded.model.save_pretrained(tmp)
    loaded.tokenizer.save_pretrained(tmp)
    config = json.loads((Path(loaded.name) / "config.json").read_text()) if Path(loaded.name).is_dir() else {}
    provenance = {"source": spec, "kind": source.kind, "file": loaded.name, "sha256": None,
                  "license": config.get("license"), "quantization": None, "dequantized_to": None,
                  "parameters": sum(p.numel() for p in loaded.model.parameters()),
                  "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (tmp / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    if out.exists():
        out.rmdir()
    tmp.rename(out)
    return out
