"""Newton's method with a positive-definite Hessian modification and a line search.

The step solves ``|H| p = -g``, where ``|H| = V |Λ| Vᵀ`` replaces each Hessian eigenvalue
by its absolute value (floored at a small multiple of the largest), then backtracks from
``α = lr`` (Nocedal & Wright 2006, §3.4, "modified Newton"; taking ``|λ|`` rather than
a shift is the saddle-free Newton of Dauphin et al. 2014). Near a strict minimum it is
plain Newton, so convergence is quadratic; away from one the direction stays a descent
direction, so the method never walks uphill onto a saddle or a maximum.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .linesearch import backtracking
from .steppers import OptimStepInfo, Stepper


class NewtonState(NamedTuple):
    """Newton's method carries nothing but its position."""

    position: np.ndarray


def newton(objective, lr: float = 1.0) -> Stepper:
    """Modified Newton: ``x_{k+1} = x_k - α |H_k|^{-1} g_k``, ``α`` from ``lr`` by backtracking."""

    def step(state):
        z = state.position
        value, gradient = objective.value(z), objective.grad(z)
        eigenvalues, vectors = np.linalg.eigh(objective.hess(z))
        magnitude = np.abs(eigenvalues)
        floor = max(1e-8 * float(magnitude.max(initial=0.0)), 1e-12)
        direction = -vectors @ ((vectors.T @ gradient) / np.maximum(magnitude, floor))
        z_new = backtracking(objective, z, value, gradient, direction, alpha0=lr)
        return NewtonState(z_new), OptimStepInfo(gradient)

    return Stepper(NewtonState, step)
