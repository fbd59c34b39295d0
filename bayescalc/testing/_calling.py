"""Calling a student's function without letting it crash the grader."""

from __future__ import annotations

import traceback

import numpy as np


class StudentError(Exception):
    """The student's function raised, or returned something unusable; ``str`` says what."""


def call_student(function, *args, name: str = "your function"):
    """``function(*args)``, with any exception turned into a :class:`StudentError`."""
    try:
        return function(*args)
    except Exception as error:  # the student's code may raise anything
        frames = traceback.extract_tb(error.__traceback__)
        line = f" (line {frames[-1].lineno} of {frames[-1].filename})" if frames else ""
        raise StudentError(f"{name} raised {type(error).__name__}: {error}{line}") from error


def as_array(value, *, shape, what: str) -> np.ndarray:
    """``value`` as a float array of exactly ``shape``, else a :class:`StudentError`."""
    if hasattr(value, "detach"):                     # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise StudentError(f"{what} is {type(value).__name__}, not numbers ({error})") from None
    if array.shape != tuple(shape):
        if array.size == int(np.prod(shape)) and array.size > 0:
            array = array.reshape(shape)          # (1,) for a scalar, (d, 1) for (d,): fine
        else:
            expected = "one number" if tuple(shape) == () else f"shape {tuple(shape)}"
            raise StudentError(f"{what} has shape {array.shape}; expected {expected}")
    if not np.all(np.isfinite(array)):
        raise StudentError(f"{what} is not finite: {array}")
    return array


def close(got, expected, rtol: float, atol: float) -> np.ndarray:
    """Elementwise agreement within ``atol + rtol * |expected|``."""
    return np.abs(np.asarray(got) - np.asarray(expected)) <= atol + rtol * np.abs(expected)
