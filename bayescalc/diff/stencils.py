"""Finite-difference weights on arbitrary nodes (Fornberg's algorithm).

For nodes :math:`t_0, \\dots, t_{N-1}` around a point :math:`x`, the weights
:math:`w_i` of the n-th derivative make :math:`\\sum_i w_i f(x + t_i)` exact for every
polynomial of degree < N; the error is then :math:`O(h^{N-n})` (one order more for a
symmetric stencil whose parity matches n).

Reference: B. Fornberg, "Generation of finite difference formulas on arbitrarily spaced
grids", Math. Comp. 51 (1988) 699-706 (the recursion below is his Table 3 algorithm).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def fornberg_weights(nodes, n: int) -> np.ndarray:
    """Weights of the ``n``-th derivative at 0 on ``nodes`` (offsets from the point).

    Parameters
    ----------
    nodes : array_like, shape (N,)
        Distinct offsets :math:`t_i`; N must exceed ``n``.
    n : int
        Derivative order, >= 0.

    Returns
    -------
    ndarray, shape (N,)
        :math:`w` with :math:`f^{(n)}(x) \\approx \\sum_i w_i f(x + t_i)`.

    Examples
    --------
    >>> fornberg_weights([-1.0, 0.0, 1.0], 1)      # the central difference
    array([-0.5,  0. ,  0.5])
    >>> fornberg_weights([-1.0, 0.0, 1.0], 2)      # the second difference
    array([ 1., -2.,  1.])
    """
    nodes = np.asarray(nodes, dtype=np.float64)
    count = nodes.size
    if count <= n:
        raise ValueError(f"need more than n = {n} nodes, got {count}")
    # c[i, k]: weight of node i for the k-th derivative, built node by node.
    c = np.zeros((count, n + 1))
    c[0, 0] = 1.0
    c1 = 1.0
    for i in range(1, count):
        c2 = 1.0
        for j in range(i):
            c3 = nodes[i] - nodes[j]
            c2 *= c3
            for k in range(min(i, n), -1, -1):
                previous = c[i - 1, k - 1] if k > 0 else 0.0
                c[i, k] = c1 * (k * previous - nodes[i - 1] * c[i - 1, k]) / c2
            for k in range(min(i, n), -1, -1):
                previous = c[j, k - 1] if k > 0 else 0.0
                c[j, k] = (nodes[i] * c[j, k] - k * previous) / c3
        c1 = c2
    return c[:, n]


@lru_cache(maxsize=64)
def basic_stencil(kind: str, n: int, accuracy: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Integer nodes and weights of a classical stencil (step 1).

    ``kind`` is "forward" (nodes 0..N-1), "backward" (0..-(N-1)) or "central"
    (symmetric); ``accuracy`` is the order p of the truncation error :math:`O(h^p)`
    (even for "central").

    Examples
    --------
    >>> basic_stencil("forward", 1, 1)
    ((0.0, 1.0), (-1.0, 1.0))
    >>> basic_stencil("central", 1, 2)
    ((-1.0, 0.0, 1.0), (-0.5, 0.0, 0.5))
    """
    if kind == "central":
        half = (n + 1) // 2 + accuracy // 2 - 1
        nodes = np.arange(-half, half + 1, dtype=np.float64)
    else:
        count = n + accuracy
        nodes = np.arange(count, dtype=np.float64) * (1.0 if kind == "forward" else -1.0)
    weights = fornberg_weights(nodes, n)
    weights[np.abs(weights) < 1e-14 * np.abs(weights).max()] = 0.0
    return tuple(nodes.tolist()), tuple(weights.tolist())


@lru_cache(maxsize=64)
def geometric_window(n: int, levels: int, ratio: float, side: int):
    """Weights on the geometric nodes of one Richardson window (largest step 1).

    The nodes are 0 and :math:`\\pm r^{-j}`, :math:`j = 0, \\dots,` ``levels`` - 1
    (``side`` = 0: both signs; +1 or -1: one side only). Returns ``(offsets, high,
    low)``: the offsets of the non-zero nodes, in level order (plus before minus), and two
    weight vectors over ``[0, *offsets]``: ``high`` uses every node (the extrapolated
    estimate), ``low`` omits the largest level (one order less; the difference of the two
    is the truncation-error estimate). Equivalent to a Richardson tableau in h (one-sided)
    or h^2 (central) on steps :math:`h, h/r, h/r^2, \\dots`.

    Examples
    --------
    >>> offsets, high, low = geometric_window(1, 2, 2.0, 0)
    >>> offsets
    (1.0, -1.0, 0.5, -0.5)
    >>> [round(w, 4) for w in high]
    [0.0, -0.1667, 0.1667, 1.3333, -1.3333]
    """
    steps = ratio ** -np.arange(levels, dtype=np.float64)
    signs = (1.0, -1.0) if side == 0 else (float(side),)
    offsets = np.array([sign * s for s in steps for sign in signs])
    nodes = np.concatenate([[0.0], offsets])
    high = fornberg_weights(nodes, n)
    per_level = len(signs)
    low = np.zeros_like(high)
    keep = np.concatenate([[0], np.arange(1 + per_level, nodes.size)])
    if keep.size > n:
        low[keep] = fornberg_weights(nodes[keep], n)
    for weights in (high, low):
        weights[np.abs(weights) < 1e-13 * np.abs(weights).max()] = 0.0
    return tuple(offsets.tolist()), tuple(high.tolist()), tuple(low.tolist())


@lru_cache(maxsize=64)
def window_checks(n: int, levels: int, ratio: float):
    r"""Weights of the regime and noise checks on a central window (largest step 1).

    Over the nodes ``[0, *offsets]`` of :func:`geometric_window` (side 0), returns
    ``(sequence, noise)``:

    - ``sequence`` (J, N): the n-th derivative from the fewest consecutive levels that
      determine it, one row per position j of that sub-window (largest step first). In
      the asymptotic regime these low-order estimates E_j converge like
      :math:`E_j - E_{j+1} \propto h_j^2`, so successive differences shrink by
      :math:`r^2`; where they do not, the steps do not resolve f.
    - ``noise`` (C, N): highest-order differences of the window (all nodes, and all
      nodes but one, for each node), each scaled to unit 2-norm. For smooth f at small
      steps they are tiny; on values that carry noise of size delta they are about
      delta: the difference table measures the noise.

    Examples
    --------
    >>> sequence, noise = window_checks(1, 5, 2.0)
    >>> sequence.shape, noise.shape
    ((5, 11), (12, 11))
    """
    offsets = np.asarray(geometric_window(n, levels, ratio, 0)[0])
    nodes = np.concatenate([[0.0], offsets])
    count = nodes.size
    width = next(m for m in range(1, levels + 1) if 2 * m + 1 > n)
    rows = []
    for j in range(levels - width + 1):
        keep = np.concatenate([[0], 1 + np.arange(2 * j, 2 * (j + width))])
        row = np.zeros(count)
        row[keep] = fornberg_weights(nodes[keep], n)
        rows.append(row)
    sequence = np.array(rows)
    noise = []
    # The full window's highest difference, and the ones without each single node:
    # unit-norm rows that weigh different nodes most, so that their largest is a stable
    # measure of the noise (rows dominated by the same nodes would be one sample).
    for drop in [()] + [(i,) for i in range(count)]:
        keep = np.array([i for i in range(count) if i not in drop])
        row = np.zeros(count)
        row[keep] = fornberg_weights(nodes[keep] / np.max(np.abs(nodes[keep])), keep.size - 1)
        noise.append(row / np.linalg.norm(row))
    return sequence, np.array(noise)
