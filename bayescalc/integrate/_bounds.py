"""One convention for reversed bounds across the integrators.

``quad(f, b, a) = -quad(f, a, b)``; in d dimensions each reversed axis flips the sign
(the integral over the box with ``lower_j > upper_j`` is the oriented integral, as in
``scipy.integrate.nquad``). :func:`oriented_bounds` sorts every axis and returns the sign.
"""

from __future__ import annotations

import numpy as np

from .._core.arraykind import to_numpy
from .._core.validation import as_bounds


def oriented_bounds(lower, upper, *, log: bool = False, allow_infinite: bool = True):
    """``(low, high, sign, empty)``: sorted bounds, ``(-1)^(reversed axes)``, any axis empty.

    Raises ValueError for mismatched shapes, NaN, infinite bounds where not allowed, or a
    reversed box with ``log=True`` (the integral would be negative).

    Examples
    --------
    >>> low, high, sign, empty = oriented_bounds([1.0, 0.0], [0.0, 2.0])
    >>> low.tolist(), high.tolist(), sign, empty
    ([0.0, 0.0], [1.0, 2.0], -1.0, False)
    """
    low, high = np.atleast_1d(to_numpy(lower)), np.atleast_1d(to_numpy(upper))
    if low.shape == high.shape and low.ndim == 1:  # shapes and NaN are checked below
        flipped = low > high
        low, high = np.where(flipped, high, low), np.where(flipped, low, high)
    else:
        flipped = np.zeros(1, dtype=bool)
    low, high = as_bounds(low, high, allow_infinite=allow_infinite, strict=False)
    if flipped.any() and log:
        raise ValueError("with log=True every lower bound must be <= its upper bound "
                         "(a reversed box makes the integral negative)")
    sign = float((-1.0) ** int(flipped.sum()))
    return low.astype(float), high.astype(float), sign, bool(np.any(low == high))
