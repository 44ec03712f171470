"""What every training method shares: the run dir, TRL args, resume / Ctrl-C around ``train()``, and the
closing manifest (``config.json``, ``manifest.json``, ``metrics.jsonl``, ``metrics.png``).

Layout of a run dir::

    OUT/config.json  manifest.json  metrics.jsonl  metrics.png
    OUT/checkpoints/checkpoint-N/   (TRL/Trainer checkpoints; ``--resume`` continues from the last)
    OUT/adapter/ or OUT/model/      (the result)
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from slmforge.errors import ConfigError
from slmforge.runs import Manifest, file_hash, write_stage
from slmforge.train.callbacks import METRICS, PLOT, InterruptCallback, MetricsCallback, StageProgress, plot_metrics

__all__ = ["MetricsCallback", "check_kept", "fit", "finish", "quiet_progress", "start_run", "trl_args"]
from slmforge.train.config import TrainConfig, trl_config_class
from slmforge.train.models import device_defaults

log = logging.getLogger(__name__)
CHECKPOINTS = "checkpoints"


def start_run(cfg: TrainConfig, *, resume: bool) -> tuple[Path, Manifest]:
    """Create the run dir; without ``resume`` clear earlier checkpoints and metrics of the same dir."""
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not resume:
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
        (out / METRICS).unlink(missing_ok=True)
    inputs = {"train": file_hash(cfg.data.train)}
    if cfg.data.eval:
        inputs["eval"] = file_hash(cfg.data.eval)
    return out, Manifest(stage=f"train_{cfg.method}", inputs=inputs)


def trl_args(cfg: TrainConfig, out: Path, *, has_eval: bool, defaults: dict | None = None):
    """Build the method's TRL config: device defaults < method ``defaults`` < the YAML ``trl:`` section.

    Returns:
        an instance of ``SFTConfig`` / ``DPOConfig`` / ``RewardConfig`` / ``GRPOConfig``.
    """
    kwargs = device_defaults(cfg.model) | (defaults or {}) | cfg.trl
    kwargs["output_dir"] = str(out / CHECKPOINTS)
    if not has_eval:
        kwargs["eval_strategy"] = "no"
    return trl_config_class(cfg.method)(**kwargs)


def check_kept(manifest: Manifest, dataset, n_rows: int, *, split: str, too_long: str, max_length: int | None,
               count_drops: bool = True) -> None:
    """Stop before training when TRL dropped every row of a split as too long; note partial drops.

    TRL's trainers filter rows while they prepare a dataset: ``RewardTrainer`` drops pairs longer than
    ``max_length``, ``DPOTrainer`` pairs whose prompt alone fills it, ``SFTTrainer`` rows that truncation
    leaves without any trained token. With nothing left, ``train()`` fails much later with "num_samples
    should be a positive integer value, but got num_samples=0"; this names the cause instead.

    Args:
        manifest: gets a note when some (not all) rows were dropped.
        dataset: the trainer's prepared dataset (``trainer.train_dataset`` / ``trainer.eval_dataset``), or None.
        n_rows: rows handed to the trainer for that split.
        split: ``training`` or ``held-out``, for the message.
        too_long: the predicate by which TRL drops a row, e.g. ``"are longer than trl.max_length"``.
        max_length: the TRL config's ``max_length`` in tokens.
        count_drops: False when rows may shrink for another reason (SFT packing); then only an empty
            result is reported.

    Raises:
        ConfigError: every row of the split was dropped (field ``trl.max_length``, with the row count).
    """
    if dataset is None or not n_rows:
        return
    kept = len(dataset)
    if kept == 0:
        raise ConfigError(f"all {n_rows} {split} rows {too_long} (trl.max_length = {max_length} tokens); TRL "
                          "drops such rows, so nothing is left to train on", field="trl.max_length",
                          fix=f"raise trl.max_length above {max_length} (e.g. to the longest row's token count)")
    if count_drops and kept < n_rows:
        manifest.notes.append(f"{n_rows - kept} of {n_rows} {split} rows {too_long} (trl.max_length = "
                              f"{max_length} tokens) and were dropped by TRL")
        log.warning(manifest.notes[-1])


def last_checkpoint(out: Path) -> str | None:
    """Path of the newest *complete* ``checkpoint-N`` folder of the run, or None.

    ``Trainer._save_checkpoint`` writes ``trainer_state.json`` last (after the weights, optimizer,
    scheduler and RNG states), so a folder whose ``trainer_state.json`` is missing or does not parse
    was cut off mid-save (a kill during the save) and cannot be resumed from; it is skipped with a
    warning and the one before it is used. ``transformers.trainer_utils.get_last_checkpoint`` picks
    the highest step whatever its state.
    """
    ckpt = out / CHECKPOINTS
    if not ckpt.is_dir():
        return None
    found = [(int(p.name.split("-", 1)[1]), p) for p in ckpt.iterdir()
             if p.is_dir() and p.name.startswith("checkpoint-") and p.name.split("-", 1)[1].isdigit()]
    for _, folder in sorted(found, reverse=True):
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("skipping %s: incomplete checkpoint (no readable trainer_state.json; cut off mid-save)",
                        folder)
            continue
        return str(folder)
    return None


def quiet_progress(trainer, label: str) -> None:
    """Replace transformers' progress bar and its raw log-dict printing with one :class:`StageProgress` bar
    (call right after building the trainer, before any ``evaluate``)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(StageProgress(label))


def fit(trainer, out: Path, *, resume: bool) -> None:
    """``trainer.train()`` with resume from the last checkpoint and Ctrl-C → checkpoint → ``KeyboardInterrupt``.

    Raises:
        KeyboardInterrupt: after the checkpoint of an interrupted run is saved.
    """
    stop = InterruptCallback()
    trainer.add_callback(stop)
    ckpt = last_checkpoint(out) if resume else None
    if resume:
        log.info("resuming from %s", ckpt or "scratch (no checkpoint found)")
    trainer.train(resume_from_checkpoint=ckpt)
    if stop.interrupted:
        raise KeyboardInterrupt


def finish(cfg: TrainConfig, out: Path, manifest: Manifest, *, outputs: list[str], plot_keys: list[str]) -> Path:
    """Plot the metrics and write ``config.json`` + ``manifest.json``; returns ``out``."""
    plot_metrics(out, plot_keys)
    write_stage(out, manifest, cfg, outputs=[*outputs, METRICS, PLOT])
    return out
