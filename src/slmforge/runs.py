"""Run directories and manifests: each stage writes ``config.json`` (resolved settings) and
``manifest.json`` (input hashes, counts, cost, time, versions, output hashes) next to its artifacts.

A stage is *up to date* when its manifest says it finished with the same input hashes and the same
settings hash, and its outputs still hash the same; the pipeline then skips it. Stages that take
long write partial state of their own (ledger, checkpoints) so that an interrupted stage resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel

MANIFEST = "manifest.json"
CONFIG = "config.json"


def file_hash(path: str | Path) -> str:
    """sha256 (hex, 16 chars) of a file's bytes, or of a directory's files (sorted by relative path)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode())
            h.update(p.read_bytes())
    else:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def canonical(obj: Any) -> Any:
    """JSON-ready form of settings at any depth: pydantic models dumped (``mode="json"``), dataclasses as
    dicts, tuples as lists, paths as strings — never a ``repr``."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return canonical(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def settings_hash(settings: Any) -> str:
    """sha256 (hex, 16 chars) of settings as canonical JSON (sorted keys, :func:`canonical` at every depth)."""
    blob = json.dumps(canonical(settings), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries whose behaviour a result depends on."""
    out = {"python": platform.python_version(), "slmforge": _version("slmforge")}
    for name in ("torch", "transformers", "trl", "peft", "datasets", "openai"):
        out[name] = _version(name)
    return out


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class Manifest:
    """What a stage consumed and produced.

    Attributes:
        stage: stage name (``synth``, ``clean``, ``train_sft`` …).
        inputs: input name → :func:`file_hash`.
        settings_hash: :func:`settings_hash` of the stage's resolved settings.
        outputs: output name (relative path) → :func:`file_hash`.
        counts: record counts and other integers worth reporting.
        metrics: floats worth reporting (losses, accuracies).
        cost_usd: model spend of the stage in USD (from the ledger).
        started / finished: UNIX time in seconds.
        status: ``done`` or ``failed``.
        notes: plain-language remarks (fallbacks used, skipped parts).
    """

    stage: str
    inputs: dict[str, str] = field(default_factory=dict)
    settings_hash: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    cost_usd: float = 0.0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    status: str = "running"
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=versions)

    @property
    def duration_s(self) -> float:
        """Wall time of the stage in seconds (0 while running)."""
        return (self.finished - self.started) if self.finished else 0.0


def write_stage(
    stage_dir: str | Path,
    manifest: Manifest,
    settings: Any,
    *,
    outputs: list[str] | None = None,
    status: str = "done",
) -> Path:
    """Finish a stage: hash ``outputs`` (paths relative to ``stage_dir``), write config.json and manifest.json.

    ``status`` is ``done`` unless the stage ended without its result (``failed`` / ``cancelled``, e.g. a
    hosted fine-tuning job); only ``done`` counts as up to date.

    Returns:
        path of the written manifest.
    """
    stage_dir = Path(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(settings, BaseModel):
        settings = settings.model_dump(mode="json")
    manifest.settings_hash = settings_hash(settings)
    for rel in outputs or []:
        manifest.outputs[rel] = file_hash(stage_dir / rel)
    manifest.finished = time.time()
    manifest.status = status
    (stage_dir / CONFIG).write_text(json.dumps(settings, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    path = stage_dir / MANIFEST
    data = asdict(manifest) | {"duration_s": round(manifest.duration_s, 3)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path


def read_manifest(stage_dir: str | Path) -> Manifest | None:
    """The stage's manifest, or None when there is none (never run, or interrupted before the end)."""
    path = Path(stage_dir) / MANIFEST
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("duration_s", None)
    return Manifest(**data)


def is_up_to_date(stage_dir: str | Path, inputs: dict[str, str], settings: Any) -> bool:
    """True when the stage finished with these input hashes and settings, and its outputs are intact."""
    m = read_manifest(stage_dir)
    if m is None or m.status != "done" or m.inputs != inputs or m.settings_hash != settings_hash(settings):
        return False
    for rel, digest in m.outputs.items():
        p = Path(stage_dir) / rel
        if not p.exists() or file_hash(p) != digest:
            return False
    return True
