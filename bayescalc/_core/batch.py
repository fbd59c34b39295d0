"""Evaluate a user callable on a batch of points, with one batch convention.

Integrands and log densities are vectorized like scipy's: they receive points of shape
``(n, d)`` (or ``(n,)`` in 1-D) and return shape ``(n,)``. A scalar-only callable is
detected on the first call and wrapped in a Python loop (the slow path); so is a
callable that works on torch tensors only.
"""

from __future__ import annotations

import numpy as np

from .arraykind import to_numpy

_VECTOR_NUMPY, _VECTOR_TORCH, _LOOP_NUMPY, _LOOP_TORCH = (
    "vectorized numpy", "vectorized torch", "loop numpy", "loop torch",
)


class BatchFunction:
    """``f`` as a function of a batch of points returning a float64 ``(n,)`` array.

    Parameters
    ----------
    f : callable
        The user's function.
    vectorized : bool or None
        True: f takes a batch. False: f takes one point. None: detect on the first call.

    Attributes
    ----------
    n_evals : int
        Number of points at which f has been evaluated (the cost every result reports).
    mode : str or None
        How f is called, once known ("vectorized numpy", "loop torch", ...).

    Examples
    --------
    >>> import math
    >>> g = BatchFunction(math.sin)           # scalar-only: detected and looped
    >>> g(np.array([0.0, np.pi / 2]))
    array([0., 1.])
    >>> g.mode, g.n_evals
    ('loop numpy', 2)
    """

    def __init__(self, f, *, vectorized: bool | None = None):
        self.f = f
        self.n_evals = 0
        self.mode = None if vectorized is None else (_VECTOR_NUMPY if vectorized else _LOOP_NUMPY)
        self._detect = vectorized is None

    def __call__(self, points) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        n = points.shape[0]
        if n == 0:
            return np.empty(0)
        if self.mode == _VECTOR_NUMPY:  # the fast path
            values = _as_values(self.f(points), n)
        elif self.mode is None:
            values = self._first_call(points)
        else:
            values = self._call(self.mode, points)
        self.n_evals += n
        return values

    def _call(self, mode, points):
        n = points.shape[0]
        tensors = mode in (_VECTOR_TORCH, _LOOP_TORCH)
        if mode in (_VECTOR_NUMPY, _VECTOR_TORCH):
            return _as_values(self.f(as_argument(points, tensors=tensors)), n)
        return np.array([float(to_numpy(self.f(as_argument(p, tensors=tensors, one=True))))
                         for p in points], dtype=np.float64)

    def _first_call(self, points):
        n = points.shape[0]

        def confirmed(mode, values):
            # With n == d a per-point f can look vectorized: confirm on n + 1 points.
            if points.ndim == 2 and points.shape[1] == n:
                try:
                    longer = self._call(mode, np.concatenate([points, points[:1]]))
                except Exception:  # noqa: BLE001
                    return False
                return bool(np.allclose(longer[:n], values, equal_nan=True))
            return True

        try:
            self.mode, values = first_working(lambda mode: self._call(mode, points),
                                              (_VECTOR_NUMPY, _VECTOR_TORCH), confirmed)
            return values
        except NoWorkingMode as batch_failure:
            first_error = batch_failure.errors[0] if batch_failure.errors else None
        try:
            self.mode, values = first_working(lambda mode: self._call(mode, points),
                                              (_LOOP_NUMPY, _LOOP_TORCH))
            return values
        except NoWorkingMode as loop_failure:
            single_point_errors = loop_failure.errors
        # When f raises the same error however it is called, that is f's own error (a bug
        # or a domain error): surface it with its type and traceback, saying what was tried.
        error = single_point_errors[0]
        same = first_error is not None and all(
            type(e) is type(error) and str(e) == str(error)
            for e in [first_error, *single_point_errors])
        if same and hasattr(error, "add_note"):  # add_note: Python >= 3.11
            error.add_note(f"bayescalc: f also failed on a batch of points of shape "
                           f"{points.shape} (as numpy and as torch); above is its error "
                           f"for the single point {points[0]}")
            raise error
        raise TypeError(
            "could not evaluate f on a batch of points of shape "
            f"{points.shape} nor one point at a time: {first_error!r}"
        ) from first_error


class NoWorkingMode(Exception):
    """No way of calling f worked; ``errors`` are the failures, in the order tried."""

    def __init__(self, errors):
        super().__init__(f"f failed in every calling mode tried: {errors[:1]!r}")
        self.errors = errors


def first_working(attempt, modes, accept=None, catch=(Exception,)):
    """``(mode, value)`` of the first mode in which ``attempt(mode)`` succeeds (and that
    ``accept(mode, value)`` confirms): the library's one detection of how to call a
    user's f (numpy or torch, a batch or one point). Raises :class:`NoWorkingMode` with
    every failure when none works; exceptions outside ``catch`` propagate at once.

    Examples
    --------
    >>> import math
    >>> first_working(lambda mode: math.sqrt(4.0) if mode == "float" else 1 / 0,
    ...               ("array", "float"))
    ('float', 2.0)
    """
    errors = []
    for mode in modes:
        try:
            value = attempt(mode)
        except catch as error:
            errors.append(error)
            continue
        if accept is None or accept(mode, value):
            return mode, value
    raise NoWorkingMode(errors)


def _as_values(values, n):
    """What f returned, as a float64 array of shape (n,)."""
    if type(values) is np.ndarray and values.dtype == np.float64 and values.shape == (n,):
        return values  # already so (the common case): no conversion
    values = to_numpy(values)
    if values.shape != (n,):
        values = _squeeze_column(values, n)
    return values


def _squeeze_column(values, n):
    if values.shape == (n, 1):
        return values[:, 0]
    raise ValueError(f"f must return shape ({n},) for {n} points, got shape {values.shape}")


def as_argument(points, *, tensors: bool = False, device=None, one: bool = False):
    """float64 numpy ``points`` as the user's f takes them: the one conversion.

    ``tensors``: a float64 torch tensor (on ``device``; on the CPU it shares memory with
    ``points``), else numpy. ``one``: ``points`` is a single point, and a scalar point
    goes to a numpy f as a Python float (a ``math``-module f needs one).

    Examples
    --------
    >>> as_argument(np.array(2.0), one=True)
    2.0
    >>> as_argument(np.array([[1.0, 2.0]]), tensors=True)
    tensor([[1., 2.]], dtype=torch.float64)
    """
    if tensors:
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(points))
        return tensor if device is None else tensor.to(device)
    if one and np.ndim(points) == 0:
        return float(points)
    return points

