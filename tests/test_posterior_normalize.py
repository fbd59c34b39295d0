"""normalize / Posterior / compare against closed forms."""

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
