"""Stage bookkeeping of ``slmforge run``: fingerprints, skip decisions, resume state.

Each stage directory gets a ``stage.json`` next to the manifest its stage function writes::

    {"stage": "sft", "fingerprint": "…", "status": "running" | "done", "outputs": {"adapter": "…"},
     "counts": {…}, "metrics": {…}, "cost_usd": 0.0, "started": …, "finished": …, "notes": […]}

The fingerprint hashes the stage's own settings together with the fingerprints and output hashes of
the stages it reads from, so a changed setting re-runs that stage *and everything downstream*, and
an unchanged chain is skipped. A stage found ``running`` with the same fingerprint was interrupted:
it is re-run with ``resume=True`` (training continues from its last checkpoint; model calls are
answered from the ledger).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from slmforge.runs import file_hash, settings_hash

STAGE_FILE = "stage.json"


@dataclass
class StageRecord:
    """What ``stage.json`` holds for one stage (see the module docstring)."""

    stage: str
    fingerprint: str
    status: str = "running"
    outputs: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    cost_usd: float = 0.0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Seconds the stage ran (0 while running)."""
        return round(self.finished - self.started, 2) if self.finished else 0.0


def read_record(stage_dir: Path) -> StageRecord | None:
    """The stage's ``stage.json``, or None when it never started."""
    path = stage_dir / STAGE_FILE
    if not path.is_file():
        return None
    return StageRecord(**json.loads(path.read_text(encoding="utf-8")))


def write_record(stage_dir: Path, rec: StageRecord) -> None:
    """Write ``stage.json`` atomically."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    tmp = stage_dir / (STAGE_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(rec), indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(stage_dir / STAGE_FILE)


def fingerprint(settings: Any, upstream: list[StageRecord]) -> str:
    """Hash of the stage's settings and its upstream stages' fingerprints and outputs (hex, 16 chars)."""
    return settings_hash({"settings": settings,
                          "upstream": [(u.stage, u.fingerprint, u.outputs) for u in upstream]})


def outputs_intact(stage_dir: Path, rec: StageRecord) -> bool:
    """Whether every recorded output still exists with the recorded hash."""
    for rel, digest in rec.outputs.items():
        p = stage_dir / rel
        if not p.exists() or file_hash(p) != digest:
            return False
    return True


def decide(stage_dir: Path, fp: str) -> str:
    """``skip`` (done, same fingerprint, outputs intact), ``resume`` (interrupted, same fingerprint) or ``fresh``."""
    rec = read_record(stage_dir)
    if rec is None or rec.fingerprint != fp:
        return "fresh"
    if rec.status == "done" and outputs_intact(stage_dir, rec):
        return "skip"
    return "resume"
