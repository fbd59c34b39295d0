"""Sums kept as ``exp(shift) * total`` so that log-space integrals never underflow.

With ``log=True`` an integrand returns ``log f``; its values can all lie near -1e5, where
``exp`` underflows to 0. The 1-D and multi-dimensional rules therefore accumulate
``f * exp(-shift)`` with ``shift`` the largest log value seen so far (the log-sum-exp
trick), rescaling what they stored whenever ``shift`` grows. In linear mode ``shift`` is 0.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

_EPS = np.finfo(float).eps


class ScaledEstimate(NamedTuple):
    """What a rule's loop found: the integral is ``total * exp(shift)``."""

    total: float
    error: float
    shift: float
    n_evals: int
    converged: bool
    message: str


def new_shift(shift: float, log_values: np.ndarray) -> float:
    """The running maximum of the finite log values (``shift`` never decreases)."""
    top = float(np.maximum.reduce(log_values, axis=None)) if log_values.size else -np.inf
    return max(shift, top) if math.isfinite(top) else shift


def linear_values(log_values: np.ndarray, shift: float) -> np.ndarray:
    """``exp(log_values - shift)``, 0 where the log value is -inf (or shift is -inf)."""
    if not math.isfinite(shift):
        return np.zeros_like(log_values)
    with np.errstate(under="ignore"):
        return np.exp(log_values - shift)


def rescale(log_values: np.ndarray, shift: float):
    """``(values, new shift, factor)``: fresh log values in the scaled units, and the factor
    (1.0 when the shift did not grow) that every sum stored so far must be multiplied by.

    Examples
    --------
    >>> values, shift, factor = rescale(np.array([-1000.0, -1001.0]), -1002.0)
    >>> values.round(4).tolist(), shift, float(factor).__round__(4)
    ([1.0, 0.3679], -1000.0, 0.1353)
    """
    grown = new_shift(shift, log_values)
    if grown == shift:
        factor = 1.0
    else:
        factor = np.exp(shift - grown) if math.isfinite(shift) else 0.0
    return linear_values(log_values, grown), grown, factor


def tolerance(total: float, shift: float, *, rtol: float, atol: float, log: bool) -> float:
    """The error allowed on ``total`` (in the scaled units of ``total``).

    In log space both tolerances apply to ``log I``, whose error is the relative error of
    ``I``: the loop stops when ``error(log I) <= max(rtol, atol)``.
    """
    if log:
        return max(rtol, atol) * abs(total)
    return max(atol, rtol * abs(total))


def finish(estimate: ScaledEstimate, *, log: bool):
    """``(value, error)`` of the integral, or of its log with ``log=True``.

    The error of ``log I`` is the relative error of ``I`` (to first order) plus the
    float64 rounding of a number the size of ``log I``.
    """
    if not log:
        return estimate.total, estimate.error
    if estimate.total > 0 and np.isfinite(estimate.shift):
        value = estimate.shift + float(np.log(estimate.total))
        # + the rounding of log values of this size (log f near -1e5 carries ~1e-11)
        return value, estimate.error / estimate.total + 4 * _EPS * abs(value)
    return -np.inf, np.inf
