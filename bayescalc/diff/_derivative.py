"""Derivatives of a scalar function of one variable, any order n >= 1.

:func:`finite_difference` is the numeric engine (it returns a
:class:`~bayescalc.diff.result.DerivativeResult` with an error estimate);
:func:`derivative` is the calculus verb (it returns the plain value, using autodiff for
torch callables).
"""

from __future__ import annotations

import numpy as np

from .._core.arraykind import like
from . import autodiff
from ._validation import (
    as_scalar_or_points,
    check_callable,
    check_int,
    check_method,
    check_positive,
    check_step,
)
from ._warnings import warn_unless_success
from .complex_step import contour_derivative
from .evaluate import LineSampler, tensor_device
from .lines import complex_lines, numeric_lines
from .result import DerivativeResult


def finite_difference(f, x, *, n=1, method="richardson", step=None, vectorized=False,
                      rtol=1e-12):
    """The n-th derivative of a scalar function by finite differences, with its error.

    The default method extrapolates central differences on the geometric steps
    :math:`h_j = h_0 2^{-j}`: a window of five steps gives, through Fornberg's weights,
    the Richardson-extrapolated estimate of order 10 (for n = 1) and one of order 8 from
    the four smallest steps; their difference plus a round-off bound
    :math:`4\\varepsilon \\sum_i |w_i f(x_i)|` is the error estimate. The window slides to
    smaller steps while the truncation part dominates, and stops once the error is below
    ``rtol * |value|`` or at the round-off floor. Where f is not finite near x (the edge
    of its domain) the steps shrink below the edge or turn one-sided; where the one-sided
    slopes disagree (a kink) the error estimate says so and ``success`` is False.

    Parameters
    ----------
    f : callable
        f(x) -> float for one point; with ``vectorized=True``, f(xs) -> array for an
        array of points, elementwise.
    x : float, ndarray or tensor
        The point, or an array of points (the derivative is taken at each).
    n : int
        Derivative order, >= 1.
    method : {"richardson", "central", "forward", "backward", "complex"}
        "richardson" (adaptive, the default); "central"/"forward"/"backward": one
        classical stencil of accuracy :math:`O(h^2)`/:math:`O(h)` at ``step`` (its error
        estimate compares with the same stencil at 2h); "complex": the complex step
        (n = 1) or Cauchy's integral on a circle (n >= 2), for f that accepts complex x.
    step : float, optional
        "richardson": the largest initial step (default :math:`\\max(|x|, 1) / 32` for
        n = 1, rounded to a power of two); the classical stencils: their step (default
        :math:`\\varepsilon^{1/(n+p)} \\max(|x|, 1)`); "complex" with n >= 2: the radius
        of the circle (default :math:`\\max(|x|, 1) / 2`).
    vectorized : bool
        f takes an array of points and returns one value per point.
    rtol : float
        "richardson" stops once its error estimate is below ``rtol * |value|`` (0: go on
        to the round-off floor).

    Returns
    -------
    DerivativeResult
        ``value``, ``error`` (estimated absolute error), ``n_evals``, ``method``,
        ``step``, ``success``, ``message``.

    Raises
    ------
    ValueError
        f is NaN/inf at x (the message names x), f returns the wrong shape, ``step <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> result = finite_difference(np.exp, 1.0)
    >>> print(f"{result.value:.12f}", result.n_evals, result.error < 1e-10)
    2.718281828459 11 True
    >>> print(f"{finite_difference(np.sin, 0.5, n=3).value:.10f}")      # -cos(0.5)
    -0.8775825619
    >>> finite_difference(lambda x: x**2, 3.0, method="forward", step=0.5).value   # 2x + h
    6.5
    """
    f, point, n, method, step, rtol = _finite_difference_iv(f, x, n, method, step, rtol)
    sampler = LineSampler(f, point, vectorized=vectorized, device=tensor_device(x))
    center = sampler.center()
    if method == "complex":
        value, error, used_step, success, message = _complex(sampler, point, n, step)
    else:
        value, error, used_step, success, message = _real(sampler, point, center, n, method,
                                                          step, rtol)
    result = DerivativeResult(
        value=like(x, value), error=_plain(error), n_evals=sampler.n_evals, method=method,
        step=_plain(used_step), success=bool(success), message=message)
    return warn_unless_success(result)


