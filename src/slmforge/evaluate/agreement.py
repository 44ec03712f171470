"""Agreement of a judge with human ratings: quadratic-weighted Cohen's kappa (Cohen 1968), Spearman's rho,
exact and ±1 agreement, pair agreement, each with a percentile-bootstrap 95 % interval over ratings."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from slmforge.evaluate.existing import spearman
from slmforge.evaluate.stats import Estimate, bootstrap_ci


def quadratic_kappa(human: np.ndarray, judge: np.ndarray, *, k: int = 5) -> float:
    """Quadratic-weighted Cohen's κ (Cohen 1968) of two integer ratings on the scale 1..k.

    Args:
        human / judge: integer scores in 1..k, shape ``[n]``.
        k: number of categories (5 for the judge's scale).

    Returns:
        κ_w in [−1, 1]: 1 = identical, 0 = no better than the raters' marginals predict (e.g. a judge
        that always gives the same score); ``nan`` when empty or when the expected disagreement is 0
        (both sides constant at the same value).
    """
    h, j = np.asarray(human, int) - 1, np.asarray(judge, int) - 1
    if len(h) == 0:
        return float("nan")
    observed = np.zeros((k, k))
    np.add.at(observed, (h, j), 1.0)
    observed /= len(h)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    i = np.arange(k)
    w = (i[:, None] - i[None, :]) ** 2 / (k - 1) ** 2
    den = float((w * expected).sum())
    return float("nan") if den == 0 else 1 - float((w * observed).sum()) / den


def _ci(values: np.ndarray, stat: Callable[[np.ndarray], float], n_boot: int, seed: int) -> dict[str, float | None]:
    # a statistic undefined on every replicate (a constant judge's ρ) is nan, not an error: no All-NaN warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est: Estimate = bootstrap_ci(values, stat, n_boot=n_boot, seed=seed)
    clean = lambda v: None if math.isnan(v) else round(v, 4) + 0.0  # noqa: E731 - JSON has no NaN; + 0.0: no -0.0
    return {"value": clean(est.value), "low": clean(est.low), "high": clean(est.high)}


def point_metrics(human: np.ndarray, judge_int: np.ndarray, judge_score: np.ndarray, *, n_boot: int = 1000,
                  seed: int = 0) -> dict[str, Any]:
    """κ_w, Spearman ρ, exact and ±1 agreement, each ``{"value", "low", "high"}`` (95 % bootstrap, None = undefined).

    Args:
        human: human scores, integers 1..5, shape ``[n]``.
        judge_int: the judge's integer scores 1..5 (κ, exact, ±1), shape ``[n]``.
        judge_score: the judge's scores as reported (logprob-weighted when available; ρ), shape ``[n]``.
        n_boot / seed: bootstrap replicates and seed (ratings are resampled with replacement).
    """
    t = np.stack([np.asarray(human, float), np.asarray(judge_int, float), np.asarray(judge_score, float)], axis=1)
    return {"n": len(t),
            "kappa": _ci(t, lambda a: quadratic_kappa(a[:, 0], a[:, 1]), n_boot, seed),
            "spearman": _ci(t, lambda a: spearman(a[:, 0], a[:, 2]), n_boot, seed),
            "exact": _ci(t[:, 0] == t[:, 1], np.mean, n_boot, seed),
            "within_1": _ci(np.abs(t[:, 0] - t[:, 1]) <= 1, np.mean, n_boot, seed)}


def pair_metrics(human: np.ndarray, judge: np.ndarray, consistent: np.ndarray, *, n_boot: int = 1000,
                 seed: int = 0) -> dict[str, Any]:
    """Agreement on preference pairs, each ``{"value", "low", "high"}`` (95 % bootstrap).

    Args:
        human / judge: outcome for text A, 1 (A preferred), 0.5 (tie), 0 (B), shape ``[n]``.
        consistent: whether the judge's two orders agreed, shape ``[n]``.
        n_boot / seed: bootstrap replicates and seed.

    Returns:
        ``agreement`` (mean ``1 − |judge − human|``: a tie against a preference earns ½), ``exact`` (same
        verdict) and ``consistency`` (position-consistency rate), with ``n``.
    """
    h, j = np.asarray(human, float), np.asarray(judge, float)
    return {"n": len(h), "agreement": _ci(1 - np.abs(j - h), np.mean, n_boot, seed),
            "exact": _ci(j == h, np.mean, n_boot, seed),
            "consistency": _ci(np.asarray(consistent, float), np.mean, n_boot, seed)}


# ---- judging ---------------------------------------------------------------------------------------
