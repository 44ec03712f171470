"""Trainer callbacks: metrics to ``metrics.jsonl`` + a plot, and Ctrl-C → checkpoint → stop.

Both are ``transformers.TrainerCallback`` subclasses (transformers docs, "Callbacks").
"""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

from transformers import TrainerCallback

log = logging.getLogger(__name__)

PLOT = "metrics.png"
METRICS = "metrics.jsonl"


class MetricsCallback(TrainerCallback):
    """Append every log event (``{"step", "epoch", **logs}``) as a JSON line to ``run_dir/metrics.jsonl``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / METRICS

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D102 - TrainerCallback API
        if state.is_world_process_zero and logs:
            row = {"step": state.global_step, "epoch": state.epoch, **logs}
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, default=float) + "\n")


class StageProgress(TrainerCallback):
    """One progress bar per training stage with its headline metric, in place of transformers' own bar and
    the raw log dicts it prints (``ProgressCallback`` / ``PrinterCallback``).

    Args:
        label: the bar's description (the method: ``sft``, ``dpo`` …).
    """

    HEADLINE = ("loss", "eval_loss", "rewards/accuracies", "reward", "eval_accuracy")

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: D102 - TrainerCallback API
        from tqdm.auto import tqdm

        if state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.label, unit="step",
                            dynamic_ncols=True, leave=True)

    def on_step_end(self, args, state, control, **kwargs):  # noqa: D102
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D102
        shown = {k.split("/")[-1]: f"{v:.3g}" for k, v in (logs or {}).items()
                 if k in self.HEADLINE and isinstance(v, (int, float))}
        if self.bar is not None and shown:
            self.bar.set_postfix(shown, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):  # noqa: D102
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class InterruptCallback(TrainerCallback):
    """First Ctrl-C: save a checkpoint at the end of the current step and stop; a second Ctrl-C aborts.

    After ``trainer.train()`` returns, check :attr:`interrupted` and raise ``KeyboardInterrupt``.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        log.warning("interrupt: saving a checkpoint after this step (Ctrl-C again to abort)")

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: D102
        self._previous = signal.signal(signal.SIGINT, self._handler)

    def on_step_end(self, args, state, control, **kwargs):  # noqa: D102
        if self.interrupted:
            control.should_save = True
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs):  # noqa: D102
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The rows of ``run_dir/metrics.jsonl`` (empty list when absent). A line that does not parse — the
    last one, cut off by a kill mid-write — is skipped with a warning, so a resumed run still plots."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s line %d is not JSON (cut off by a kill?); skipped", path, n)
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def plot_metrics(run_dir: str | Path, keys: list[str]) -> Path:
    """Plot the given logged series against the step (matplotlib, Agg) to ``run_dir/metrics.png``.

    Args:
        keys: log keys to draw, each in its own panel (missing ones are skipped).

    Returns:
        path of the PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    present = [k for k in keys if any(k in r for r in rows)] or keys[:1]
    fig, axes = plt.subplots(1, len(present), figsize=(4.5 * len(present), 3.2), squeeze=False)
    for ax, key in zip(axes[0], present, strict=True):
        pts = [(r["step"], r[key]) for r in rows if key in r]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, markersize=3)
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(run_dir) / PLOT
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
