"""Backtracking (Armijo) line search, shared by :mod:`.newton` and :mod:`.lbfgs`.

Nocedal & Wright, "Numerical Optimization" (2nd ed., 2006), Algorithm 3.1: from a trial
step ``alpha0`` halve ``alpha`` until the sufficient-decrease condition
``f(x + α p) <= f(x) + c1 α ∇f(x)·p`` holds. A non-finite ``f(x + α p)`` counts as no
decrease, so the search backs away from the edge of f's domain.

Near a minimum the decrease the condition asks for falls below the round-off in f
itself (``eps |f|``): f can no longer tell a good step from a bad one, and the Armijo
test passes or fails by the luck of rounding. There, as in the approximate Wolfe
conditions of Hager & Zhang (2005, "A new conjugate gradient method with guaranteed
descent and an efficient line search", §4), the derivative decides: when the predicted
decrease ``|α ∇f·p|`` at the first trial step is below ``1000 eps |f|``, a trial step
is accepted only if it lowers ``|∇f|``. A trial step too short to move ``x`` at all is
never accepted, so the search cannot stall on a step that makes no progress.
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
    flat = -alpha0 * slope <= 1e3 * np.finfo(float).eps * abs(value)
    for _ in range(max_halvings):
        z_new = z + alpha * direction
        if np.array_equal(z_new, z):
            break
        new_value = objective.value(z_new)
        if np.isfinite(new_value) and (
                _lowers_gradient(objective, z_new, gradient) if flat
                else new_value <= value + c1 * alpha * slope):
            return z_new
        alpha *= shrink
    raise LineSearchError("no trial step along the direction decreased f"
                          + (" (judged by |grad f|: f is flat to round-off there)" if flat
                             else ""))

def _lowers_gradient(objective, z_new, gradient) -> bool:
    try:
        new_gradient = objective.grad(z_new)
    except ValueError:
        return False
    return bool(np.all(np.isfinite(new_gradient))
                and np.linalg.norm(new_gradient) < np.linalg.norm(gradient))
