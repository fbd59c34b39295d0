r"""Test functions with known stationary points (like ``scipy.optimize.rosen``).

- :func:`rosenbrock`: the banana valley :math:`\sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`,
  minimum 0 at :math:`(1, \dots, 1)`, with its gradient and Hessian.
- :func:`hills`: a 2-D surface with six minima, two maxima and seven saddles, every one
  known in closed form (:func:`hills_stationary_points`).
"""

from __future__ import annotations

import itertools

import numpy as np

#: The box of :func:`hills` holding all its stationary points: one (low, high) per coordinate.
HILLS_BOUNDS = ((-3.0, 2.5), (-1.5, 2.0))

_X_ROOTS = (-2.5, -1.5, 0.0, 1.0, 2.0)  # P'(x) = x(x + 2.5)(x + 1.5)(x - 1)(x - 2) / 2
_Y_ROOTS = (-1.0, 0.0, 1.5)  # Q'(y) = y(y + 1)(y - 1.5)


def _p(x):
    # P(x) = ∫ x(x + 2.5)(x + 1.5)(x - 1)(x - 2) / 2 dx, P(0) = 0 (Horner form)
    return x * x * (1.875 + x * (-13.0 / 24.0 + x * (-0.78125 + x * (0.1 + x / 12.0))))


def _q(y):
    # Q(y) = ∫ y(y + 1)(y - 1.5) dy = y⁴/4 - y³/6 - 3y²/4, Q(0) = 0
    return y * y * (-0.75 + y * (-1.0 / 6.0 + y / 4.0))


def hills(x):
    r"""The hills surface :math:`f(x, y) = P(x) + Q(y)` (numpy or torch, one point).

    :math:`P'(x) = \tfrac12 x(x+2.5)(x+1.5)(x-1)(x-2)` and :math:`Q'(y) = y(y+1)(y-1.5)`,
    so :math:`\nabla f = (P'(x), Q'(y))` vanishes exactly on the 5 × 3 grid of their
    roots, and the Hessian is ``diag(P''(x), Q''(y))``: minima where both are positive
    (6), maxima where both are negative (2), saddles elsewhere (7). The global minimum
    is at (2, 1.5), value -1.784375; the highest maximum at (-1.5, 0), value 2.281640625.

    Examples
    --------
    >>> round(float(hills([2.0, 1.5])), 6), round(float(hills([-1.5, 0.0])), 9)
    (-1.784375, 2.281640625)
    """
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
    return _p(x[0]) + _q(x[1])


def hills_stationary_points():
    """The 15 stationary points of :func:`hills`: a list of ``(point, kind)``, exact.

    Examples
    --------
    >>> from collections import Counter
    >>> sorted(Counter(kind for _, kind in hills_stationary_points()).items())
    [('maximum', 2), ('minimum', 6), ('saddle', 7)]
    """
    # The roots of P' alternate minimum/maximum from the right (P has a positive leading
    # coefficient): 2 min, 1 max, 0 min, -1.5 max, -2.5 min; those of Q': -1 min, 0 max, 1.5 min.
    x_kind = {-2.5: 1, -1.5: -1, 0.0: 1, 1.0: -1, 2.0: 1}
    y_kind = {-1.0: 1, 0.0: -1, 1.5: 1}
    points = []
    for x, y in itertools.product(_X_ROOTS, _Y_ROOTS):
        signs = {x_kind[x], y_kind[y]}
        kind = "saddle" if len(signs) == 2 else ("minimum" if signs == {1} else "maximum")
        points.append((np.array([x, y]), kind))
    return points


def rosenbrock(x):
    r"""Rosenbrock's function :math:`\sum_{i<d} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`.

    Examples
    --------
    >>> float(rosenbrock([1.0, 1.0])), round(float(rosenbrock([-1.2, 1.0])), 6)
    (0.0, 24.2)
    """
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum() + 0.0


def rosenbrock_gradient(x):
    """The gradient of :func:`rosenbrock` (numpy), shape ``(d,)``.

    Examples
    --------
    >>> rosenbrock_gradient([1.0, 1.0])
    array([0., 0.])
    """
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    inner = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * inner - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * inner
    return g


def rosenbrock_hessian(x):
    """The Hessian of :func:`rosenbrock` (numpy), shape ``(d, d)``.

    Examples
    --------
    >>> rosenbrock_hessian([1.0, 1.0])
    array([[ 802., -400.],
           [-400.,  200.]])
    """
    x = np.asarray(x, dtype=np.float64)
    d = x.size
    h = np.zeros((d, d))
    i = np.arange(d - 1)
    h[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    h[i + 1, i + 1] += 200.0
    h[i, i + 1] = h[i + 1, i] = -400.0 * x[:-1]
    return h


def hills_gradient(x):
    """The gradient of :func:`hills`, ``(P'(x), Q'(y))`` (numpy), shape ``(2,)``.

    Examples
    --------
    >>> hills_gradient([2.0, 1.5])
    array([0., 0.])
    """
    x, y = np.asarray(x, dtype=np.float64)
    return np.array([0.5 * x * (x + 2.5) * (x + 1.5) * (x - 1.0) * (x - 2.0),
                     y * (y + 1.0) * (y - 1.5)])


def hills_hessian(x):
    """The Hessian of :func:`hills`, ``diag(P''(x), Q''(y))`` (numpy), shape ``(2, 2)``.

    Examples
    --------
    >>> hills_hessian([2.0, 1.5])
    array([[15.75,  0.  ],
           [ 0.  ,  3.75]])
    """
    x, y = np.asarray(x, dtype=np.float64)
    # P' = ½ x(x+2.5)(x+1.5)(x-1)(x-2) and Q' = y(y+1)(y-1.5) from their roots; differentiate.
    p_second = 0.5 * np.polyval(np.polyder(np.poly(_X_ROOTS)), x)
    q_second = np.polyval(np.polyder(np.poly(_Y_ROOTS)), y)
    return np.diag([p_second, q_second])
