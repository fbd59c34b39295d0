"""Tensor-product Gauss–Legendre cubature with order doubling, for small d.

``n^d`` points for ``n`` per axis: exact for polynomials of degree ``2n - 1`` in each
variable, so unbeatable for smooth integrands in 1-3 dimensions and hopeless beyond
(the curse of dimensionality the sparse grids ease). The order doubles (2, 4, 8, ...)
until two successive estimates agree (a last step uses the largest order the budget
allows); the difference is the error estimate (the error of the coarser rule).
"""

from __future__ import annotations

import numpy as np
from scipy.special import roots_legendre

from .adaptive import adaptive_loop
from .scaled import ScaledEstimate
from .smolyak import tensor_grid


def adaptive_tensor(integrand, lower, upper, *, rtol, atol, log, max_evals,
                    first_order=2, history=None) -> ScaledEstimate:
    """Tensor Gauss–Legendre of order 2, 4, 8, ... per axis on [lower, upper].

    ``history``, a list, receives ``(n_evals, total, shift)`` after every order. The loop
    is :func:`.adaptive.adaptive_loop`.
    """
    refinement = TensorRefinement(lower, upper, first_order=first_order, max_evals=max_evals)
    return adaptive_loop(refinement, integrand, rtol=rtol, atol=atol, log=log,
                         max_evals=max_evals, history=history)


class TensorRefinement:
    """The order per axis doubles; the last order is the largest the budget allows
    (:class:`.adaptive.Refinement`)."""

    def __init__(self, lower, upper, *, max_evals, first_order=2):
        self.d = lower.size
        self.center, self.half = 0.5 * (lower + upper), 0.5 * (upper - lower)
        self.volume = float(np.prod(self.half))
        self.max_evals = max_evals
        self.previous, self.order, self.last_order = None, first_order, 0
        self.point_weights = None

    def nodes(self, evals_left):
        d, order = self.d, self.order
        if order**d > evals_left:  # the largest order the budget still allows
            order = int(np.floor(evals_left ** (1.0 / d) + 1e-9))
            if self.previous is None or order <= self.last_order:
                return (f"max_evals = {self.max_evals} reached before the tolerance (last "
                        f"order {self.last_order} per axis)")
        self.order = self.last_order = order
        nodes, weights = roots_legendre(order)
        points, self.point_weights = tensor_grid(nodes, weights, d)
        return self.center + self.half * points

    def rescale(self, factor):
        if self.previous is not None:
            self.previous *= factor

    def estimate(self, values, n_evals, shift):
        total = self.volume * float(values @ self.point_weights)
        error = np.inf if self.previous is None else abs(total - self.previous)
        return total, error

    def converged(self, total, error, allowed):  # (the first order has no error yet)
        return "" if self.previous is None else (
            f"converged at order {self.order} per axis: error estimate {error:.2e}")

    def refine(self, total, error, allowed, evals_left):
        self.previous, self.order = total, 2 * self.order
        return ""
