"""Small models with known evidence for the posterior tests (until bayescalc.models lands).

Each returns a ``bayescalc.Model`` whose ``log_z_exact`` is a closed form or a 1-D
scipy quadrature to ~1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.integrate
import scipy.special
import scipy.stats
import torch
from torch.distributions import Beta, Binomial, MultivariateNormal, Normal

from bayescalc import Model


def _t(x):
    return torch.tensor(float(x), dtype=torch.float64)


def linear_regression(d, n=100, seed=0, prior_sd=1.0, noise=1.0):
    """y = X beta + noise, beta ~ N(0, prior_sd^2 I): log Z = log N(y; 0, noise^2 I + s^2 X X^T)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    beta = rng.standard_normal(d) * 0.5
    y = x @ beta + noise * rng.standard_normal(n)
    cov = noise**2 * np.eye(n) + prior_sd**2 * x @ x.T
    log_z = scipy.stats.multivariate_normal(np.zeros(n), cov).logpdf(y)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)

    def log_prior(t):
        return Normal(_t(0), _t(prior_sd)).log_prob(t).sum(-1)

    def log_lik(t):
        return Normal(t @ xt.T, noise).log_prob(yt).sum(-1)

    def prior_sample(m, g):
        return prior_sd * torch.randn(m, d, generator=g, dtype=torch.float64)

    post_prec = x.T @ x / noise**2 + np.eye(d) / prior_sd**2
    model = Model(log_prior, log_lik, d, prior_sample=prior_sample, log_z_exact=log_z)
    model.posterior_cov = np.linalg.inv(post_prec)
    model.posterior_mean = model.posterior_cov @ x.T @ y / noise**2
    return model


def banana(b=1.0, y1=0.5, y2=1.0, s=0.3):
    """Prior N(0, 4 I); y1 ~ N(t1, 1), y2 ~ N(t2 + b t1^2, s^2): a curved posterior."""
    def log_prior(t):
        return Normal(_t(0), _t(2)).log_prob(t).sum(-1)

    def log_lik(t):
        return (Normal(t[:, 0], 1.0).log_prob(_t(y1))
                + Normal(t[:, 1] + b * t[:, 0] ** 2, s).log_prob(_t(y2)))

    def integrand(t1):
        return math.exp(scipy.stats.norm.logpdf(t1, 0, 2) + scipy.stats.norm.logpdf(y1, t1, 1)
                        + scipy.stats.norm.logpdf(y2 - b * t1**2, 0, math.sqrt(4 + s * s)))

    z, _ = scipy.integrate.quad(integrand, -30, 30, epsabs=0, epsrel=1e-13, limit=500)
    return Model(log_prior, log_lik, 2,
                 prior_sample=lambda m, g: 2.0 * torch.randn(m, 2, generator=g,
                                                             dtype=torch.float64),
                 log_z_exact=math.log(z))


def bimodal(sep=2.0):
    """Prior N(0, 9 I); likelihood a two-component Gaussian mixture in theta (closed form)."""
    f64 = torch.float64
    means = [torch.tensor([-sep, 0.0], dtype=f64), torch.tensor([sep, 1.0], dtype=f64)]
    covs = [torch.diag(torch.tensor([0.25, 0.25], dtype=f64)),
            torch.diag(torch.tensor([0.49, 0.16], dtype=f64))]
    weights = [0.6, 0.4]
    comps = [MultivariateNormal(m, c) for m, c in zip(means, covs)]

    def log_prior(t):
        return Normal(_t(0), _t(3)).log_prob(t).sum(-1)

    def log_lik(t):
        return torch.logsumexp(torch.stack([math.log(w) + c.log_prob(t)
                                            for w, c in zip(weights, comps)]), 0)

    log_z = scipy.special.logsumexp([
        math.log(w) + scipy.stats.multivariate_normal(np.zeros(2), 9 * np.eye(2) + c.numpy())
        .logpdf(m.numpy()) for w, m, c in zip(weights, means, covs)])
    return Model(log_prior, log_lik, 2,
                 prior_sample=lambda m, g: 3.0 * torch.randn(m, 2, generator=g,
                                                             dtype=torch.float64),
                 log_z_exact=float(log_z))


def beta_binomial(k=7, n=20, a=2.0, b=3.0):
    """theta ~ Beta(a, b), k ~ Binomial(n, theta), on (0, 1) through the sigmoid."""
    log_beta_ab = float(scipy.special.betaln(a, b))
    log_comb = math.log(math.comb(n, k))

    def log_prior(t):  # written out: torch's Beta/Binomial clamp probabilities (~1e-7 off)
        p = t[:, 0]
        return (a - 1) * torch.log(p) + (b - 1) * torch.log1p(-p) - log_beta_ab

    def log_lik(t):
        p = t[:, 0]
        return log_comb + k * torch.log(p) + (n - k) * torch.log1p(-p)

    log_z = (math.log(math.comb(n, k)) + scipy.special.betaln(k + a, n - k + b)
             - scipy.special.betaln(a, b))
    transform = torch.distributions.biject_to(Beta(a, b).support)
    model = Model(log_prior, log_lik, 1, transform=transform, names=["p"],
                  prior_sample=lambda m, g: torch.as_tensor(
                      np.random.default_rng(int(torch.randint(0, 2**31, (1,), generator=g)))
                      .beta(a, b, (m, 1))),
                  log_z_exact=log_z)
    model.posterior_ab = (k + a, n - k + b)
    return model


def improper():
    """A flat prior on the line in theta[1]: the likelihood does not involve it."""
    return Model(lambda t: Normal(_t(0), _t(1)).log_prob(t[:, 0]),
                 lambda t: Normal(t[:, 0], 1.0).log_prob(_t(0.3)), 2)
