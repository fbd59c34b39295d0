"""psis_khat / psis_smooth: against Pyro's generalized-Pareto fit on the same tail, on
weights of known tail index, and on the edge cases (infinite, flat, too few)."""

import math

import numpy as np
import pytest
import torch
from pyro.ops.stats import fit_generalized_pareto
from scipy import stats

from bayescalc.integrate import psis_khat, psis_smooth


def tail_exceedances(log_weights):
    s = log_weights.size
    m = int(math.ceil(min(0.2 * s, 3 * math.sqrt(s))))
    ordered = np.sort(log_weights - log_weights.max())
    cutoff = ordered[-m - 1]
    return np.exp(ordered[-m:]) - math.exp(cutoff)


@pytest.mark.parametrize("scale", [0.5, 1.5, 3.0])
def test_khat_equals_pyro_fit_on_the_same_tail(scale, seed):
    # Pyro implements the same Zhang-Stephens fit with the same prior: equal to 1e-10
    log_w = scale * np.random.default_rng(seed).standard_normal(5000)
    k_pyro, _ = fit_generalized_pareto(torch.tensor(tail_exceedances(log_w)))
    assert psis_khat(log_w) == pytest.approx(k_pyro, abs=1e-10)


@pytest.mark.parametrize("k", [0.3, 0.6, 0.9])
def test_khat_recovers_the_shape_of_pareto_weights(k, seed):
    # weights drawn from a GPD of shape k: the tail fit of 30000 draws recovers k to
    # about 0.1 (its sampling sd at M = 520 tail points is ~0.05, plus the prior pull)
    w = stats.genpareto(c=k).rvs(30_000, random_state=np.random.default_rng(seed))
    assert psis_khat(np.log(w)) == pytest.approx(k, abs=0.1)


def test_khat_accepts_tensors_and_any_constant():
    log_w = np.random.default_rng(1).standard_normal(2000)
    assert psis_khat(torch.tensor(log_w)) == pytest.approx(psis_khat(log_w + 123.0), abs=1e-9)


def test_edge_cases():
    assert psis_khat(np.r_[np.zeros(99), np.inf]) == math.inf
    assert psis_khat(np.zeros(500)) == -math.inf           # flat tail: bounded weights
    assert math.isnan(psis_khat(np.zeros(8)))              # too few draws for a tail
    assert psis_khat(np.r_[np.full(50, -np.inf), np.random.default_rng(0).random(950)]) < 0.7
    with pytest.raises(ValueError, match="must not contain NaN"):
        psis_khat(np.array([0.0, np.nan] * 50))
    with pytest.raises(ValueError, match=r"shape \(S,\)"):
        psis_khat(np.zeros((10, 10)))


def test_smoothing_keeps_order_and_lowers_the_largest_weights(seed):
    log_w = np.log(stats.genpareto(c=0.8).rvs(4000, random_state=np.random.default_rng(seed)))
    smoothed, khat = psis_smooth(log_w)
    assert khat == pytest.approx(psis_khat(log_w))
    assert smoothed.max() <= log_w.max()
    body = log_w < np.sort(log_w)[-int(math.ceil(3 * math.sqrt(4000)))]
    np.testing.assert_array_equal(smoothed[body], log_w[body])   # only the tail changes
    order = np.argsort(log_w, kind="stable")
    assert np.all(np.diff(smoothed[order]) >= -1e-12)             # still sorted the same way


def test_smoothing_with_infinite_khat_returns_weights_unchanged():
    log_w = np.r_[np.zeros(99), np.inf]
    smoothed, khat = psis_smooth(log_w)
    assert khat == math.inf and np.array_equal(smoothed, log_w)
