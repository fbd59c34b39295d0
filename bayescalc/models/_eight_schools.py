"""Eight schools (Rubin 1981), centered and non-centered; log Z by 1-D quadrature."""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import torch
from torch.distributions import constraints

from ..model import Model, block_transform
from ._common import LOG_2PI, t64

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
MU_SD, TAU_SCALE = 5.0, 5.0


@functools.cache
def eight_schools_log_z() -> float:
    """log Z of eight schools: theta and mu integrated out in closed form
    (y | tau ~ N(0, diag(tau^2 + sigma^2) + 25 11^T)), then the half-Cauchy integral
    over tau by mpmath's tanh-sinh quadrature at 30 digits."""
    mpmath.mp.dps = 30
    ys = [mpmath.mpf(v) for v in Y]
    s2 = [mpmath.mpf(v) ** 2 for v in SIGMA]
    c = mpmath.mpf(MU_SD) ** 2

    def integrand(tau):
        dj = [tau ** 2 + s for s in s2]
        a = sum(1 / x for x in dj)
        b = sum(y / x for y, x in zip(ys, dj, strict=False))
        logdet = sum(mpmath.log(x) for x in dj) + mpmath.log(1 + c * a)
        quad = sum(y ** 2 / x for y, x in zip(ys, dj, strict=False)) - c * b ** 2 / (1 + c * a)
        log_marg = -0.5 * (len(ys) * mpmath.log(2 * mpmath.pi) + logdet + quad)
        prior = 2 / (mpmath.pi * TAU_SCALE * (1 + (tau / TAU_SCALE) ** 2))
        return prior * mpmath.exp(log_marg)

    value = mpmath.quad(integrand, [0, 1, 5, 25, 100, 1000, mpmath.inf])
    result = float(mpmath.log(value))
    mpmath.mp.dps = 15
    return result


def eight_schools(centered=True):
    """The eight-schools hierarchical model, centered or non-centered (same log Z).

    ``mu ~ N(0, 5^2)``, ``tau ~ HalfCauchy(5)``; centered: ``theta_j ~ N(mu, tau^2)``,
    ``y_j ~ N(theta_j, sigma_j^2)``; non-centered: ``theta_tilde_j ~ N(0, 1)``,
    ``y_j ~ N(mu + tau theta_tilde_j, sigma_j^2)``. The data are the classic eight
    treatment effects and standard errors (Rubin 1981). The two parameterizations have
    the same evidence (theta = mu + tau theta_tilde has Jacobian tau^8, which the
    N(mu, tau^2) prior's normalization cancels); the centered one has the funnel.

    ``log_z_exact``: theta and mu integrated out in closed form, then the 1-D integral
    over tau by mpmath quadrature (30 digits); checked in the tests by a 2-D
    Gauss-Legendre rule over (mu, tau) with theta integrated out.

    Parameters
    ----------
    centered : bool
        The centered (default) or non-centered parameterization.

    Returns
    -------
    Model
        10 parameters: ``mu``, ``tau`` (positive; the model works on log tau) and
        ``theta[j]`` or ``theta_tilde[j]``; with ``log_z_exact``, ``y``, ``sigma``.

    Examples
    --------
    >>> from bayescalc.models import eight_schools
    >>> m = eight_schools(centered=False)
    >>> m.dim, m.names[:3], round(m.log_z_exact, 6)
    (10, ('mu', 'tau', 'theta_tilde[0]'), -31.311347)
    """
    yt, st = t64(Y), t64(SIGMA)
    prefix = "theta" if centered else "theta_tilde"
    log_hc = math.log(2.0 / (math.pi * TAU_SCALE))

    def log_prior(theta):
        mu, tau, th = theta[:, 0], theta[:, 1].clamp(1e-300, 1e300), theta[:, 2:]
        lp = -0.5 * (mu / MU_SD) ** 2 - math.log(MU_SD) - 0.5 * LOG_2PI
        lp = lp + log_hc - torch.log1p((tau / TAU_SCALE) ** 2)
        if centered:
            z = (th - mu[:, None]) / tau[:, None]
            return lp + (-0.5 * z ** 2 - 0.5 * LOG_2PI).sum(-1) - 8 * torch.log(tau)
        return lp + (-0.5 * th ** 2 - 0.5 * LOG_2PI).sum(-1)

    def log_likelihood(theta):
        mu, tau, th = theta[:, :1], theta[:, 1:2].clamp(1e-300, 1e300), theta[:, 2:]
        effect = th if centered else mu + tau * th
        return (-0.5 * ((yt - effect) / st) ** 2 - torch.log(st) - 0.5 * LOG_2PI).sum(-1)

    def prior_sample(k, generator):
        g = dict(generator=generator, dtype=torch.float64)
        mu = MU_SD * torch.randn(k, 1, **g)
        tau = TAU_SCALE * torch.tan(0.5 * math.pi * torch.rand(k, 1, **g)).clamp(min=1e-300)
        eps = torch.randn(k, 8, **g)
        return torch.cat([mu, tau, mu + tau * eps if centered else eps], -1)

    transform = block_transform([("mu", constraints.real, (1,)),
                                 ("tau", constraints.positive, (1,)),
                                 (prefix, constraints.real, (8,))])
    model = Model(log_prior, log_likelihood, 10, transform=transform,
                  names=["mu", "tau"] + [f"{prefix}[{j}]" for j in range(8)],
                  prior_sample=prior_sample, log_z_exact=eight_schools_log_z())
    model.y, model.sigma = yt, st
    return model
