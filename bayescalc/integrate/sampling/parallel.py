"""Evaluate an integrand on batches of points: serially, on any Executor, or on Dask.

``executor=`` takes any object with ``submit(fn, *args)`` returning a future with
``result()`` and ``cancel()``: a ``concurrent.futures.ProcessPoolExecutor`` or
``ThreadPoolExecutor``, a Dask ``distributed.Client`` (or its ``get_executor()``), an
MPI pool. The points of every batch come from the batch's own spawned seed (see
:mod:`.point_sets`), the results are put back in batch order, and the estimate is reduced
in the calling process, so the answer is bit-for-bit the same for any number of
workers, and the same as the serial run.

A worker that raises stops the whole computation: the pending batches are cancelled and
the worker's exception is raised again in the caller (for a process pool its traceback
text is attached as ``__cause__``). At most ``window`` batches are in flight, so memory
stays bounded and nothing waits on work that will never be used.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..._core.arraykind import to_numpy
from ..._core.batch import BatchFunction


class Integrand:
    """``f`` on points of the unit cube, mapped to a box, as an ``(n, c)`` array.

    Picklable when ``f`` is (a module-level function), so it can travel to worker
    processes. Column 0 holds ``f`` (times the box volume), the next columns the control
    variates ``g_j`` (also times the volume), all evaluated at the same points.

    Parameters
    ----------
    f : callable
        Vectorized ``(n, d) -> (n,)`` (scalar-only callables are detected and looped).
    lower, width : numpy.ndarray, shape (d,)
        The box is ``lower + width * u`` for ``u`` in the unit cube.
    controls : sequence of callables
        Control-variate functions, vectorized like ``f``.
    device : str or torch.device, optional
        When given, ``f`` receives a float64 torch tensor on this device.
    log : bool
        ``f`` returns log values: the log volume is added instead of multiplied.
    squeeze : bool
        Pass points of shape ``(n,)`` to one-dimensional integrands.

    Examples
    --------
    >>> import numpy as np
    >>> g = Integrand(lambda x: x.sum(axis=1), np.zeros(2), np.full(2, 2.0))
    >>> g(np.array([[0.5, 0.5]]))                 # f(1, 1) * volume 4
    array([[8.]])
    """

    def __init__(self, f, lower, width, *, controls=(), device=None, log=False, squeeze=False):
        functions = [f, *controls]
        self.functions = functions if device is not None else [BatchFunction(g) for g in functions]
        self.lower, self.width = lower, width
        self.device, self.log, self.squeeze = device, log, squeeze
        self.volume = float(np.prod(width))
        self.unit_box = bool(np.all(lower == 0) and np.all(width == 1))

    def to_x(self, unit_point):
        """The point of the box where ``unit_point`` of the unit cube lands."""
        return self.lower + self.width * unit_point

    def __call__(self, unit_points: np.ndarray) -> np.ndarray:
        x = unit_points if self.unit_box else self.lower + self.width * unit_points
        if self.squeeze:
            x = x[:, 0]
        columns = [self._evaluate(g, x) for g in self.functions]
        if len(columns) == 1 and not self.log:
            values = columns[0][:, None]
            return values * self.volume if self.volume != 1.0 else values
        values = np.stack(columns, axis=1)
        if self.log:
            values[:, 0] += np.log(self.volume)
            values[:, 1:] *= self.volume
            return values
        return values * self.volume

    def _evaluate(self, g, x):
        if self.device is None:
            return g(x)
        import torch

        values = to_numpy(g(torch.as_tensor(x, device=self.device)))
        if values.shape != (x.shape[0],):
            raise ValueError(f"f must return shape ({x.shape[0]},), got shape {values.shape}")
        return values


def map_batches(function, inputs, *, executor=None, window: int = 64) -> list:
    """``[function(a) for a in inputs]``, possibly on ``executor``, in input order.

    ``inputs`` may be a generator: at most ``window`` submitted calls are pending at a
    time. The first exception raised by a call cancels the pending calls and is raised.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     map_batches(abs, [-1, 2, -3], executor=pool)
    [1, 2, 3]
    """
    if executor is None:
        return [function(a) for a in inputs]
    results, pending = [], deque()
    try:
        for a in inputs:
            pending.append(executor.submit(function, a))
            if len(pending) >= window:
                results.append(pending.popleft().result())
        while pending:
            results.append(pending.popleft().result())
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    return results


def check_executor(executor):
    """``executor`` must have ``submit`` (a concurrent.futures.Executor, Dask Client, ...)."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            "executor must have a submit(fn, *args) method (a concurrent.futures.Executor "
            f"or a dask.distributed Client), got {type(executor).__name__}"
        )
    return executor
