"""f, its gradient and Hessian as functions of an internal float64 vector ``z`` (shape (d,)).

The optimizers work on ``z``; the user's f sees a point of the kind ``x0`` came in (a
float, a numpy array or a torch tensor). Derivatives come from the user's ``grad`` /
``hess`` when given, else from :mod:`bayescalc.diff` (autodiff for torch callables,
numeric differences otherwise). ``sign=-1`` turns a maximization into a minimization.
"""

from __future__ import annotations

import numpy as np

from .. import diff
from .._core.arraykind import is_tensor, to_numpy
from .._core.flat import FlatFunction


class Objective:
    """f (times ``sign``) with its gradient and Hessian on internal vectors.

    Parameters
    ----------
    f : callable
        A function of one point, returning a scalar.
    template : float, ndarray or Tensor
        A point of the kind f expects (``x0``); scalars make f a function of a float.
    grad, hess : callable or None
        The user's gradient / Hessian of f (of the same kind of point), or None.
    sign : float
        +1 to minimize f, -1 to maximize it.
    """

    def __init__(self, f, template, *, grad=None, hess=None, sign=1.0):
        self.f, self.user_grad, self.user_hess, self.sign = f, grad, hess, float(sign)
        self.scalar = np.ndim(to_numpy(template)) == 0
        self.template = template
        # f is a textbook function of a float when x0 is a scalar (not a tensor)
        self.flat = FlatFunction(f, template if is_tensor(template) or not self.scalar
                                 else 0.0)
        self.dim = self.flat.dim
        # (z, value) and (z, gradient) of the latest evaluations: a point a line search
        # accepted, or one the loop evaluated, is not evaluated again by the step
        self._last = self._last_grad = None

    def point(self, z):
        """The user's kind of point for the internal vector ``z``."""
        return self.flat.unflatten(z)[0]

    def value(self, z) -> float:
        """sign * f(z); NaN/inf are returned as they are (the caller decides)."""
        if self._last is not None and np.array_equal(self._last[0], z):
            return self._last[1]
        value = self.sign * self.flat.value(z)
        self._last = (np.array(z, dtype=np.float64), value)
        return value

    def grad(self, z) -> np.ndarray:
        """sign * ∇f(z), shape (d,)."""
        if self._last_grad is not None and np.array_equal(self._last_grad[0], z):
            return self._last_grad[1].copy()
        x = self.point(z)
        if self.user_grad is not None:
            g = to_numpy(self.user_grad(x))
        elif self.scalar:
            g = to_numpy(diff.derivative(self.f, x))
        else:
            g = to_numpy(diff.gradient(self.f, x))
        if g.size != self.dim:
            raise ValueError(f"the gradient must have shape ({self.dim},), got shape {g.shape}")
        g = self.sign * g.reshape(self.dim)
        self._last_grad = (np.array(z, dtype=np.float64), g.copy())
        return g

    def hess(self, z) -> np.ndarray:
        """sign * ∇²f(z), symmetrized, shape (d, d)."""
        x = self.point(z)
        if self.user_hess is not None:
            h = to_numpy(self.user_hess(x))
        elif self.scalar:
            h = to_numpy(diff.derivative(self.f, x, n=2))
        else:
            h = to_numpy(diff.hessian(self.f, x))
        if h.size != self.dim**2:
            raise ValueError(
                f"the Hessian must have shape ({self.dim}, {self.dim}), got shape {h.shape}"
            )
        h = h.reshape(self.dim, self.dim)
        return self.sign * 0.5 * (h + h.T)
