"""Backtracking (Armijo) line search, shared by :mod:`.newton` and :mod:`.lbfgs`.

Nocedal & Wright, "Numerical Optimization" (2nd ed., 2006), Algorithm 3.1: from a trial
step ``alpha0`` halve ``alpha`` until the sufficient-decrease condition
``f(x + α p) <= f(x) + c1 α ∇f(x)·p`` holds. A non-finite ``f(x + α p)`` counts as no
decrease, so the search backs away from the edge of f's domain.

Near a minimum the decrease the condition asks for falls below the round-off in f
itself (``|f| eps``), and an exact Armijo test would reject every step. As in the
approximate conditions of Hager & Zhang (2005, "A new conjugate gradient method with
guaranteed descent and an efficient line search", §4), a step whose value is within
``4 eps |f|`` of the required one is accepted: the gradient, not f, then decides
convergence.
"""

from __future__ import annotations

import numpy as np


class LineSearchError(RuntimeError):
    """No step along the direction decreased f (or it was not a descent direction)."""


def backtracking(objective, z, value, gradient, direction, *, alpha0=1.0, c1=1e-4,
                 shrink=0.5, max_halvings=60):
    """The first ``z + α p`` (``α = alpha0 · shrink^j``) with sufficient decrease.

    Returns the new point; raises :class:`LineSearchError` after ``max_halvings`` trials.
    """
    slope = float(gradient @ direction)
    if not slope < 0:
        raise LineSearchError(f"the direction is not a descent direction (slope {slope:.3g})")
    alpha = alpha0
    round_off = 4.0 * np.finfo(float).eps * abs(value)
    for _ in range(max_halvings):
        z_new = z + alpha * direction
        new_value = objective.value(z_new)
        if np.isfinite(new_value) and new_value <= value + c1 * alpha * slope + round_off:
            return z_new
        alpha *= shrink
    raise LineSearchError(f"no sufficient decrease after {max_halvings} halvings of the step")
