"""The result of every evidence estimator."""

from __future__ import annotations

import dataclasses

from .._core.result import Result


@dataclasses.dataclass(frozen=True, repr=False)
class EvidenceResult(Result):
    """The log evidence log Z of a model, with its error estimate and its cost.

    Attributes
    ----------
    log_z : float
        The estimate of log Z = log of the integral of prior x likelihood.
    error : float
        An estimate of |log_z - log Z| (for stochastic methods: a standard error of
        log_z). It is a promise: tests check it against exact answers.
    n_evals : int
        Points at which the log likelihood (or log joint) was evaluated.
    n_grad_evals : int
        Points at which its gradient was evaluated.
    method : str
        The estimator that produced it.
    success : bool
        False when the estimator's own diagnostics say the answer is not to be trusted.
    message : str
        One readable sentence: what was done, or why it failed.
    diagnostics : dict
        Estimator-specific numbers (k-hat, ESS, the temperature ladder, ...).

    Examples
    --------
    >>> EvidenceResult(-1.5, 0.01, 100, 0, "laplace", True, "ok", {}).log_z
    -1.5
    """

    log_z: float
    error: float
    n_evals: int
    n_grad_evals: int
    method: str
    success: bool
    message: str
    diagnostics: dict = dataclasses.field(default_factory=dict)

    @property
    def value(self) -> float:
        """``log_z`` under the name every other result uses."""
        return self.log_z
