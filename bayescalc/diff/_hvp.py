"""Hessian-vector products :math:`H(x)\\,v` without forming H.

Autodiff: ``jvp`` of ``grad`` (one forward-over-reverse pass). Numerically, by
polarization along :math:`w \\pm e_i` with :math:`w = v / \\|v\\|`:
:math:`(H w)_i = (D^2_{w + e_i} - D^2_{w - e_i}) / 4`, 2d second derivatives along
lines (against :math:`d(d+1)/2` for the whole Hessian).
"""

from __future__ import annotations

import numpy as np

from .._core.arraykind import like
from . import autodiff
from ._validation import (
    SECOND_ORDER,
    as_point,
    check_callable,
    check_method,
    estimate_iv,
)
from ._warnings import warn_unless_success
from .evaluate import tensor_device
from .multivariate import as_numpy_vector, line_derivatives
from .result import DerivativeResult


def hvp(f, x, v, *, method="auto", step=None, vectorized=False):
    """The Hessian-vector product :math:`\\nabla^2 f(x)\\, v`: the plain value, shape (d,).

    Parameters
    ----------
    f : callable
        f(x) -> scalar for x of shape (d,); with ``vectorized=True`` f(xs) -> (P,).
    x, v : array_like or tensor, shape (d,)
    method : {"auto", "autodiff", "richardson", "central", "forward", "backward"}
    step : float or array_like (d,), optional
    vectorized : bool

    Returns
    -------
    ndarray or tensor, shape (d,)

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> quadratic = lambda p: 0.5 * p @ A @ p
    >>> np.round(hvp(quadratic, np.zeros(2), np.array([1.0, -1.0])), 10)
    array([ 1., -2.])
    """
    check_callable(f)
    method = check_method(method)
    direction = None
    if method in ("auto", "autodiff"):
        point = as_point(x)
        as_numpy_vector(v, point.size)
        direction = autodiff.as_vector(v)
    return autodiff.exact_or_numeric(
        method, lambda t: autodiff.hvp(f, t, direction, vectorized=vectorized),
        lambda m: hvp_estimate(f, x, v, method=m, step=step, vectorized=vectorized),
        f, x, vectorized=vectorized)


def hvp_estimate(f, x, v, *, method="richardson", step=None, vectorized=False, rtol=1e-12):
    """The numeric Hessian-vector product with its error estimate.

    Returns
    -------
    DerivativeResult
        ``value`` (d,), ``error`` (d,), ``n_evals``, ``step``, ``success``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> result = hvp_estimate(lambda p: np.sum(p ** 3), np.array([1.0, 2.0]), np.ones(2))
    >>> np.round(result.value, 9)       # diag(6 x) @ (1, 1)
    array([ 6., 12.])
    """
    method, step, rtol, point = estimate_iv(f, x, method, step, rtol, allowed=SECOND_ORDER)
    d = point.size
    vector = as_numpy_vector(v, d).reshape(-1) if np.ndim(v) else as_numpy_vector(v, d)
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        zero = np.zeros(np.shape(x))
        return DerivativeResult(like(x, zero), zero.copy(), 0, method, 0.0)
    w = vector / norm
    directions = np.concatenate([w[None, :] + np.eye(d), w[None, :] - np.eye(d)])
    lines, _, n_evals = line_derivatives(f, point, directions, 2, method,
                                         vectorized=vectorized, device=tensor_device(x),
                                         output="scalar", step=step, rtol=rtol)
    second = np.asarray(lines.value, dtype=np.float64)
    error = np.asarray(lines.error, dtype=np.float64)
    value = norm * (second[:d] - second[d:]) / 4
    errors = norm * (error[:d] + error[d:]) / 4
    shape = np.shape(x)
    result = DerivativeResult(
        value=like(x, value.reshape(shape)), error=errors.reshape(shape), n_evals=n_evals,
        method=method, step=np.asarray(lines.step), success=lines.success,
        message=lines.message)
    return warn_unless_success(result)
