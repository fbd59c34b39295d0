"""The textbook rules with step doubling: composite Simpson and Gauss–Legendre.

These are not adaptive in space: the whole range is refined uniformly (Simpson: the
number of panels doubles, reusing every node; Gauss–Legendre: the order doubles). The
error estimate is the difference between the last two estimates, which is the error of
the *previous* one and so, for a converging rule, an upper bound in practice. They are
here to show convergence rates (``examples/quadrature.py``) and as a baseline; use
``method="auto"`` for real work.
"""

from __future__ import annotations

import numpy as np
from scipy.special import roots_legendre

from .adaptive import adaptive_loop
from .scaled import ScaledEstimate, rescale, tolerance


def _combine(log, values, shift):
    """Scale fresh values (log mode) and return (linear values, new shift, factor)."""
    return rescale(values, shift) if log else (values, 0.0, 1.0)


def doubling_gauss_legendre(integrand, edges, *, rtol, atol, log, max_evals,
                            first_order=4, history=None) -> ScaledEstimate:
    """Gauss–Legendre of order 4, 8, 16, ... on every interval of ``edges``.

    The loop is :func:`.adaptive.adaptive_loop`.
    """
    refinement = GaussLegendreDoubling(edges, max_evals=max_evals, first_order=first_order)
    return adaptive_loop(refinement, integrand, rtol=rtol, atol=atol, log=log,
                         max_evals=max_evals, history=history)


class GaussLegendreDoubling:
    """The order doubles on every interval at once (:class:`.adaptive.Refinement`)."""

    def __init__(self, edges, *, max_evals, first_order=4):
        left, right = np.asarray(edges[:-1], float), np.asarray(edges[1:], float)
        self.center, self.half = 0.5 * (left + right), 0.5 * (right - left)
        self.max_evals = max_evals
        self.previous, self.order, self.weights = None, first_order, None

    def nodes(self, evals_left):
        if self.order * self.half.size > evals_left:
            return (f"max_evals = {self.max_evals} reached before the tolerance "
                    f"(order {self.order // 2})")
        nodes, self.weights = roots_legendre(self.order)
        return (self.center[:, None] + self.half[:, None] * nodes).ravel()

    def rescale(self, factor):
        if self.previous is not None:
            self.previous *= factor

    def estimate(self, values, n_evals, shift):
        half = self.half
        total = float(np.sum(half * (values.reshape(half.size, self.order) @ self.weights)))
        return total, np.inf if self.previous is None else abs(total - self.previous)

    def converged(self, total, error, allowed):  # (the first order has no error yet)
        return "" if self.previous is None else (
            f"converged at order {self.order}: error estimate {error:.2e}")

    def refine(self, total, error, allowed, evals_left):
        self.previous, self.order = total, 2 * self.order
        return ""


def doubling_simpson(integrand, edges, *, rtol, atol, log, max_evals,
                     history=None) -> ScaledEstimate:
    """Composite Simpson with 2, 4, 8, ... panels per interval; nodes are reused.

    Simpson's rule needs the endpoints; f is evaluated at the nearest floats inside them
    instead (a breakpoint from ``points=`` where f is 0/0, like sin(x)/x at 0, is never a
    node), which changes the sum by about eps times f there. It still cannot integrate an
    endpoint singularity.
    """
    left, right = np.asarray(edges[:-1], float), np.asarray(edges[1:], float)
    width = right - left
    shift = -np.inf if log else 0.0
    ends = integrand(np.concatenate([np.nextafter(left, right), np.nextafter(right, left)]))
    ends, shift, _ = _combine(log, ends, shift)
    trapezoid = 0.5 * np.sum(width * (ends[: left.size] + ends[left.size:]))
    n_evals, panels = ends.size, 1
    previous_simpson = None
    total, error, message, converged = 0.0, np.inf, "", False
    while n_evals + panels * left.size <= max_evals:
        midpoints = left[:, None] + width[:, None] * (np.arange(panels) + 0.5) / panels
        values = integrand(midpoints.ravel())
        n_evals += values.size
        values, shift, factor = _combine(log, values, shift)
        trapezoid *= factor
        previous_simpson = None if previous_simpson is None else previous_simpson * factor
        refined = 0.5 * trapezoid + 0.5 * float(np.sum(
            width / panels * values.reshape(left.size, panels).sum(axis=1)))
        total = (4.0 * refined - trapezoid) / 3.0
        trapezoid, panels = refined, 2 * panels
        if history is not None:
            history.append((n_evals, total, shift))
        if previous_simpson is not None:
            error = abs(total - previous_simpson)
            allowed = tolerance(total, shift, rtol=rtol, atol=atol, log=log)
            if error <= allowed:
                converged = True
                message = f"converged with {panels} panels: error estimate {error:.2e}"
                break
        previous_simpson = total
    if not converged:
        message = f"max_evals = {max_evals} reached before the tolerance ({panels} panels)"
    return ScaledEstimate(total, error, shift, n_evals, converged, message)
