"""Reference models: every log_z_exact checked against an independent computation
(scipy closed forms or scipy adaptive quadrature of the model's own density), and the
model's density checked to integrate to it on the unconstrained space."""

import math

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st
import torch

import bayescalc as bc
from bayescalc import models


def _lj(model):
    """numpy log joint on unconstrained points (k, d)."""
    return lambda z: model.log_joint(torch.as_tensor(np.atleast_2d(z))).numpy()


def _gaussian_identity_log_z(model):
    """log Z of a Gaussian posterior from the model's own log joint at the mode:
    log p(y, m) + d/2 log 2 pi + 1/2 log |Sigma_post| (exact for Gaussian posteriors)."""
    d = model.dim
    at_mode = float(model.log_joint(model.posterior_mean[None])[0])
    return at_mode + 0.5 * d * math.log(2 * math.pi) + 0.5 * float(
        torch.linalg.slogdet(model.posterior_cov)[1])


def _gl_log_z(logf, box, panels=40, nodes=20):
    """log of the integral of exp(logf) over a 2-D box by composite tensor Gauss-Legendre
    (panels x nodes per axis, one vectorized call; spectrally accurate for the smooth,
    edge-negligible integrands here). Independent of the models' own log Z formulas."""
    u, w = np.polynomial.legendre.leggauss(nodes)
    axes = []
    for lo, hi in box:
        edges = np.linspace(lo, hi, panels + 1)
        half = 0.5 * np.diff(edges)[:, None]
        axes.append(((edges[:-1, None] + half * (u + 1)).ravel(), (half * w).ravel()))
    (x, wx), (y, wy) = axes
    xx, yy = np.meshgrid(x, y, indexing="ij")
    vals = logf(np.column_stack([xx.ravel(), yy.ravel()])) + np.log(np.outer(wx, wy)).ravel()
    top = vals.max()
    return float(top + np.log(np.exp(vals - top).sum()))


def _dblquad_log_z(model, box):
    return _gl_log_z(_lj(model), box)


@pytest.mark.parametrize("d", [1, 3])
def test_conjugate_normal_mean_against_scipy_and_gaussian_identity(d):
    m = models.conjugate_normal_mean(n=15, d=d, sigma=0.7, prior_mean=0.5, prior_sd=2.0,
                                     seed=3)
    y = m.data.numpy()
    n = y.shape[0]
    cov = 0.7 ** 2 * np.eye(n) + 4.0 * np.ones((n, n))
    ref = sum(st.multivariate_normal(0.5 * np.ones(n), cov).logpdf(y[:, j]) for j in range(d))
    assert m.log_z_exact == pytest.approx(ref, abs=1e-9)
    assert _gaussian_identity_log_z(m) == pytest.approx(ref, abs=1e-9)
    assert m.sample_prior(4, seed=1).shape == (4, d)


def test_beta_binomial_against_scipy_betabinom_and_quadrature():
    m = models.beta_binomial(n=40, a=2.0, b=3.0, seed=5)
    ref = st.betabinom(40, 2.0, 3.0).logpmf(m.k)
    assert m.log_z_exact == pytest.approx(ref, abs=1e-10)
    # the model's density on the logit scale (Jacobian included) integrates to Z
    f = _lj(m)
    val, _ = si.quad(lambda z: math.exp(f(np.array([[z]]))[0] - ref), -40, 40, epsabs=0,
                     epsrel=1e-12, limit=200)
    assert math.log(val) == pytest.approx(0.0, abs=1e-9)
    draws = m.constrain(m.sample_prior(4000, seed=0))
    assert abs(float(draws.mean()) - 0.4) < 0.02  # Beta(2, 3) mean, 4 standard errors


@pytest.mark.parametrize("d", [1, 2, 5])
def test_linear_regression_known_noise(d):
    m = models.linear_regression(d=d, n=30, seed=d, sigma=0.5, prior_scale=1.5)
    X, y = m.X.numpy(), m.y.numpy()
    ref = st.multivariate_normal(np.zeros(30), 0.25 * np.eye(30) + 2.25 * X @ X.T).logpdf(y)
    assert m.log_z_exact == pytest.approx(ref, abs=1e-9)
    assert _gaussian_identity_log_z(m) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("d", [1, 3])
