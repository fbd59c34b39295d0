"""Neal's funnel, split into a sampleable prior and a likelihood; log Z = 0 exactly."""

from __future__ import annotations

import math

import torch

from ..model import Model
from ._common import LOG_2PI


def funnel(d=10, *, scale=3.0):
    """Neal's funnel in ``d`` dimensions, a normalized density written as prior x likelihood.

    The funnel is ``v ~ N(0, scale^2)``, ``x_i | v ~ N(0, e^v)`` for ``i = 1..d-1``
    (Neal 2003). It is split so that the prior can be sampled and the evidence is known:

    - prior: ``N(v; 0, scale^2) prod_i N(x_i; 0, 1)``;
    - likelihood: ``prod_i N(x_i; 0, e^v) / N(x_i; 0, 1)`` (it absorbs the conditional
      factor and divides out the prior's).

    Prior x likelihood is the funnel density itself, which integrates to one, so
    ``log_z_exact = 0`` by construction.

    Parameters
    ----------
    d : int
        Total dimension (v and d - 1 x's), d >= 2.
    scale : float
        Standard deviation of v.

    Returns
    -------
    Model
        Parameters ``v``, ``x[0..d-2]``; ``log_z_exact = 0.0``.

    Examples
    --------
    >>> import torch
    >>> from bayescalc.models import funnel
    >>> m = funnel(d=10)
    >>> m.log_z_exact, m.names[:2]
    (0.0, ('v', 'x[0]'))
    >>> round(float(m.log_joint(torch.zeros(1, 10))[0]), 6)  # N(0; 0, 9) N(0; 0, 1)^9
    -10.287998
    """
    d = int(d)
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    scale = float(scale)

    def log_prior(theta):
        v, x = theta[:, 0], theta[:, 1:]
        return -0.5 * (v / scale) ** 2 - math.log(scale) - 0.5 * LOG_2PI \
            + (-0.5 * x ** 2).sum(-1) - 0.5 * (d - 1) * LOG_2PI

    def log_likelihood(theta):
        v, x = theta[:, :1], theta[:, 1:]
        # log N(x; 0, e^v) - log N(x; 0, 1), summed over the x's
        return (-0.5 * x ** 2 * torch.expm1(-v) - 0.5 * v).sum(-1)

    def prior_sample(k, generator):
        z = torch.randn(k, d, generator=generator, dtype=torch.float64)
        z[:, 0] *= scale
        return z

    return Model(log_prior, log_likelihood, d,
                 names=["v"] + [f"x[{i}]" for i in range(d - 1)],
                 prior_sample=prior_sample, log_z_exact=0.0)
