"""importance: integrals and self-normalized expectations against closed forms, the
standard error against the true error, ESS and k-hat, log space, and bad proposals.

Values are checked within 5 standard errors (the weights here have finite variance,
k-hat < 0.5, so the CLT holds and a false failure has probability < 1e-5)."""

import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

from bayescalc import ReliabilityWarning
from bayescalc.integrate import ImportanceResult, importance

D = torch.distributions


def gaussian_kernel(x):
    return np.exp(-0.5 * x**2)


def test_integral_of_gaussian_kernel_with_wider_proposal(seed):
    r = importance(gaussian_kernel, D.Normal(0.5, 1.5), n=20_000, seed=seed)
    assert isinstance(r, ImportanceResult) and r.success
    assert abs(r.value - math.sqrt(2 * math.pi)) < 5 * r.error
    assert r.khat < 0.5 and 0.3 * r.n_evals < r.ess <= r.n_evals


def test_multivariate_integral_and_log_space(seed):
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    precision = np.linalg.inv(cov)
    exact = 2 * math.pi * math.sqrt(np.linalg.det(cov))

    def log_f(x):
        return -0.5 * np.einsum("ni,ij,nj->n", x, precision, x) + 200.0

    q = D.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                             2.0 * torch.eye(2, dtype=torch.float64))
    r = importance(log_f, q, n=20_000, seed=seed, log=True)
    assert abs(r.value - 200.0 - math.log(exact)) < 5 * r.error
    plain = importance(lambda x: np.exp(log_f(x) - 200.0), q, n=20_000, seed=seed)
    assert r.value - 200.0 == pytest.approx(math.log(plain.value), rel=1e-12)
    assert r.error == pytest.approx(plain.error / plain.value, rel=1e-9)
    assert r.khat == pytest.approx(plain.khat, abs=1e-9)


def test_signed_integrand():
    # integral of x exp(-x^2/2) (x - 1) = -integral x exp(-x^2/2) + integral x^2 ... = sqrt(2 pi)
    r = importance(lambda x: x * (x - 1) * gaussian_kernel(x), D.StudentT(4.0, 0.0, 1.5),
                   n=40_000, seed=1)
    assert abs(r.value - math.sqrt(2 * math.pi)) < 5 * r.error


def test_self_normalized_posterior_mean_of_conjugate_normal(seed):
    # prior N(0, 1), one observation y = 2 with noise sd 1: posterior N(1, 1/2)
    def log_joint(theta):
        return -0.5 * theta**2 - 0.5 * (2.0 - theta) ** 2

    r = importance(lambda t: t, D.Normal(0.0, 2.0), n=20_000, seed=seed, target=log_joint)
    assert r.method == "self-normalized importance"
    assert abs(r.value - 1.0) < 5 * r.error
    second = importance(lambda t: t**2, D.Normal(0.0, 2.0), n=20_000, seed=seed,
                        target=log_joint)
    assert abs(second.value - 1.5) < 5 * second.error


def test_scipy_and_custom_proposals():
    scipy_r = importance(gaussian_kernel, stats.norm(0, 1.5), n=10_000, seed=2)
    assert abs(scipy_r.value - math.sqrt(2 * math.pi)) < 5 * scipy_r.error

    class Wide:
        def sample(self, n, rng):
            return rng.standard_t(5, size=n)

        def log_prob(self, x):
            return stats.t(5).logpdf(x)

    custom = importance(gaussian_kernel, Wide(), n=10_000, seed=2)
    assert abs(custom.value - math.sqrt(2 * math.pi)) < 5 * custom.error


def test_same_seed_same_number_and_global_torch_state_untouched():
    before = torch.random.get_rng_state()
    a = importance(gaussian_kernel, D.StudentT(3.0), n=1000, seed=3)
    b = importance(gaussian_kernel, D.StudentT(3.0), n=1000, seed=3)
    assert a.value == b.value
    assert torch.equal(before, torch.random.get_rng_state())


def test_light_tailed_proposal_is_caught_by_khat(seed):
    # q = N(0, 0.3^2) for f = N(0, 1) kernel: w = exp(a chi2), k = 1 - 0.3^2 = 0.91
    with pytest.warns(ReliabilityWarning, match="k-hat = .* > 0.7"):
        r = importance(gaussian_kernel, D.Normal(0.0, 0.3), n=20_000, seed=seed)
    assert r.khat > 0.7 and not r.success
    # ... while the standard error on its own looks harmless
    assert r.error < 0.1 * r.value


def test_proposal_with_zero_density_where_f_is_not_zero_warns_with_infinite_khat():
    class Truncated:
        """Samples N(0, 1) but claims zero density beyond |x| > 2 (a broken proposal)."""

        def sample(self, n, rng):
            return rng.standard_normal(n)

        def log_prob(self, x):
            return np.where(np.abs(x) > 2, -np.inf, stats.norm.logpdf(x))

    with pytest.warns(ReliabilityWarning, match="zero density at x = .* infinite weight"):
        r = importance(gaussian_kernel, Truncated(), n=2000, seed=0)
    assert r.khat == math.inf and not r.success


def test_zero_density_where_f_is_zero_is_fine():
    class HalfLine:
        def sample(self, n, rng):
            return rng.exponential(size=n) * np.where(rng.random(n) < 0.5, 1, -1)

        def log_prob(self, x):
            return np.where(x < 0, -np.inf, -x + math.log(0.5))

    r = importance(lambda x: np.where(x < 0, 0.0, np.exp(-2 * x)), HalfLine(), n=20_000,
                   seed=1)
    assert abs(r.value - 0.5) < 5 * r.error and r.success


def test_bad_input():
    q = D.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="n must be >= 2"):
        importance(gaussian_kernel, q, n=1)
    with pytest.raises(ValueError, match="f returned a non-finite value nan"):
        importance(lambda x: np.where(x > 1, np.nan, 1.0), q, n=1000, seed=0)
    with pytest.raises(TypeError, match="proposal must be a torch Distribution"):
        importance(gaussian_kernel, "normal")
    with pytest.raises(ValueError, match="needs log=False"):
        importance(gaussian_kernel, q, target=lambda x: -x**2, log=True)
    with pytest.raises(ValueError, match="target returned a non-finite value nan"):
        importance(gaussian_kernel, q, n=100, target=lambda x: np.full(x.shape, np.nan))


def test_no_warning_for_a_good_proposal():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = importance(gaussian_kernel, D.Normal(0.0, 1.3), n=5000, seed=0)
    assert [str(w.message) for w in caught] == []
    assert r.success and r.khat < 0.7
    # A wider proposal has bounded weights: the standard error is honest.
    assert abs(r.value - np.sqrt(2 * np.pi)) < 5 * r.error
