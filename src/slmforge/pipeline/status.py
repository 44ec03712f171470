"""``slmforge status RUN``: the stage table of a run dir (status, time, counts, cost) from its ``stage.json`` files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slmforge.errors import UserError
from slmforge.pipeline.project import STAGES
from slmforge.pipeline.state import outputs_intact, read_record


@dataclass
class StageStatus:
    """One row of the status table: ``done``, ``running/interrupted``, ``stale`` (outputs changed) or ``pending``."""

    stage: str
    status: str
    duration_s: float
    cost_usd: float
    counts: dict[str, int]
    metrics: dict[str, float]


def run_status(run_dir: str | Path) -> list[StageStatus]:
    """Read the stage table of ``run_dir``.

    Raises:
        UserError: ``run_dir`` is not a run directory.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not any((run_dir / s / "stage.json").is_file() for s in STAGES):
        raise UserError("not a run directory (no stage.json in any stage folder)", file=run_dir,
                        fix="pass runs/<name> of a `slmforge run`")
    rows = []
    for s in STAGES:
        rec = read_record(run_dir / s)
        if rec is None:
            rows.append(StageStatus(s, "pending", 0.0, 0.0, {}, {}))
            continue
        status = rec.status
        if status == "running":
            status = "interrupted"
        elif not outputs_intact(run_dir / s, rec):
            status = "stale"
        rows.append(StageStatus(s, status, rec.duration_s, rec.cost_usd, rec.counts, rec.metrics))
    return rows
