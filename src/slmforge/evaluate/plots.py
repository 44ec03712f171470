"""The report's figures (matplotlib, Agg backend): PNG files under ``plots/`` that the HTML embeds as base64.

* ``scores_by_task.png`` — per-task grouped bars of the primary score per candidate;
* ``criteria.png`` — grouped bars of each judge criterion per candidate (all tasks);
* ``check_pass_rates.png`` — grouped bars of the check pass rates per candidate;
* ``score_vs_length.png`` — primary score against length in characters, one colour per candidate,
  so that a judge's length bias is visible;
* ``lengths.png`` — box plots of text length per candidate;
* ``win_rates.png`` — raw and length-controlled win rates with their 95 % intervals;
* ``curve_<stage>.png`` — per trained stage of a pipeline run (sft, dpo, rm, grpo), the logged loss /
  reward / accuracy against the optimizer step, one panel per quantity (:func:`training_curve_plots`).

CJK labels: a CJK-capable font is used when one is installed (Noto Sans CJK, WenQuanYi, …);
otherwise matplotlib's default font draws boxes for CJK task names but the figures still render.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from slmforge.evaluate import tables  # noqa: E402
from slmforge.evaluate.runinfo import TrainingCurve  # noqa: E402

log = logging.getLogger(__name__)
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Source Han Sans SC",
              "SimHei", "Microsoft YaHei", "PingFang SC")


def _setup_fonts() -> None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [f for f in _CJK_FONTS if f in installed]
    plt.rcParams["font.sans-serif"] = [*cjk, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _grouped_bars(ax: Any, groups: list[str], series: dict[str, list[float | None]], ylabel: str) -> None:
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(groups))
    for i, (name, vals) in enumerate(series.items()):
        ax.bar(x + (i - (n - 1) / 2) * width, [np.nan if v is None else v for v in vals], width, label=name)
    ax.set_xticks(x, groups, rotation=30 if len(groups) > 4 else 0, ha="right" if len(groups) > 4 else "center")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, ncols=min(n, 5))
    ax.grid(axis="y", alpha=0.3)


def make_plots(rows: list[dict[str, Any]], win_rows: list[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Draw every figure that the data allows.

    Args:
        rows: per-item score rows (see :mod:`slmforge.evaluate.tables`).
        win_rows: output of :func:`slmforge.evaluate.tables.win_rates`.
        out_dir: directory for the PNG files (created).

    Returns:
        figure name → PNG path, in display order.
    """
    _setup_fonts()
    out_dir.mkdir(parents=True, exist_ok=True)
    figs: dict[str, Path] = {}
    cands = tables.candidates_of(rows)
    metric = tables.primary_metric(rows)
    by_task = tables.scores_by_task(rows)
    if metric:
        tasks = [t for t in dict.fromkeys(r["task"] for r in by_task)]
        lookup = {(r["task"], r["candidate"]): r.get(metric) for r in by_task}
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(tasks) * max(1, len(cands) / 3)), 4))
        _grouped_bars(ax, tasks, {c: [lookup.get((t, c)) for t in tasks] for c in cands}, metric)
        ax.set_title(f"{metric} by task")
        figs["scores_by_task"] = _save(fig, out_dir / "scores_by_task.png")
    crits = tables.criteria(rows)
    if crits:
        all_rows = {r["candidate"]: r for r in by_task if r["task"] == "ALL"}
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(crits) * max(1, len(cands) / 3)), 4))
        _grouped_bars(ax, [c.removeprefix("judge.") for c in crits],
                      {c: [all_rows[c].get(k) for k in crits] for c in cands if c in all_rows}, "mean score (1-5)")
        ax.set_title("judge criteria, all tasks")
        figs["criteria"] = _save(fig, out_dir / "criteria.png")
    passes = tables.check_pass_rates(rows)
    if passes:
        checks = [k for k in passes[0] if k != "candidate"]
        fig, ax = plt.subplots(figsize=(max(6, 1.0 * len(checks) * max(1, len(cands) / 3)), 4))
        _grouped_bars(ax, checks, {p["candidate"]: [p.get(k) for k in checks] for p in passes}, "pass rate")
        ax.set_ylim(0, 1.05)
        ax.set_title("check pass rates")
        figs["check_pass_rates"] = _save(fig, out_dir / "check_pass_rates.png")
    with_len = [r for r in rows if r.get("length_chars") not in (None, "")]
    if metric and with_len:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for c in cands:
            pts = [(float(r["length_chars"]), tables.to_float(r.get(metric))) for r in with_len if r["candidate"] == c]
            pts = [(x, y) for x, y in pts if y is not None]
            if pts:
                ax.scatter(*zip(*pts, strict=True), label=c, alpha=0.7, s=18)
        ax.set_xlabel("length (characters)")
        ax.set_ylabel(metric)
        ax.set_title("score vs length (length bias check)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        figs["score_vs_length"] = _save(fig, out_dir / "score_vs_length.png")
    if with_len:
        data = [[float(r["length_chars"]) for r in with_len if r["candidate"] == c] for c in cands]
        fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(cands)), 4))
        ax.boxplot([d or [np.nan] for d in data], tick_labels=cands)
        ax.set_ylabel("length (characters)")
        ax.set_title("length distribution")
        figs["lengths"] = _save(fig, out_dir / "lengths.png")
    rated = [w for w in win_rows if w.get("win_rate") is not None]
    if rated:
        fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rated) + 1.5))
        y = np.arange(len(rated))
        for off, key, lo, hi, label in ((-0.15, "win_rate", "ci_low", "ci_high", "raw"),
                                        (0.15, "lc_win_rate", "lc_low", "lc_high", "length-controlled")):
            vals = np.array([w[key] for w in rated])
            err = np.array([[w[key] - w[lo] for w in rated], [w[hi] - w[key] for w in rated]]).clip(min=0)
            ax.errorbar(vals, y + off, xerr=err, fmt="o", capsize=3, label=label)
        ax.axvline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, [f"{w['a']} vs {w['b']}" for w in rated])
        ax.set_xlim(0, 1)
        ax.set_xlabel("win rate of the first over the second (95 % CI)")
        ax.legend(fontsize=8)
        figs["win_rates"] = _save(fig, out_dir / "win_rates.png")
    return figs


def training_curve_plots(curves: list[TrainingCurve], out_dir: Path) -> dict[str, Path]:
    """One PNG per trained stage: a panel per quantity (loss, reward, accuracy), every logged series in it.

    Args:
        curves: output of :func:`slmforge.evaluate.runinfo.training_curves`.
        out_dir: directory for the PNG files (created).

    Returns:
        ``"curve_<stage>"`` → PNG path, in the order of ``curves``. x axis: optimizer step; y axis:
        the panel's quantity as the trainer logged it (TRL's loss, mean reward, preference accuracy).
    """
    _setup_fonts()
    out_dir.mkdir(parents=True, exist_ok=True)
    figs: dict[str, Path] = {}
    for c in curves:
        fig, axes = plt.subplots(1, len(c.panels), figsize=(4.6 * len(c.panels), 3.4), squeeze=False)
        for ax, (label, series) in zip(axes[0], c.panels.items(), strict=True):
            for key, pts in series.items():
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, markersize=3, label=key)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # optimizer steps are whole numbers
            ax.set_xlabel("step")
            ax.set_ylabel(label)
            ax.set_title(f"{c.stage}: {label}")
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
        figs[f"curve_{c.stage}"] = _save(fig, out_dir / f"curve_{c.stage}.png")
    return figs
