"""The evidence benchmark's problems: each a bayescalc Model with an exact log Z, and the
unit-cube prior transform and numpy log likelihood that dynesty, nautilus and pocoMC take.

Exact log Z: closed forms (linear regression, beta-binomial, mixture, correlated
Gaussian) or one-dimensional adaptive quadrature to ~1e-12 (banana, funnel, shells).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import integrate, special, stats

from bayescalc.model import Model

LOG2PI = math.log(2 * math.pi)


@dataclass
class Problem:
    """A model and the peers' view of it."""

    name: str
    model: Model
    log_z: float
    prior_transform: object     # (n, d) unit cube -> (n, d) parameters
    loglike: object             # (n, d) parameters -> (n,) numpy
    dim: int
    scipy_prior: list = None    # one frozen scipy distribution per parameter (pocoMC)


def _np_loglike(fn):
    def loglike(theta):
        theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
        with torch.no_grad():
            return fn(torch.as_tensor(theta)).numpy()
    return loglike


def _normal_prior(d, scale):
    def log_prior(t):
        return (-0.5 * (t / scale) ** 2).sum(-1) - d * (0.5 * LOG2PI + math.log(scale))

    def sample(n, g):
        return scale * torch.randn(n, d, generator=g, dtype=torch.float64)

    def transform(u):
        return scale * special.ndtri(np.asarray(u))
    return log_prior, sample, transform


def _box_prior(d, half):
    interval = torch.distributions.transforms.ComposeTransform([
        torch.distributions.transforms.SigmoidTransform(),
        torch.distributions.transforms.AffineTransform(-half, 2 * half)])

    def log_prior(t):
        inside = (t.abs() <= half).all(-1)
        value = torch.full(t.shape[:1], -d * math.log(2 * half), dtype=torch.float64)
        return torch.where(inside, value, torch.full_like(value, -math.inf))

    def sample(n, g):
        return half * (2 * torch.rand(n, d, generator=g, dtype=torch.float64) - 1)

    def transform(u):
        return half * (2 * np.asarray(u) - 1)
    return log_prior, sample, transform, interval


def linear_regression(d, n=100, seed=0, noise=1.0, prior_scale=1.0) -> Problem:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal(d) * prior_scale
    y = x @ w + noise * rng.standard_normal(n)
    cov = noise ** 2 * np.eye(n) + prior_scale ** 2 * x @ x.T
    log_z = float(stats.multivariate_normal(np.zeros(n), cov).logpdf(y))
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)

    def loglike(t):
        r = yt - t @ xt.T
        return -0.5 * (r * r).sum(-1) / noise ** 2 - n * (0.5 * LOG2PI + math.log(noise))
    lp, sample, transform = _normal_prior(d, prior_scale)
    return Problem(f"linreg d={d}", Model(lp, loglike, d, prior_sample=sample, log_z_exact=log_z),
                   log_z, transform, _np_loglike(loglike), d, [stats.norm(0, prior_scale)] * d)


def linear_regression_unknown_noise(d, n=100, seed=0) -> Problem:
    """bayescalc.models.linear_regression(noise="unknown"): normal-inverse-gamma, exact
    log Z; the peers get the prior transform sigma2 = InvGamma(2, 2).ppf(u_d), beta =
    sqrt(sigma2) Phi^-1(u_1..d)."""
    from bayescalc.models import linear_regression as nig

    model = nig(d, n=n, noise="unknown", seed=seed)
    x, y = np.asarray(model.X), np.asarray(model.y)
    a0 = b0 = 2.0

    def loglike(theta):
        theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
        beta, s2 = theta[:, :d], theta[:, d]
        resid = y[None, :] - beta @ x.T
        return -0.5 * (resid ** 2).sum(-1) / s2 - 0.5 * n * (np.log(s2) + LOG2PI)

    def transform(u):
        u = np.asarray(u, dtype=np.float64)
        s2 = stats.invgamma(a0, scale=b0).ppf(u[..., d])
        beta = np.sqrt(s2)[..., None] * special.ndtri(u[..., :d])
        return np.concatenate([beta, s2[..., None]], axis=-1)
    return Problem(f"linreg unknown noise d={d}", model, float(model.log_z_exact), transform,
                   loglike, d + 1, None)


