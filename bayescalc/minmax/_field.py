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
from .._core.arraykind import is_tensor, to_numpy

GRAD_METHODS = ("auto", "autodiff", "central", "richardson")


class GameField:
    """v, J and Jᵀv of f(x, y) as functions of the flat float64 point z (numpy)."""

    def __init__(self, f, x0: np.ndarray, y0: np.ndarray, *, method: str = "auto"):
        self.f = f
        self.x_shape, self.y_shape = x0.shape, y0.shape
        self.dx = max(x0.size, 1)
        self.sign = np.concatenate([np.ones(self.dx), -np.ones(max(y0.size, 1))])
        z0 = np.concatenate([x0.ravel(), y0.ravel()])
        self.autodiff = method == "autodiff" or (method == "auto" and self._runs_on_torch(z0))
        self.diff_method = "autodiff" if self.autodiff else method

    def _split(self, z):
        return z[: self.dx].reshape(self.x_shape), z[self.dx:].reshape(self.y_shape)

    def objective(self, z):
        """f at the flat point z (z a numpy array, or a tensor on the autodiff path)."""
        x, y = self._split(z)
        return self.f(x, y)

    def _point(self, z):
        if self.autodiff:
            import torch

            return torch.as_tensor(z, dtype=torch.float64)
        return np.asarray(z, dtype=np.float64)

    def _runs_on_torch(self, z0) -> bool:
        """True when f maps tensors to a tensor that torch.func differentiates correctly.

        A callable that leaves torch inside (``float(x)``, numpy functions) can still run
        under torch.func but loses those terms' derivatives; so the autodiff gradient at
        z0 is compared with the diff core's numeric one when f also runs on numpy.
        """
        try:
            import torch

            z = torch.as_tensor(z0, dtype=torch.float64)
            if not is_tensor(self.objective(z)):
                return False
            exact = to_numpy(diff.gradient(self.objective, z, method="autodiff")).reshape(-1)
        except Exception:  # noqa: BLE001 - any failure means "not a torch callable"
            return False
        try:
            numeric = to_numpy(diff.gradient(self.objective, z0)).reshape(-1)
        except Exception:  # noqa: BLE001 - torch-only callable: nothing to compare with
            return True
        scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
        return not np.all(np.isfinite(numeric)) or bool(
            np.max(np.abs(exact - numeric)) <= 1e-4 * scale)

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
