"""Conjugate one-parameter-family models: a normal mean and a beta-binomial (private)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.distributions import biject_to, constraints

from .._core.random import as_generator
from ..model import Model
from ._common import LOG_2PI, numpy_rng, t64


def conjugate_normal_mean(n=20, d=1, *, sigma=1.0, prior_mean=0.0, prior_sd=2.0, seed=0):
    """A normal mean with known noise and a normal prior: exact log Z and posterior.

    ``mu ~ N(prior_mean, prior_sd^2 I_d)``, ``y_i ~ N(mu, sigma^2 I_d)`` for
    ``i = 1..n``; the true mean is drawn from the prior with ``seed``.

    Parameters
    ----------
    n : int
        Number of observations.
    d : int
        Dimension of the mean (the coordinates are independent).
    sigma, prior_mean, prior_sd : float
        Known noise standard deviation, prior mean and prior standard deviation.
    seed : int, optional
        Seed of the synthetic data.

    Returns
    -------
    Model
        With ``log_z_exact`` (closed form: per coordinate the sufficient statistic
        ybar ~ N(prior_mean, prior_sd^2 + sigma^2 / n) times the residual factor),
        ``posterior_mean``, ``posterior_cov``, ``data`` (n, d).

    Examples
    --------
    >>> from bayescalc.models import conjugate_normal_mean
    >>> m = conjugate_normal_mean(n=20, seed=0)
    >>> m.dim, round(m.log_z_exact, 4)
    (1, -27.7684)
    >>> round(float(m.posterior_cov[0, 0]), 6)  # 1 / (1/4 + 20)
    0.049383
    """
    n, d = int(n), int(d)
    if n < 1 or d < 1:
        raise ValueError(f"n and d must be >= 1, got n={n}, d={d}")
    sigma, prior_mean, prior_sd = float(sigma), float(prior_mean), float(prior_sd)
    if sigma <= 0 or prior_sd <= 0:
        raise ValueError("sigma and prior_sd must be positive")
    rng = as_generator(seed)
    mu_true = prior_mean + prior_sd * rng.standard_normal(d)
    y = mu_true + sigma * rng.standard_normal((n, d))
    ybar = y.mean(0)
    ss = ((y - ybar) ** 2).sum(0)
    v = prior_sd ** 2 + sigma ** 2 / n
    log_z = float(np.sum(-0.5 * n * (LOG_2PI + 2 * math.log(sigma)) - ss / (2 * sigma ** 2)
                         + 0.5 * (LOG_2PI + math.log(sigma ** 2 / n))
                         - 0.5 * (LOG_2PI + math.log(v)) - (ybar - prior_mean) ** 2 / (2 * v)))
    prec = 1 / prior_sd ** 2 + n / sigma ** 2
    post_mean = (prior_mean / prior_sd ** 2 + n * ybar / sigma ** 2) / prec
    yt = t64(y)
    ybar_t, ss_t = t64(ybar), t64(ss)

    def log_prior(theta):
        return (-0.5 * ((theta - prior_mean) / prior_sd) ** 2).sum(-1) \
            - d * (math.log(prior_sd) + 0.5 * LOG_2PI)

    def log_likelihood(theta):  # by sufficient statistics: O(n d) once, O(d) per point
        quad = ss_t + n * (ybar_t - theta) ** 2
        return (-0.5 * quad / sigma ** 2).sum(-1) - n * d * (math.log(sigma) + 0.5 * LOG_2PI)

    def prior_sample(k, generator):
        return prior_mean + prior_sd * torch.randn(k, d, generator=generator,
                                                   dtype=torch.float64)

    model = Model(log_prior, log_likelihood, d, names=[f"mu[{i}]" for i in range(d)],
                  prior_sample=prior_sample, log_z_exact=log_z)
    model.posterior_mean = t64(post_mean)
    model.posterior_cov = torch.eye(d, dtype=torch.float64) / prec
    model.data = yt
    return model


def beta_binomial(n=50, *, a=1.0, b=1.0, seed=0):
    """A binomial success probability with a Beta(a, b) prior: exact log Z.

    ``p ~ Beta(a, b)``, ``k ~ Binomial(n, p)``; the true p is drawn from the prior with
    ``seed``. The parameter lives on (0, 1); the model works on its logit.

    Parameters
    ----------
    n : int
        Number of trials.
    a, b : float
        Beta prior parameters.
    seed : int, optional
        Seed of the synthetic data.

    Returns
    -------
    Model
        With ``log_z_exact = log C(n, k) + log B(a + k, b + n - k) - log B(a, b)`` (the
        beta-binomial pmf), ``k``, ``n_trials``, and the Beta posterior's ``posterior_a``,
        ``posterior_b``.

    Examples
    --------
    >>> from bayescalc.models import beta_binomial
    >>> m = beta_binomial(n=50, seed=0)
    >>> m.k, round(m.log_z_exact, 6)  # uniform prior: Z = 1 / (n + 1)
    (41, -3.931826)
    """
    n = int(n)
    a, b = float(a), float(b)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    rng = as_generator(seed)
    p_true = rng.beta(a, b)
    k = int(rng.binomial(n, p_true))
    lbeta = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
    log_choose = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    log_z = log_choose + lbeta(a + k, b + n - k) - lbeta(a, b)

    def log_prior(theta):
        p = theta[:, 0]
        return (a - 1) * torch.log(p) + (b - 1) * torch.log1p(-p) - lbeta(a, b)

    def log_likelihood(theta):
        p = theta[:, 0]
        return k * torch.log(p) + (n - k) * torch.log1p(-p) + log_choose

    def prior_sample(m, generator):
        p = numpy_rng(generator).beta(a, b, size=(m, 1))
        return t64(np.clip(p, 1e-300, 1 - 1e-16))

    model = Model(log_prior, log_likelihood, 1, transform=biject_to(constraints.unit_interval),
                  names=["p"], prior_sample=prior_sample, log_z_exact=log_z)
    model.k, model.n_trials = k, n
    model.posterior_a, model.posterior_b = a + k, b + n - k
    return model
