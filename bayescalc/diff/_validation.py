"""Input validation shared by the diff verbs (the algorithm bodies stay readable)."""

from __future__ import annotations

import numpy as np

from .._core.arraykind import is_tensor, to_numpy
from .._core.validation import as_point, check_callable, check_choice, check_int, check_positive

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


def as_scalar_or_points(x, name="x"):
    """x for a scalar function: a finite scalar or an array of points (any shape)."""
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
           "as_point", "check_callable", "check_int", "check_positive"]
