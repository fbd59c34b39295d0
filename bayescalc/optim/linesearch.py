"""Backtracking (Armijo) line search, shared by :mod:`.newton` and :mod:`.lbfgs`.

Nocedal & Wright, "Numerical Optimization" (2nd ed., 2006), Algorithm 3.1: from a trial
step ``alpha0`` halve ``alpha`` until the sufficient-decrease condition
``f(x + α p) <= f(x) + c1 α ∇f(x)·p`` holds. A non-finite ``f(x + α p)`` counts as no
decrease, so the search backs away from the edge of f's domain.

Near a minimum the decrease the condition asks for falls below the round-off in f
itself (``eps |f|``): f can no longer tell a good step from a bad one. There, as in
the approximate Wolfe conditions of Hager & Zhang (2005, "A new conjugate gradient
method with guaranteed descent and an efficient line search", §4), the derivative
decides: when the predicted decrease ``|α ∇f·p|`` at the first trial step is below
``1000 eps |f|``, that step is accepted if it lowers ``|∇f|``. Shorter trial steps get
no such allowance, so a step that makes no progress is never accepted.
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
    round_off = 1e3 * np.finfo(float).eps * abs(value)
    for _ in range(max_halvings):
        z_new = z + alpha * direction
        new_value = objective.value(z_new)
        if np.isfinite(new_value) and new_value <= value + c1 * alpha * slope:
            return z_new
        if (alpha == alpha0 and np.isfinite(new_value) and -alpha * slope <= round_off
                and _lowers_gradient(objective, z_new, gradient)):
            return z_new
        alpha *= shrink
    raise LineSearchError(f"no sufficient decrease after {max_halvings} halvings of the step")


def _lowers_gradient(objective, z_new, gradient) -> bool:
    try:
        new_gradient = objective.grad(z_new)
    except ValueError:
        return False
    return bool(np.all(np.isfinite(new_gradient))
                and np.linalg.norm(new_gradient) < np.linalg.norm(gradient))
