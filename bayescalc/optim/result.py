"""The result objects of :mod:`bayescalc.optim`: an optimizer run and a critical point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .._core.result import Result


@dataclass(frozen=True, repr=False)
class OptimizeResult(Result):
    """What :func:`~bayescalc.optim._minimize` / :func:`~bayescalc.optim.maximize` found.

    Attributes
    ----------
    x : float, ndarray or Tensor
        The last iterate, in the kind ``x0`` came in.
    fun : float
        ``f(x)`` (``f`` itself, also for :func:`maximize`).
    grad_norm : float
        Euclidean norm of the gradient at ``x``; convergence means ``grad_norm <= tol``.
    n_steps : int
        Number of updates taken.
    success : bool
        True when ``grad_norm <= tol`` held within ``max_steps``.
    message : str
        Why the run stopped (the step number where something went wrong).
    path : ndarray
        The iterates ``x_0, x_1, ..., x_{n_steps}``: shape ``(n_steps + 1, d)``, or
        ``(n_steps + 1,)`` when ``x0`` was a scalar.
    fun_path : ndarray
        ``f`` at each iterate, shape ``(n_steps + 1,)``.
    method : str
        The update rule used.
    """

    x: object
    fun: float
    grad_norm: float
    n_steps: int
    success: bool
    message: str
    path: np.ndarray
    fun_path: np.ndarray = field(default_factory=lambda: np.empty(0))
    method: str = ""


@dataclass(frozen=True, repr=False)
class CriticalPoint(Result):
    """One stationary point of ``f`` (``∇f(x) = 0``) and its kind.

    Attributes
    ----------
    x : float, ndarray or Tensor
        The point (a float for a function of one variable).
    value : float
        ``f(x)``.
    kind : str
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` (the
        second-derivative test is inconclusive: a zero Hessian eigenvalue and no
        eigenvalues of both signs).
    hessian_eigenvalues : ndarray
        Eigenvalues of the Hessian at ``x``, ascending.
    grad_norm : float
        ``|∇f(x)|`` at the point found (how stationary it is).
    is_global_minimum : bool
        True for the minimum (or minima, on a tie) with the lowest value among the
        stationary points found; a stationary point not found, or a lower value on the
        boundary of the box, is not considered.
    is_global_maximum : bool
        The same for the highest maximum.
    """

    x: object
    value: float
    kind: str
    hessian_eigenvalues: np.ndarray
    grad_norm: float = 0.0
    is_global_minimum: bool = False
    is_global_maximum: bool = False


class IterationInfo(NamedTuple):
    """What a ``callback`` receives after each step: return True to stop the run."""

    step: int
    x: object
    fun: float
    grad_norm: float
