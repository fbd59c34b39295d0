"""Tanh-sinh (double exponential) quadrature for integrands singular at the endpoints.

Takahasi & Mori (1974); Bailey, Jeyabalan & Li (2005), "A comparison of three
high-precision quadrature schemes". On ``[l, r]`` the substitution

    x = l + (r - l) s(t),   s(t) = (1 + tanh u) / 2,   u = (pi/2) sinh t

turns ``∫ f dx`` into ``∫ g(t) dt`` over the real line with ``g`` decaying doubly
exponentially, so the trapezoid rule ``h Σ g(jh)`` converges like ``exp(-c / h)`` even
when ``f`` has an integrable singularity at ``l`` or ``r`` (``1/sqrt(x)``, ``log x``).
Halving ``h`` adds only the odd nodes (the levels are nested).

Nodes near an endpoint are computed from their *distance* to it,
``(r - l) / (1 + exp(2|u|))``, so they stay distinct from the endpoint down to the
smallest distance float64 can represent there; the trapezoid sum is truncated at that
``t`` and the last term kept estimates the truncated tail.

Error estimate (Bailey's, made conservative): with ``Δ1 = |S_k - S_{k-1}|`` and
``Δ2 = |S_{k-1} - S_{k-2}|``, ``err = Δ1² / Δ2`` once the levels converge (each level
roughly doubles the digits), else ``Δ1``; plus the tail term and ``10 eps Σ|h g|``.
"""

from __future__ import annotations

import numpy as np

from ._scaled import ScaledEstimate, linear_values, new_shift, tolerance

_EPS = np.finfo(float).eps
_TINY_DISTANCE = 1e-300
_MAX_LEVEL = 10
_MIN_LEVEL = 3


def _side_limits(left, right):
    """Largest |t| on each side whose node is still distinct from the endpoint."""
    width = right - left
    floor_left = np.maximum(4 * _EPS * np.abs(left), _TINY_DISTANCE)
    floor_right = np.maximum(4 * _EPS * np.abs(right), _TINY_DISTANCE)
    u_left = 0.5 * np.log(np.maximum(width / floor_left - 1.0, 1.0))
    u_right = 0.5 * np.log(np.maximum(width / floor_right - 1.0, 1.0))
    return np.arcsinh(2 * u_left / np.pi), np.arcsinh(2 * u_right / np.pi)


def _nodes(t, left, right, t_left, t_right):
    """Nodes, weights (without h) and validity for abscissae ``t`` on every interval."""
    width = (right - left)[:, None]
    u = 0.5 * np.pi * np.sinh(t)[None, :]
    with np.errstate(over="ignore", under="ignore"):
        decay = np.exp(-2.0 * np.abs(u))
        distance = width * decay / (1.0 + decay)  # = width / (1 + exp(2|u|))
        weight = width * (0.25 * np.pi) * np.cosh(t)[None, :] * 4 * decay / (1 + decay) ** 2
    x = np.where(t[None, :] <= 0, left[:, None] + distance, right[:, None] - distance)
    valid = np.where(t[None, :] <= 0, -t[None, :] <= t_left[:, None],
                     t[None, :] <= t_right[:, None]) & (weight > 0)
    return x, weight, valid


def adaptive_tanh_sinh(integrand, edges, *, rtol, atol, log, max_evals,
                       patience=None) -> ScaledEstimate:
    """Tanh-sinh on each interval of ``edges``; each level is one call of ``integrand``.

    With ``patience = k``, give up once ``k`` levels after the 4th have each failed to
    shrink the difference between successive estimates tenfold (double exponential
    convergence roughly doubles the digits per level; an interior kink or jump does not).
    """
    left, right = np.asarray(edges[:-1], float), np.asarray(edges[1:], float)
    t_left, t_right = _side_limits(left, right)
    t_max = float(max(t_left.max(), t_right.max()))
    shift = -np.inf if log else 0.0
    weighted_sum = abs_sum = 0.0
    outer_t = np.zeros((left.size, 2))
    outer_term = np.zeros((left.size, 2))
    history, n_evals = [], 0
    converged, message, total, error = False, "", 0.0, np.inf
    for level in range(_MAX_LEVEL + 1):
        h = 2.0 ** -level
        steps = np.arange(-np.floor(t_max / h), np.floor(t_max / h) + 1)
        if level:
            steps = steps[steps % 2 == 1]
        t = steps * h
        x, weight, valid = _nodes(t, left, right, t_left, t_right)
        count = int(valid.sum())
        if n_evals + count > max_evals:
            message = (f"max_evals = {max_evals} reached at tanh-sinh level {level} before "
                       "the tolerance")
            break
        raw = integrand(x[valid])
        n_evals += count
        if log:
            grown = new_shift(shift, raw)
            if grown != shift:
                factor = np.exp(shift - grown) if np.isfinite(shift) else 0.0
                weighted_sum, abs_sum = weighted_sum * factor, abs_sum * factor
                outer_term *= factor
                history = [s * factor for s in history]
            shift = grown
            raw = linear_values(raw, shift)
        values = np.zeros_like(x)
        values[valid] = raw
        terms = weight * values
        weighted_sum += float(terms.sum())
        abs_sum += float(np.abs(terms).sum())
        _update_outer(outer_t, outer_term, t, terms, valid)
        total = h * weighted_sum
        history.append(total)
        error = _error(history, h * abs_sum, outer_term.sum())
        allowed = tolerance(total, shift, rtol=rtol, atol=atol, log=log)
        if level >= _MIN_LEVEL and error <= allowed:
            converged = True
            message = f"converged: error estimate {error:.2e} <= tolerance {allowed:.2e}"
            break
        if patience is not None and _stalled(history, patience):
            message = (f"tanh-sinh is not converging (level {level}: the estimates stopped "
                       "gaining digits; an interior kink, jump or peak?)")
            break
    else:
        message = f"tanh-sinh did not converge in {_MAX_LEVEL} levels (h = {h:g})"
    return ScaledEstimate(total, error, shift, n_evals, converged, message)


def _update_outer(outer_t, outer_term, t, terms, valid):
    """Keep, per interval and side, the term at the outermost valid node."""
    for side, sign in ((0, -1.0), (1, 1.0)):
        reach = np.where(valid & (sign * t[None, :] > 0), np.abs(t)[None, :], -1.0)
        j = np.argmax(reach, axis=1)
        best = reach[np.arange(reach.shape[0]), j]
        farther = best > outer_t[:, side]
        outer_t[farther, side] = best[farther]
        outer_term[farther, side] = np.abs(terms[np.arange(terms.shape[0]), j])[farther]


def _error(history, abs_total, tail):
    roundoff = 10 * _EPS * abs_total
    if len(history) < 2:
        return np.inf
    delta1 = abs(history[-1] - history[-2])
    estimate = delta1
    if len(history) >= 3:
        delta2 = abs(history[-2] - history[-3])
        if 0 < delta1 < delta2:
            estimate = delta1 * delta1 / delta2
    return float(max(estimate, roundoff) + tail)


def _stalled(history, patience):
    """Have the last ``patience`` levels (past level 4) each gained less than a digit?"""
    if len(history) < 5 + patience:
        return False
    deltas = np.abs(np.diff(history[-(patience + 2):]))
    return bool(np.all(deltas[1:] > 0.1 * deltas[:-1]))
