"""A 2-D bimodal posterior: a Gaussian prior times a two-component Gaussian likelihood."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..model import Model
from ._common import LOG_2PI, mvn_logpdf, t64

MEANS = np.array([[-2.5, 1.0], [2.0, -1.5]])
COVS = np.array([[[0.5, 0.3], [0.3, 0.5]], [[0.4, -0.15], [-0.15, 0.25]]])
WEIGHTS = np.array([0.7, 0.3])


def bimodal_mixture(*, prior_scale=4.0):
    """A 2-D posterior with two separated, differently shaped modes; exact log Z.

    Prior ``theta ~ N(0, prior_scale^2 I_2)``; likelihood ``L(theta) = 0.7 N(theta; m1, S1)
    + 0.3 N(theta; m2, S2)`` with modes at (-2.5, 1) and (2, -1.5) and two correlated
    covariances (fixed; no data). A Laplace approximation sees one mode only.

    ``log_z_exact = log sum_k w_k N(m_k; 0, prior_scale^2 I + S_k)`` in closed form
    (the Gaussian convolution); the tests check it against a composite 2-D
    Gauss-Legendre rule over the model's density.

    Parameters
    ----------
    prior_scale : float
        Prior standard deviation of each coordinate.

    Returns
    -------
    Model
        Parameters ``theta[0]``, ``theta[1]``; with ``log_z_exact``, ``means``, ``covs``,
        ``weights``.

    Examples
    --------
    >>> from bayescalc.models import bimodal_mixture
    >>> m = bimodal_mixture()
    >>> round(m.log_z_exact, 6)
    -4.850327
    """
    s = float(prior_scale)
    if s <= 0:
        raise ValueError(f"prior_scale must be positive, got {prior_scale}")
    log_z = np.logaddexp(*[math.log(w) + mvn_logpdf(m, s ** 2 * np.eye(2) + c)
                           for w, m, c in zip(WEIGHTS, MEANS, COVS)])
    prec = t64(np.linalg.inv(COVS))                                   # (2, 2, 2)
    means = t64(MEANS)
    log_norm = t64([math.log(w) - LOG_2PI - 0.5 * np.linalg.slogdet(c)[1]
                    for w, c in zip(WEIGHTS, COVS)])

    def log_prior(theta):
        return -0.5 * (theta ** 2).sum(-1) / s ** 2 - 2 * math.log(s) - LOG_2PI

    def log_likelihood(theta):
        diff = theta[:, None, :] - means                              # (n, 2, 2)
        quad = torch.einsum("nki,kij,nkj->nk", diff, prec, diff)
        return torch.logsumexp(log_norm - 0.5 * quad, dim=-1)

    def prior_sample(k, generator):
        return s * torch.randn(k, 2, generator=generator, dtype=torch.float64)

    model = Model(log_prior, log_likelihood, 2, names=["theta[0]", "theta[1]"],
                  prior_sample=prior_sample, log_z_exact=float(log_z))
    model.means, model.covs, model.weights = means, t64(COVS), t64(WEIGHTS)
    return model
