"""The report's tables, computed from per-item score rows and pairwise verdicts (plain Python + numpy).

A *score row* is one candidate's text for one item, as written to ``scores.csv`` and read back by
``slmforge report --from-scores``::

    item_id, task, candidate, length_chars, text,
    judge.<criterion>…, judge.overall, check.<name>…, pass.<name>…, pass.all, rougeL, chrF, rm

Columns are optional except ``task`` and ``candidate``. ``judge.overall`` is the rubric-weighted
mean of the criteria (computed when absent). Every table is a list of dicts (one per row) so it can
be written as CSV, Markdown and HTML alike.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from slmforge.evaluate.metrics import distinct_n
from slmforge.evaluate.stats import win_rates_with_ci

Row = dict[str, Any]
OVERALL = "judge.overall"
META = ("item_id", "task", "candidate", "subject_id", "length_chars", "text")


def to_float(v: Any) -> float | None:
    """A CSV or row cell as float; None for empty cells, None and NaN."""
    if v is None or v == "":
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _mean(values: Iterable[Any]) -> float | None:
    vals = [f for f in (to_float(v) for v in values) if f is not None]
    return float(np.mean(vals)) if vals else None


def metric_columns(rows: list[Row]) -> list[str]:
    """Numeric metric columns present in the rows, in a stable order (judge, checks, passes, rest)."""
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            if k not in META:
                seen[k] = None
    order = {"judge": 0, "check": 2, "pass": 3}
    return sorted(seen, key=lambda k: (order.get(k.split(".", 1)[0], 4) if k != OVERALL else 1, k))


def criteria(rows: list[Row]) -> list[str]:
    """The judge criterion columns (``judge.*`` except the overall score)."""
    return [c for c in metric_columns(rows) if c.startswith("judge.") and c != OVERALL]


def primary_metric(rows: list[Row]) -> str | None:
    """The score that ranks candidates: ``judge.overall``, else ``check.score``, else None."""
    cols = metric_columns(rows)
    return OVERALL if OVERALL in cols else ("check.score" if "check.score" in cols else None)


def _group(rows: list[Row], *keys: str) -> dict[tuple, list[Row]]:
    out: dict[tuple, list[Row]] = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in keys)].append(r)
    return out


def candidates_of(rows: list[Row]) -> list[str]:
    """Candidate names in first-seen order."""
    return list(dict.fromkeys(r["candidate"] for r in rows))


def scores_by_task(rows: list[Row]) -> list[Row]:
    """Mean of every metric per (task, candidate), plus an ``ALL`` task row per candidate.

    Returns:
        rows ``{task, candidate, n, <metric>: mean | None}``.
    """
    cols = [c for c in metric_columns(rows) if not c.startswith("pass.")]
    out = []
    groups = _group(rows, "task", "candidate")
    for task in [*dict.fromkeys(r["task"] for r in rows), "ALL"]:
        for cand in candidates_of(rows):
            rs = [r for r in rows if r["candidate"] == cand] if task == "ALL" else groups.get((task, cand), [])
            if rs:
                out.append({"task": task, "candidate": cand, "n": len(rs)} | {c: _mean(r.get(c) for r in rs) for c in cols})
    return out


def best_counts(rows: list[Row]) -> list[Row]:
    """How often each candidate has the best primary score on an item (ties share the point).

    Returns:
        rows ``{task, candidate, best, items}``; ``best`` may be fractional (a 2-way tie gives 0.5 each).
    """
    metric = primary_metric(rows)
    if metric is None:
        return []
    best: dict[tuple[str, str], float] = defaultdict(float)
    items: dict[str, int] = defaultdict(int)
    for (task, _), rs in _group(rows, "task", "item_id").items():
        scored = [(r["candidate"], to_float(r.get(metric))) for r in rs]
        scored = [(c, s) for c, s in scored if s is not None]
        if not scored:
            continue
        top = max(s for _, s in scored)
        winners = [c for c, s in scored if s >= top - 1e-9]
        items[task] += 1
        for c in winners:
            best[(task, c)] += 1 / len(winners)
    return [{"task": t, "candidate": c, "best": round(best.get((t, c), 0.0), 3), "items": items[t]}
            for t in items for c in candidates_of(rows)]


def check_pass_rates(rows: list[Row]) -> list[Row]:
    """Share of texts passing each check, per candidate (``pass.*`` columns).

    Returns:
        rows ``{candidate, <check>: rate in [0, 1]}`` with ``all`` = every check passed.
    """
    cols = [c for c in metric_columns(rows) if c.startswith("pass.")]
    if not cols:
        return []
    return [{"candidate": cand} | {c.removeprefix("pass."): _mean(r.get(c) for r in rs) for c in cols}
            for (cand,), rs in _group(rows, "candidate").items()]


def length_stats(rows: list[Row]) -> list[Row]:
    """Length distribution per (task, candidate) in characters: mean, p10, median, p90, min, max."""
    out = []
    for (task, cand), rs in _group(rows, "task", "candidate").items():
        lens = np.array([to_float(r.get("length_chars")) for r in rs if to_float(r.get("length_chars")) is not None])
        if len(lens) == 0:
            continue
        p10, med, p90 = np.percentile(lens, [10, 50, 90])
        out.append({"task": task, "candidate": cand, "n": len(lens), "mean": round(float(lens.mean()), 1),
                    "p10": float(p10), "median": float(med), "p90": float(p90),
                    "min": float(lens.min()), "max": float(lens.max())})
    return out


def diversity(rows: list[Row]) -> list[Row]:
    """distinct-1 / distinct-2 (Li et al. 2016) of each candidate's texts, per task and over ALL."""
    out = []
    have_text = [r for r in rows if r.get("text")]
    for task in [*dict.fromkeys(r["task"] for r in have_text), "ALL"]:
        for cand in candidates_of(have_text):
            texts = [r["text"] for r in have_text if r["candidate"] == cand and task in ("ALL", r["task"])]
            if texts:
                out.append({"task": task, "candidate": cand, "n": len(texts),
                            "distinct_1": round(distinct_n(texts, 1), 4), "distinct_2": round(distinct_n(texts, 2), 4)})
    return out


