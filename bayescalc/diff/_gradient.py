"""The gradient :math:`\\nabla f(x)`: the vector of partial derivatives.

Each partial derivative :math:`\\partial f / \\partial x_i` is the derivative of f along
the axis :math:`e_i`, every other coordinate held constant; numerically, all d axes are
one batch of lines for the Richardson engine.
"""

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


def gradient(f, x, *, method="auto", step=None, vectorized=False):
    """Gradient of a scalar function of a point of shape (d,): the plain value.

    Parameters
    ----------
    f : callable
        f(x) -> scalar for x of shape (d,); with ``vectorized=True`` f(xs) -> (P,) for
        xs of shape (P, d), and the whole stencil is evaluated in one call per round.
    x : array_like or tensor, shape (d,)
        The point.
    method : {"auto", "autodiff", "richardson", "central", "forward", "backward", "complex"}
        "auto": torch.func autodiff when f runs on tensors, else "richardson".
    step : float or array_like (d,), optional
        Initial step of the numeric methods (per coordinate).
    vectorized : bool
        f takes a batch of points.

    Returns
    -------
    ndarray or tensor, shape (d,)
        The kind of ``x``.

    Examples
    --------
    The gradient is the vector of partial derivatives, each holding the other variables
    constant: for :math:`f(x, y) = x^2 y + y^3`, :math:`\\nabla f = (2xy, x^2 + 3y^2)`.

    >>> import numpy as np
    >>> g = gradient(lambda p: p[0] ** 2 * p[1] + p[1] ** 3, np.array([1.0, 2.0]))
    >>> np.round(g, 12)
    array([ 4., 13.])
    >>> np.round(gradient(lambda p: np.sum(np.sin(p)), np.zeros(3)), 12)   # numeric
    array([1., 1., 1.])
    """
    check_callable(f)
    method = check_method(method)
    if method in ("auto", "autodiff"):
        as_point(x)
    return autodiff.exact_or_numeric(
        method, lambda t: autodiff.gradient(f, t, vectorized=vectorized),
        lambda m: gradient_estimate(f, x, method=m, step=step, vectorized=vectorized),
        f, x, vectorized=vectorized, shape=np.shape(x))


def gradient_estimate(f, x, *, method="richardson", step=None, vectorized=False, rtol=1e-12):
    """The numeric gradient with its error estimate (the engine under :func:`gradient`).

    Returns
    -------
    DerivativeResult
        ``value`` (d,), ``error`` (d,) estimated absolute errors, ``n_evals``, ``step``
        (d,), ``success``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> result = gradient_estimate(lambda p: np.exp(p[0]) * np.cos(p[1]), np.array([1.0, 0.0]))
    >>> (np.round(result.value, 12) + 0.0).tolist(), result.n_evals
    ([2.718281828459, 0.0], 21)
    >>> bool(np.all(result.error < 1e-10))
    True
    """
    method, step, rtol, point = estimate_iv(f, x, method, step, rtol, allowed=FIRST_ORDER)
    lines, _, n_evals = line_derivatives(f, point, np.eye(point.size), 1, method,
                                         vectorized=vectorized, device=tensor_device(x),
                                         output="scalar", step=step, rtol=rtol)
    shape = np.shape(x)
    result = DerivativeResult(
        value=like(x, lines.value.reshape(shape)), error=_array(lines.error, shape),
        n_evals=n_evals, method=method, step=_array(lines.step, shape),
        success=lines.success, message=lines.message)
    return warn_unless_success(result)



def _array(values, shape):
    values = np.asarray(values, dtype=np.float64).reshape(shape)
    return float(values) if values.ndim == 0 else values
