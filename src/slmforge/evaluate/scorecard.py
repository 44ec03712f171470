"""The scorecard: each fine-tuned candidate against the base model and the prompting baseline.

For every (candidate, reference, metric) the items scored by both are paired; the delta is the mean of
per-item differences and its 95 % interval is the percentile bootstrap of that mean over items
(Efron & Tibshirani 1993, ch. 13; paired, so item difficulty cancels out). Rows go to
``scorecard.json`` as ``{candidate, against, metric, mean, against_mean, delta, ci_low, ci_high, n,
wins, losses, sentence}``; ``sentence`` says the comparison in plain language.

Inside a pipeline run, :func:`add_cost_per_point` adds what each fine-tuned candidate cost per
point of its gain: USD and tokens of the data stages it was trained on (teacher / weak-model calls of
synth, clean, prefs: the stage records' ``cost_usd`` and the ledger's tokens) and the training minutes
of its training stages (stage records' ``duration_s``), divided by the delta in quality points
(:data:`POINTS`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from slmforge.evaluate.runinfo import DATA_STAGES, RunSpend
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
#: metric column → (size of one quality point in the metric's units, how one point reads): a percentage
#: point for rates, 0.01 for the 0-1 check score, 0.1 for the 1-5 judge score and the reward-model logit.
POINTS: dict[str, tuple[float, str]] = {
    "pass.all": (0.01, "+1 pass-rate point"),
    "check.score": (0.01, "+0.01 check score"),
    "rm": (0.1, "+0.1 reward-model score"),
    "judge.overall": (0.1, "+0.1 judge score"),
}


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


def lineage(candidate: str, stages: set[str]) -> list[str] | None:
    """The stages a pipeline candidate was made from (data stages, then training), among ``stages``.

    ``sft``: synth, clean, sft; ``dpo``: + prefs, dpo; ``grpo``: synth, clean, sft, grpo, plus prefs and
    rm when the run trained a reward model (GRPO then uses it as a reward, see
    ``slmforge.pipeline.training.stage_grpo``). None for a candidate that is not a pipeline stage.
    """
    chains = {"sft": ["synth", "clean", "sft"], "dpo": ["synth", "clean", "prefs", "sft", "dpo"],
              "grpo": ["synth", "clean", *(["prefs"] if "rm" in stages else []), "sft", "rm", "grpo"]}
    if candidate not in chains:
        return None
    return [s for s in chains[candidate] if s in stages]


def _usd(v: float) -> str:
    return f"${v:.2f}" if v >= 0.01 or v == 0 else f"${v:.4f}"


def _cost_sentence(row: dict[str, Any], per: str) -> str:
    minutes = f"{row['training_min_per_point']:.1f} training minutes"
    if row["spent_usd"] > 0:
        head = f"{_usd(row['usd_per_point'])}, {row['tokens_per_point']:,.0f} tokens and {minutes}"
    else:
        head = minutes
    pct = METRICS[row["metric"]][1]
    gain = f"+{100 * row['delta']:.0f} points" if pct else f"+{row['delta']:.3f}"
    tail = "; its 95 % CI includes 0" if row["ci_low"] <= 0 else ""
    return f"{head} per {per} (gain over {row['against']}: {gain}{tail})"


def add_cost_per_point(card: list[dict[str, Any]], spend: RunSpend) -> None:
    """Add the cost of each pipeline candidate's gain to its scorecard rows (in place).

    New fields per row of a candidate named after a pipeline stage (see :func:`lineage`):
    ``spent_usd`` (USD), ``spent_tokens`` (tokens), ``training_min`` (minutes), ``spent_by_stage``
    (stage → ``{usd, tokens, minutes}``), ``point`` (size of one quality point, :data:`POINTS`),
    ``points`` (delta in points), ``usd_per_point`` / ``tokens_per_point`` / ``training_min_per_point``
    (None when delta ≤ 0) and ``cost_per_point`` (text: ``"$0.42, 1,200 tokens and 11.3 training
    minutes per +1 pass-rate point (gain over base: +25 points)"``, the minutes only when nothing was
    paid, ``"n/a (no gain)"`` when delta ≤ 0). Rows of other candidates are left as they are.
    """
    for row in card:
        stages = lineage(row["candidate"], set(spend.stages))
        if stages is None:
            continue
        by = {s: {"usd": round(spend.stages[s].cost_usd, 6), "tokens": spend.stages[s].tokens,
                  "minutes": round(spend.stages[s].duration_s / 60, 2) if s not in DATA_STAGES else 0.0}
              for s in stages}
        row.update(spent_usd=round(sum(v["usd"] for v in by.values()), 6),
                   spent_tokens=sum(v["tokens"] for v in by.values()),
                   training_min=round(sum(v["minutes"] for v in by.values()), 2), spent_by_stage=by)
        unit, per = POINTS[row["metric"]]
        points = row["delta"] / unit
        row.update(point=unit, points=round(points, 2), usd_per_point=None, tokens_per_point=None,
                   training_min_per_point=None, cost_per_point="n/a (no gain)")
        if points > 0:
            row.update(usd_per_point=round(row["spent_usd"] / points, 6),
                       tokens_per_point=round(row["spent_tokens"] / points, 1),
                       training_min_per_point=round(row["training_min"] / points, 3))
            row["cost_per_point"] = _cost_sentence(row, per)


def stage_breakdown(row: dict[str, Any]) -> str:
    """``spent_by_stage`` of a scorecard row as text: ``"synth $0.30 (12,000 tokens), sft 8.1 min"``."""
    parts = []
    for stage, v in row.get("spent_by_stage", {}).items():
        if v["minutes"]:
            parts.append(f"{stage} {v['minutes']:.1f} min")
        elif v["usd"] or v["tokens"]:
            parts.append(f"{stage} {_usd(v['usd'])} ({v['tokens']:,} tokens)")
    return ", ".join(parts)
