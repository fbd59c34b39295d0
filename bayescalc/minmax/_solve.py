"""``solve``: min over x, max over y of f(x, y) by gradient descent-ascent and its variants."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import like
from .._core.validation import (
    as_point,
    check_callable,
    check_choice,
    check_int,
    check_positive,
)
from .._core.warnings import ConvergenceWarning, warn_unless_success
from .field import GRAD_METHODS, GameField
from .result import MinMaxResult
from .rules import RULES

METHODS = tuple(RULES)


def _solve_iv(f, x0, y0, method, lr, steps, tol, ema, consensus_weight, grad_method):
    check_callable(f, "f")
    x = as_point(x0, "x0")
    y = as_point(y0, "y0")
    check_choice(method, "method", METHODS)
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=1)
    tol = check_positive(tol, "tol", allow_zero=True)
    if ema is not None:
        ema = check_positive(ema, "ema", allow_zero=True)
        if ema >= 1.0:
            raise ValueError(f"ema must be a decay in [0, 1), got {ema}")
    consensus_weight = check_positive(consensus_weight, "consensus_weight", allow_zero=True)
    check_choice(grad_method, "grad_method", GRAD_METHODS)
    return x, y, lr, steps, tol, ema, consensus_weight


def solve(f, x0, y0, *, method: str = "extragradient", lr: float = 0.1, steps: int = 1000,
          tol: float = 1e-8, ema: float | None = None, consensus_weight: float = 1.0,
          grad_method: str = "auto") -> MinMaxResult:
    r"""Find a local saddle point: min over x, max over y of f(x, y).

    Every rule follows the game field v(x, y) = (∇x f, -∇y f): a step along -v is
    gradient descent in x and ascent in y.

    * ``"simultaneous"``: z ← z - η v(z). Spirals out on bilinear games (the step matrix
      I - ηJ has eigenvalues 1 - ηλ, modulus sqrt(1 + η²) > 1 for λ = ±i).
    * ``"alternating"``: x moves first, then y ascends at the new x. Stays bounded on
      bilinear games (the step is area-preserving) but cycles, never converging.
    * ``"extragradient"``: look ahead z' = z - η v(z), then step z ← z - η v(z')
      (Korpelevich 1976).
    * ``"optimistic"``: z ← z - 2η v(z_t) + η v(z_{t-1}) (Daskalakis et al. 2018).
    * ``"consensus"``: z ← z - η (v + γ Jᵀv), Jᵀv = ∇½‖v‖² (Mescheder et al. 2017).

    Parameters
    ----------
    f : callable
        f(x, y) -> scalar, x and y of the shapes of ``x0`` and ``y0``. A callable that
        works on torch tensors is differentiated exactly (torch.func, through
        :mod:`bayescalc.diff`); any other by numeric differences.
    x0, y0 : float, 1-D array or tensor
        The start; the minimizing and the maximizing player (the shapes may differ).
    method : str, keyword-only
        ``"simultaneous"``, ``"alternating"``, ``"extragradient"`` (default),
        ``"optimistic"`` or ``"consensus"``.
    lr : float
        The step η > 0.
    steps : int
        The budget of steps (every loop is bounded).
    tol : float
        Stop, converged, when ‖v(x, y)‖ <= tol (a stationary point of the game).
    ema : float or None
        If given, a decay β in [0, 1): also return the exponential moving average
        z̄_t = β z̄_{t-1} + (1 - β) z_t, z̄_0 = z_0 (``x_average``, ``y_average``).
    consensus_weight : float
        γ >= 0 of the consensus rule.
    grad_method : str
        ``"auto"``, ``"autodiff"``, or a numeric method of :func:`bayescalc.diff.gradient`.

    Returns
    -------
    MinMaxResult
        x, y, the path, ``success``, ``message``, ``n_steps``, ``n_evals``, ``grad_norm``,
        ``x_average``/``y_average``. A run that ends unconverged, or stops because f or
        its gradient turned NaN/inf (the message names the step; the path holds every
        finite iterate before it), emits a :class:`~bayescalc.ConvergenceWarning`.

    Examples
    --------
    The bilinear game f = x·y: extragradient converges to the saddle (0, 0), simultaneous
    gradient descent-ascent spirals out.

    >>> import torch, warnings
    >>> from bayescalc.minmax import solve
    >>> r = solve(lambda x, y: x * y, 1.0, 1.0, method="extragradient", lr=0.1,
    ...           steps=2000, tol=1e-3)
    >>> r.success, r.n_steps, round(float(np.hypot(r.x, r.y)), 5)
    (True, 1459, 0.001)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     r = solve(lambda x, y: x * y, 1.0, 1.0, method="simultaneous", steps=100)
    >>> r.success, round(float(np.hypot(r.x, r.y)), 3)
    (False, 2.326)
    """
    x, y, lr, steps, tol, ema, consensus_weight = _solve_iv(
        f, x0, y0, method, lr, steps, tol, ema, consensus_weight, grad_method)
    field = GameField(f, x, y, method=grad_method)
    options = {"consensus_weight": consensus_weight} if method == "consensus" else {}
    stepper = RULES[method](field, lr, **options)
    state = stepper.init(np.concatenate([x.ravel(), y.ravel()]))
    z = state.position
    average = z.copy()
    path, n_evals = [z], 0
    converged, stopped, grad_norm = False, None, np.nan
    for step in range(1, steps + 1):
        new_state, info = stepper.step(state)
        n_evals += info.n_evals
        grad_norm = float(np.linalg.norm(info.field))
        if not np.isfinite(grad_norm):
            stopped = step
            break
        if grad_norm <= tol:
            converged = True
            break
        z_new = new_state.position
        if not (np.all(np.isfinite(z_new)) and np.isfinite(field.value(z_new))):
            stopped = step
            break
        state, z = new_state, z_new
        path.append(z)
        if ema is not None:
            average = ema * average + (1.0 - ema) * z
    else:
        v = field(z)
        n_evals += 1
        grad_norm = float(np.linalg.norm(v))
        converged = grad_norm <= tol
    n_steps = len(path) - 1
    if stopped is not None:
        message = (f"f or its gradient became non-finite at step {stopped}; stopped, the "
                   f"path holds the {n_steps + 1} finite iterates before it")
    elif converged:
        message = f"converged: |v(x, y)| = {grad_norm:.3g} <= tol = {tol:.3g} after {n_steps} steps"
    else:
        message = (f"not converged: |v(x, y)| = {grad_norm:.3g} > tol = {tol:.3g} after "
                   f"{n_steps} steps (steps budget spent)")
    split = field.dx
    result = MinMaxResult(
        x=like(x0, z[:split].reshape(x.shape)),
        y=like(y0, z[split:].reshape(y.shape)),
        path=np.array(path),
        success=converged,
        message=message,
        n_steps=n_steps,
        n_evals=n_evals,
        grad_norm=grad_norm,
        method=method,
        x_average=None if ema is None else like(x0, average[:split].reshape(x.shape)),
        y_average=None if ema is None else like(y0, average[split:].reshape(y.shape)),
    )
    return warn_unless_success(result, ConvergenceWarning)
