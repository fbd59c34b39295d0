"""Result objects of the diff engines (frozen, readable repr)."""

from __future__ import annotations

from dataclasses import dataclass

from .._core.result import Result


@dataclass(frozen=True, repr=False)
class DerivativeResult(Result):
    """A numeric derivative with its error estimate.

    Attributes
    ----------
    value : float, ndarray or tensor
        The estimate (the kind of ``x``; an array for vector-valued f or for the
        multivariate engines).
    error : float or ndarray
        Estimated absolute error, elementwise like ``value``: the truncation part
        (difference of two extrapolation orders) plus a round-off bound.
    n_evals : int
        Number of points at which f was evaluated.
    method : str
        The method used ("richardson", "central", "complex", ...).
    step : float or ndarray
        The step(s) of the chosen stencil (the largest step of its window).
    success : bool
        False when the estimate did not converge (non-differentiable point, a step budget
        spent, f not finite near x); then the engines also emit an AccuracyWarning.
    message : str
        What happened, in words.
    """

    value: object
    error: object
    n_evals: int
    method: str
    step: object
    success: bool = True
    message: str = "converged"


@dataclass(frozen=True, repr=False)
class GradientCheck(Result):
    """Comparison of a user's gradient with a reference gradient at one point.

    Attributes
    ----------
    max_abs_error, max_rel_error : float
        Largest absolute and relative difference over the coordinates (relative to
        ``max(|reference|, tiny)``).
    ok : bool
        True when every coordinate agrees within ``atol + rtol * |reference|`` plus the
        reference's own error estimate.
    worst_index : int
        The coordinate with the largest relative difference.
    """

    max_abs_error: float
    max_rel_error: float
    ok: bool
    worst_index: int = 0
