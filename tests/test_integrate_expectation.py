"""expectation: values and reparameterized gradients against closed forms, for MC, RQMC
and Gauss-Hermite; the kinds it returns; bad input.

Values and gradients are checked within 5 standard errors (for gradients: the spread of
the per-replicate gradient over seeds is not reported, so a bound from the MC error of
the same estimator, computed in the test, is used)."""

import math

import numpy as np
import pytest
import torch

from bayescalc.integrate import IntegrationResult, expectation

D = torch.distributions
F64 = torch.float64


def t(x, grad=False):
    return torch.tensor(x, dtype=F64, requires_grad=grad)


@pytest.mark.parametrize("method", ["mc", "qmc"])
def test_gradient_of_second_moment_flows_to_mean_and_scale(method, seed):
    # E_N(mu, s)[x^2] = mu^2 + s^2: d/dmu = 2 mu, d/ds = 2 s
    mu, s = t(0.7, True), t(1.3, True)
    r = expectation(lambda x: x**2, D.Normal(mu, s), method=method, n=2**14, seed=seed)
    assert isinstance(r, IntegrationResult) and isinstance(r.value, torch.Tensor)
    assert r.value.dim() == 0 and r.value.requires_grad and r.method == method
    assert abs(r.value.item() - (0.49 + 1.69)) < 5 * r.error
    r.value.backward()
    # gradient estimates: MC sd of 2x (for mu) is 2 s / sqrt(n) ~ 0.02; RQMC far smaller
    tolerance = 0.1 if method == "mc" else 1e-3
    assert mu.grad.item() == pytest.approx(1.4, abs=tolerance)
    assert s.grad.item() == pytest.approx(2.6, abs=2 * tolerance)


def test_multivariate_quadratic_form_and_its_gradient(seed):
    # E[x^T A x] = tr(A Sigma) + mu^T A mu; d/dmu = 2 A mu (A symmetric)
    a = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 1.5]], dtype=F64)
    mu = t([0.5, -1.0, 2.0], True)
    tril = torch.tensor([[1.0, 0, 0], [0.4, 0.8, 0], [-0.2, 0.3, 0.6]], dtype=F64)
    dist = D.MultivariateNormal(mu, scale_tril=tril)
    r = expectation(lambda x: torch.einsum("ni,ij,nj->n", x, a, x), dist, n=2**14, seed=seed)
    exact = torch.trace(a @ tril @ tril.T) + mu @ a @ mu
    assert abs(r.value.item() - exact.item()) < 5 * r.error
    r.value.backward()
    np.testing.assert_allclose(mu.grad.numpy(), (2 * a @ mu).detach().numpy(), atol=1e-2)


def test_independent_normal_and_lognormal_through_transforms(seed):
    loc, scale = t([0.1, 0.2], True), t([0.5, 0.3])
    r = expectation(lambda x: x.sum(dim=1), D.Independent(D.Normal(loc, scale), 1), seed=seed)
    assert abs(r.value.item() - 0.3) < 5 * r.error
    mu, sigma = t(0.2, True), t(0.4)
    lognormal = expectation(lambda x: x, D.LogNormal(mu, sigma), seed=seed)
    assert lognormal.method == "qmc"            # a transformed Gaussian: RQMC applies
    exact = math.exp(0.2 + 0.08)
    assert abs(lognormal.value.item() - exact) < 5 * lognormal.error
    lognormal.value.backward()
    assert mu.grad.item() == pytest.approx(exact, rel=1e-3)


def test_univariate_inverse_cdf_qmc_and_its_gradient(seed):
    rate = t(2.0, True)   # E_Exp(rate)[x] = 1 / rate, d/drate = -1 / rate^2
    r = expectation(lambda x: x, D.Exponential(rate), method="qmc", seed=seed)
    assert abs(r.value.item() - 0.5) < 5 * r.error
    r.value.backward()
    assert rate.grad.item() == pytest.approx(-0.25, rel=1e-2)


def test_not_reparameterizable_distribution_uses_plain_samples(seed):
    r = expectation(lambda k: k.double() ** 2, D.Poisson(t(3.0)), n=20_000, seed=seed)
    assert r.method == "mc" and "not reparameterizable" in r.message
    assert abs(r.value.item() - 12.0) < 5 * r.error         # var + mean^2 = 3 + 9


def test_gauss_hermite_dispatch_is_exact_for_polynomials():
    r = expectation(lambda x: x**4, D.Normal(t(1.0), t(2.0)), method="gauss-hermite", order=5)
    assert isinstance(r.value, torch.Tensor)
    assert r.value.item() == pytest.approx(1 + 6 * 4 + 3 * 16, rel=1e-12)
    cov = torch.tensor([[1.0, 0.5], [0.5, 2.0]], dtype=F64)
    mvn = D.MultivariateNormal(torch.zeros(2, dtype=F64), cov)
    r2 = expectation(lambda x: torch.exp(x.sum(dim=1)), mvn, method="gauss-hermite")
    assert r2.value.item() == pytest.approx(math.exp(0.5 * cov.sum().item()), rel=1e-7)


def test_qmc_error_far_below_mc_and_seeds_reproduce():
    dist = D.Normal(t(0.0), t(1.0))
    mc = expectation(torch.cos, dist, method="mc", n=2**14, seed=1)
    qmc = expectation(torch.cos, dist, method="qmc", n=2**14, seed=1)
    assert qmc.error < mc.error / 20
    assert abs(qmc.value.item() - math.exp(-0.5)) < 5 * qmc.error
    again = expectation(torch.cos, dist, method="qmc", n=2**14, seed=1)
    assert again.value.item() == qmc.value.item()


def test_global_torch_generator_untouched():
    before = torch.random.get_rng_state()
    expectation(lambda x: x, D.Gamma(t(2.0), t(1.0)), n=100, seed=0)
    expectation(lambda x: x, D.Normal(t(0.0), t(1.0)), method="mc", n=100, seed=0)
    assert torch.equal(before, torch.random.get_rng_state())


def test_bad_input():
    dist = D.Normal(t(0.0), t(1.0))
    with pytest.raises(ValueError, match="n must be >= 2"):
        expectation(lambda x: x, dist, n=1)
    with pytest.raises(ValueError, match="empty batch_shape"):
        expectation(lambda x: x, D.Normal(torch.zeros(3), torch.ones(3)))
    with pytest.raises(TypeError, match="dist must be a torch.distributions"):
        expectation(lambda x: x, "normal")
    with pytest.raises(ValueError, match="method must be one of"):
        expectation(lambda x: x, dist, method="simpson")
    with pytest.raises(ValueError, match="f returned a non-finite value nan"):
        expectation(lambda x: torch.where(x > 1, torch.nan, x), dist, seed=0)
    with pytest.raises(ValueError, match="must return shape"):
        expectation(lambda x: x.sum(), dist, seed=0)
    with pytest.raises(ValueError, match="method='qmc' needs"):
        expectation(lambda x: x, D.Dirichlet(torch.ones(3)), method="qmc")
    with pytest.raises(ValueError, match="method='gauss-hermite' needs"):
        expectation(lambda x: x, D.Gamma(t(2.0), t(1.0)), method="gauss-hermite")