def beta_binomial(a=2.0, b=3.0, n=50, k=17) -> Problem:
    log_z = float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
                  + special.betaln(k + a, n - k + b) - special.betaln(a, b))
    prior = torch.distributions.Beta(torch.tensor(a, dtype=torch.float64),
                                     torch.tensor(b, dtype=torch.float64))
    const = float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))

    def log_prior(t):
        return prior.log_prob(t[:, 0].clamp(1e-300, 1 - 1e-16))

    def loglike(t):
        p = t[:, 0]
        return const + k * torch.log(p) + (n - k) * torch.log1p(-p)

    def sample(m, g):
        u = torch.rand(m, generator=g, dtype=torch.float64).numpy()
        return torch.as_tensor(special.betaincinv(a, b, u)).reshape(m, 1)

    def transform(u):
        return special.betaincinv(a, b, np.asarray(u))
    model = Model(log_prior, loglike, 1, prior_sample=sample, log_z_exact=log_z,
                  transform=torch.distributions.transforms.SigmoidTransform())
    return Problem("beta-binomial", model, log_z, transform, _np_loglike(loglike), 1,
                   [stats.beta(a, b)])


def banana(prior_scale=3.0, curvature=1.0, shift=1.0, s1=1.0, s2=0.3) -> Problem:
    """Prior N(0, 3^2 I); likelihood N(t1; 0, s1^2) N(t2; c t1^2 - shift, s2^2)."""

    def loglike(t):
        a = t[:, 0] / s1
        b = (t[:, 1] - (curvature * t[:, 0] ** 2 - shift)) / s2
        return -0.5 * (a * a + b * b) - LOG2PI - math.log(s1 * s2)

    def inner(t1):  # the t2 integral in closed form: a Gaussian convolution
        return (stats.norm.pdf(t1, 0, prior_scale) * stats.norm.pdf(t1, 0, s1)
                * stats.norm.pdf(curvature * t1 ** 2 - shift, 0, math.hypot(prior_scale, s2)))
    value, _ = integrate.quad(inner, -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=500)
    lp, sample, transform = _normal_prior(2, prior_scale)
    log_z = math.log(value)
    return Problem("banana", Model(lp, loglike, 2, prior_sample=sample, log_z_exact=log_z),
                   log_z, transform, _np_loglike(loglike), 2, [stats.norm(0, prior_scale)] * 2)


def mixture(prior_scale=3.0, width=0.5) -> Problem:
    """Prior N(0, 3^2 I); likelihood 0.7 N(mu1, w^2 I) + 0.3 N(mu2, w^2 I), well separated."""
    mus = torch.tensor([[-2.0, -1.0], [2.0, 1.5]], dtype=torch.float64)
    logw = torch.log(torch.tensor([0.7, 0.3], dtype=torch.float64))

    def loglike(t):
        r = t[:, None, :] - mus[None]
        comp = -0.5 * (r * r).sum(-1) / width ** 2 - LOG2PI - 2 * math.log(width)
        return torch.logsumexp(comp + logw, -1)
    s = math.hypot(prior_scale, width)
    marginal = stats.multivariate_normal(np.zeros(2), s * s * np.eye(2))
    log_z = float(special.logsumexp([math.log(p) + marginal.logpdf(m)
                                     for p, m in zip((0.7, 0.3), mus.numpy(), strict=True)]))
    lp, sample, transform = _normal_prior(2, prior_scale)
    return Problem("mixture", Model(lp, loglike, 2, prior_sample=sample, log_z_exact=log_z),
                   log_z, transform, _np_loglike(loglike), 2, [stats.norm(0, prior_scale)] * 2)


