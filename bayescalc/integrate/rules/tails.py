"""The part of an infinite range that the maps leave out: measured, never assumed to vanish.

The 1-D rules see an infinite range through a map (:mod:`.range_maps`) and count nodes
beyond ``|x| = 1e100`` as 0. For a tail that decays like ``|x|^-p`` the part left out is
``∫_X^∞ f ~ X f(X) / (p - 1)``: negligible for a Gaussian or ``1/x^2``, 10% of the
integral for ``x^-1.01`` on ``[1, ∞)``, and infinite when ``p <= 1`` (``1/x``, a
constant, ``x^-0.5``), where the rules would otherwise return ``log(1e100)`` or ``1e100``
with a tiny error (issue 8).

:func:`measure_tail` integrates ``|f|`` over two decades of ``|x|``, ``[1e49, 1e50]``
and ``[1e99, 1e100]``, with a 5-point Gauss–Legendre rule in ``log |x|`` (a power law is
an exponential there, integrated to a few digits; only the order of magnitude counts).
Their ratio gives the decay per decade ``r = 10^(1 - p)``: ``p <= 1.02`` means the
integral diverges, converges too slowly for float64 (the part beyond 1e100 of
``x^-1.01`` is a tenth of it), or, for an oscillating ``f`` such as ``sin(x)/x``,
converges only conditionally (``weight='sin'`` handles that one): ``quad`` stops there,
after 10 evaluations. Else the tail beyond ``1e100`` is the geometric rest
``m r / (1 - r)`` of the last decade's mass ``m``, which ``quad`` adds to the value; the
error gets the part beyond ``1e90`` (``m r^-9 / (1 - r)``: the rules' own reach ends
somewhat before ``1e100``). An ``f`` that is exactly 0 at
the five far nodes (every tail that decays faster than a power) costs 5 evaluations.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp, roots_legendre

_NODES, _WEIGHTS = roots_legendre(5)
_FAR, _MIDDLE = 99.0, 49.0  # decades [1e99, 1e100] and [1e49, 1e50] of |x|
# p <= 1.02 counts as divergent: 50 decades measure p to ~0.005 even when f oscillates
# (|sin x| at five nodes per decade), and such a tail could not be resolved anyway
_DIVERGENT_POWER = 1.02


class Tail(NamedTuple):
    """What lies beyond ``|x| = 1e100`` on one side (linear, or logs with ``log=True``)."""

    divergent: bool
    size: float      # |∫ beyond 1e100| estimate (log of it with log=True; -inf: none)
    signed: float    # the signed estimate (linear mode), or its sign (log mode: +1)
    power: float     # p in |x|^-p (nan when unknown)
    n_evals: int
    bound: float = 0.0  # the part beyond |x| = 1e90: what the error gets (log with log=True)




def measure_tail(function, origin: float, direction: float, *, log: bool) -> Tail:
    """Measure the tail of ``function`` toward ``direction * inf`` from ``origin``.

    ``function`` is vectorized (a :class:`bayescalc._core.batch.BatchFunction`).

    Examples
    --------
    >>> import numpy as np
    >>> measure_tail(lambda x: 1 / x, 1.0, 1.0, log=False).divergent
    True
    >>> tail = measure_tail(lambda x: x**-1.5, 1.0, 1.0, log=False)
    >>> print(tail.divergent, f"{tail.power:.3f}", tail.size < 1e-40)
    False 1.500 True
    """
    far, count = _decade_mass(function, origin, direction, _FAR, log)
    empty = -np.inf if log else 0.0
    if far[0] == empty:
        return Tail(False, empty, 0.0, math.nan, count, empty)
    middle, more = _decade_mass(function, origin, direction, _MIDDLE, log)
    count += more
    if log:
        log_ratio = (far[0] - middle[0]) / (_FAR - _MIDDLE) if middle[0] > -np.inf else np.inf
    else:
        log_ratio = (math.log(far[0] / middle[0]) / (_FAR - _MIDDLE)
                     if middle[0] > 0 else np.inf)
    power = 1.0 - log_ratio / math.log(10.0)
    if not math.isfinite(far[0]) or power <= _DIVERGENT_POWER:
        return Tail(True, np.inf, far[1], power, count)
    ratio = math.exp(log_ratio)
    log_rest = log_ratio - math.log1p(-ratio)
    log_slack = -9.0 * log_ratio - math.log1p(-ratio)
    if log:
        return Tail(False, far[0] + log_rest, 1.0, power, count, far[0] + log_slack)
    with np.errstate(over="ignore"):
        return Tail(False, far[0] * math.exp(log_rest), far[1] * math.exp(log_rest), power,
                    count, float(np.exp(math.log(far[0]) + log_slack)))


def _decade_mass(function, origin, direction, decade, log):
    """``(∫|f|, ∫f)`` over ``|x - origin|`` in ``[10^decade, 10^(decade+1)]``.

    With ``log=True``: ``(log ∫f, 1)``.
    """
    u = decade + 0.5 * (_NODES + 1.0)           # log10 of the distance
    distance = 10.0**u
    x = origin + direction * distance
    with np.errstate(all="ignore"):
        values = np.asarray(function(x), dtype=float)
    # weights of ∫ g dx = ∫ g(x(u)) ln(10) 10^u du over one unit of u
    log_weights = np.log(0.5 * _WEIGHTS) + math.log(math.log(10.0)) + u * math.log(10.0)
    if log:
        values = np.where(np.isnan(values), -np.inf, values)
        if np.any(values == np.inf):
            return (np.inf, 1.0), x.size
        return (float(logsumexp(values + log_weights)), 1.0), x.size
    values = np.where(np.isnan(values), 0.0, values)  # inf * 0 far out (x**9 * exp(-x))
    if not np.all(np.isfinite(values)):
        sign = float(np.sign(values[~np.isfinite(values)][0]))
        return (np.inf, sign * np.inf), x.size
    weights = np.exp(log_weights)
    with np.errstate(over="ignore"):
        return (float(np.sum(np.abs(values) * weights)), float(np.sum(values * weights))), x.size


def box_divergence(function, lower, upper, *, log: bool):
    """``(message, n_evals)``: ``message`` is None unless f fails to decay along an axis.

    The d-dimensional check of :func:`measure_tail`, for ``cubature`` on a box with
    infinite sides: along each infinite axis, through the box's centre (0 on an axis
    infinite both ways, the finite end on a half-infinite one), a line on which f decays
    no faster than ``|x|^-1.02`` makes the integral over the box divergent (for almost
    every such line, by Fubini, unless f's mass shrinks off the line faster than it
    grows along it).

    Examples
    --------
    >>> import numpy as np
    >>> message, _ = box_divergence(lambda x: np.exp(-x[:, 0] ** 2), np.array([-np.inf] * 2),
    ...                             np.array([np.inf] * 2), log=False)
    >>> "divergent?" in message      # constant along the second axis
    True
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    both = ~np.isfinite(lower) & ~np.isfinite(upper)
    centre = np.where(both, 0.0, np.where(np.isfinite(lower) & np.isfinite(upper),
                                          0.5 * (lower + upper),
                                          np.where(np.isfinite(lower), lower, upper)))
    n_evals = 0
    for axis in range(lower.size):
        for direction, bound in ((1.0, upper[axis]), (-1.0, lower[axis])):
            if np.isfinite(bound):
                continue

            def line(y, axis=axis):
                points = np.repeat(centre[None, :], np.size(y), axis=0)
                points[:, axis] = y
                return function(points)

            tail = measure_tail(line, float(centre[axis]), direction, log=log)
            n_evals += tail.n_evals
            if tail.divergent:
                side = "+inf" if direction > 0 else "-inf"
                power = ("" if not math.isfinite(tail.power)
                         else f" (like |x|^{-tail.power:.3g})")
                return (f"f does not decay clearly faster than 1/|x| along axis {axis} toward "
                        f"{side}{power}, measured through the box's centre over |x| from 1e49 "
                        "to 1e100: the integral is divergent? (or converges too slowly for "
                        "float64)"), n_evals
    message, more = _radial_divergence(function, lower, upper, centre, log=log)
    return message, n_evals + more


