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
        n_bins = self.n_bins
        index = np.minimum((y * n_bins).astype(np.intp), n_bins - 1)
        flat = (index + n_bins * np.arange(self.d)).ravel()
        weights = np.ones(values.size) if weights is None else np.asarray(weights, float)
        squared = np.repeat(weights * values**2, self.d)
        size = self.d * n_bins
        self._sum += np.bincount(flat, weights=squared, minlength=size).reshape(self.d, n_bins)
        self._count += np.bincount(flat, weights=np.repeat(weights, self.d),
                                   minlength=size).reshape(self.d, n_bins)

    def adapt(self, alpha: float = 0.5) -> None:
        """Move the grid so each bin holds an equal share of the damped training data.

        Per axis: the mean of ``(f J)^2`` in each bin, smoothed with weights
        (1, 6, 1)/8 over neighbours and normalized to sum 1 (``d_i``), damped as
        ``((d_i - 1) / ln d_i)^alpha`` (Lepage 1978, eq. 10), then new edges placed where
        the cumulative damped weight crosses ``k / N``. ``alpha = 0`` freezes the map.
        The training data are cleared.
        """
        if alpha > 0:
            for axis in range(self.d):
                weight = self._damped_weights(axis, alpha)
                if weight is not None:
                    self.grid[axis] = _equal_share_edges(self.grid[axis], weight)
        self._sum[:] = 0.0
        self._count[:] = 0.0

    def _damped_weights(self, axis, alpha):
        count = self._count[axis]
        mean = np.divide(self._sum[axis], count, out=np.zeros_like(count), where=count > 0)
        smooth = np.empty_like(mean)
        if mean.size == 1:
            return None
        smooth[0] = (7 * mean[0] + mean[1]) / 8
        smooth[-1] = (7 * mean[-1] + mean[-2]) / 8
        smooth[1:-1] = (mean[:-2] + 6 * mean[1:-1] + mean[2:]) / 8
        total = smooth.sum()
        if not np.isfinite(total) or total <= 0:
            return None
        share = smooth / total
        damped = np.zeros_like(share)
        positive = share > 0
        ratio = share[positive]
        # (d - 1)/ln d -> 1 as d -> 1; d < 1 always here, the limit is safe to skip
        damped[positive] = ((ratio - 1) / np.log(ratio)) ** alpha
        damped[share >= 1] = 1.0
        return damped


def _equal_share_edges(edges: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """New edges so each new bin holds ``sum(weight) / N`` (weight spread evenly per bin)."""
    cumulative = np.concatenate([[0.0], np.cumsum(weight)])
    targets = cumulative[-1] * np.arange(1, weight.size) / weight.size
    new_edges = np.interp(targets, cumulative, edges)
    return np.concatenate([[0.0], new_edges, [1.0]])


def map_points(grid: np.ndarray, y: np.ndarray):
    """``x(y)`` and its Jacobian for the map with bin edges ``grid`` (d, N + 1)."""
    n_bins = grid.shape[1] - 1
    scaled = y * n_bins
    index = np.minimum(scaled.astype(np.intp), n_bins - 1)
    axis = np.arange(grid.shape[0])
    left = grid[axis, index]
    width = grid[axis, index + 1] - left
    x = left + width * (scaled - index)
    return x, np.prod(n_bins * width, axis=1)
