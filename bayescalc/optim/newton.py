"""Newton's method with a positive-definite Hessian modification and a line search.

The step solves ``|H| p = -g``, where ``|H| = V |Λ| Vᵀ`` replaces each Hessian eigenvalue
by its absolute value (floored at a small multiple of the largest), then backtracks from
``α = lr`` (Nocedal & Wright 2006, §3.4, "modified Newton"; taking ``|λ|`` rather than
a shift is the saddle-free Newton of Dauphin et al. 2014). Near a strict minimum it is
plain Newton, so convergence is quadratic; away from one the direction stays a descent
direction, so the method never walks uphill onto a saddle or a maximum.
"""

from __future__ import annotations

import numpy as np

from .linesearch import backtracking
from .steppers import Stepper


def newton(lr: float = 1.0) -> Stepper:
    """Modified Newton: ``x_{k+1} = x_k - α |H_k|^{-1} g_k``, ``α`` from ``lr`` by backtracking."""

    def init(z, objective):
        return None

    def step(state, z, value, gradient, objective):
        eigenvalues, vectors = np.linalg.eigh(objective.hess(z))
        magnitude = np.abs(eigenvalues)
        floor = max(1e-8 * float(magnitude.max(initial=0.0)), 1e-12)
        direction = -vectors @ ((vectors.T @ gradient) / np.maximum(magnitude, floor))
        return backtracking(objective, z, value, gradient, direction, alpha0=lr), state

    return Stepper(init, step)
