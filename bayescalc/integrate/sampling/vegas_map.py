r"""The VEGAS adaptive map: a product of piecewise-linear maps of the unit cube.

Lepage, "A new algorithm for adaptive multidimensional integration", J. Comput. Phys.
27 (1978) 192; the training rule follows the vegas package (Lepage, J. Comput. Phys. 439
(2021) 110386, sec. 2), which keeps the map separate from the integrator that uses it.

Each axis ``j`` has a grid ``0 = x_0 < x_1 < ... < x_N = 1``; ``y`` in [0, 1) falls in
bin ``i = floor(N y)`` and maps linearly into ``[x_i, x_{i+1})``:

.. math::

    x(y) = x_i + (x_{i+1} - x_i)(N y - i), \qquad J_j(y) = N (x_{i+1} - x_i).

Uniform ``y`` then gives ``x`` with density ``1 / prod_j J_j``: the map is an
importance-sampling proposal. Training moves the grid so that each bin carries the same
share of ``(f J)^2``; at the fixed point ``J`` is proportional to ``1/|f|`` along each
axis, the best separable proposal.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


class AdaptiveMap:
    """Per-axis piecewise-linear map of the unit cube, trained on ``(f J)^2``.

    Parameters
    ----------
    d : int
        Dimension.
    n_bins : int
        Bins per axis (the vegas package uses about ``n_eval / 10``, at most 1000).

    Attributes
    ----------
    grid : numpy.ndarray, shape (d, n_bins + 1)
        The bin edges per axis, from 0 to 1.

    Examples
    --------
    >>> import numpy as np
    >>> m = AdaptiveMap(1, n_bins=4)
    >>> x, jac = m.map(np.array([[0.1], [0.6]]))
    >>> x.ravel(), jac                                   # the identity to start with
    (array([0.1, 0.6]), array([1., 1.]))
    >>> y = np.random.default_rng(0).random((4000, 1))
    >>> for _ in range(10):                              # learn f(x) = 3 x^2
    ...     x, jac = m.map(y)
    ...     m.add_training_data(y, 3 * x[:, 0] ** 2 * jac)
    ...     m.adapt(alpha=0.5)
    >>> np.round(m.grid, 2)                             # edges where x^3 = i/4 (0.63, 0.79, 0.91)
    array([[0.  , 0.58, 0.77, 0.9 , 1.  ]])
    """

    def __init__(self, d: int, n_bins: int = 100):
        self.grid = np.tile(np.linspace(0.0, 1.0, n_bins + 1), (d, 1))
        self._sum = np.zeros((d, n_bins))
        self._count = np.zeros((d, n_bins))

    @property
    def d(self) -> int:
        return self.grid.shape[0]

    @property
    def n_bins(self) -> int:
        return self.grid.shape[1] - 1

    def map(self, y: np.ndarray):
        """``x(y)`` of shape ``(n, d)`` and the Jacobian ``prod_j J_j(y)`` of shape ``(n,)``."""
        return map_points(self.grid, y)

    def add_training_data(self, y: np.ndarray, values: np.ndarray, weights=None) -> None:
        """Accumulate ``values**2`` (``values = f(x(y)) J(y)``) in the bins of ``y``.

        ``weights`` (one per point) make the bin averages weighted ones: points drawn
        with unequal densities in ``y`` (VEGAS+ strata with unequal counts) are weighted
        by the inverse of their density, so each bin average still estimates the mean of
        ``(f J)^2`` over the bin.
        """
        self.add_binned_data(bins_of(y, self.n_bins), values, weights)

    def add_binned_data(self, bins: np.ndarray, values: np.ndarray, weights=None, *,
                        work=None) -> None:
        """:meth:`add_training_data` for points whose bins are known: ``bins`` of shape
        ``(n, d)``, the flat bin ``n_bins * axis + i`` of each point on each axis, as
        :func:`map_points` returns them with ``with_bins=True`` (one bin search for the
        map and the training); ``work``: that call's :class:`MapWork` (buffers)."""
        n_bins, d = self.n_bins, self.d
        n = values.shape[0]
        squared = values * values
        # point after point: each point's d bins side by side, its values repeated d times
        flat = bins.ravel()
        size = d * n_bins
        tiled = np.empty(n * d) if work is None else work.tiled(n, d)
        view = tiled.reshape(n, d)
        if weights is not None:
            weights = np.asarray(weights, dtype=float)
            view[...] = weights[:, None]
            self._count += np.bincount(flat, weights=tiled, minlength=size).reshape(d, n_bins)
            squared *= weights
        else:
            self._count += np.bincount(flat, minlength=size).reshape(d, n_bins)
        view[...] = squared[:, None]
        self._sum += np.bincount(flat, weights=tiled, minlength=size).reshape(d, n_bins)

    def adapt(self, alpha: float = 0.5) -> None:
        """Move the grid so each bin holds an equal share of the damped training data.

        Per axis: the mean of ``(f J)^2`` in each bin, smoothed with weights
        (1, 6, 1)/8 over neighbours and normalized to sum 1 (``d_i``), damped as
        ``((d_i - 1) / ln d_i)^alpha`` (Lepage 1978, eq. 10), then new edges placed where
        the cumulative damped weight crosses ``k / N``. ``alpha = 0`` freezes the map.
        The training data are cleared. All axes at once (no loop over axes).
        """
        if alpha > 0 and self.n_bins > 1:
            weight, valid = self._damped_weights(alpha)
            if valid.all():  # the usual case: no fancy indexing
                self.grid[...] = _equal_share_edges(self.grid, weight)
            elif valid.any():
                self.grid[valid] = _equal_share_edges(self.grid[valid], weight[valid])
        self._sum.fill(0.0)
        self._count.fill(0.0)

    def _damped_weights(self, alpha):
        """The damped bin weights ``(d, N)`` and which axes have usable data."""
        count = self._count
        mean = np.divide(self._sum, count, out=np.zeros_like(count), where=count > 0)
        # smoothing (1, 6, 1)/8 inside, (7, 1)/8 at the ends; the common 1/8 cancels in
        # the normalization below
        share = 6.0 * mean
        share[:, 1:] += mean[:, :-1]
        share[:, :-1] += mean[:, 1:]
        share[:, 0] += mean[:, 0]
        share[:, -1] += mean[:, -1]
        total = share.sum(axis=1)
        valid = np.isfinite(total) & (total > 0)
        share /= (total if valid.all() else np.where(valid, total, 1.0))[:, None]
        # (d - 1)/ln d -> 1 as d -> 1, 0 at d = 0; 0 <= d <= 1 here: d = 0 gives
        # (-1)/(-inf) = 0, and d = 1 (one bin holds everything) is moved below 1 (no 0/0)
        np.minimum(share, 1.0 - 2.0**-52, out=share)
        with np.errstate(divide="ignore"):
            log = np.log(share)
        share -= 1.0
        share /= log
        if alpha == 0.5:
            np.sqrt(share, out=share)
        else:
            share **= alpha
        return share, valid


