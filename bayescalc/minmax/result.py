"""Result objects of :func:`bayescalc.minmax._solve` and :func:`bayescalc.minmax._stability`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from .._core.result import Result


@dataclass(frozen=True, repr=False)
class MinMaxResult(Result):
    """The outcome of a min-max run (min over x, max over y of f(x, y)).

    Attributes
    ----------
    x, y : float, ndarray or tensor
        The last iterate, in the kind of ``x0`` / ``y0``.
    path : ndarray, shape (n_steps + 1, dx + dy)
        Every iterate z_t = (x_t, y_t) flattened, from z_0 to the last finite one.
    success : bool
        Whether the game field's norm ‖v(x, y)‖ fell to ``tol`` (v = (∇x f, -∇y f));
        False also when f or its gradient became non-finite.
    message : str
        What happened, naming the step where a run stopped early.
    n_steps : int
        Steps taken (``len(path) - 1``).
    n_evals : int
        Evaluations of the gradient field (extragradient uses two per step).
    grad_norm : float
        ‖v‖ at the last iterate (at a stationary point of the game it is 0).
    method : str
        The update rule.
    x_average, y_average : float, ndarray, tensor or None
        The exponential moving average of the iterates (``ema`` given), else None.

    Deprecated: ``converged`` (use ``success``) and ``n_grad_evals`` (use ``n_evals``),
    the names of the first release, still read with a DeprecationWarning.
    """

    x: object
    y: object
    path: object
    success: bool
    message: str
    n_steps: int
    n_evals: int
    grad_norm: float
    method: str
    x_average: object = None
    y_average: object = None

    @property
    def converged(self) -> bool:
        """Deprecated alias of ``success``."""
        warnings.warn("MinMaxResult.converged is deprecated; use success",
                      DeprecationWarning, stacklevel=2)
        return self.success

    @property
    def n_grad_evals(self) -> int:
        """Deprecated alias of ``n_evals``."""
        warnings.warn("MinMaxResult.n_grad_evals is deprecated; use n_evals",
                      DeprecationWarning, stacklevel=2)
        return self.n_evals


@dataclass(frozen=True, repr=False)
class StabilityResult(Result):
    """Local analysis of a game at a point z = (x, y).

    Attributes
    ----------
    eigenvalues : ndarray (complex)
        Eigenvalues λ of the Jacobian J of the field v = (∇x f, -∇y f), sorted by real
        part then imaginary part. Re λ > 0 for all λ: the point attracts the continuous
        flow ż = -v(z); Re λ = 0 (e.g. bilinear games, λ = ±i): a center, the flow cycles.
    jacobian : ndarray, shape (d, d)
        J itself (d = dx + dy).
    lr : float or None
        The step η at which ``spectral_radius`` was computed.
    spectral_radius : dict or None
        For each update rule, the spectral radius ρ of its linearized step at η; ρ < 1
        means the rule converges locally, ρ > 1 that it moves away (spirals out). For
        simultaneous GDA the step matrix is I - ηJ, with eigenvalues 1 - ηλ; for
        λ = ±i, abs(1 - ηλ) = sqrt(1 + η²) > 1 for every η > 0.
    """

    eigenvalues: object
    jacobian: object
    lr: object = None
    spectral_radius: object = None
