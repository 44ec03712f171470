"""Win rates, the length-controlled win rate and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from slmforge.evaluate.stats import bootstrap_ci, lc_win_rate, win_rate, win_rates_with_ci


def test_win_rate_splits_ties():
    assert win_rate([1, 0, 0.5, 0.5]) == 0.5
    assert np.isnan(win_rate([]))


def test_bootstrap_interval_contains_mean_and_narrows_with_n():
    rng = np.random.default_rng(1)
    small = bootstrap_ci(rng.normal(3, 1, 20), seed=0)
    large = bootstrap_ci(rng.normal(3, 1, 2000), seed=0)
    assert small.low < small.value < small.high
    assert (large.high - large.low) < (small.high - small.low) / 4
    assert large.low < 3 < large.high
    again = bootstrap_ci(rng.normal(3, 1, 20), seed=0)
    assert again.n == 20


def _longer_biased(seed=0, n=200):
    rng = np.random.default_rng(seed)
    len_y = rng.integers(100, 200, n)
    longer = rng.random(n) < 0.8
    len_x = np.where(longer, len_y + rng.integers(20, 80, n), len_y - rng.integers(20, 80, n))
    return rng, len_x, len_y, longer


def test_lc_win_rate_removes_length_advantage():
    # X is longer on 80 % of items; the judge's verdict depends on length only (no quality gap).
    rng, len_x, len_y, _ = _longer_biased()
    feature = np.tanh((len_x - len_y) / np.std(len_x - len_y))
    outcomes = (rng.random(len(len_x)) < 1 / (1 + np.exp(-3 * feature))).astype(float)
    raw, lc = win_rate(outcomes), lc_win_rate(outcomes, len_x, len_y)
    assert raw > 0.6
    assert abs(lc - 0.5) < 0.08 and lc < raw - 0.1
    # the mirror image: the shorter side is pulled up
    assert lc_win_rate(1 - outcomes, len_y, len_x) > (1 - raw) + 0.1


def test_lc_win_rate_direction_when_length_decides_every_verdict():
    _, len_x, len_y, longer = _longer_biased(seed=1)
    outcomes = longer.astype(float)  # separable: a finite fit thanks to the ridge term
    raw, lc = win_rate(outcomes), lc_win_rate(outcomes, len_x, len_y)
    assert np.isfinite(lc) and lc < raw - 0.05


def test_lc_equals_raw_when_lengths_are_equal():
    outcomes = np.array([1, 1, 1, 0, 0.5])
    lens = np.full(5, 100)
    assert lc_win_rate(outcomes, lens, lens) == pytest.approx(win_rate(outcomes), abs=1e-6)


def test_win_rates_with_ci_returns_intervals():
    outcomes = np.array([1, 0, 1, 1, 0.5, 1, 0, 1])
    lens = np.arange(8) * 10
    raw, lc = win_rates_with_ci(outcomes, lens, lens[::-1], n_boot=200)
    assert raw.low <= raw.value <= raw.high and raw.n == 8
    assert 0 <= lc.low <= lc.high <= 1