def win_rates(verdicts: list[Row], *, n_boot: int = 1000, seed: int = 0) -> list[Row]:
    """Raw and length-controlled win rates with 95 % bootstrap CIs and position consistency, per pair.

    Args:
        verdicts: rows with ``a, b, outcome (1/0.5/0 or None), consistent, len_a, len_b``.

    Returns:
        rows ``{a, b, n, wins, ties, losses, win_rate, ci_low, ci_high, lc_win_rate, lc_low, lc_high,
        position_consistency, failed}`` (rates in [0, 1]; win rate of ``a`` over ``b``).
    """
    out = []
    for (a, b), vs in _group(verdicts, "a", "b").items():
        ok = [v for v in vs if to_float(v.get("outcome")) is not None]
        o = np.array([float(v["outcome"]) for v in ok])
        row: Row = {"a": a, "b": b, "n": len(ok), "wins": int((o == 1).sum()), "ties": int((o == 0.5).sum()),
                    "losses": int((o == 0).sum()), "failed": len(vs) - len(ok)}
        if ok:
            raw, lc = win_rates_with_ci(o, [float(v["len_a"]) for v in ok], [float(v["len_b"]) for v in ok],
                                        n_boot=n_boot, seed=seed)
            cons = [str(v["consistent"]) in ("True", "1", "1.0") for v in ok]
            row |= {"win_rate": raw.value, "ci_low": raw.low, "ci_high": raw.high, "lc_win_rate": lc.value,
                    "lc_low": lc.low, "lc_high": lc.high, "position_consistency": float(np.mean(cons))}
        out.append(row)
    return out


def worst_items(rows: list[Row], n: int) -> list[Row]:
    """The ``n`` lowest-scoring texts by the primary score (golden included), with their texts."""
    metric = primary_metric(rows)
    if metric is None or n == 0:
        return []
    scored = [r for r in rows if to_float(r.get(metric)) is not None]
    scored.sort(key=lambda r: to_float(r[metric]))
    keep = ("task", "candidate", "item_id", metric, "length_chars", "text")
    return [{k: r.get(k) for k in keep} for r in scored[:n]]


def overall_consistency(verdicts: list[Row]) -> float | None:
    """Position-consistency rate over all comparisons whose two verdicts parsed, in [0, 1]."""
    cons = [str(v["consistent"]) in ("True", "1", "1.0") for v in verdicts if to_float(v.get("outcome")) is not None]
    return float(np.mean(cons)) if cons else None
