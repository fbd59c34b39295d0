"""Checking a hand-written gradient against the numeric one."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import to_numpy
from ._gradient import gradient_estimate
from ._validation import as_point, check_callable, check_positive
from .result import GradientCheck


def check_gradient(f, grad, x, *, rtol=1e-6, atol=0.0, vectorized=False):
    """Compare ``grad(x)`` with the numeric (Richardson) gradient of f at x.

    Coordinate i passes when :math:`|g_i - r_i| \\le` ``atol`` +
    ``rtol`` :math:`\\cdot \\max(|r_i|, \\|r\\|_\\infty) + 10\\,e_i`, where r is the
    numeric reference and :math:`e_i` its own error estimate (so a coordinate near zero
    is judged on the gradient's scale, not its own).

    Parameters
    ----------
    f : callable
        The scalar function (of a point of shape (d,)).
    grad : callable
        The gradient to check: grad(x) -> array (d,).
    x : array_like, shape (d,)
    rtol, atol : float
        Tolerances.
    vectorized : bool
        f takes a batch of points (``grad`` is always called on the single point).

    Returns
    -------
    GradientCheck
        ``max_abs_error``, ``max_rel_error``, ``ok``, ``worst_index``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda p: np.sum(p ** 2) + p[0] * p[1]
    >>> right = lambda p: 2 * p + p[::-1]
    >>> wrong = lambda p: 2 * p                     # forgot the cross term
    >>> x = np.array([1.0, 2.0])
    >>> check_gradient(f, right, x).ok, check_gradient(f, wrong, x).ok
    (True, False)
    """
    check_callable(f)
    check_callable(grad, "grad")
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    atol = check_positive(atol, "atol", allow_zero=True)
    point = as_point(x)
    reference = gradient_estimate(f, x, vectorized=vectorized)
    expected = np.asarray(to_numpy(reference.value)).reshape(-1)
    given = to_numpy(grad(x)).reshape(-1)
    if given.shape != expected.shape:
        raise ValueError(f"grad(x) must have shape {point.shape} like x, got {given.size} values")
    difference = np.abs(given - expected)
    scale = np.maximum(np.abs(expected), np.max(np.abs(expected)))
    tolerance = atol + rtol * scale + 10 * np.asarray(reference.error).reshape(-1)
    relative = difference / np.maximum(np.abs(expected), np.finfo(float).tiny)
    return GradientCheck(
        max_abs_error=float(difference.max()),
        max_rel_error=float(relative.max()),
        ok=bool(np.all(difference <= tolerance)),
        worst_index=int(np.argmax(relative)),
    )
