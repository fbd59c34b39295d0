"""Bayesian linear regression, known noise (Gaussian) or unknown (normal-inverse-gamma)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.distributions import constraints

from .._core.random import as_generator
from ..model import Model, block_transform
from ._common import LOG_2PI, mvn_logpdf, numpy_rng, t64


def linear_regression(d=2, n=100, noise="known", seed=0, *, sigma=1.0, prior_scale=1.0,
                      a0=2.0, b0=2.0):
    """Bayesian linear regression ``y = X beta + eps`` with exact log Z.

    The design ``X`` (n, d) has standard normal entries; the true coefficients (and, for
    unknown noise, the noise variance) are drawn from the prior with ``seed``.

    - ``noise="known"``: ``beta ~ N(0, prior_scale^2 I)``, ``eps ~ N(0, sigma^2 I)``. The
      posterior is Gaussian; ``log Z = log N(y; 0, sigma^2 I + prior_scale^2 X X^T)``.
      Parameters: ``beta[0..d-1]``.
    - ``noise="unknown"`` (normal-inverse-gamma): ``sigma2 ~ InvGamma(a0, b0)``,
      ``beta | sigma2 ~ N(0, sigma2 prior_scale^2 I)``, ``eps ~ N(0, sigma2 I)``;
      ``log Z = -n/2 log 2 pi + 1/2 log(|V_n| / |V_0|) + a0 log b0 - a_n log b_n
      + log Gamma(a_n) - log Gamma(a0)`` with ``V_n = (V_0^-1 + X^T X)^-1``,
      ``a_n = a0 + n/2``, ``b_n = b0 + (y^T y - m_n^T V_n^-1 m_n) / 2``. Parameters:
      ``beta[0..d-1]`` and ``sigma2`` (positive; the model works on log sigma2).

    Parameters
    ----------
    d : int
        Number of coefficients.
    n : int
        Number of observations.
    noise : {"known", "unknown"}
    seed : int, optional
        Seed of the synthetic data.
    sigma : float
        Noise standard deviation (``noise="known"``).
    prior_scale : float
        Prior standard deviation of the coefficients (relative to sigma for unknown noise).
    a0, b0 : float
        Inverse-gamma prior of the noise variance (``noise="unknown"``).

    Returns
    -------
    Model
        With ``log_z_exact``, ``X``, ``y``; for known noise also ``posterior_mean`` and
        ``posterior_cov`` (Gaussian posterior).

    Examples
    --------
    >>> from bayescalc.models import linear_regression
    >>> m = linear_regression(d=2, n=100, seed=0)
    >>> m.dim, round(m.log_z_exact, 4)
    (2, -159.998)
    >>> m2 = linear_regression(d=2, n=100, noise="unknown", seed=0)
    >>> m2.names, round(m2.log_z_exact, 4)
    (('beta[0]', 'beta[1]', 'sigma2'), -203.2678)
    """
    d, n = int(d), int(n)
    if d < 1 or n < 1:
        raise ValueError(f"d and n must be >= 1, got d={d}, n={n}")
    if noise not in ("known", "unknown"):
        raise ValueError(f"noise must be 'known' or 'unknown', got {noise!r}")
    sigma, tau, a0, b0 = float(sigma), float(prior_scale), float(a0), float(b0)
    if min(sigma, tau, a0, b0) <= 0:
        raise ValueError("sigma, prior_scale, a0 and b0 must be positive")
    rng = as_generator(seed)
    X = rng.standard_normal((n, d))
    names = [f"beta[{i}]" for i in range(d)]
    if noise == "known":
        beta_true = tau * rng.standard_normal(d)
        y = X @ beta_true + sigma * rng.standard_normal(n)
        log_z = mvn_logpdf(y, sigma ** 2 * np.eye(n) + tau ** 2 * X @ X.T)
        prec = np.eye(d) / tau ** 2 + X.T @ X / sigma ** 2
        cov = np.linalg.inv(prec)
        cov = 0.5 * (cov + cov.T)
        mean = cov @ (X.T @ y) / sigma ** 2
        Xt, yt = t64(X), t64(y)

        def log_prior(theta):
            return -0.5 * (theta ** 2).sum(-1) / tau ** 2 - d * (math.log(tau) + 0.5 * LOG_2PI)

        def log_likelihood(theta):
            resid = yt - theta @ Xt.T
            return -0.5 * (resid ** 2).sum(-1) / sigma ** 2 - n * (math.log(sigma)
                                                                   + 0.5 * LOG_2PI)

        def prior_sample(k, generator):
            return tau * torch.randn(k, d, generator=generator, dtype=torch.float64)

        model = Model(log_prior, log_likelihood, d, names=names, prior_sample=prior_sample,
                      log_z_exact=log_z)
        model.posterior_mean, model.posterior_cov = t64(mean), t64(cov)
    else:
        sigma2_true = 1.0 / rng.gamma(a0, 1.0 / b0)
        beta_true = math.sqrt(sigma2_true) * tau * rng.standard_normal(d)
        y = X @ beta_true + math.sqrt(sigma2_true) * rng.standard_normal(n)
        vn_inv = np.eye(d) / tau ** 2 + X.T @ X
        mn = np.linalg.solve(vn_inv, X.T @ y)
        an = a0 + n / 2
        bn = b0 + 0.5 * (y @ y - mn @ vn_inv @ mn)
        log_z = (-0.5 * n * LOG_2PI - 0.5 * np.linalg.slogdet(vn_inv)[1] - d * math.log(tau)
                 + a0 * math.log(b0) - an * math.log(bn) + math.lgamma(an) - math.lgamma(a0))
        Xt, yt = t64(X), t64(y)

        def log_prior(theta):
            beta, s2 = theta[:, :d], theta[:, d].clamp(min=1e-300)  # exp(z) underflow: -inf
            log_ig = a0 * math.log(b0) - math.lgamma(a0) - (a0 + 1) * torch.log(s2) - b0 / s2
            return log_ig - 0.5 * (beta ** 2).sum(-1) / (s2 * tau ** 2) \
                - 0.5 * d * (torch.log(s2) + 2 * math.log(tau) + LOG_2PI)

        def log_likelihood(theta):
            beta, s2 = theta[:, :d], theta[:, d].clamp(min=1e-300)
            resid = yt - beta @ Xt.T
            return -0.5 * (resid ** 2).sum(-1) / s2 - 0.5 * n * (torch.log(s2) + LOG_2PI)

        def prior_sample(k, generator):
            r = numpy_rng(generator)
            s2 = 1.0 / r.gamma(a0, 1.0 / b0, size=k)
            beta = np.sqrt(s2)[:, None] * tau * r.standard_normal((k, d))
            return t64(np.column_stack([beta, s2]))

        transform = block_transform([("beta", constraints.real, (d,)),
                                     ("sigma2", constraints.positive, (1,))])
        model = Model(log_prior, log_likelihood, d + 1, transform=transform,
                      names=names + ["sigma2"], prior_sample=prior_sample, log_z_exact=log_z)
        model.posterior_a, model.posterior_b = an, bn
    model.X, model.y = Xt, yt
    return model
