"""Dequantize a GGUF file into a standard transformers folder (safetensors, tokenizer, chat template).

transformers reads GGUF through ``from_pretrained(folder, gguf_file=name)`` (transformers docs, "GGUF
and interaction with Transformers"; needs the ``gguf`` package) and dequantizes every tensor to
float32, but a model loaded that way keeps ``quantization_config.quant_method == "gguf"`` and
``save_pretrained`` refuses it. So the model is rebuilt from its config without that entry and the
dequantized state dict is loaded into it (every key matches), then saved as safetensors.

Metadata (``general.license``, ``general.file_type``, tensor types) is read with ``gguf.GGUFReader``
(the GGUF spec: ggml-org/ggml ``docs/gguf.md``). ``provenance.json`` records the source, the sha256 of
the file, the declared license and the quantization it was dequantized from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from slmforge.errors import ConfigError
from slmforge.models.sources import Source

log = logging.getLogger(__name__)
PROVENANCE = "provenance.json"


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in ``chunk``-byte blocks (1 MiB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def gguf_metadata(path: str | Path) -> dict:
    """``{"architecture", "name", "license", "file_type", "tensor_types"}`` of a GGUF file.

    ``file_type`` is the ``gguf.LlamaFileType`` name of ``general.file_type`` (e.g. ``MOSTLY_Q4_1``);
    ``tensor_types`` counts tensors per ggml type (``{"Q4_1": 210, "F32": 61}``).

    Raises:
        ConfigError: the file is not a readable GGUF file.
    """
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except (ValueError, OSError) as e:
        raise ConfigError(f"not a readable GGUF file ({e})", file=path,
                          fix="check the download; a .gguf file starts with the bytes 'GGUF'") from e

    def value(key: str):
        field = reader.fields.get(key)
        return field.contents() if field is not None else None

    file_type = value("general.file_type")
    return {"architecture": value("general.architecture"), "name": value("general.name"),
            "license": value("general.license"),
            "file_type": gguf.LlamaFileType(file_type).name if file_type is not None else None,
            "tensor_types": dict(Counter(t.tensor_type.name for t in reader.tensors))}


def import_gguf(source: Source, out: str | Path, *, sha256: str | None = None) -> Path:
    """Write ``out`` as a standard model folder from the GGUF file of ``source``.

    Args:
        source: a resolved GGUF source (``kind`` gguf / package / ollama).
        out: the folder to create; written to ``out.tmp-<pid>`` first and renamed, so a killed
            import never leaves a half folder that looks complete.
        sha256: the file's sha256 when the caller already has it (it is not read twice).

    Returns:
        ``out`` (``config.json``, ``model.safetensors``, tokenizer files with ``chat_template``,
        ``provenance.json``).

    Raises:
        ConfigError: the file is not GGUF, its architecture is not supported by transformers' GGUF
            loader, or the ``gguf`` package is missing.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        import gguf  # noqa: F401 - transformers needs it for gguf_file=
    except ImportError as e:
        raise ConfigError("reading GGUF files needs the `gguf` package", field="model",
                          fix="pip install gguf") from e
    gguf_path = Path(source.location)
    meta = gguf_metadata(gguf_path)
    out = Path(out)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    kw = {"gguf_file": gguf_path.name}
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), **kw)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), dtype=torch.float32, **kw)
    except (ValueError, OSError, KeyError) as e:
        raise ConfigError(f"transformers cannot load this GGUF file ({str(e).splitlines()[0][:200]})", file=gguf_path,
                          fix=f"architecture {meta['architecture']!r}: use a GGUF of a supported architecture "
                              "(llama, qwen2, mistral, …) or the original safetensors folder") from e
    config = loaded.config
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise ConfigError(f"GGUF tensors do not match the rebuilt model (missing {missing[:3]}, unexpected "
                          f"{unexpected[:3]})", file=gguf_path, fix="report this model; use its safetensors folder")
    model.generation_config = loaded.generation_config
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    provenance = {"source": source.spec, "kind": source.kind, "file": str(gguf_path),
                  "sha256": sha256 or sha256_file(gguf_path),
                  "license": source.license or meta["license"], "quantization": meta["file_type"],
                  "tensor_types": meta["tensor_types"], "architecture": meta["architecture"], "name": meta["name"],
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "dequantized_to": "float32", "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (tmp / PROVENANCE).write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    log.info("imported %s (%s, %s) → %s", source.spec, meta["file_type"], provenance["license"], out)
    return out


def models_cache() -> Path:
    """Where imported GGUF models are cached: ``$SLMFORGE_MODEL_CACHE``, else ``$SLMFORGE_HOME/models``
    (default ``~/.slmforge/models``)."""
    if os.environ.get("SLMFORGE_MODEL_CACHE"):
        return Path(os.environ["SLMFORGE_MODEL_CACHE"])
    return Path(os.environ.get("SLMFORGE_HOME", Path.home() / ".slmforge")) / "models"


def cached_import(source: Source) -> Path:
    """The imported folder of a GGUF source, importing it on first use (keyed by the file's sha256).

    Raises:
        ConfigError: as :func:`import_gguf`.
    """
    digest = sha256_file(source.location)
    folder = models_cache() / f"gguf-{digest[:16]}"  # the same file via any source kind shares one import
    if (folder / PROVENANCE).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    return import_gguf(source, folder, sha256=digest)
