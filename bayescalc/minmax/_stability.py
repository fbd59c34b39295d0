"""``stability``: the eigenvalues of the game Jacobian, and what they mean for each step."""

from __future__ import annotations

import numpy as np

from .._core.validation import as_point, check_callable, check_choice, check_positive
from .field import GRAD_METHODS, GameField
from .result import StabilityResult


def _stability_iv(f, x, y, lr, consensus_weight, grad_method):
    check_callable(f, "f")
    check_choice(grad_method, "grad_method", GRAD_METHODS)
    x, y = as_point(x, "x"), as_point(y, "y")
    lr = check_positive(lr, "lr", allow_none=True)
    consensus_weight = check_positive(consensus_weight, "consensus_weight", allow_zero=True)
    return x, y, lr, consensus_weight


def step_matrices(jacobian: np.ndarray, dx: int, lr: float, consensus_weight: float = 1.0):
    r"""The linearized step z_{t+1} - z* = M (z_t - z*) of every rule near a point z*.

    With J = [[A, B], [C, D]] the game Jacobian (x block first, ``dx`` rows) and η = lr:

    * simultaneous:  M = I - ηJ, eigenvalues 1 - ηλ
    * alternating:   x' = (I - ηA)x - ηBy, y' = y - η(Cx' + Dy)
    * extragradient: M = I - ηJ + η²J², eigenvalues 1 - ηλ + η²λ²
    * optimistic:    the 2d×2d companion [[I - 2ηJ, ηJ], [I, 0]] of
      z_{t+1} = z_t - 2ηJz_t + ηJz_{t-1}; each λ gives the roots μ of
      μ² - (1 - 2ηλ)μ - ηλ = 0
    * consensus:     M = I - η(J + γJᵀJ)

    Returns a dict name -> M.

    Examples
    --------
    >>> J = np.array([[0.0, 1.0], [-1.0, 0.0]])          # the bilinear game x·y
    >>> M = step_matrices(J, 1, 0.1)
    >>> M["simultaneous"]
    array([[ 1. , -0.1],
           [ 0.1,  1. ]])
    """
    d = jacobian.shape[0]
    identity = np.eye(d)
    a, b = jacobian[:dx, :dx], jacobian[:dx, dx:]
    c, dd = jacobian[dx:, :dx], jacobian[dx:, dx:]
    x_row = np.hstack([np.eye(dx) - lr * a, -lr * b])
    y_row = np.hstack([-lr * c @ x_row[:, :dx], np.eye(d - dx) - lr * dd - lr * c @ x_row[:, dx:]])
    companion = np.block([[identity - 2 * lr * jacobian, lr * jacobian],
                          [identity, np.zeros((d, d))]])
    return {
        "simultaneous": identity - lr * jacobian,
        "alternating": np.vstack([x_row, y_row]),
        "extragradient": identity - lr * jacobian + lr**2 * jacobian @ jacobian,
        "optimistic": companion,
        "consensus": identity - lr * (jacobian + consensus_weight * jacobian.T @ jacobian),
    }


def stability(f, x, y, *, lr: float | None = None, consensus_weight: float = 1.0,
              grad_method: str = "auto") -> StabilityResult:
    r"""Eigenvalues of the Jacobian of the game field at (x, y), and the rules' step radii.

    The field is v(x, y) = (∇x f, -∇y f) and J = ∂v/∂(x, y). Near a stationary point z*
    (v(z*) = 0) the flow ż = -v(z) is linear: z - z* ≈ exp(-tJ)(z_0 - z*). So

    * Re λ > 0 for every eigenvalue λ: z* attracts (a local Nash equilibrium when J's
      x-block is positive and y-block negative definite);
    * Re λ = 0 (the bilinear game x·y: λ = ±i): the flow circles z* forever;
    * Re λ < 0 for some λ: z* repels along that direction.

    A discrete rule with step η multiplies z - z* by its step matrix M
    (:func:`step_matrices`); it converges locally iff the spectral radius ρ(M) < 1.
    Simultaneous GDA has M = I - ηJ with eigenvalues 1 - ηλ; for purely imaginary
    λ = ±iω, abs(1 - ηλ)² = 1 + η²ω² > 1 for every η: it spirals out, however small the
    step. Extragradient's 1 - ηλ + η²λ² has modulus² 1 - η²ω² + η⁴ω⁴ < 1 for ηω < 1.

    Parameters
    ----------
    f : callable
        f(x, y) -> scalar. Torch-differentiable callables get exact second derivatives
        (torch.func via :mod:`bayescalc.diff`); others numeric ones, far less accurate.
    x, y : float, 1-D array or tensor
        The point.
    lr : float or None, keyword-only
        If given, the step η at which to compute ``spectral_radius`` of every rule.
    consensus_weight : float
        γ of the consensus rule.
    grad_method : str
        Passed to :mod:`bayescalc.diff` (``"auto"``: autodiff when f runs on tensors).

    Returns
    -------
    StabilityResult
        ``eigenvalues`` (complex, sorted), ``jacobian``, ``lr``, ``spectral_radius``.

    Examples
    --------
    >>> from bayescalc.minmax import stability
    >>> r = stability(lambda x, y: x * y, 0.0, 0.0, lr=0.1)
    >>> r.eigenvalues
    array([0.-1.j, 0.+1.j])
    >>> {name: round(rho, 4) for name, rho in r.spectral_radius.items()}
    {'simultaneous': 1.005, 'alternating': 1.0, 'extragradient': 0.995,
     'optimistic': 0.995, 'consensus': 0.9}
    """
    x, y, lr, consensus_weight = _stability_iv(f, x, y, lr, consensus_weight, grad_method)
    field = GameField(f, x, y, method=grad_method)
    jacobian = field.jacobian(np.concatenate([x.ravel(), y.ravel()]))
    eigenvalues = np.sort_complex(np.linalg.eigvals(jacobian).astype(complex))
    radius = None
    if lr is not None:
        radius = {name: float(np.max(np.abs(np.linalg.eigvals(matrix))))
                  for name, matrix in step_matrices(jacobian, field.dx, lr,
                                                    consensus_weight).items()}
    return StabilityResult(eigenvalues=eigenvalues, jacobian=jacobian, lr=lr,
                           spectral_radius=radius)
