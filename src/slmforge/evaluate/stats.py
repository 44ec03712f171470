"""Statistics of the comparison: win rates, length-controlled win rates, bootstrap confidence intervals.

* Win rate of X over Y: mean outcome with win = 1, tie = 0.5, loss = 0 (ties split, as AlpacaEval and
  Chatbot Arena report them).
* Length-controlled (LC) win rate (Dubois et al. 2024, "Length-Controlled AlpacaEval: A Simple Way
  to Debias Automatic Evaluators", §3): fit a logistic regression of the outcome on
  ``tanh(Δlen / sd(Δlen))`` and report the predicted win rate at zero length difference,
  ``sigmoid(intercept)``. AlpacaEval's GLM also has model and instruction terms; with one pair of
  candidates over one item set only the intercept and the length term remain. Fitted by Newton's
  method (IRLS) with fractional targets (ties = 0.5) and a small L2 penalty on the length slope, so
  that a judge whose verdict the length fully separates still gives a finite fit.
* Percentile bootstrap over items (Efron & Tibshirani 1993, ch. 13) for 95 % intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a bootstrap interval.

    Attributes:
        value: the estimate on the full sample.
        low / high: bounds of the percentile bootstrap interval (``level``, default 95 %).
        n: number of items.
    """

    value: float
    low: float
    high: float
    n: int


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    stat: Callable[[np.ndarray], float] = np.mean,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Percentile bootstrap interval of ``stat`` over items (resampled with replacement).

    Args:
        values: per-item values, shape ``[n]`` or ``[n, k]`` (rows are resampled together).
        stat: statistic of a resampled array (same shape as ``values``) → float.
        n_boot: bootstrap replicates.
        level: coverage of the interval (0.95 → 2.5th and 97.5th percentiles).
        seed: seed of the resampling RNG (results are reproducible).

    Returns:
        :class:`Estimate`; ``nan`` everywhere when ``values`` is empty.
    """
    arr = np.asarray(values, dtype=float)
    n = len(arr)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    point = float(stat(arr))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    reps = np.array([stat(arr[i]) for i in idx], dtype=float)
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(reps, [alpha, 1 - alpha])
    return Estimate(point, float(lo), float(hi), n)


def win_rate(outcomes: Sequence[float] | np.ndarray) -> float:
    """Mean outcome (1 = win, 0.5 = tie, 0 = loss), in [0, 1]; ``nan`` when empty."""
    arr = np.asarray(outcomes, dtype=float)
    return float(arr.mean()) if len(arr) else float("nan")


def length_feature(len_x: np.ndarray, len_y: np.ndarray) -> np.ndarray:
    """AlpacaEval-LC length term: ``tanh((len_x - len_y) / sd(len_x - len_y))``, shape ``[n]``.

    Args:
        len_x / len_y: lengths of the two sides in characters, shape ``[n]``.
    """
    diff = np.asarray(len_x, dtype=float) - np.asarray(len_y, dtype=float)
    sd = diff.std()
    return np.tanh(diff / sd) if sd > 0 else np.zeros_like(diff)


def fit_length_logit(
    outcomes: np.ndarray, feature: np.ndarray, *, l2: float = 0.1, iters: int = 50
) -> tuple[float, float]:
    """Logistic regression ``P(win) = sigmoid(a + b · feature)`` with fractional targets.

    Args:
        outcomes: targets in [0, 1], shape ``[n]``.
        feature: length term, shape ``[n]`` (see :func:`length_feature`).
        l2: ridge penalty on ``b`` (not on ``a``), in units of the summed log-likelihood.
        iters: Newton iterations (converges in < 10 on well-posed data).

    Returns:
        ``(a, b)``.
    """
    y = np.asarray(outcomes, dtype=float)
    x = np.stack([np.ones_like(feature), np.asarray(feature, dtype=float)], axis=1)  # [n, 2]
    w = np.zeros(2)
    pen = np.diag([1e-6, l2])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (y - p) - pen @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + pen
        step = np.linalg.solve(hess, grad)
        w = w + step
        if np.abs(step).max() < 1e-9:
            break
    return float(w[0]), float(w[1])


def lc_win_rate(outcomes: Sequence[float], len_x: Sequence[float], len_y: Sequence[float]) -> float:
    """Length-controlled win rate of X over Y (Dubois et al. 2024): ``sigmoid(a)`` of the fit above.

    Args:
        outcomes: per-item outcome for X (1 / 0.5 / 0), shape ``[n]``.
        len_x / len_y: lengths in characters of X's and Y's texts, shape ``[n]``.

    Returns:
        win rate in [0, 1] predicted at zero length difference; ``nan`` when empty.
    """
    y = np.asarray(outcomes, dtype=float)
    if len(y) == 0:
        return float("nan")
    a, _ = fit_length_logit(y, length_feature(np.asarray(len_x), np.asarray(len_y)))
    return float(1 / (1 + np.exp(-a)))


def win_rates_with_ci(
    outcomes: Sequence[float], len_x: Sequence[float], len_y: Sequence[float], *, n_boot: int = 1000, seed: int = 0
) -> tuple[Estimate, Estimate]:
    """Raw and length-controlled win rates of X over Y, each with a 95 % bootstrap interval over items.

    Args:
        outcomes: per-item outcome for X (1 / 0.5 / 0), shape ``[n]``.
        len_x / len_y: lengths in characters, shape ``[n]``.
        n_boot: bootstrap replicates.
        seed: resampling seed.

    Returns:
        ``(raw, length_controlled)``.
    """
    table = np.stack([np.asarray(outcomes, float), np.asarray(len_x, float), np.asarray(len_y, float)], axis=1)
    raw = bootstrap_ci(table[:, 0], n_boot=n_boot, seed=seed)
    lc = bootstrap_ci(table, lambda t: lc_win_rate(t[:, 0], t[:, 1], t[:, 2]), n_boot=n_boot, seed=seed)
    return raw, lc
