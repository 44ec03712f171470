"""What a pipeline run directory tells the report: training histories, stage spend and durations.

Layout read (``slmforge run``, see docs/architecture.md)::

    runs/<name>/<stage>/stage.json        stage record: cost_usd (USD), duration_s (seconds)
                                          (read only through slmforge.pipeline.state.read_record)
    runs/<name>/<stage>/metrics.jsonl     one row per Trainer log event {"step", "epoch", **logs}
                                          (slmforge.train.callbacks.MetricsCallback)
    runs/<name>/<stage>/checkpoints/checkpoint-N/trainer_state.json
                                          transformers Trainer state; its ``log_history`` is the
                                          fallback history when metrics.jsonl is absent
    runs/<name>/ledger.sqlite             every model call with its tokens (slmforge.llm.ledger)

The evaluation writes into ``runs/<name>/eval`` (the pipeline's eval stage) or another folder of the
run dir (``slmforge eval --run``), so :func:`find_run_dir` takes the report folder's parent when it
holds stage records.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from slmforge.llm.ledger import Ledger
from slmforge.pipeline.state import STAGE_FILE, read_record

log = logging.getLogger(__name__)

#: stages that train a model and log a history, in pipeline order.
TRAINED_STAGES = ("sft", "dpo", "rm", "grpo")
#: stages whose spend is teacher / weak-model calls (their ledger stage names start with these).
DATA_STAGES = ("synth", "clean", "prefs")
#: y-axis panels of a training curve: label → log keys drawn in it (TRL / transformers log names);
#: GRPO's per-reward-function means ``rewards/<name>/mean`` join the reward panel.
PANELS: dict[str, tuple[str, ...]] = {
    "loss": ("loss", "eval_loss"),
    "reward": ("reward", "rewards/margins", "eval_rewards/margins"),
    "accuracy": ("accuracy", "eval_accuracy", "rewards/accuracies", "eval_rewards/accuracies"),
}
_REWARD_FN = re.compile(r"^rewards/[^/]+/mean$")


@dataclass
class TrainingCurve:
    """The logged history of one training stage.

    Attributes:
        stage: ``sft``, ``dpo``, ``rm`` or ``grpo``.
        panels: panel label (``loss`` / ``reward`` / ``accuracy``) → log key → ``[(step, value), ...]``
            sorted by optimizer step (the last value logged for a step wins, so a resumed run's
            re-logged steps are not drawn twice).
        source: the file the history came from.
        duration_s: wall time of the stage in seconds (from its stage record; 0 when unknown).
    """

    stage: str
    panels: dict[str, dict[str, list[tuple[int, float]]]]
    source: str
    duration_s: float = 0.0


@dataclass
class StageSpend:
    """What one stage cost.

    Attributes:
        cost_usd: the stage record's model spend in USD.
        tokens: prompt + completion tokens of the stage's ledger calls (cache hits count 0).
        duration_s: the stage record's wall time in seconds.
    """

    cost_usd: float = 0.0
    tokens: int = 0
    duration_s: float = 0.0


@dataclass
class RunSpend:
    """Spend per stage of a run (only stages with a record)."""

    stages: dict[str, StageSpend] = field(default_factory=dict)


def _record(stage_dir: Path):
    """The stage record, or None when absent or unreadable (a warning; the report goes on without it)."""
    try:
        return read_record(stage_dir)
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as e:
        log.warning("ignoring unreadable stage record %s/stage.json: %s", stage_dir, e)
        return None


def find_run_dir(report_dir: str | Path) -> Path | None:
    """The run dir that holds ``report_dir``: its parent when any stage folder there has a stage record."""
    from slmforge.pipeline.project import STAGES

    parent = Path(report_dir).resolve().parent
    return parent if any((parent / s / STAGE_FILE).is_file() for s in STAGES) else None


def training_history(stage_dir: Path) -> tuple[list[dict], str]:
    """The log rows of one training stage dir and the file they came from.

    Returns:
        ``(rows, source)``: rows of ``metrics.jsonl``, else the ``log_history`` of the latest
        checkpoint's ``trainer_state.json``; ``([], "")`` when there is neither.
    """
    from slmforge.train.callbacks import METRICS, read_metrics
    from slmforge.train.runner import last_checkpoint

    if (stage_dir / METRICS).is_file():
        return read_metrics(stage_dir), str(stage_dir / METRICS)
    ckpt = last_checkpoint(stage_dir)  # the newest checkpoint whose trainer_state.json is complete
    if ckpt is None:
        return [], ""
    state = Path(ckpt) / "trainer_state.json"
    try:
        history = json.loads(state.read_text(encoding="utf-8")).get("log_history", [])
    except json.JSONDecodeError:
        log.warning("%s does not parse; no training curve from it", state)
        return [], ""
    return [h for h in history if isinstance(h, dict)], str(state)


def _panels(rows: list[dict]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    series: dict[str, dict[int, float]] = {}
    for r in rows:
        step = r.get("step")
        if not isinstance(step, int):
            continue
        for k, v in r.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:  # v == v: not NaN
                series.setdefault(k, {})[step] = float(v)
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for label, keys in PANELS.items():
        extra = tuple(k for k in series if label == "reward" and _REWARD_FN.match(k))
        got = {k: sorted(series[k].items()) for k in (*keys, *extra) if k in series}
        if got:
            out[label] = got
    return out


def training_curves(run_dir: Path) -> list[TrainingCurve]:
    """One :class:`TrainingCurve` per trained stage of the run that logged loss / reward / accuracy.

    Stages without a dir, without history, or whose history has none of the :data:`PANELS` keys are
    left out.
    """
    out = []
    for stage in TRAINED_STAGES:
        d = run_dir / stage
        if not d.is_dir():
            continue
        rows, source = training_history(d)
        panels = _panels(rows)
        if panels:
            rec = _record(d)
            out.append(TrainingCurve(stage, panels, source, rec.duration_s if rec else 0.0))
    return out


def _ledger_tokens(path: Path) -> dict[str, int]:
    """Prompt + completion tokens per top-level stage name (``prefs.weak`` → ``prefs``)."""
    if not path.is_file():
        return {}
    ledger = Ledger(path)
    try:
        rows = ledger.summary(by="stage")
    finally:
        ledger.close()
    out: dict[str, int] = {}
    for r in rows:
        stage = str(r["key"]).split(".", 1)[0]
        out[stage] = out.get(stage, 0) + int(r["prompt_tokens"] or 0) + int(r["completion_tokens"] or 0)
    return out


def run_spend(run_dir: Path) -> RunSpend:
    """USD, tokens and seconds per data and training stage of a run (stages without a record left out)."""
    tokens = _ledger_tokens(run_dir / "ledger.sqlite")
    spend = RunSpend()
    for stage in (*DATA_STAGES, *TRAINED_STAGES):
        rec = _record(run_dir / stage)
        if rec is not None:
            spend.stages[stage] = StageSpend(float(rec.cost_usd), tokens.get(stage, 0), float(rec.duration_s))
    return spend
