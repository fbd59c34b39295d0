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


def complex_step_first(evaluate_complex, evaluate_real, x, scale):
    """First derivative by the complex step, with a central-difference cross-check.

    ``evaluate_complex(z)`` and ``evaluate_real(t)`` return f at arrays of points.
    Returns ``(value, error, success, message)``.
    """
    h = COMPLEX_STEP * scale
    z = np.asarray(x, dtype=np.complex128) + 1j * h
    fz = np.asarray(evaluate_complex(z), dtype=np.complex128)
    value = fz.imag / h
    rounding = 4 * EPS * np.abs(value) + 4 * EPS * np.abs(fz.real) / scale
    # Cross-check: a central difference with the step balancing its own errors.
    check_step = 2.0 ** np.floor(np.log2(EPS ** (1 / 3) * scale))
    plus = np.asarray(evaluate_real(x + check_step), dtype=np.float64)
    minus = np.asarray(evaluate_real(x - check_step), dtype=np.float64)
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


def contour_derivative(evaluate_complex, x, n, radius):
    """n-th derivative from Cauchy's integral formula; returns (value, error, n_evals)."""
    theta = 2 * np.pi * np.arange(CONTOUR_POINTS) / CONTOUR_POINTS
    nodes = np.exp(1j * theta)
    x = np.asarray(x, dtype=np.float64)
    z = x[..., None] + radius[..., None] * nodes
    fz = np.asarray(evaluate_complex(z.reshape(-1)), dtype=np.complex128).reshape(z.shape)
    weights = np.exp(-1j * n * theta)
    factor = math.factorial(n) / radius ** n
    full = factor * np.mean(fz * weights, axis=-1).real
    half = factor * np.mean((fz * weights)[..., ::2], axis=-1).real
    rounding = 4 * EPS * factor * np.max(np.abs(fz), axis=-1)
    error = np.abs(full - half) + rounding
    return full, error, z.size
