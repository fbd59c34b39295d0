"""The result every integrator returns (quadrature and Monte Carlo alike)."""

from __future__ import annotations

from dataclasses import dataclass

from .._core.result import Result


@dataclass(frozen=True, repr=False)
class IntegrationResult(Result):
    """An integral (or, with ``log=True``, its logarithm) and its error estimate.

    Attributes
    ----------
    value : float
        The estimate of the integral, or of log of the integral when ``log=True``.
    error : float
        Error estimate: for quadrature an estimate (upper bound in intent) of
        ``|value - exact|``; for Monte Carlo a standard error. With ``log=True`` it is
        the error of the log value (roughly the relative error of the integral).
    n_evals : int
        Number of points at which the integrand was evaluated.
    success : bool
        Whether the requested tolerance was met within the budget.
    message : str
        Why it stopped.
    method : str
        The method that produced the value (after ``"auto"`` chose).
    """

    value: float
    error: float
    n_evals: int
    success: bool
    message: str
    method: str
