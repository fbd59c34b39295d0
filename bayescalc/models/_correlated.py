"""A strongly correlated Gaussian posterior in d dimensions (exact log Z)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._core.random import as_generator
from ..model import Model
from ._common import LOG_2PI, mvn_logpdf, t64


def correlated_gaussian(d=32, *, rho=0.95, prior_scale=3.0, seed=0):
    """A Gaussian posterior with equicorrelation ``rho`` between all d coordinates.

    Prior ``theta ~ N(0, prior_scale^2 I_d)``; one observation ``y ~ N(theta, S)`` with
    ``S = (1 - rho) I + rho 1 1^T`` (condition number ``1 + d rho / (1 - rho)``: 609 at
    the defaults); ``y`` is drawn from the model with ``seed``. Everything is Gaussian:
    ``log_z_exact = log N(y; 0, prior_scale^2 I + S)``, and the posterior is
    ``N(posterior_mean, posterior_cov)`` with ``posterior_cov = (I / prior_scale^2 +
    S^-1)^-1``.

    Parameters
    ----------
    d : int
        Dimension.
    rho : float
        Correlation, in (-1/(d-1), 1).
    prior_scale : float
        Prior standard deviation.
    seed : int, optional
        Seed of the synthetic observation.

    Returns
    -------
    Model
        With ``log_z_exact``, ``posterior_mean``, ``posterior_cov``, ``y``.

    Examples
    --------
    >>> from bayescalc.models import correlated_gaussian
    >>> m = correlated_gaussian(d=32, seed=0)
    >>> m.dim, round(m.log_z_exact, 4)
    (32, -75.4867)
    """
    d, rho, s = int(d), float(rho), float(prior_scale)
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    if not (-1.0 / max(d - 1, 1) < rho < 1.0):
        raise ValueError(f"rho must lie in (-1/(d-1), 1) for a covariance, got {rho}")
    if s <= 0:
        raise ValueError(f"prior_scale must be positive, got {prior_scale}")
    S = (1 - rho) * np.eye(d) + rho * np.ones((d, d))
    rng = as_generator(seed)
    theta_true = s * rng.standard_normal(d)
    y = theta_true + np.linalg.cholesky(S) @ rng.standard_normal(d)
    log_z = mvn_logpdf(y, s ** 2 * np.eye(d) + S)
    S_inv = np.linalg.inv(S)
    cov = np.linalg.inv(np.eye(d) / s ** 2 + S_inv)
    cov = 0.5 * (cov + cov.T)
    mean = cov @ S_inv @ y
    chol_S = np.linalg.cholesky(S)
    yt, S_inv_t = t64(y), t64(S_inv)
    log_norm = -0.5 * d * LOG_2PI - np.log(np.diag(chol_S)).sum()

    def log_prior(theta):
        return -0.5 * (theta ** 2).sum(-1) / s ** 2 - d * (math.log(s) + 0.5 * LOG_2PI)

    def log_likelihood(theta):
        diff = yt - theta
        return -0.5 * ((diff @ S_inv_t) * diff).sum(-1) + log_norm

    def prior_sample(k, generator):
        return s * torch.randn(k, d, generator=generator, dtype=torch.float64)

    model = Model(log_prior, log_likelihood, d, names=[f"theta[{i}]" for i in range(d)],
                  prior_sample=prior_sample, log_z_exact=log_z)
    model.posterior_mean, model.posterior_cov, model.y = t64(mean), t64(cov), yt
    return model