def funnel(d=10, half=10.0, v_scale=3.0) -> Problem:
    """Neal's funnel as the likelihood, v ~ N(0, 3^2), x_i ~ N(0, e^v), prior U[-10, 10]^d."""

    def loglike(t):
        v, x = t[:, 0], t[:, 1:]
        return (-0.5 * (v / v_scale) ** 2 - 0.5 * LOG2PI - math.log(v_scale)
                - 0.5 * (x * x).sum(-1) * torch.exp(-v) - (d - 1) * (0.5 * LOG2PI + 0.5 * v))

    def mass(v):
        inside = 2 * special.ndtr(half * math.exp(-v / 2)) - 1  # P(|x_i| < half | v)
        return stats.norm.pdf(v, 0, v_scale) * inside ** (d - 1)
    value, _ = integrate.quad(mass, -half, half, epsabs=0, epsrel=1e-13, limit=500)
    lp, sample, transform, interval = _box_prior(d, half)
    log_z = math.log(value) - d * math.log(2 * half)
    model = Model(lp, loglike, d, transform=interval, prior_sample=sample, log_z_exact=log_z)
    return Problem(f"funnel d={d}", model, log_z, transform, _np_loglike(loglike), d,
                   [stats.uniform(-half, 2 * half)] * d)


def shells(d=2, radius=2.0, width=0.1, centre=3.5, half=6.0) -> Problem:
    """Two Gaussian shells (Feroz & Hobson 2008) under the prior U[-6, 6]^d."""
    c = torch.zeros(2, d, dtype=torch.float64)
    c[0, 0], c[1, 0] = -centre, centre
    norm = -0.5 * LOG2PI - math.log(width)

    def loglike(t):
        rho = torch.sqrt(((t[:, None, :] - c[None]) ** 2).sum(-1))
        return torch.logsumexp(norm - 0.5 * ((rho - radius) / width) ** 2, -1)

    log_surface = math.log(2) + 0.5 * d * math.log(math.pi) - special.gammaln(d / 2)

    def radial(r):
        return math.exp((d - 1) * math.log(r) + log_surface + norm
                        - 0.5 * ((r - radius) / width) ** 2) if r > 0 else 0.0
    one, _ = integrate.quad(radial, max(0.0, radius - 40 * width), radius + 40 * width,
                            epsabs=0, epsrel=1e-13, limit=500)
    log_z = math.log(2 * one) - d * math.log(2 * half)
    lp, sample, transform, interval = _box_prior(d, half)
    model = Model(lp, loglike, d, transform=interval, prior_sample=sample, log_z_exact=log_z)
    return Problem(f"shells d={d}", model, log_z, transform, _np_loglike(loglike), d,
                   [stats.uniform(-half, 2 * half)] * d)


def correlated_gaussian(d=32, rho=0.9, prior_scale=3.0) -> Problem:
    """Prior N(0, 3^2 I); likelihood N(theta; 0.5 * 1, Sigma) with Sigma_ij = rho^|i-j|...
    equicorrelated: Sigma = (1 - rho) I + rho 1 1^T (unit variances)."""
    sigma = (1 - rho) * np.eye(d) + rho * np.ones((d, d))
    mu = np.full(d, 0.5)
    dist = torch.distributions.MultivariateNormal(torch.as_tensor(mu), torch.as_tensor(sigma))
    log_z = float(stats.multivariate_normal(np.zeros(d), sigma + prior_scale ** 2 * np.eye(d))
                  .logpdf(mu))

    def loglike(t):
        return dist.log_prob(t)
    lp, sample, transform = _normal_prior(d, prior_scale)
    return Problem(f"corr. Gaussian d={d}", Model(lp, loglike, d, prior_sample=sample,
                                                  log_z_exact=log_z),
                   log_z, transform, _np_loglike(loglike), d, [stats.norm(0, prior_scale)] * d)


def all_problems(quick: bool = False) -> list:
    """The benchmark's problem list (``quick``: a smaller one)."""
    if quick:
        return [linear_regression(2), banana(), mixture(), shells(2)]
    return [linear_regression(2), linear_regression(5), linear_regression(10),
            linear_regression(25), linear_regression_unknown_noise(5),
            linear_regression_unknown_noise(10), linear_regression_unknown_noise(25),
            beta_binomial(), banana(), mixture(), funnel(10), shells(2), shells(10),
            correlated_gaussian(32)]
