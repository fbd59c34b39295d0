"""Limited-memory BFGS: the two-loop recursion with a backtracking line search.

Nocedal & Wright (2006), Algorithm 7.4 (two-loop recursion) and §7.2: keep the last
``memory`` pairs ``s_k = x_{k+1} - x_k``, ``y_k = g_{k+1} - g_k``; the initial inverse
Hessian is ``γ I`` with ``γ = s·y / y·y`` (eq. 7.20). A pair is stored only when the
curvature ``s·y`` is positive (it always is under the Wolfe conditions; with the
Armijo-only search used here a pair that fails it is skipped, which keeps the inverse
Hessian positive definite).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .linesearch import LineSearchError, backtracking
from .steppers import OptimStepInfo, Stepper


class LBFGSState(NamedTuple):
    position: np.ndarray
    pairs: tuple  # ((s, y), ...), oldest first
    previous_z: np.ndarray | None
    previous_gradient: np.ndarray | None


def two_loop(gradient, pairs):
    """``-H_k g`` for the inverse-Hessian approximation held by ``pairs`` (Algorithm 7.4)."""
    q = gradient.copy()
    alphas = []
    for s, y in reversed(pairs):
        rho = 1.0 / (y @ s)
        alpha = rho * (s @ q)
        q -= alpha * y
        alphas.append((rho, alpha))
    s, y = pairs[-1]
    r = (s @ y) / (y @ y) * q
    for (s, y), (rho, alpha) in zip(pairs, reversed(alphas), strict=True):
        r += (alpha - rho * (y @ r)) * s
    return -r


def lbfgs(objective, lr: float = 1.0, memory: int = 10) -> Stepper:
    """L-BFGS with ``memory`` pairs; ``lr`` is the first step length the line search tries."""

    def init(z):
        return LBFGSState(z, (), None, None)

    def step(state):
        z = state.position
        value, gradient = objective.value(z), objective.grad(z)
        pairs = state.pairs
        if state.previous_z is not None:
            s, y = z - state.previous_z, gradient - state.previous_gradient
            # Keep a pair only with positive curvature and a step well above round-off
            # (y of a step near 1e-14 |x| is mostly noise and would spoil H_k).
            if (s @ y > 1e-10 * np.linalg.norm(s) * np.linalg.norm(y)
                    and np.linalg.norm(s) > 1e-12 * max(1.0, np.linalg.norm(z))):
                pairs = (pairs + ((s, y),))[-memory:]
        if pairs:
            try:
                z_new = backtracking(objective, z, value, gradient,
                                     two_loop(gradient, pairs), alpha0=lr)
                return LBFGSState(z_new, pairs, z, gradient), OptimStepInfo(gradient)
            except LineSearchError:
                # Stale pairs can give a poor direction; restart from steepest descent
                # with an empty memory, as after the first step (N&W §7.2).
                pairs = ()
        # Steepest descent, at most unit length on the first trial (N&W §7.2).
        alpha0 = lr * min(1.0, 1.0 / float(np.linalg.norm(gradient)))
        z_new = backtracking(objective, z, value, gradient, -gradient, alpha0=alpha0)
        return LBFGSState(z_new, pairs, z, gradient), OptimStepInfo(gradient)

    return Stepper(init, step)