def _equal_share_edges(edges: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """New edges ``(m, N + 1)`` so each new bin holds ``sum(weight) / N`` of its row
    (weight spread evenly per bin). One ``np.interp`` for all rows: each row's cumulative
    weight, normalized to [0, 1], is offset by 2 per row, so the rows form one increasing
    table and the targets of row ``j`` fall in its own stretch (measured faster than a
    call per row, and than ``searchsorted`` with the gathers it needs)."""
    m, n_bins = weight.shape
    cumulative = np.empty((m, n_bins + 1))
    cumulative[:, 0] = 0.0
    np.cumsum(weight, axis=1, out=cumulative[:, 1:])
    cumulative /= cumulative[:, -1:]
    offset, targets = _interp_rows(m, n_bins)
    cumulative += offset
    new = np.empty((m, n_bins + 1))
    new[:, 0], new[:, -1] = 0.0, 1.0
    new[:, 1:-1] = np.interp(targets, cumulative.ravel(),
                             edges.ravel()).reshape(m, n_bins - 1)
    return new


@lru_cache(maxsize=32)
def _interp_rows(m: int, n_bins: int):
    """The row offsets ``2 j`` and the flat targets ``k / N + 2 j`` of
    :func:`_equal_share_edges` (read-only)."""
    offset = 2.0 * np.arange(m)[:, None]
    targets = (np.arange(1, n_bins) / n_bins + offset).ravel()
    offset.flags.writeable = False
    targets.flags.writeable = False
    return offset, targets


def map_points(grid: np.ndarray, y: np.ndarray, tables=None, *, with_bins: bool = False,
               overwrite: bool = False, work=None):
    """``x(y)`` and its Jacobian for the map with bin edges ``grid`` (d, N + 1).

    The bin of ``y`` is ``floor(N y)`` (no search); the left edges and the widths are
    gathered with one flat ``take`` each from ``tables`` (:func:`map_tables` of the
    grid, made here when not given); the Jacobian is a product over the columns.
    ``with_bins``: also return the flat bins ``(n, d)`` (``N * axis + i``) for
    :meth:`AdaptiveMap.add_binned_data`; ``overwrite``: ``x`` is written over ``y``;
    ``work``: a :class:`MapWork` whose buffers hold the bins, the gathered edges and
    widths and the Jacobian (reused from iteration to iteration: fresh arrays of this
    size would cost a page fault per 4 kB, measured at a third of the map's time).
    """
    d, n_bins = grid.shape[0], grid.shape[1] - 1
    n = y.shape[0]
    left_edges, widths = map_tables(grid) if tables is None else tables
    if overwrite:
        scaled = y
        scaled *= n_bins
    else:
        scaled = y * n_bins
    if work is None:
        index = scaled.astype(np.intp)  # y >= 0: truncation is the floor
        left = width = jacobian = None
    else:
        index, left, width, jacobian = work.views(n, d)
        np.copyto(index, scaled, casting="unsafe")  # truncation is the floor
    np.minimum(index, n_bins - 1, out=index)
    scaled -= index
    index += _axis_offsets(d, n_bins)
    # mode="clip": with ``out``, the default "raise" buffers the whole gather (measured
    # 1.6x slower); the bins are in range already
    left = np.take(left_edges, index, out=left, mode="clip")
    width = np.take(widths, index, out=width, mode="clip")
    scaled *= width
    scaled += left
    jacobian = np.multiply(width[:, 0], float(n_bins) ** d, out=jacobian)
    for axis in range(1, d):  # a column product: ~5x faster than prod(axis=1)
        jacobian *= width[:, axis]
    if with_bins:
        return scaled, jacobian, index
    return scaled, jacobian


class MapWork:
    """Reusable buffers for :func:`map_points` (and the training's tiled values)."""

    def __init__(self):
        self._size = (0, 0)
        self._buffers = None

    def views(self, n, d):
        """``(bins, left, width, jacobian)`` of shapes ``(n, d)`` x 3 and ``(n,)``."""
        if self._buffers is None or self._size[0] < n or self._size[1] != d:
            self._size = (n, d)
            self._buffers = (np.empty((n, d), dtype=np.intp), np.empty((n, d)),
                             np.empty((n, d)), np.empty(n), np.empty(n * d))
        bins, left, width, jacobian, _ = self._buffers
        return bins[:n], left[:n], width[:n], jacobian[:n]

    def tiled(self, n, d):
        """A buffer of ``n * d`` floats (the training values repeated per axis)."""
        return self._buffers[4][:n * d]


def bins_of(y: np.ndarray, n_bins: int) -> np.ndarray:
    """The flat bins ``(n, d)`` of the points ``y`` (``n_bins * axis + floor(n_bins y)``)."""
    index = (y * n_bins).astype(np.intp)
    np.minimum(index, n_bins - 1, out=index)
    index += _axis_offsets(y.shape[1], n_bins)
    return index


@lru_cache(maxsize=32)
def _axis_offsets(d: int, n_bins: int) -> np.ndarray:
    offsets = n_bins * np.arange(d, dtype=np.intp)
    offsets.flags.writeable = False
    return offsets


def map_tables(grid: np.ndarray):
    """The flat left edges and widths of every bin, ``(d * N,)`` each, axis after axis."""
    return np.ascontiguousarray(grid[:, :-1]).ravel(), np.diff(grid, axis=1).ravel()
