"""Input validation at the boundary: clear ValueError/TypeError naming the argument.

Estimators call these in a small ``_<name>_iv`` function of their own, so that the
algorithm body reads as the algorithm (the scipy ``_tanhsinh_iv`` pattern).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .arraykind import to_numpy


def check_callable(f, name: str = "f"):
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    return f


def check_positive(value, name: str, *, allow_zero: bool = False, allow_none: bool = False):
    """A finite real number > 0 (>= 0 with ``allow_zero``); returns it as float."""
    if value is None and allow_none:
        return None
    if type(value) is not float:  # (a float needs no type checks: the common case, fast)
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating)):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def check_int(value, name: str, *, minimum: int | None = None, allow_none: bool = False):
    """An integer (numpy ints accepted, bools and floats refused) >= ``minimum``."""
    if value is None and allow_none:
        return None
    if type(value) is not int:  # (an int needs no type checks: the common case, fast)
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_tolerances(rtol, atol):
    """``rtol, atol`` as floats >= 0, not both 0 (an unreachable request)."""
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    atol = check_positive(atol, "atol", allow_zero=True)
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol cannot both be 0")
    return rtol, atol


def check_bool(value, name: str) -> bool:
    """A flag: True or False (numpy bools accepted), not a truthy stand-in."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices):
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def as_point(x, name: str = "x") -> np.ndarray:
    """A point: a finite scalar or 1-D float64 array (shape () or (d,), d >= 1)."""
    try:
        point = to_numpy(x)
    except (TypeError, ValueError) as error:
        kind = type(x).__name__
        raise TypeError(f"{name} must be a number or a 1-D array, got {kind}") from error
    if point.ndim > 1:
        raise ValueError(f"{name} must be a scalar or have shape (d,), got shape {point.shape}")
    if point.ndim == 1 and point.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(point)):
        raise ValueError(f"{name} must be finite, got {point}")
    return point


def as_bounds(lower, upper, *, names=("lower", "upper"), allow_infinite: bool = True,
              strict: bool = True):
    """Box bounds as two float64 arrays of shape (d,).

    Raises ValueError for mismatched shapes, NaN, infinite bounds where not allowed, or
    ``lower >= upper`` (``lower > upper`` when ``strict`` is False).
    """
    low, high = np.atleast_1d(to_numpy(lower)), np.atleast_1d(to_numpy(upper))
    if low.ndim != 1 or high.ndim != 1 or low.shape != high.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must be 1-D with the same shape, "
            f"got {low.shape} and {high.shape}"
        )
    if low.size == 0:
        raise ValueError(f"{names[0]} and {names[1]} must not be empty")
    if np.isnan(low).any() or np.isnan(high).any():
        raise ValueError(f"{names[0]} and {names[1]} must not contain NaN")
    if not allow_infinite and not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"{names[0]} and {names[1]} must be finite")
    bad = low >= high if strict else low > high
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        relation = ">=" if strict else ">"
        raise ValueError(
            f"{names[0]}[{i}] = {low[i]} {relation} {names[1]}[{i}] = {high[i]}: "
            f"each {names[0]} must be below its {names[1]}"
        )
    return low, high


def check_finite_values(values, points, *, what: str = "f", name: str = "x"):
    """Raise ValueError naming the first point where ``values`` is NaN or ±inf.

    ``values`` has shape (n,) or (n, ...) for points of shape (n, ...), or is a scalar
    for a single point.
    """
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    if values.ndim == 0:
        value, point = values[()], points
    else:
        i = int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0])
        value, point = values[i], np.asarray(points)[i]
    raise ValueError(f"{what} returned a non-finite value {value} at {name} = {point}")
