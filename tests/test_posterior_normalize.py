"""normalize / Posterior / compare against closed forms."""

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st

import bayescalc as bc
from bayescalc.posterior import compare, normalize

sys.path.insert(0, str(Path(__file__).parent))
import _posterior_models as M  # noqa: E402


def test_beta_binomial_posterior_in_constrained_space():
    m = M.beta_binomial()
    a, b = m.posterior_ab
    post = normalize(m, method="quadrature", seed=0)
    exact = st.beta(a, b)
    assert abs(post.log_z - m.log_z_exact) < 1e-6
    assert abs(post.mean[0] - exact.mean()) < 1e-5
    assert abs(post.cov[0, 0] - exact.var()) < 1e-5
    np.testing.assert_allclose(post.credible_interval(0.9)[0], exact.ppf([0.05, 0.95]),
                               atol=1e-4)
    theta = np.array([[0.2], [0.35], [0.6]])
    np.testing.assert_allclose(post.log_pdf(theta), exact.logpdf(theta[:, 0]), atol=1e-6)
    x, p = post.marginal("p")
    np.testing.assert_allclose(p, exact.pdf(x), atol=1e-3 * exact.pdf(x).max())
    draws = post.sample(500, seed=1)
    assert draws.shape == (500, 1) and np.all((draws > 0) & (draws < 1))


def test_gaussian_moments_from_weighted_draws():
    m = M.linear_regression(4)
    post = normalize(m, seed=0)
    sd = np.sqrt(np.diag(m.posterior_cov))
    assert np.all(np.abs(post.mean - m.posterior_mean) < 0.05 * sd)
    np.testing.assert_allclose(post.cov, m.posterior_cov, rtol=0.15, atol=0.05 * sd.max()**2)


def test_banana_region_and_plots():
    post = normalize(M.banana(), seed=0)
    lo, hi = post.credible_interval(0.9).T
    assert np.all(lo < post.mean) and np.all(post.mean < hi)
    assert post.plot() is not None
    assert normalize(M.beta_binomial(), seed=0).plot() is not None
    assert normalize(M.linear_regression(3), seed=0).plot() is not None


def test_to_arviz():
    idata = normalize(M.beta_binomial(), seed=0).to_arviz(n=200, seed=0)
    assert "p" in idata.posterior


def test_improper_cannot_be_normalized():
    with pytest.raises(ValueError, match="not finite"):
        normalize(M.improper(), seed=0)


def test_compare_flags_and_plot():
    m = M.linear_regression(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare(m, methods=["laplace", "quadrature", "importance", "harmonic-mean"],
                        seed=0, options={"harmonic-mean": {"n_chains": 16, "n_steps": 40}})
    assert table.exact == m.log_z_exact
    assert table["laplace"].success and not table["harmonic-mean"].success
    assert table.disagreements == []
    assert "exact log Z" in repr(table)
    assert table.plot() is not None


def test_compare_method_that_does_not_apply():
    table = compare(M.linear_regression(12, n=40), methods=["laplace", "quadrature"], seed=0)
    assert not table["quadrature"].success and "alternatives" not in table["quadrature"].message
    assert "importance" in table["quadrature"].message


def test_large_data_log_likelihood_near_minus_1e5_no_underflow():
    # a normal mean with 100,000 unit-noise observations (sufficient statistics); log Z
    # is about -1.4e5: exp(log_joint) underflows everywhere, log space does not
    import math

    import torch

    rng = np.random.default_rng(0)
    y = rng.normal(0.7, 1.0, 100_000)
    n, ybar, ss = y.size, y.mean(), ((y - y.mean()) ** 2).sum()
    tau = 10.0

    def log_lik(t):
        return -0.5 * n * math.log(2 * math.pi) - 0.5 * ss - 0.5 * n * (t[:, 0] - ybar) ** 2

    m = bc.Model(lambda t: -0.5 * (t[:, 0] / tau) ** 2 - math.log(tau * math.sqrt(2 * math.pi)),
                 log_lik, 1)
    exact = (-0.5 * n * math.log(2 * math.pi) - 0.5 * ss - 0.5 * math.log(n) + 0.5 * math.log(
        2 * math.pi) + st.norm(0, math.sqrt(tau**2 + 1 / n)).logpdf(ybar))
    post = normalize(m, seed=0)
    assert post.log_z < -1e5 and abs(post.log_z - exact) < 1e-6
    assert abs(post.mean[0] - ybar * n / (n + tau**-2)) < 1e-6
    assert torch.isfinite(torch.as_tensor(post.log_pdf(np.array([[ybar]])))).all()


def _radial_moment_ratio(radius, width):
    """E[rho^3] / E[rho] for the 2-D shell's radius, density ~ N(rho; radius, width) rho."""
    r = np.linspace(max(radius - 12 * width, 0.0), radius + 12 * width, 20001)
    g = np.exp(-0.5 * ((r - radius) / width) ** 2) * r
    return np.trapezoid(g * r**2, r) / np.trapezoid(g, r)


@pytest.mark.parametrize("kind", ["funnel", "shells"])
def test_2d_grid_holds_the_mass_and_the_moments(kind):
    """The 2-D grid's box came from importance draws of the Laplace mixture: on two thin
    shells it held part of the rings and Var(x) came out 5.4 instead of 14.3, silently;
    on the funnel the x-tails beyond the box carried 5% of Var(x). The grid is now widened
    and refined until its trapezoid mass is 1 (within 1e-3) and its faces are 1e-6 of the
    peak; draws come from the grid. References: Var(v) = s^2 and Var(x) = exp(s^2 / 2) on
    the funnel; Var(x) = c^2 + E[rho^3] / (2 E[rho]) and Var(y) = E[rho^3] / (2 E[rho])
    on the shells."""
    if kind == "funnel":
        m = bc.models.funnel(2, scale=1.5)
        var = np.array([1.5**2, math.exp(1.5**2 / 2)])
    else:
        m = bc.models.gaussian_shells(2)
        half = 0.5 * _radial_moment_ratio(2.0, 0.1)
        var = np.array([3.5**2 + half, half])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        post = normalize(m, seed=0)
    assert abs(post.grid_mass - 1.0) <= 1e-3
    assert np.allclose(np.diag(post.cov), var, rtol=0.01), (np.diag(post.cov), var)
    assert np.all(np.abs(post.mean) <= 0.01 * np.sqrt(var))
    draws = post.sample(100_000, seed=1)
    # 100,000 draws: the variance's relative standard error is about sqrt(kurtosis / n),
    # under 1.5% for these (the funnel's x: kurtosis ~ 3 exp(s^2) = 28)
    assert np.allclose(draws.var(0), var, rtol=0.05), (draws.var(0), var)
