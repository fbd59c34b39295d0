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

from .scaled import ScaledEstimate, linear_values, new_shift, tolerance
from .smolyak import tensor_grid


def adaptive_tensor(integrand, lower, upper, *, rtol, atol, log, max_evals,
                    first_order=2, history=None) -> ScaledEstimate:
    """Tensor Gauss–Legendre of order 2, 4, 8, ... per axis on [lower, upper].

    ``history``, a list, receives ``(n_evals, total, shift)`` after every order.
    """
    d = lower.size
    center, half = 0.5 * (lower + upper), 0.5 * (upper - lower)
    volume = float(np.prod(half))
    shift = -np.inf if log else 0.0
    previous, order, n_evals, last_order = None, first_order, 0, 0
    total, error, message, converged = 0.0, np.inf, "", False
    while True:
        if n_evals + order**d > max_evals:  # the largest order the budget still allows
            order = int(np.floor((max_evals - n_evals) ** (1.0 / d) + 1e-9))
            if previous is None or order <= last_order:
                break
        last_order = order
        nodes, weights = roots_legendre(order)
        points, point_weights = tensor_grid(nodes, weights, d)
        values = integrand(center + half * points)
        n_evals += values.size
        if log:
            grown = new_shift(shift, values)
            if previous is not None and grown != shift:
                previous *= np.exp(shift - grown) if np.isfinite(shift) else 0.0
            shift = grown
            values = linear_values(values, shift)
        total = volume * float(values @ point_weights)
        if history is not None:
            history.append((n_evals, total, shift))
        if previous is not None:
            error = abs(total - previous)
            if error <= tolerance(total, shift, rtol=rtol, atol=atol, log=log):
                converged = True
                message = f"converged at order {order} per axis: error estimate {error:.2e}"
                break
        previous, order = total, 2 * order
    if not converged:
        message = (f"max_evals = {max_evals} reached before the tolerance (last order "
                   f"{last_order} per axis)")
    return ScaledEstimate(total, error, shift, n_evals, converged, message)