def derivative(f, x, *, n=1, method="auto", step=None, vectorized=False):
    """The n-th derivative :math:`f^{(n)}(x)` of a scalar function: the plain value.

    Parameters
    ----------
    f : callable
        A function of one real variable (see ``vectorized``).
    x : float, ndarray or tensor
        The point, or an array of points (the derivative is taken at each).
    n : int
        Order, >= 1.
    method : {"auto", "autodiff", "richardson", "central", "forward", "backward", "complex"}
        "auto": automatic differentiation (torch.func) when f runs on torch tensors,
        else the adaptive Richardson engine. The others as in :func:`finite_difference`.
    step : float, optional
        Step of the numeric methods (see :func:`finite_difference`).
    vectorized : bool
        f takes an array of points and returns one value per point.

    Returns
    -------
    float, ndarray or tensor
        The kind of ``x``. A numeric estimate that did not converge emits an
        AccuracyWarning; use :func:`finite_difference` to see its error estimate.

    Examples
    --------
    The chain rule of the notes: :math:`h(g(x))` with :math:`h = x^3`, :math:`g = x^2`
    has derivative :math:`6x^5`.

    >>> round(derivative(lambda x: (x**2) ** 3, 2.0), 10)    # autodiff: 6 * 2**5
    192.0
    >>> import numpy as np
    >>> round(derivative(np.exp, 0.0), 13)                     # numeric (numpy f)
    1.0
    """
    check_callable(f)
    method = check_method(method)
    n = check_int(n, "n", minimum=1)
    if method in ("auto", "autodiff"):
        as_scalar_or_points(x)
        if method == "autodiff":
            return like(x, autodiff.derivative(f, x, n, vectorized=vectorized))
    return autodiff.exact_or_numeric(
        method, lambda t: autodiff.derivative(f, t, n, vectorized=vectorized),
        lambda m: finite_difference(f, x, n=n, method=m, step=step, vectorized=vectorized),
        f, x, vectorized=vectorized, elementwise=True)


# -- the methods ---------------------------------------------------------------------------

def _real(sampler, point, center, n, method, step, rtol):
    """A real-valued method on one line per element of x."""
    flat = point.reshape(-1)
    first_step = None if step is None else np.broadcast_to(step, flat.shape)
    hint = np.abs(flat) if method == "richardson" else None
    lines = numeric_lines(sampler, np.asarray(center).reshape(flat.shape), n, method,
                          scale=np.abs(flat), hint=hint, step=first_step, rtol=rtol)
    shape = point.shape
    return (lines.value.reshape(shape), lines.error.reshape(shape),
            lines.step.reshape(shape), lines.success, lines.message)


def _complex(sampler, point, n, step):
    """The complex step (n = 1) or Cauchy's contour (n >= 2), one line per element."""
    flat = point.reshape(-1)
    scale = np.maximum(np.abs(flat), 1.0)
    if n == 1:
        lines = complex_lines(sampler, scale)
        value, error, used_step = lines.value, lines.error, lines.step
        success, message = lines.success, lines.message
    else:
        radius = 0.5 * scale if step is None else np.broadcast_to(step, flat.shape)
        value, error, used_step = contour_derivative(sampler, flat, n, radius)
        success = bool(np.all(np.isfinite(value)) and np.all(error <= 1e-6 * np.abs(value) + 1e-12))
        message = "converged" if success else "the contour rule did not converge"
    shape = point.shape
    return np.asarray(value).reshape(shape), np.asarray(error).reshape(shape), \
        np.asarray(used_step).reshape(shape), success, message


def _plain(array):
    array = np.asarray(array, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def _finite_difference_iv(f, x, n, method, step, rtol):
    check_callable(f)
    point = as_scalar_or_points(x)
    n = check_int(n, "n", minimum=1)
    method = check_method(method, allowed=("richardson", "central", "forward", "backward",
                                           "complex"))
    step = check_step(step)
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    return f, point, n, method, step, rtol
