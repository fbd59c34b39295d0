"""check_gradient: grade a student's hand-written gradient against the numeric one."""

from __future__ import annotations

import numpy as np

from .. import diff
from ._calling import StudentError, as_array, call_student
from .verdict import Verdict

# Mistakes recognized: name -> (explanation, the wrong gradient as a function of the true).
_VARIANTS = {
    "wrong sign": ("your gradient has the wrong sign everywhere (the direction of steepest "
                   "descent is -∇f; ∇f itself points uphill)", lambda g: -g),
    "factor 2": ("your gradient is twice the true one (a factor 2 too many, as when "
                 "d/dx x² is written 4x)", lambda g: 2.0 * g),
    "factor 1/2": ("your gradient is half the true one (a factor 2 missing, as when "
                   "d/dx x² is written x)", lambda g: 0.5 * g),
    "coordinates reversed": ("your gradient has the right partial derivatives in the "
                             "reverse order", lambda g: g[::-1]),
}


def check_gradient(f, student_grad, x, *, rtol: float = 1e-6, atol: float = 0.0) -> Verdict:
    """Grade ``student_grad(x)`` against the numeric gradient of ``f`` at ``x``.

    The numbers come from :func:`bayescalc.diff.check_gradient` (adaptive Richardson
    extrapolation, whose own error estimate widens the tolerance); this grader adds the
    verdict: the first coordinate that disagrees, the mistake when it is a common one
    (wrong sign, a factor 2 too many or missing, coordinates reversed), and a verdict,
    not a traceback, when the student's function raises or returns the wrong shape.

    Parameters
    ----------
    f : callable
        The scalar function, of a point of shape (d,).
    student_grad : callable
        The student's gradient: ``student_grad(x) -> array (d,)``.
    x : array_like, shape (d,)
        Where to compare.
    rtol, atol : float
        Tolerances (see :func:`bayescalc.diff.check_gradient`).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda p: p[0] ** 2 * p[1] + p[1] ** 3          # the notes' example
    >>> right = lambda p: np.array([2 * p[0] * p[1], p[0] ** 2 + 3 * p[1] ** 2])
    >>> check_gradient(f, right, [1.0, 2.0]).ok
    True
    >>> wrong = lambda p: np.array([2 * p[0] * p[1], 3 * p[1] ** 2])   # forgot x²
    >>> verdict = check_gradient(f, wrong, [1.0, 2.0])
    >>> verdict.ok, verdict.where
    (False, 'coordinate 1 of the gradient')
    """
    if not callable(student_grad):
        raise TypeError(f"student_grad must be callable, got {type(student_grad).__name__}")
    point = np.atleast_1d(np.asarray(x, dtype=float))
    try:
        given = call_student(student_grad, point.copy(), name="your gradient")
        given = as_array(given, shape=point.shape, what="the gradient it returned")
    except StudentError as error:
        return Verdict(ok=False, message=f"at x = {point.tolist()}: {error}.",
                       where=f"x = {point.tolist()}", n_cases=1)
    check = diff.check_gradient(f, lambda p: given, point, rtol=rtol, atol=atol)
    reference = diff.gradient_estimate(f, point)
    expected = np.asarray(reference.value, dtype=float).reshape(-1)
    if check.ok:
        return Verdict(ok=True, n_cases=1,
                       message=f"correct: your gradient matches the numeric one at x = "
                               f"{point.tolist()} (largest relative difference "
                               f"{check.max_rel_error:.1e}).")
    scale = np.maximum(np.abs(expected), np.max(np.abs(expected)))
    tolerance = atol + rtol * scale + 10 * np.asarray(reference.error).reshape(-1)
    wrong = np.flatnonzero(np.abs(given - expected) > tolerance)
    first = int(wrong[0]) if wrong.size else int(check.worst_index)
    diagnosis, explanation = None, "check the partial derivative of that coordinate"
    for name, (text, variant) in _VARIANTS.items():
        if np.allclose(given, variant(expected), rtol=max(rtol, 1e-6), atol=1e-9):
            diagnosis, explanation = name, text
            break
    where = f"coordinate {first} of the gradient"
    return Verdict(
        ok=False, where=where, expected=float(expected[first]), got=float(given[first]),
        diagnosis=diagnosis, n_cases=1,
        message=f"at x = {point.tolist()}, {where}: expected ∂f/∂x_{first} = "
                f"{expected[first]:.10g}, got {given[first]:.10g}. "
                f"{explanation[0].upper()}{explanation[1:]}.")