def test_linear_regression_unknown_noise_student_t_marginal(d):
    m = models.linear_regression(d=d, n=25, noise="unknown", seed=d, a0=3.0, b0=2.0,
                                 prior_scale=1.2)
    X, y = m.X.numpy(), m.y.numpy()
    shape = (2.0 / 3.0) * (np.eye(25) + 1.44 * X @ X.T)
    ref = st.multivariate_t(np.zeros(25), shape, df=6.0).logpdf(y)
    assert m.log_z_exact == pytest.approx(ref, abs=1e-9)
    assert m.dim == d + 1 and m.names[-1] == "sigma2"
    theta = m.constrain(m.sample_prior(5, seed=0))
    assert bool((theta[:, -1] > 0).all())


def test_linear_regression_unknown_noise_density_integrates_to_z():
    m = models.linear_regression(d=1, n=20, noise="unknown", seed=1)
    log_z = _dblquad_log_z(m, [(-6, 6), (-5, 5)])
    assert log_z == pytest.approx(m.log_z_exact, abs=1e-7)


@pytest.mark.parametrize("d", [1, 2])
def test_logistic_regression_aghq_against_independent_quadrature(d):
    m = models.logistic_regression(n=60, d=d, seed=2)
    f = _lj(m)
    if d == 1:
        shift = float(f(np.zeros((1, 1)))[0])
        val, _ = si.quad(lambda b: math.exp(f(np.array([[b]]))[0] - shift), -15, 15,
                         epsabs=0, epsrel=1e-12, limit=200)
        ref = shift + math.log(val)
    else:
        ref = _dblquad_log_z(m, [(-8, 8), (-8, 8)])
    assert m.log_z_exact == pytest.approx(ref, abs=1e-8)
    assert models.logistic_regression(n=20, d=3).log_z_exact is None


def test_eight_schools_log_z_against_2d_gauss_legendre():
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    s = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])

    def logf(pts):  # theta integrated out: y_j | mu, tau ~ N(mu, tau^2 + s_j^2);
        # tau = 5 tan(pi u / 2) with u uniform on (0, 1) is exactly the HalfCauchy(5) prior
        u, mu = pts[:, :1], pts[:, 1:]
        tau = 5 * np.tan(0.5 * np.pi * u)
        return st.norm(0, 5).logpdf(mu[:, 0]) + st.norm(mu, np.sqrt(tau ** 2 + s ** 2)
                                                         ).logpdf(y).sum(-1)

    ref = _gl_log_z(logf, [(0, 1), (-40, 40)])
    c, nc = models.eight_schools(centered=True), models.eight_schools(centered=False)
    assert c.log_z_exact == pytest.approx(ref, abs=1e-7)
    assert nc.log_z_exact == c.log_z_exact


def test_eight_schools_parameterizations_have_the_same_evidence_pointwise():
    # theta = mu + tau * theta_tilde: the unconstrained densities agree up to the
    # Jacobian tau^8, so the two models integrate to the same Z.
    c, nc = models.eight_schools(centered=True), models.eight_schools(centered=False)
    z_nc = nc.sample_prior(50, seed=0)
    th = nc.constrain(z_nc)
    mu, tau, tt = th[:, :1], th[:, 1:2], th[:, 2:]
    z_c = c.unconstrain(torch.cat([mu, tau, mu + tau * tt], -1))
    lhs = c.log_joint(z_c) + 8 * torch.log(tau[:, 0])
    assert torch.allclose(lhs, nc.log_joint(z_nc), atol=1e-10)