def _radial_divergence(function, lower, upper, centre, *, log: bool, n_rays: int = 5):
    """``(message, n_evals)``: a message when f decays no faster than ``r^-k`` along every
    one of ``n_rays`` rays from the centre into the ``k >= 2`` infinite directions.

    Decay faster than 1/|x| along each axis is not enough in k dimensions: in polar
    coordinates ``∫ f = ∫ dθ ∫ r^(k-1) f(r θ) dr`` diverges when f falls like ``r^-p``,
    ``p <= k``, on a set of directions of positive measure (``1 / (1 + |x|^2)`` over R^2
    came back 64.7 +- 48). All rays must show it (fixed pseudo-random directions and the
    diagonal), so that an integrable ridge (polynomial along one direction, Gaussian
    across it) is not called divergent.
    """
    infinite = ~np.isfinite(lower) | ~np.isfinite(upper)
    k = int(infinite.sum())
    if k < 2:
        return None, 0
    # the directions allowed per infinite axis: both signs, or the infinite side only
    both = ~np.isfinite(lower) & ~np.isfinite(upper)
    side = np.where(np.isfinite(lower), 1.0, -1.0)
    rng = np.random.default_rng(20261203)
    n_evals = 0
    powers = []
    for ray in range(n_rays):
        u = np.zeros(lower.size)
        raw = np.ones(k) if ray == 0 else np.abs(rng.standard_normal(k)) + 0.1
        signs = np.where(both[infinite], rng.choice([-1.0, 1.0], k) if ray else 1.0,
                         side[infinite])
        u[infinite] = raw * signs
        u /= np.linalg.norm(u)

        def line(t, u=u):
            return function(centre[None, :] + np.asarray(t, dtype=float)[:, None] * u)

        tail = measure_tail(line, 0.0, 1.0, log=log)
        n_evals += tail.n_evals
        if not (tail.divergent or (math.isfinite(tail.power)
                                   and tail.power <= k + _DIVERGENT_POWER - 1.0)):
            return None, n_evals
        powers.append(tail.power)
    shown = max(p for p in powers if math.isfinite(p)) if any(
        math.isfinite(p) for p in powers) else math.nan
    like = "" if not math.isfinite(shown) else f" (like |x|^{-shown:.3g} at best)"
    return (f"f does not decay clearly faster than |x|^-{k} along any of {n_rays} rays from "
            f"the box's centre into its {k} infinite directions{like}: the integral over "
            f"them is divergent? (or converges too slowly for float64)"), n_evals
