"""Two reference games with known equilibria and known Jacobians.

* The bilinear game f(x, y) = x·y: the unique equilibrium is (0, 0) and the game
  Jacobian is [[0, I], [-I, 0]] with eigenvalues ±i (purely imaginary: simultaneous
  gradient descent-ascent spirals out on it).
* The Dirac-GAN (Mescheder, Geiger and Nowozin 2018, "Which training methods for GANs
  actually converge?", Sec. 2.2): the generator is a point mass at θ, the real data a point
  mass at 0, the discriminator D(x) = ψ·x, and

      L(θ, ψ) = φ(ψ θ) + φ(0),   φ(t) = -log(1 + exp(-t)),

  minimized over θ and maximized over ψ. The R1 gradient penalty (Eq. 9 of the paper) on
  the real data, γ/2 ‖∇_x D(0)‖² = γ/2 ψ², is subtracted from the discriminator's objective.

Both accept Python floats, numpy arrays and torch tensors (they are torch-differentiable).
"""

from __future__ import annotations

import math

import numpy as np

from .._core.arraykind import is_tensor


def bilinear(x, y):
    """The bilinear game f(x, y) = x·y = Σ_i x_i y_i (min over x, max over y).

    Examples
    --------
    >>> bilinear(2.0, 3.0)
    6.0
    >>> float(bilinear(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    if is_tensor(x) or is_tensor(y):
        return (x * y).sum()
    return np.sum(np.multiply(x, y)) if np.ndim(x) or np.ndim(y) else x * y


def _log_sigmoid(t):
    """log σ(t) = -log(1 + exp(-t)), stable for large |t|."""
    if is_tensor(t):
        import torch

        return torch.nn.functional.logsigmoid(t)
    return -np.logaddexp(0.0, -t)


def dirac_gan(theta, psi, *, gradient_penalty: float = 0.0):
    """The Dirac-GAN loss L(θ, ψ) = φ(ψθ) + φ(0) - γ/2 ψ², φ(t) = log σ(t).

    Parameters
    ----------
    theta, psi : float or 0-d tensor
        The generator's point mass and the discriminator's slope.
    gradient_penalty : float, keyword-only
        γ ≥ 0, the weight of the R1 penalty γ/2 ψ² on the discriminator.

    Examples
    --------
    >>> round(float(dirac_gan(0.0, 0.0)), 6)   # 2 log(1/2)
    -1.386294
    >>> round(float(dirac_gan(1.0, 2.0, gradient_penalty=1.0)), 6)
    -2.820075
    """
    loss = _log_sigmoid(psi * theta) + math.log(0.5)
    return loss - 0.5 * gradient_penalty * psi**2 if gradient_penalty else loss


def dirac_gan_jacobian(theta: float, psi: float, *, gradient_penalty: float = 0.0):
    """The analytic Jacobian of the Dirac-GAN's field v = (∂L/∂θ, -∂L/∂ψ) at (θ, ψ).

    With φ'(t) = σ(-t) and φ''(t) = -σ(t)σ(-t), t = ψθ:
    ∂L/∂θ = φ'(t) ψ and ∂L/∂ψ = φ'(t) θ - γψ, so

        J = [[ φ''(t) ψ²,             φ'(t) + φ''(t) ψθ ],
             [-(φ'(t) + φ''(t) ψθ),  -φ''(t) θ² + γ     ]].

    At the equilibrium (0, 0): J = [[0, 1/2], [-1/2, γ]], eigenvalues
    γ/2 ± sqrt(γ²/4 - 1/4) (±i/2 without the penalty).

    Examples
    --------
    >>> dirac_gan_jacobian(0.0, 0.0)
    array([[ 0. ,  0.5],
           [-0.5,  0. ]])
    """
    t = psi * theta
    first = 1.0 / (1.0 + math.exp(t))                       # φ'(t) = σ(-t)
    second = -first * (1.0 - first)                          # φ''(t) = -σ(t)σ(-t)
    off = first + second * t
    return np.array([[second * psi**2, off], [-off, -second * theta**2 + gradient_penalty]]) + 0.0
