"""The second-derivative test: the kind of a stationary point from its Hessian eigenvalues."""

from __future__ import annotations

import numpy as np

from .._core.validation import as_point, check_callable, check_positive
from ._objective import Objective

KINDS = ("minimum", "maximum", "saddle", "degenerate")


def kind_from_eigenvalues(eigenvalues, *, tol: float = 1e-5) -> str:
    r"""The kind of a stationary point whose Hessian has ``eigenvalues``.

    An eigenvalue counts as zero when :math:`|\lambda| \le` ``tol`` ·
    max(1, max :math:`|\lambda_j|`). Eigenvalues of both signs: a saddle (f rises along one
    direction and falls along another, whatever the zero ones do). Otherwise a zero
    eigenvalue makes the test inconclusive: degenerate. All positive: a strict local
    minimum; all negative: a strict local maximum.

    Examples
    --------
    >>> kind_from_eigenvalues([2.0, 3.0]), kind_from_eigenvalues([-2.0, 3.0])
    ('minimum', 'saddle')
    >>> kind_from_eigenvalues([0.0, 3.0]), kind_from_eigenvalues([-1.0, -1e-9])
    ('degenerate', 'degenerate')
    """
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    threshold = tol * max(1.0, float(np.max(np.abs(eigenvalues), initial=0.0)))
    positive, negative = eigenvalues > threshold, eigenvalues < -threshold
    if positive.any() and negative.any():
        return "saddle"
    if positive.all():
        return "minimum"
    if negative.all():
        return "maximum"
    return "degenerate"


def classify(f, x, *, tol: float = 1e-5, gtol: float = 1e-5, grad=None, hess=None) -> str:
    r"""Classify the stationary point ``x`` of ``f``: minimum, maximum, saddle or degenerate.

    The second-derivative test: at a point with :math:`\nabla f(x) = 0`, the signs of
    the Hessian's eigenvalues decide (see :func:`kind_from_eigenvalues`):
    all > 0, a strict local minimum; all < 0, a strict local maximum; both signs, a
    saddle; a zero eigenvalue and no two signs, ``"degenerate"`` (the test is
    inconclusive, e.g. :math:`x^4` at 0, or the monkey saddle :math:`x^3 - 3xy^2`).

    Parameters
    ----------
    f : callable
        A function of one point (a float, or an array of shape ``(d,)``).
    x : float or array_like of shape (d,)
        The point, e.g. ``minimize(...).x`` or a :class:`CriticalPoint`'s ``x``.
    tol : float
        Relative tolerance below which an eigenvalue counts as zero: ``|λ| <= tol ·
        max(1, max|λ|)``. The Hessian is computed by :func:`bayescalc.diff.hessian`
        unless ``hess`` is given; keep ``tol`` above its error.
    gtol : float
        ``x`` must be stationary: ``|∇f(x)| <= gtol · max(1, max|λ|)``.
    grad, hess : callable, optional
        ``∇f`` and ``∇²f`` (default: :mod:`bayescalc.diff`).

    Returns
    -------
    str
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"``.

    Raises
    ------
    ValueError
        If ``x`` is not a stationary point of f (the test does not apply there).

    Examples
    --------
    >>> from bayescalc.optim import classify
    >>> classify(lambda x: x[0] ** 2 - x[1] ** 2, [0.0, 0.0])
    'saddle'
    >>> classify(lambda x: x**4, 0.0), classify(lambda x: -(x**2), 0.0)
    ('degenerate', 'maximum')
    """
    check_callable(f, "f")
    tol = check_positive(tol, "tol")
    gtol = check_positive(gtol, "gtol")
    z = np.atleast_1d(as_point(x, "x"))
    objective = Objective(f, x, grad=grad, hess=hess)
    eigenvalues = np.linalg.eigvalsh(objective.hess(z))
    grad_norm = float(np.linalg.norm(objective.grad(z)))
    scale = max(1.0, float(np.max(np.abs(eigenvalues))))
    if not grad_norm <= gtol * scale:
        raise ValueError(
            f"x = {z} is not a stationary point of f (|grad f| = {grad_norm:.3g}): the "
            "second-derivative test does not apply; find one with minimize or "
            "critical_points first"
        )
    return kind_from_eigenvalues(eigenvalues, tol=tol)
