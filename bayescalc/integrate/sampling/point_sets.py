"""Point sets on the unit cube for Monte Carlo integration, cut into seeded batches.

Four designs, each with an honest standard error:

- ``"mc"``: independent uniform points; error from their sample variance.
- ``"antithetic"``: pairs ``(u, 1 - u)`` (Hammersley & Morton 1956); error from the
  variance of the pair means. Reduces the variance of integrands monotone in each axis.
- ``"stratified"``: the cube cut into ``K`` equal cells (a grid, as even as the budget
  allows) with ``p >= 2`` uniform points in each; error from the within-cell variances
  (Owen, *Monte Carlo theory, methods and examples*, 2013, ch. 8.4).
- ``"qmc"`` / ``"halton"``: ``R`` independently scrambled Sobol' (Owen 1995 nested
  uniform scrambling as done by scipy) or Halton point sets; error from the spread of
  the ``R`` replicate means (L'Ecuyer & Lemieux 2002, "Recent advances in randomized
  quasi-Monte Carlo methods").

Every batch carries its own random stream spawned from the seed
(``numpy.random.SeedSequence.spawn``), and the cut into batches depends only on ``n``,
the design and ``batch_size``: the points are the same however many workers evaluate
them. Replicated QMC points do not even depend on ``batch_size`` (a batch is a slice of
one replicate's sequence, reached with ``fast_forward``).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy.stats import qmc

from ..._core.random import spawn_seeds

DESIGNS = ("mc", "antithetic", "stratified", "qmc", "halton")
#: Fewest scrambled Sobol' replicates of the default RQMC layout (scipy's qmc_quad's 8).
MIN_REPLICATES = 8


class Batch(NamedTuple):
    """One piece of work: ``count`` points of ``group`` (replicate), from ``start``."""

    seed: np.random.SeedSequence
    count: int
    group: int = 0
    start: int = 0


class Plan(NamedTuple):
    """How ``n`` points of a design are laid out.

    ``n_used`` points are evaluated (a multiple of the design's unit: 2 for antithetic
    pairs, ``K * p`` for strata, ``R * m`` for replicates). ``n_groups`` is ``R`` for
    replicated QMC, ``K`` for strata and 1 otherwise; ``per_group`` the points in each
    group; ``cells`` the grid of strata per axis and ``counts`` the points in each cell
    (stratified designs; a stratified batch holds cells ``start .. start + group - 1``).
    """

    design: str
    d: int
    n_used: int
    n_groups: int
    per_group: int
    batches: tuple
    cells: tuple = ()
    counts: np.ndarray | None = None


def default_batch_size(n: int) -> int:
    """At most ~32 batches, none smaller than 128 points: cheap serially, splittable."""
    return max(128, -(-n // 32))


def plan(design: str, n: int, d: int, seed, *, batch_size: int | None = None,
         n_replicates: int | None = None, cells=None, counts=None) -> Plan:
    """Lay out ``n`` points of ``design`` in ``d`` dimensions as seeded batches.

    Examples
    --------
    >>> p = plan("qmc", 100_000, 3, seed=0)
    >>> p.n_groups, p.per_group, p.n_used          # 12 scrambled Sobol' sets of 2^13
    (12, 8192, 98304)
    >>> plan("antithetic", 1001, 2, seed=0).n_used
    1000
    """
    if design in ("qmc", "halton") and batch_size is None:
        batch_size = n  # one batch per replicate: one scrambled engine each
    batch_size = batch_size or default_batch_size(n)
    if design in ("mc", "antithetic"):
        unit = 2 if design == "antithetic" else 1
        n_used = n - n % unit
        size = max(unit, batch_size - batch_size % unit)
        counts = _split(n_used, size)
        seeds = spawn_seeds(seed, len(counts))
        batches = tuple(Batch(s, c) for s, c in zip(seeds, counts, strict=True))
        return Plan(design, d, n_used, 1, n_used, batches)
    if design == "stratified":
        # ``counts`` per cell (at least 2 each) may be given, e.g. allocated by VEGAS+
        cells = _strata_grid(n // 2, d) if cells is None else list(cells)
        n_cells = math.prod(cells)
        if counts is None:
            counts = np.full(n_cells, n // n_cells)
        counts = np.asarray(counts, dtype=np.intp)
        ends = np.cumsum(counts)
        # cut after the cell where the running count passes each multiple of batch_size
        cuts = np.unique(np.searchsorted(ends, np.arange(batch_size, ends[-1], batch_size)))
        bounds = np.concatenate([[0], cuts + 1, [n_cells]])
        bounds = np.unique(np.minimum(bounds, n_cells))
        seeds = spawn_seeds(seed, bounds.size - 1)
        batches = tuple(Batch(s, int(counts[a:b].sum()), int(b - a), int(a)) for s, a, b in
                        zip(seeds, bounds[:-1], bounds[1:], strict=True))
        return Plan(design, d, int(ends[-1]), n_cells, int(counts[0]), batches, tuple(cells),
                    counts)
    # replicated randomized QMC
    replicates, per_replicate = _replicate_layout(design, n, n_replicates)
    seeds = spawn_seeds(seed, replicates)
    batches = []
    for r, s in enumerate(seeds):
        start = 0
        for count in _split(per_replicate, batch_size):
            batches.append(Batch(s, count, r, start))
            start += count
    return Plan(design, d, replicates * per_replicate, replicates, per_replicate, tuple(batches))


def points(layout: Plan, batch: Batch) -> np.ndarray:
    """The ``(batch.count, d)`` points of one batch, in [0, 1)^d (deterministic).

    Antithetic points come as interleaved pairs (row 2i and 2i+1 are ``u`` and
    ``1 - u``); stratified points cell by cell, ``per_group`` in each.
    """
    d = layout.d
    if layout.design == "mc":
        return _generator(batch.seed).random((batch.count, d))
    if layout.design == "antithetic":
        u = _generator(batch.seed).random((batch.count // 2, d))
        return np.stack([u, 1.0 - u], axis=1).reshape(batch.count, d)
    if layout.design == "stratified":
        cells = np.asarray(layout.cells)
        index = np.arange(batch.start, batch.start + batch.group)
        corner = np.stack(np.unravel_index(index, layout.cells), axis=1)
        corner = np.repeat(corner, layout.counts[index], axis=0)
        u = _generator(batch.seed).random((batch.count, d))
        return (corner + u) / cells
    if layout.design == "qmc":
        engine = qmc.Sobol(d, scramble=True, rng=_generator(batch.seed))
    else:
        engine = qmc.Halton(d, scramble=True, rng=_generator(batch.seed))
    if batch.start:
        engine.fast_forward(batch.start)
    with warnings.catch_warnings():  # Sobol' balance warning for non-powers of two
        warnings.simplefilter("ignore", UserWarning)
        u = engine.random(batch.count)
    if layout.design == "qmc":
        u += _sobol_jitter(batch, d)
    return u


def _sobol_jitter(batch: Batch, d: int) -> np.ndarray:
    """Uniform noise within each point's 2^-30 cell.

    scipy's Sobol' points are multiples of 2^-30 (its ``bits=64`` cannot fast-forward),
    which biases every coordinate's mean by -2^-31: ~5e-10, visible to replicated RQMC
    at n ~ 1e6. Filling the cell uniformly removes the bias and keeps the net. The noise
    of point ``start + i`` is the same however the replicate is cut into batches
    (``PCG64.advance``).
    """
    bits = np.random.PCG64(batch.seed.generate_state(8)[4:])
    bits.advance(batch.start * d)
    return np.random.Generator(bits).random((batch.count, d)) * 2.0**-30


def _generator(seed: np.random.SeedSequence) -> np.random.Generator:
    # A fresh generator from the seed's state: scipy's engines spawn from the
    # SeedSequence they are given, which would change the points on a second call.
    return np.random.default_rng(seed.generate_state(4))


def _split(total: int, size: int) -> list[int]:
    full, rest = divmod(total, size)
    return [size] * full + ([rest] if rest else [])


def _strata_grid(max_cells: int, d: int) -> list[int]:
    """Cells per axis, as equal as possible, with at most ``max_cells`` cells in all."""
    max_cells = max(1, max_cells)
    base = max(1, int(math.floor(max_cells ** (1.0 / d) + 1e-9)))
    cells = [base] * d
    for axis in range(d):  # grow the first axes by one while the budget allows
        if math.prod(cells) // base * (base + 1) <= max_cells:
            cells[axis] = base + 1
    return cells


def _replicate_layout(design: str, n: int, n_replicates: int | None):
    if n_replicates is not None:
        return n_replicates, max(1, n // n_replicates)
    if design == "qmc":
        # Sobol' sets of 2^m points keep their balance. The variance of a scrambled Sobol'
        # mean falls like m^-3 for smooth f, so at a fixed budget the fewest, largest sets
        # win: the largest 2^m leaving at least MIN_REPLICATES of them (8 to 15 sets, as
        # many as fit); the t quantile of their few degrees of freedom is in the error
        # (``monte_carlo``). Measured in bench/montecarlo.py against scipy's qmc_quad.
        per_replicate = 2 ** int(math.floor(math.log2(max(1, n // MIN_REPLICATES))))
        return max(2, n // per_replicate), per_replicate
    replicates = max(2, min(16, n // 2))
    return replicates, n // replicates
