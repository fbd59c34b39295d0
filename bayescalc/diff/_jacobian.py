"""The Jacobian :math:`J_{ij} = \\partial f_i / \\partial x_j` of a vector-valued f."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import like
from . import autodiff
from ._validation import (
    FIRST_ORDER,
    as_point,
    check_callable,
    check_method,
    estimate_iv,
)
from ._warnings import warn_unless_success
from .evaluate import tensor_device
from .multivariate import line_derivatives
from .result import DerivativeResult


def jacobian(f, x, *, method="auto", step=None, vectorized=False):
    """Jacobian of f: R^d -> R^m at x: the plain value, shape (m, d).

    Parameters
    ----------
    f : callable
        f(x) -> array (m,) (or a scalar) for x of shape (d,); with ``vectorized=True``
        f(xs) -> (P, m) for xs of shape (P, d).
    x : array_like or tensor, shape (d,)
    method : {"auto", "autodiff", "richardson", "central", "forward", "backward", "complex"}
        "auto": ``torch.func.jacrev`` when f runs on tensors, else "richardson".
    step : float or array_like (d,), optional
    vectorized : bool

    Returns
    -------
    ndarray or tensor
        Shape (m, d); (d,) when f returns a scalar.

    Examples
    --------
    Polar to Cartesian coordinates, :math:`(r, \\theta) \\mapsto (r\\cos\\theta,
    r\\sin\\theta)`, has Jacobian determinant r.

    >>> import numpy as np
    >>> polar = lambda p: np.array([p[0] * np.cos(p[1]), p[0] * np.sin(p[1])])
    >>> J = jacobian(polar, np.array([2.0, 0.5]))
    >>> round(float(np.linalg.det(J)), 12)
    2.0
    """
    check_callable(f)
    method = check_method(method)
    if method in ("auto", "autodiff"):
        as_point(x)
    return autodiff.exact_or_numeric(
        method, lambda t: autodiff.jacobian(f, t, vectorized=vectorized),
        lambda m: jacobian_estimate(f, x, method=m, step=step, vectorized=vectorized),
        f, x, vectorized=vectorized)


def jacobian_estimate(f, x, *, method="richardson", step=None, vectorized=False, rtol=1e-12):
    """The numeric Jacobian with its error estimate (the engine under :func:`jacobian`).

    Returns
    -------
    DerivativeResult
        ``value`` (m, d) and ``error`` (m, d) (each column's error is the largest over
        its components), ``n_evals``, ``step`` (d,), ``success``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> result = jacobian_estimate(lambda p: np.array([p[0] * p[1], p[0] + p[1]]),
    ...                            np.array([3.0, 4.0]))
    >>> np.round(result.value, 12)
    array([[4., 3.],
           [1., 1.]])
    """
    method, step, rtol, point = estimate_iv(f, x, method, step, rtol, allowed=FIRST_ORDER)
    lines, center, n_evals = line_derivatives(f, point, np.eye(point.size), 1, method,
                                              vectorized=vectorized, device=tensor_device(x),
                                              output="vector", step=step, rtol=rtol)
    value = np.asarray(lines.value)                          # (d, *out)
    error = np.asarray(lines.error)
    if error.shape != value.shape:
        error = np.broadcast_to(error.reshape((-1,) + (1,) * (value.ndim - 1)), value.shape)
    if value.ndim == 2:
        value, error = value.T, error.T
    result = DerivativeResult(
        value=like(x, value), error=np.array(error, dtype=np.float64), n_evals=n_evals,
        method=method, step=np.asarray(lines.step), success=lines.success,
        message=lines.message)
    return warn_unless_success(result)
