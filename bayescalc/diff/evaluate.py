"""Evaluating the user's f on the points of a finite-difference stencil.

The calculus verbs take f as a function of ONE point (a scalar, or shape (d,)); with
``vectorized=True`` f takes a batch, shape (P,) for a scalar x or (P, d), and returns
(P,) (or (P, m) for a vector-valued f). This module hides the difference: the engines
ask for f on P points along lines :math:`x + t u_k` and get an array (P, *out) back,
with f called once per request when it is vectorized.
"""

from __future__ import annotations

import numpy as np

from .._core.arraykind import is_tensor, to_numpy
from .._core.batch import NoWorkingMode, as_argument, first_working


class LineSampler:
    """f on points :math:`x + t\\,u_k`, counting evaluations and checking shapes.

    Parameters
    ----------
    f : callable
        The user's function.
    x : ndarray, shape () or (d,)
        The point (float64).
    directions : ndarray, shape (K, d), optional
        The line directions; None for a scalar x (the single line is the real axis).
    vectorized : bool
        Whether f takes a batch of points.
    device : torch.device, optional
        None: f gets numpy points (a float for a scalar x). A device (x came in as a
        tensor): f gets float64 torch tensors there. An f that refuses numpy points gets
        CPU tensors (detected on the first call, :meth:`center`).
    output : {"scalar", "vector"}
        What f must return for one point: a scalar, or a scalar or 1-D array.

    The points reach f through :func:`bayescalc._core.batch.as_argument`, the library's
    one conversion of points for a user's f.
    """

    def __init__(self, f, x, directions=None, *, vectorized=False, device=None,
                 output="scalar"):
        self.f = f
        self.x = np.asarray(x, dtype=np.float64)
        self.directions = None if directions is None else np.asarray(directions, dtype=np.float64)
        self.vectorized = vectorized
        self.as_tensor = device is not None
        self.device = device
        self.output = output
        self.n_evals = 0
        self.out_shape = None

    def center(self) -> np.ndarray:
        """f(x), checked: finite, and of the right shape (sets ``out_shape``).

        For a scalar function at an array of points x (``directions`` None and x not a
        scalar) every element is its own line: returns f at each, shape (K,).
        """
        elementwise = self.directions is None and self.x.ndim > 0
        bases = self.x.reshape(-1) if elementwise else self.x[None]
        # An f that accepts torch tensors only (torch.stack of its entries, say) gets
        # float64 tensors, as for a tensor x; a tensor x never falls back to numpy.
        modes = (True,) if self.as_tensor else (False, True)

        def attempt(tensors):
            self.as_tensor = tensors
            return self.points(bases)

        try:
            self.as_tensor, values = first_working(attempt, modes)
        except NoWorkingMode as failure:
            self.as_tensor = modes[0]
            raise failure.errors[0] from None  # the numpy failure, the usual case
        bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"f returned a non-finite value {values[i]} at x = {bases[i]}: "
                             "a derivative needs f finite at x")
        return values if elementwise else values[0]

    def __call__(self, line, t) -> np.ndarray:
        """f at :math:`x + t_p u_{line_p}` for every p, shape (P, *out)."""
        t = np.asarray(t, dtype=np.float64)
        if self.directions is None:
            points = (self.x.reshape(-1)[line] if self.x.ndim else self.x) + t
        else:
            points = self.x[None, :] + t[:, None] * self.directions[line]
        return self.points(points)

    def points(self, points) -> np.ndarray:
        """f at explicit points, shape (P, *out)."""
        points = np.asarray(points, dtype=np.float64)
        count = points.shape[0]
        # Steps may cross the edge of f's domain (log of a negative number): the engines
        # detect the non-finite values and step back, so numpy's warnings are noise here.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            if self.vectorized:
                values = self._to_numpy(self.f(self._convert(points)))
                values = self._check_batch(values, count)
            else:
                values = [self._one(p) for p in points]
                values = [self._check_one(v) for v in values]
                values = np.stack(values) if values else np.empty(0)
        self.n_evals += count
        return values

    def complex_along(self, line, z) -> np.ndarray:
        """f at :math:`x + z_p u_{line_p}` for complex offsets z (f must accept complex x).

        The one place where f meets complex numbers (the complex step, Cauchy's
        contour): the points are counted in ``n_evals``; a pole hit exactly by Python's
        complex division is NaN.
        """
        z = np.asarray(z, dtype=np.complex128)
        if self.directions is None:
            points = (self.x.reshape(-1)[line] if self.x.ndim else self.x) + z
        else:
            points = self.x[None, :] + z[:, None] * self.directions[line]
        with np.errstate(all="ignore"):
            if self.vectorized:
                values = np.asarray(self.f(points))
            else:
                values = np.array([_complex_value(self.f, p) for p in points])
        self.n_evals += z.shape[0]
        return values

    def _one(self, point):
        """f at one point; a step past the edge of a math-module f's domain is NaN.

        Python floats raise where numpy returns inf/NaN (``1 / x`` at 0, ``math.log`` of
        a negative number): the engines then step back as for a non-finite value.
        """
        try:
            return self._to_numpy(self.f(self._convert_one(point)))
        except (ZeroDivisionError, OverflowError):
            pass
        except ValueError as error:
            if "math domain error" not in str(error):
                raise
        return np.full(self.out_shape if self.out_shape is not None else (), np.nan)

    # -- helpers -------------------------------------------------------------------------
    def _convert(self, points):
        return as_argument(points, tensors=self.as_tensor, device=self.device)

    def _convert_one(self, point):
        # a copy: f may change its argument in place, the stencil's points must not
        return as_argument(np.array(point), tensors=self.as_tensor, device=self.device,
                           one=True)

    @staticmethod
    def _to_numpy(value):
        try:
            return to_numpy(value)
        except (TypeError, ValueError) as error:
            raise TypeError(f"f must return a number or an array, got {type(value).__name__}"
                            ) from error

    def _check_one(self, value):
        if self.output == "scalar" and value.ndim != 0:
            if value.size == 1:
                return value.reshape(())
            raise ValueError(f"f must return a scalar for one point, got shape {value.shape}"
                             " (use jacobian for a vector-valued f)")
        if self.output == "vector" and value.ndim > 1:
            raise ValueError(f"f must return a scalar or a 1-D array, got shape {value.shape}")
        return self._check_same(value)

    def _check_batch(self, values, count):
        if values.ndim == 0 or values.shape[0] != count:
            raise ValueError(
                f"with vectorized=True, f must return one value per point: shape ({count},"
                f"{'' if self.output == 'scalar' else ' [m]'}) for {count} points, "
                f"got shape {values.shape}")
        if self.output == "scalar" and values.ndim != 1:
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            else:
                raise ValueError(f"with vectorized=True, f must return shape ({count},) for "
                                 f"{count} points, got shape {values.shape}")
        if self.output == "vector" and values.ndim > 2:
            raise ValueError(f"with vectorized=True, f must return shape ({count},) or "
                             f"({count}, m), got shape {values.shape}")
        for value in values[:1]:
            self._check_same(value)
        return values

    def _check_same(self, value):
        if self.out_shape is None:
            self.out_shape = value.shape
        elif value.shape != self.out_shape:
            raise ValueError(f"f returned shape {value.shape} at one point and "
                             f"{self.out_shape} at another")
        return value


def _complex_value(f, point):
    """f at one complex point (a scalar or a vector)."""
    try:
        return f(complex(point)) if point.ndim == 0 else np.asarray(f(point))
    except (ZeroDivisionError, OverflowError):
        return complex("nan")


def tensor_device(x):
    """x's torch device when x is a tensor (f then gets tensors there), else None."""
    return x.device if is_tensor(x) else None
