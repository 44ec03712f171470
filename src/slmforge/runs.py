"""Run directories and the one stage record, :class:`Manifest`.

Each stage command writes ``config.json`` (resolved settings) and ``manifest.json`` (input hashes,
counts, cost, time, versions, output hashes) next to its artifacts. Inside ``slmforge run`` the same
record, with the stage's fingerprint added, is the stage's ``stage.json``; the pipeline's one skip
decision (:func:`slmforge.pipeline.state.decide`) reads it. Stages that take long write partial
state of their own (ledger, checkpoints) so that an interrupted stage resumes.
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

from slmforge.data.io import atomic_write_text

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
        status: ``running``, ``done``, ``failed`` or ``cancelled``.
        notes: plain-language remarks (fallbacks used, skipped parts).
        versions: Python and library versions (:func:`versions`).
        fingerprint: set by ``slmforge run`` only: hash of the stage's settings and of its upstream stages'
            fingerprints and outputs (:func:`slmforge.pipeline.state.fingerprint`); empty for a stage command.
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
    fingerprint: str = ""

    @property
    def duration_s(self) -> float:
        """Wall time of the stage in seconds (0 while running)."""
        return (self.finished - self.started) if self.finished else 0.0

    def to_json(self) -> str:
        """The record as indented JSON (UTF-8 text), with ``duration_s`` (seconds, 3 decimals) added."""
        return json.dumps(asdict(self) | {"duration_s": round(self.duration_s, 3)}, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse :meth:`to_json`'s output (``duration_s`` is derived, so dropped).

        Raises:
            json.JSONDecodeError / TypeError: the text is not a manifest.
        """
        data = json.loads(text)
        data.pop("duration_s", None)
        return cls(**data)


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
    atomic_write_text(stage_dir / CONFIG, json.dumps(settings, indent=2, ensure_ascii=False, default=str))
    return atomic_write_text(stage_dir / MANIFEST, manifest.to_json())


def read_manifest(stage_dir: str | Path) -> Manifest | None:
    """The stage's manifest, or None when there is none (never run, or interrupted before the end)."""
    path = Path(stage_dir) / MANIFEST
    return Manifest.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None
