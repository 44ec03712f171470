"""``slmforge status RUN``: the stage table of a run dir (state, time, counts, cost) from its ``stage.json`` files."""

from __future__ import annotations

from pathlib import Path

from slmforge.errors import UserError
from slmforge.pipeline.project import STAGES
from slmforge.pipeline.state import STAGE_FILE, StageRow, outputs_intact, read_record


def run_status(run_dir: str | Path) -> list[StageRow]:
    """Read the stage table of ``run_dir``: one :class:`StageRow` per stage of :data:`STAGES`, whose
    state is ``done``, ``interrupted`` (started, never finished: killed or failed), ``stale`` (an output
    changed since) or ``pending``.

    Raises:
        UserError: ``run_dir`` is not a run directory.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not any((run_dir / s / STAGE_FILE).is_file() for s in STAGES):
        raise UserError("not a run directory (no stage.json in any stage folder)", file=run_dir,
                        fix="pass runs/<name> of a `slmforge run`")
    rows = []
    for s in STAGES:
        rec = read_record(run_dir / s)
        if rec is None:
            rows.append(StageRow(s, "pending"))
        elif rec.status == "running":
            rows.append(StageRow(s, "interrupted", rec))
        else:
            rows.append(StageRow(s, rec.status if outputs_intact(run_dir / s, rec) else "stale", rec))
    return rows
