"""Stage bookkeeping of ``slmforge run``: the stage record, fingerprints, the one skip decision.

A stage function returns its :class:`slmforge.runs.Manifest` (the record every stage command writes
as ``manifest.json``); the pipeline adds the stage's fingerprint and writes it as the stage dir's
``stage.json``::

    {"stage": "sft", "fingerprint": "…", "status": "running" | "done", "outputs": {"adapter": "…"},
     "counts": {…}, "metrics": {…}, "cost_usd": 0.0, "started": …, "finished": …, "notes": […], …}

The fingerprint hashes the stage's own settings (canonical JSON) together with the fingerprints and
output hashes of the stages it reads from, so a changed setting re-runs that stage *and everything
downstream*, and an unchanged chain is skipped. A stage found ``running`` with the same fingerprint
was interrupted: it is re-run with ``resume=True`` (training continues from its last checkpoint;
model calls are answered from the ledger). A stage that failed keeps its ``running`` record; the
stages that had finished keep theirs, so the next run skips them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slmforge.data.io import atomic_write_text
from slmforge.runs import Manifest, file_hash, settings_hash

STAGE_FILE = "stage.json"


def stage_result(stage_dir: Path, outputs: list[str], *, counts: dict[str, int] | None = None,
                 metrics: dict[str, float] | None = None, cost_usd: float = 0.0, notes: list[str] | None = None,
                 inner: Manifest | None = None) -> Manifest:
    """The record a stage function returns: its ``outputs`` (paths relative to ``stage_dir``) hashed.

    ``inner`` is the manifest the stage's library function wrote (``synthesize``, ``clean``, a trainer):
    its inputs, settings hash, counts, metrics and notes are carried over, then ``counts`` / ``metrics``
    update them and ``notes`` are appended; ``cost_usd`` (USD) is the stage's spend from its client.
    """
    m = Manifest(stage=stage_dir.name, inputs=dict(inner.inputs) if inner else {},
                 settings_hash=inner.settings_hash if inner else "",
                 counts=dict(inner.counts) if inner else {}, metrics=dict(inner.metrics) if inner else {},
                 notes=list(inner.notes) if inner else [], cost_usd=cost_usd)
    m.counts.update(counts or {})
    m.metrics.update(metrics or {})
    m.notes += notes or []
    m.outputs = {rel: file_hash(stage_dir / rel) for rel in outputs}
    return m


def read_record(stage_dir: Path) -> Manifest | None:
    """The stage's ``stage.json``, or None when it never started."""
    path = stage_dir / STAGE_FILE
    return Manifest.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_record(stage_dir: Path, rec: Manifest) -> None:
    """Write ``stage.json`` atomically (a kill never leaves half a record)."""
    atomic_write_text(stage_dir / STAGE_FILE, rec.to_json())


def fingerprint(settings: Any, upstream: list[Manifest]) -> str:
    """Hash of the stage's settings and its upstream stages' fingerprints and outputs (hex, 16 chars)."""
    return settings_hash({"settings": settings,
                          "upstream": [(u.stage, u.fingerprint, u.outputs) for u in upstream]})


def outputs_intact(stage_dir: Path, rec: Manifest) -> bool:
    """Whether every recorded output still exists with the recorded hash."""
    for rel, digest in rec.outputs.items():
        p = stage_dir / rel
        if not p.exists() or file_hash(p) != digest:
            return False
    return True


def decide(stage_dir: Path, fp: str) -> str:
    """The one skip decision: ``skip`` (done, same fingerprint, outputs intact), ``resume`` (interrupted
    or failed with the same fingerprint) or ``fresh``."""
    rec = read_record(stage_dir)
    if rec is None or rec.fingerprint != fp:
        return "fresh"
    if rec.status == "done" and outputs_intact(stage_dir, rec):
        return "skip"
    return "resume"


@dataclass
class StageRow:
    """One stage as ``slmforge run`` and ``slmforge status`` show it.

    Attributes:
        stage: stage name.
        state: in a run summary, what this invocation did (``ran``, ``resumed``, ``skipped``, ``off``,
            ``not selected``); in ``status``, how the run dir stands (``done``, ``interrupted``, ``stale``
            (outputs changed since), ``pending``, ``off``).
        record: the stage's record, when it has one.
    """

    stage: str
    state: str
    record: Manifest | None = None

    @property
    def duration_s(self) -> float:
        """Seconds the stage ran (0 without a finished record)."""
        return round(self.record.duration_s, 2) if self.record else 0.0

    @property
    def cost_usd(self) -> float:
        """Model spend of the stage in USD (0 without a record)."""
        return self.record.cost_usd if self.record else 0.0

    @property
    def counts(self) -> dict[str, int]:
        """The record's counts (empty without one)."""
        return self.record.counts if self.record else {}

    @property
    def metrics(self) -> dict[str, float]:
        """The record's metrics (empty without one)."""
        return self.record.metrics if self.record else {}
