"""Input validation shared by the diff verbs (the algorithm bodies stay readable)."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import is_tensor, to_numpy
from .._core.validation import as_point as _as_point
from .._core.validation import check_callable, check_choice, check_int, check_positive

METHODS = ("auto", "forward", "backward", "central", "richardson", "complex", "autodiff")
NUMERIC = ("forward", "backward", "central", "richardson", "complex")


def check_method(method, *, allowed=METHODS):
    return check_choice(method, "method", allowed)


def check_step(step):
    """None, or a finite step > 0 (scalar or one per coordinate)."""
    if step is None:
        return None
    array = np.asarray(to_numpy(step) if is_tensor(step) else step)
    if array.dtype.kind not in "iuf" or array.dtype == bool:
        raise TypeError(f"step must be a positive number, got {type(step).__name__}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"step must be finite and > 0, got {step}")
    return float(array) if array.ndim == 0 else array


def check_numeric(x, name="x"):
    """Reject what numpy would silently convert to a number: a string, bytes, objects.

    ``np.asarray("1.0", dtype=float)`` is 1.0, so without this check
    ``derivative(np.sin, "1.0")`` would run. Numbers, bool-free real arrays and real
    tensors pass.
    """
    if is_tensor(x):
        if x.is_complex() or not (x.is_floating_point() or "int" in str(x.dtype)):
            raise TypeError(f"{name} must be a real number or array, got a {x.dtype} tensor")
        return
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a number or an array of numbers, got "
                        f"{type(x).__name__} {x!r}")
    kind = np.asarray(x).dtype.kind if not isinstance(x, (int, float)) else "f"
    if kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of real numbers, got "
                        f"{type(x).__name__} of dtype kind {kind!r}")


def as_point(x, name="x"):
    """A point for a function of d variables (shape () or (d,)), type-checked first."""
    check_numeric(x, name)
    return _as_point(x, name)


def as_scalar_or_points(x, name="x"):
    """x for a scalar function: a finite scalar or an array of points (any shape)."""
    check_numeric(x, name)
    try:
        point = to_numpy(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a number or an array, got {type(x).__name__}") from error
    if point.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(point)):
        raise ValueError(f"{name} must be finite, got {point}")
    return point


__all__ = ["METHODS", "NUMERIC", "check_method", "check_step", "as_scalar_or_points",
           "as_point", "check_numeric", "check_callable", "check_int", "check_positive"]


FIRST_ORDER = ("richardson", "central", "forward", "backward", "complex")
SECOND_ORDER = ("richardson", "central", "forward", "backward")


def estimate_iv(f, x, method, step, rtol, *, allowed):
    """The numeric engines' input validation: ``(method, step, rtol, point)``.

    ``point`` is x as a flat float64 vector (d,); ``allowed`` the methods the engine
    has (:data:`FIRST_ORDER` or :data:`SECOND_ORDER`).
    """
    check_callable(f)
    method = check_method(method, allowed=allowed)
    step = check_step(step)
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    return method, step, rtol, as_point(x).reshape(-1)
