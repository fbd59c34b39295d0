"""``laplace_map``: the centre and spread of an integrand, for adaptive Gauss–Hermite.

Adaptive Gauss–Hermite quadrature (AGHQ; Liu & Pierce 1994, Naylor & Smith 1982) puts
the nodes of a Gauss–Hermite rule where the integrand lives: at the mode ``m`` of
``log f``, scaled by ``Sigma = (-H)^-1``, ``H`` the Hessian of ``log f`` there (the
Laplace approximation). Then

    integral f = integral N(x; m, Sigma) [f(x) / N(x; m, Sigma)] dx,

and the bracket is smooth and nearly constant for a Gaussian-like f, so a low-order
Gauss–Hermite rule (:func:`~bayescalc.integrate.gauss_hermite_expectation`) resolves it.
The mode comes from the optim core (L-BFGS), the Hessian from the diff core.
"""

from __future__ import annotations

import numpy as np

from .._core.arraykind import to_numpy
from .._core.validation import check_callable


def laplace_map(log_f, x0):
    r"""Mode and Laplace covariance of :math:`f`, from its log.

    Parameters
    ----------
    log_f : callable
        Vectorized :math:`\log f`: points ``(n, d)`` -> ``(n,)``.
    x0 : array_like, shape (d,)
        Where the mode search starts.

    Returns
    -------
    mode : numpy.ndarray, shape (d,)
    cov : numpy.ndarray, shape (d, d)
        :math:`(-\nabla^2 \log f(\text{mode}))^{-1}`.

    Raises
    ------
    ValueError
        When the Hessian at the mode found is not negative definite (no Gaussian-like
        centre: the integrand is not log-concave there).

    Examples
    --------
    >>> import numpy as np
    >>> mode, cov = laplace_map(lambda x: -0.5 * np.sum((x - 1.0) ** 2 / [1.0, 4.0], axis=1),
    ...                         [0.0, 0.0])
    >>> np.round(mode, 4).tolist(), np.round(cov, 4).tolist()
    ([1.0, 1.0], [[1.0, 0.0], [0.0, 4.0]])
    """
    from ..diff import hessian
    from ..optim import minimize

    check_callable(log_f, "log_f")
    start = np.atleast_1d(to_numpy(x0)).astype(float)

    def negative(x):
        return -float(np.asarray(log_f(np.asarray(x, float)[None, :]))[0])

    found = minimize(negative, start, method="lbfgs", tol=1e-8, max_steps=500)
    mode = np.asarray(found.x, dtype=float)
    curvature = np.atleast_2d(np.asarray(hessian(negative, mode), dtype=float))
    curvature = 0.5 * (curvature + curvature.T)
    try:
        np.linalg.cholesky(curvature)
    except np.linalg.LinAlgError as error:
        raise ValueError("log f is not concave at the mode found: no Laplace map") from error
    return mode, np.linalg.inv(curvature)
