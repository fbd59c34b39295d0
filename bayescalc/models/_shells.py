"""Gaussian shells (Feroz & Hobson 2008): two thin shells, uniform prior on a box."""

from __future__ import annotations

import math

import mpmath
import torch
from torch.distributions import biject_to, constraints

from ..model import Model
from ._common import LOG_2PI


def _shells_log_z(d, radius, width, half_width) -> float:
    mpmath.mp.dps = 30
    r, w = mpmath.mpf(radius), mpmath.mpf(width)

    def radial(rho):  # N(rho; r, w^2) rho^(d-1): one shell's likelihood over its sphere
        return mpmath.exp(-(rho - r) ** 2 / (2 * w ** 2)) / mpmath.sqrt(2 * mpmath.pi
                                                                       * w ** 2) * rho ** (d - 1)

    integral = mpmath.quad(radial, [0, r - 10 * w, r, r + 10 * w, r + 40 * w, mpmath.inf])
    log_area = mpmath.log(2) + (d / mpmath.mpf(2)) * mpmath.log(mpmath.pi) - mpmath.loggamma(
        d / mpmath.mpf(2))
    result = float(mpmath.log(2) + log_area + mpmath.log(integral)
                   - d * mpmath.log(2 * mpmath.mpf(half_width)))
    mpmath.mp.dps = 15
    return result


def gaussian_shells(d=2, *, radius=2.0, width=0.1, center=3.5, half_width=6.0):
    """Two thin Gaussian shells in ``d`` dimensions, the nested-sampling classic.

    ``L(theta) = sum_{k=1,2} N(|theta - c_k|; radius, width^2)`` with centres
    ``c_{1,2} = (-+center, 0, ..., 0)`` and a uniform prior on ``[-half_width,
    half_width]^d`` (Feroz & Hobson 2008, MNRAS 384, 449, section 6.2; also Feroz,
    Hobson & Bridges 2009). The model works on the box mapped to ``R^d`` coordinatewise
    (logistic), with its log-Jacobian.

    ``log_z_exact``: each shell's integral over ``R^d`` is the 1-D radial integral
    ``S_{d-1} int_0^inf N(rho; radius, width^2) rho^(d-1) d rho`` (``S_{d-1}`` the area
    of the unit sphere), evaluated with mpmath at 30 digits; Z is twice that over the
    box volume. The shells lie inside the box up to 5 widths (the default geometry), so
    the box cuts off under 3e-7 of each shell's mass. Feroz & Hobson report -1.75,
    -5.67, -14.59, -36.09, -60.13 for d = 2, 5, 10, 20, 30 (matched to 0.01 in the
    tests).

    Parameters
    ----------
    d : int
        Dimension.
    radius, width, center, half_width : float
        Shell radius, shell thickness, centre offset, prior box half-width.

    Returns
    -------
    Model
        Parameters ``theta[0..d-1]``; with ``log_z_exact`` and ``centers``.

    Examples
    --------
    >>> from bayescalc.models import gaussian_shells
    >>> round(gaussian_shells(d=2).log_z_exact, 4)
    -1.7456
    >>> round(gaussian_shells(d=10).log_z_exact, 2)
    -14.59
    """
    d = int(d)
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    r, w, c, h = float(radius), float(width), float(center), float(half_width)
    centers = torch.zeros(2, d, dtype=torch.float64)
    centers[0, 0], centers[1, 0] = -c, c
    log_box = d * math.log(2 * h)

    def log_prior(theta):
        inside = (theta.abs() <= h).all(-1)
        return torch.where(inside, torch.full_like(theta[:, 0], -log_box),
                           torch.full_like(theta[:, 0], -math.inf))

    def log_likelihood(theta):
        dist = torch.linalg.vector_norm(theta[:, None, :] - centers, dim=-1)   # (n, 2)
        return torch.logsumexp(-0.5 * ((dist - r) / w) ** 2, dim=-1) - math.log(w) \
            - 0.5 * LOG_2PI

    def prior_sample(k, generator):
        return h * (2 * torch.rand(k, d, generator=generator, dtype=torch.float64) - 1)

    model = Model(log_prior, log_likelihood, d, transform=biject_to(constraints.interval(-h, h)),
                  names=[f"theta[{i}]" for i in range(d)], prior_sample=prior_sample,
                  log_z_exact=_shells_log_z(d, r, w, h))
    model.centers = centers
    return model
