"""The scorecard: each fine-tuned candidate against the base model and the prompting baseline.

For every (candidate, reference, metric) the items scored by both are paired; the delta is the mean of
per-item differences and its 95 % interval is the percentile bootstrap of that mean over items
(Efron & Tibshirani 1993, ch. 13; paired, so item difficulty cancels out). Rows go to
``scorecard.json`` as ``{candidate, against, metric, mean, against_mean, delta, ci_low, ci_high, n,
wins, losses, sentence}``; ``sentence`` says the comparison in plain language.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from slmforge.evaluate.stats import bootstrap_ci

#: metric column → (label, shown as percentage points).
METRICS: dict[str, tuple[str, bool]] = {
    "check.score": ("overall check score", False),
    "pass.all": ("all-checks pass rate", True),
    "rm": ("reward-model score", False),
    "judge.overall": ("judge score (1-5)", False),
}
#: below this many paired items the report warns that no conclusion can be drawn.
MIN_ITEMS = 10


def _paired(rows: list[dict[str, Any]], a: str, b: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    by = {}
    for r in rows:
        v = r.get(metric)
        if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
            by[(r["item_id"], r["candidate"])] = float(v)
    items = sorted({i for i, c in by if c == a} & {i for i, c in by if c == b})
    return np.array([by[(i, a)] for i in items]), np.array([by[(i, b)] for i in items])


def _sentence(cand: str, against: str, label: str, pct: bool, row: dict[str, Any]) -> str:
    n, wins = row["n"], row["wins"]
    if pct:
        fmt = lambda v: f"{100 * v:.0f} %"  # noqa: E731
        delta = f"{100 * row['delta']:+.0f} points, 95 % CI {100 * row['ci_low']:+.0f} to {100 * row['ci_high']:+.0f}"
    else:
        fmt = lambda v: f"{v:.3f}"  # noqa: E731
        delta = f"{row['delta']:+.3f}, 95 % CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f}"
    verdict = ("beats" if row["ci_low"] > 0 else "trails" if row["ci_high"] < 0 else "is not distinguishable from")
    return (f"{cand} {verdict} {against} on {label}: better on {wins} of {n} held-out items, "
            f"{fmt(row['against_mean'])} → {fmt(row['mean'])}, {delta}.")


def scorecard(rows: list[dict[str, Any]], candidates: list[str], against: list[str], *,
              n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Paired comparisons of each candidate with each reference on every metric present.

    Args:
        rows: per-item score rows (``item_id``, ``candidate`` and metric columns).
        candidates: the fine-tuned candidates (``sft``, ``dpo`` …).
        against: the references (``base``, ``prompting``).
        n_boot / seed: bootstrap replicates and seed.

    Returns:
        scorecard rows (see the module doc); metrics with no paired item are left out.
    """
    out = []
    for cand in candidates:
        for ref in against:
            if ref == cand:
                continue
            for metric, (label, pct) in METRICS.items():
                x, y = _paired(rows, cand, ref, metric)
                if not len(x):
                    continue
                est = bootstrap_ci(x - y, n_boot=n_boot, seed=seed)
                row = {"candidate": cand, "against": ref, "metric": metric, "mean": round(float(x.mean()), 4),
                       "against_mean": round(float(y.mean()), 4), "delta": round(est.value, 4),
                       "ci_low": round(est.low, 4), "ci_high": round(est.high, 4), "n": int(len(x)),
                       "wins": int((x > y).sum()), "losses": int((x < y).sum())}
                row["sentence"] = _sentence(cand, ref, label, pct, row)
                out.append(row)
    return out


def small_n_warning(card: list[dict[str, Any]]) -> str | None:
    """A warning when any comparison rests on fewer than :data:`MIN_ITEMS` paired items."""
    small = sorted({r["n"] for r in card if r["n"] < MIN_ITEMS})
    if not small:
        return None
    return (f"some comparisons rest on only {', '.join(map(str, small))} held-out items (fewer than {MIN_ITEMS}): "
            "the intervals are wide; do not conclude from them")