def test_funnel_integrates_to_one():
    m = models.funnel(d=2)
    f = _lj(m)
    # x = e^{v/2} u: the neck resolved by the substitution (Jacobian e^{v/2})
    log_z = _gl_log_z(lambda p: f(np.column_stack([p[:, 0], np.exp(p[:, 0] / 2) * p[:, 1]]))
                      + p[:, 0] / 2, [(-30, 30), (-12, 12)])
    assert log_z == pytest.approx(0.0, abs=1e-9)
    # prior x likelihood is the funnel density itself, in any d
    z = m.sample_prior(5, seed=0)
    m10 = models.funnel(d=10)
    z10 = m10.sample_prior(7, seed=1)
    v, x = z10[:, 0], z10[:, 1:]
    ref = (torch.distributions.Normal(0, 3).log_prob(v)
           + torch.distributions.Normal(0, torch.exp(v / 2)[:, None]).log_prob(x).sum(-1))
    assert torch.allclose(m10.log_joint(z10), ref, atol=1e-10)
    assert z.shape == (5, 2)


def test_banana_log_z_against_2d_gauss_legendre():
    m = models.banana(n=50, seed=1)
    ref = _dblquad_log_z(m, [(-7, 3), (-4, 4)])
    assert m.log_z_exact == pytest.approx(ref, abs=1e-7)


def test_bimodal_mixture_log_z_against_2d_gauss_legendre():
    m = models.bimodal_mixture()
    ref = _dblquad_log_z(m, [(-9, 9), (-9, 9)])
    assert m.log_z_exact == pytest.approx(ref, abs=1e-8)


def test_gaussian_shells_match_feroz_hobson_and_a_cartesian_grid():
    # Feroz & Hobson (2008), Table 1: analytical log Z
    for d, published in [(2, -1.75), (5, -5.67), (10, -14.59), (20, -36.09), (30, -60.13)]:
        assert models.gaussian_shells(d=d).log_z_exact == pytest.approx(published, abs=0.006)
    # d = 2 on a fine Cartesian grid over the box (trapezoid: the integrand is smooth and
    # negligible at the edges; step 0.005 = width / 20)
    m = models.gaussian_shells(d=2)
    g = np.linspace(-6, 6, 2401)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    theta = torch.as_tensor(np.column_stack([xx.ravel(), yy.ravel()]))
    ll = m._log_likelihood(theta).numpy().reshape(xx.shape)
    val = si.trapezoid(si.trapezoid(np.exp(ll), g, axis=1), g) / 144.0
    assert math.log(val) == pytest.approx(m.log_z_exact, abs=1e-7)


def test_correlated_gaussian_exact():
    m = models.correlated_gaussian(d=32, seed=4)
    cov = 9.0 * np.eye(32) + 0.05 * np.eye(32) + 0.95 * np.ones((32, 32))
    ref = st.multivariate_normal(np.zeros(32), cov).logpdf(m.y.numpy())
    assert m.log_z_exact == pytest.approx(ref, abs=1e-9)
    assert _gaussian_identity_log_z(m) == pytest.approx(ref, abs=1e-9)
    assert m.log_joint_and_grad(m.posterior_mean[None])[1].abs().max() < 1e-8


@pytest.mark.parametrize("factory", [
    lambda: models.conjugate_normal_mean(), lambda: models.beta_binomial(),
    lambda: models.linear_regression(3), lambda: models.linear_regression(3, noise="unknown"),
    lambda: models.logistic_regression(50, 2), lambda: models.eight_schools(),
    lambda: models.funnel(5), lambda: models.banana(), lambda: models.bimodal_mixture(),
    lambda: models.gaussian_shells(3), lambda: models.correlated_gaussian(8)])
def test_every_model_is_seeded_batched_and_differentiable(factory):
    m = factory()
    assert isinstance(m, bc.Model) and m.can_sample_prior
    z = m.sample_prior(6, seed=0)
    assert torch.equal(z, m.sample_prior(6, seed=0))
    values, grad = m.log_joint_and_grad(z)
    assert values.shape == (6,) and grad.shape == (6, m.dim)
    assert torch.isfinite(values).all() and torch.isfinite(grad).all()
    assert torch.allclose(m.log_joint(z), m.log_prior(z) + m.log_likelihood(z))
    assert m.log_z_exact is None or math.isfinite(m.log_z_exact)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="noise"):
        models.linear_regression(2, noise="maybe")
    with pytest.raises(ValueError, match="rho"):
        models.correlated_gaussian(d=4, rho=1.0)
    with pytest.raises(ValueError, match="d must be"):
        models.funnel(d=1)
