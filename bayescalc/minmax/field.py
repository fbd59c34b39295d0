"""The game's gradient field v(z) = (∇x f, -∇y f) on the flattened point z = (x, y).

Descending along -v is gradient descent in x and ascent in y, so every update rule of
:mod:`bayescalc.minmax` is written in terms of v. Its Jacobian J = S H (H the Hessian of
f in z, S = diag(I_x, -I_y)) drives the local analysis, and ∇(½‖v‖²) = Jᵀv = H ∇f is the
consensus term of Mescheder et al. (2017).

Derivatives come from the diff core :mod:`bayescalc.diff`: with ``method="auto"`` a
callable that runs on torch tensors is differentiated exactly (``method="autodiff"``,
torch.func), any other with the core's numeric differences.
"""

from __future__ import annotations

import numpy as np

from .. import diff
from .._core.arraykind import to_numpy
from .._core.flat import FlatFunction

GRAD_METHODS = ("auto", "autodiff", "central", "richardson")


class GameField:
    """v, J and Jᵀv of f(x, y) as functions of the flat float64 point z = (x, y).

    Parameters
    ----------
    f : callable
        The game f(x, y) -> scalar.
    x0, y0 : ndarray
        The start (float64, shape () or (d,)); f gets x and y of these shapes.
    method : str
        ``"auto"`` (autodiff when :func:`bayescalc.diff.is_autodiff_faithful` holds for f
        at the start, decided once for the run), ``"autodiff"``, or a numeric method of
        :func:`bayescalc.diff.gradient`.

    Examples
    --------
    >>> field = GameField(lambda x, y: x * y, np.array(1.0), np.array(2.0))
    >>> field(np.array([1.0, 2.0]))          # v = (∂f/∂x, -∂f/∂y) = (y, -x)
    array([ 2., -1.])
    >>> field.diff_method                   # x * y runs on tensors: exact derivatives
    'autodiff'
    """

    def __init__(self, f, x0: np.ndarray, y0: np.ndarray, *, method: str = "auto"):
        self.f = f
        self.objective = FlatFunction(f, x0, y0)     # f at the flat point z
        self.dx = self.objective.sizes[0]
        self.sign = np.concatenate([np.ones(self.dx), -np.ones(self.objective.sizes[1])])
        z0 = self.objective.flatten(x0, y0)
        self.autodiff = method == "autodiff" or (
            method == "auto" and diff.is_autodiff_faithful(self.objective, z0))
        self.diff_method = "autodiff" if self.autodiff else method

    def _point(self, z):
        if self.autodiff:
            import torch

            return torch.as_tensor(z, dtype=torch.float64)
        return np.asarray(z, dtype=np.float64)

    def value(self, z) -> float:
        """f at the flat point z, as a float."""
        return float(to_numpy(self.objective(self._point(z))))

    def gradient(self, z) -> np.ndarray:
        """∇f at z, flat (x part then y part)."""
        g = diff.gradient(self.objective, self._point(z), method=self.diff_method)
        return to_numpy(g).reshape(-1)

    def __call__(self, z) -> np.ndarray:
        """v(z) = (∇x f, -∇y f)."""
        return self.sign * self.gradient(z)

    def jacobian(self, z) -> np.ndarray:
        """J(z) = S H(z), the Jacobian of v."""
        hessian = to_numpy(diff.hessian(self.objective, self._point(z), method=self.diff_method))
        return self.sign[:, None] * hessian.reshape(z.size, z.size)

    def consensus_term(self, z, v) -> np.ndarray:
        """Jᵀv = H ∇f = ∇(½‖v‖²) at z (given v = v(z))."""
        point = self._point(z)
        direction = self._point(self.sign * v)
        return to_numpy(diff.hvp(self.objective, point, direction,
                                 method=self.diff_method)).reshape(-1)
