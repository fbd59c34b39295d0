"""Derivatives from complex arguments, for f that accepts complex input.

First derivative, the complex step (Squire and Trapp, SIAM Review 40, 1998):
:math:`f'(x) = \\operatorname{Im} f(x + i h) / h + O(h^2)`. There is no subtraction, so
h can be tiny (1e-100 here) and the result is exact to rounding. It is only valid when f
is real-analytic and written with analytic operations: ``abs``, ``max`` or
``np.real``-style code gives silently wrong numbers, so each estimate is cross-checked
against a cheap central difference and fails (``success=False``) when they disagree.

Higher derivatives, Cauchy's integral formula on a circle of radius r (Lyness and
Moler, SIAM J. Numer. Anal. 4, 1967; Fornberg, ACM TOMS 7, 1981):
:math:`f^{(n)}(x) = \\frac{n!}{r^n} \\frac{1}{N} \\sum_k f(x + r e^{i\\theta_k})
e^{-i n \\theta_k}` with the trapezoidal rule on :math:`\\theta_k = 2\\pi k/N`, which
converges geometrically; the N/2-point rule (every other node) gives the error estimate.
"""

from __future__ import annotations

import math

import numpy as np

EPS = np.finfo(np.float64).eps
COMPLEX_STEP = 1e-100
CONTOUR_POINTS = 32


def complex_step_first(sampler, scale):
    r"""First derivatives along the sampler's lines by the complex step, cross-checked.

    Line k is :math:`t \mapsto f(x + t u_k)`; ``scale`` (K,) is x's magnitude along it.
    Two real evaluations per line form the central difference of the cross-check.
    Returns ``(value, error, success, message)``.
    """
    count = np.shape(scale)[0]
    lines = np.arange(count)
    x = np.zeros(count)
    h = COMPLEX_STEP * scale
    fz = np.asarray(sampler.complex_along(lines, 1j * h), dtype=np.complex128)
    value = fz.imag / h
    rounding = 4 * EPS * np.abs(value) + 4 * EPS * np.abs(fz.real) / scale
    # Cross-check: a central difference with the step balancing its own errors.
    check_step = 2.0 ** np.floor(np.log2(EPS ** (1 / 3) * scale))
    plus = np.asarray(sampler(lines, x + check_step), dtype=np.float64)
    minus = np.asarray(sampler(lines, x - check_step), dtype=np.float64)
    central = (plus - minus) / (2 * check_step)
    central_error = 1e-4 * (np.abs(central) + np.abs(plus) / scale) + 1e-8 * np.abs(fz.real)
    mismatch = np.abs(value - central)
    if not np.all(np.isfinite(value)):
        return value, np.full_like(value, np.inf), False, "f is not finite at x + i h"
    if np.any(mismatch > central_error):
        return (value, np.maximum(rounding, mismatch), False,
                "the complex step disagrees with a central difference: f is probably not "
                "analytic in x (abs, max, a branch) or not written for complex input")
    return value, rounding, True, "converged"


CONTOUR_HALVINGS = 10


def contour_derivative(sampler, x, n, radius):
    """n-th derivative from Cauchy's integral formula; returns (value, error, radius).

    The circle must stay inside f's disc of analyticity (log at 0.5 has a singularity at
    distance 0.5, and a circle of radius 0.5 runs through it), and the trapezoidal rule
    converges like :math:`(r/R)^N` for a singularity at distance R. So the radius is
    halved, from ``radius`` down, while the error estimate (32- against 16-point rule
    plus round-off, which grows like :math:`n!/r^n`) improves; the best radius per point
    is kept; where the first radius was the best, doubling it (up to 8 times) is tried,
    each larger circle accepted only if its value agrees with the smaller one's (a circle
    around a singularity gives a wrong value on which both rules agree). Each radius
    costs CONTOUR_POINTS evaluations per point.
    """
    x = np.asarray(x, dtype=np.float64)
    radius = np.asarray(radius, dtype=np.float64) * np.ones_like(x)
    best_value = np.full(x.shape, np.nan)
    best_error = np.full(x.shape, np.inf)
    best_radius = radius.copy()
    worse = np.zeros(x.shape, dtype=int)
    active = np.ones(x.shape, dtype=bool)
    for halving in range(CONTOUR_HALVINGS):            # a budget of radii
        index = np.flatnonzero(active)
        if index.size == 0:
            break
        r = radius[index] * 0.5 ** halving
        value, error = _contour(sampler, index, n, r)
        better = error < best_error[index]
        update = index[better]
        best_value[update], best_error[update], best_radius[update] = \
            value[better], error[better], r[better]
        worse[index] = np.where(better, 0, worse[index] + 1)
        converged = error <= 4 * EPS * np.abs(value)
        active[index] = ~converged & (worse[index] < 2)
    # Entire functions at high n want a larger circle (round-off grows like n!/r^n). A
    # larger circle may enclose a singularity, where both rules converge to a wrong
    # value: a larger radius is taken only if it agrees with the best smaller one.
    growing = np.isfinite(best_error) & (best_radius == radius)
    for growth in (2.0, 4.0, 8.0):
        index = np.flatnonzero(growing)
        if index.size == 0:
            break
        r = radius[index] * growth
        value, error = _contour(sampler, index, n, r)
        agree = np.abs(value - best_value[index]) <= 2.0 * (best_error[index] + error)
        take = agree & (error < best_error[index])
        update = index[take]
        best_value[update], best_error[update], best_radius[update] = \
            value[take], error[take], r[take]
        growing[index] = take
    return best_value, best_error, best_radius


def _contour(sampler, index, n, radius):
    theta = 2 * np.pi * np.arange(CONTOUR_POINTS) / CONTOUR_POINTS
    nodes = np.exp(1j * theta)
    offsets = radius[..., None] * nodes
    shape = offsets.shape
    with np.errstate(all="ignore"):
        lines = np.repeat(index, CONTOUR_POINTS)
        fz = np.asarray(sampler.complex_along(lines, offsets.reshape(-1)),
                        dtype=np.complex128).reshape(shape)
        weights = np.exp(-1j * n * theta)
        factor = math.factorial(n) / radius ** n
        full = factor * np.mean(fz * weights, axis=-1).real
        half = factor * np.mean((fz * weights)[..., ::2], axis=-1).real
        rounding = 4 * EPS * factor * np.max(np.abs(fz), axis=-1)
        error = np.abs(full - half) + rounding
    error = np.where(np.isfinite(full) & np.isfinite(error), error, np.inf)
    return full, error
