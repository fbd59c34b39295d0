"""A 2-D banana posterior (non-identified sum); log Z by 1-D mpmath quadrature."""

from __future__ import annotations

import math

import mpmath
import torch

from .._core.random import as_generator
from ..model import Model
from ._common import LOG_2PI, t64


def _banana_log_z(ybar, ss, n, sigma) -> float:
    mpmath.mp.dps = 30
    v = 1 + mpmath.mpf(sigma) ** 2 / n
    ybar = mpmath.mpf(ybar)

    def integrand(t):  # N(t; 0, 1) N(ybar; t^2, v): theta1 integrated out in closed form
        return mpmath.exp(-t ** 2 / 2 - (ybar - t ** 2) ** 2 / (2 * v)) / (2 * mpmath.pi
                                                                          * mpmath.sqrt(v))

    root = mpmath.sqrt(max(ybar, 0)) if ybar > 0 else mpmath.mpf(0)
    pts = sorted({-mpmath.inf, -root - 3, -root, 0, root, root + 3, mpmath.inf})
    log_i = mpmath.log(mpmath.quad(integrand, pts))
    const = (-0.5 * n * mpmath.log(2 * mpmath.pi * sigma ** 2) - mpmath.mpf(ss) / (2 * sigma ** 2)
             + 0.5 * mpmath.log(2 * mpmath.pi * sigma ** 2 / n))
    result = float(const + log_i)
    mpmath.mp.dps = 15
    return result


def banana(n=100, *, sigma=2.0, seed=0):
    """A 2-D banana-shaped posterior: only ``theta1 + theta2^2`` is identified.

    ``theta ~ N(0, I_2)``, ``y_j ~ N(theta1 + theta2^2, sigma^2)`` for ``j = 1..n``, with
    data drawn at ``theta1 + theta2^2 = 1``. The posterior is a curved ridge around the
    parabola ``theta1 = 1 - theta2^2``.

    ``log_z_exact``: theta1 is integrated out in closed form (the data enter through
    their mean: ``ybar | theta2 ~ N(theta2^2, 1 + sigma^2/n)``), then the 1-D integral
    over theta2 by mpmath's tanh-sinh quadrature at 30 digits; the tests check it against
    a composite 2-D Gauss-Legendre rule over the model's own density.

    Parameters
    ----------
    n : int
        Number of observations.
    sigma : float
        Observation noise standard deviation.
    seed : int, optional
        Seed of the synthetic data.

    Returns
    -------
    Model
        Parameters ``theta[0]``, ``theta[1]``; with ``log_z_exact`` and ``y``.

    Examples
    --------
    >>> from bayescalc.models import banana
    >>> m = banana(seed=0)
    >>> m.dim, round(m.log_z_exact, 6)
    (2, -209.547472)
    """
    n, sigma = int(n), float(sigma)
    if n < 1 or sigma <= 0:
        raise ValueError("n must be >= 1 and sigma positive")
    rng = as_generator(seed)
    y = 1.0 + sigma * rng.standard_normal(n)
    ybar, ss = float(y.mean()), float(((y - y.mean()) ** 2).sum())
    yt = t64(y)

    def log_prior(theta):
        return -0.5 * (theta ** 2).sum(-1) - LOG_2PI

    def log_likelihood(theta):
        mean = theta[:, 0] + theta[:, 1] ** 2
        return -0.5 * (ss + n * (ybar - mean) ** 2) / sigma ** 2 \
            - n * (math.log(sigma) + 0.5 * LOG_2PI)

    def prior_sample(k, generator):
        return torch.randn(k, 2, generator=generator, dtype=torch.float64)

    model = Model(log_prior, log_likelihood, 2, names=["theta[0]", "theta[1]"],
                  prior_sample=prior_sample, log_z_exact=_banana_log_z(ybar, ss, n, sigma))
    model.y = yt
    return model
