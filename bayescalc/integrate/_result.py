"""The result every integrator returns (quadrature and Monte Carlo alike)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True, repr=False)
class MonteCarloResult(IntegrationResult):
    """A Monte Carlo integral; ``error`` is its standard error.

    Attributes
    ----------
    n_groups : int
        Independent replicates behind the error (randomized QMC), strata (stratified),
        or 1 (plain and antithetic: the error comes from the points themselves).
    variance_reduction : float
        With control variates, ``Var f / Var residual`` (> 1 when they help); else 1.
    control_coefficients : numpy.ndarray or None
        The fitted regression coefficients of the control variates.
    khat : float
        Pareto k-hat of the upper tail of ``|f|`` at the sample points
        (:func:`~bayescalc.integrate.psis_khat`): about ``1/p`` for a singularity whose
        tail ``P(|f| > t)`` falls like ``t^-p``. Below 0.5 the variance of ``f`` is finite;
        above 0.7 (:data:`~bayescalc.integrate.sampling.KHAT_THRESHOLD`) ``success`` is False:
        the variance is infinite (or the sample has not resolved a peak) and the standard
        error is not a promise. ``nan`` when too few points to fit.
    """

    n_groups: int = 1
    variance_reduction: float = 1.0
    control_coefficients: np.ndarray | None = None
    khat: float = float("nan")


def zero_integrand_message(n_evals: int, what: str, log: bool) -> str:
    """The message of an integral whose integrand was 0 (log: -inf) at every point seen:
    value 0 (log: -inf), error inf, ``success=False`` in every integrator."""
    seen = "log f was -inf" if log else "f was exactly 0"
    return (f"{seen} at all {n_evals} {what}: f may be 0, or nonzero only where no "
            "point fell (a narrow peak on a wide range: give its region with points= or "
            "narrower bounds)" + ("" if log else "; if f underflows float64 (e.g. exp of "
                                  "a log-likelihood), pass log f with log=True"))
