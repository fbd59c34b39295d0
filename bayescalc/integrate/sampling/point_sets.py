"""Point sets on the unit cube for Monte Carlo integration, cut into seeded batches.

Four designs, each with an honest standard error:

- ``"mc"``: independent uniform points; error from their sample variance.
- ``"antithetic"``: pairs ``(u, 1 - u)`` (Hammersley & Morton 1956); error from the
  variance of the pair means. Reduces the variance of integrands monotone in each axis.
- ``"stratified"``: the cube cut into ``K`` equal cells (a grid, as even as the budget
  allows) with ``p >= 2`` uniform points in each; error from the within-cell variances
  (Owen, *Monte Carlo theory, methods and examples*, 2013, ch. 8.4).
- ``"qmc"``: ``R`` randomized Sobol' nets, each with scipy's linear matrix scramble
  (LMS) and a random digital shift (as ``scipy.integrate.qmc_quad``); error from the
  spread of the ``R`` replicate means
  (L'Ecuyer & Lemieux 2002, "Recent advances in randomized quasi-Monte
  Carlo methods"). The default layout mixes nets of ``2^m`` and ``2^(m+1)`` points (see
  :func:`plan`).
- ``"halton"``: ``R`` independently scrambled Halton sets, as above.

Every batch carries its own random stream spawned from the seed
(``numpy.random.SeedSequence.spawn``), and the cut into batches depends only on ``n``,
the design and ``batch_size``: the points are the same however many workers evaluate
them. Replicated QMC points do not even depend on ``batch_size`` (a batch is a slice of
one replicate's sequence, reached with ``fast_forward``).
"""

from __future__ import annotations

import math
import threading
import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.stats import qmc

from ..._core.random import spawn_seeds

DESIGNS = ("mc", "antithetic", "stratified", "qmc", "halton")
#: Fewest scrambled Sobol' replicates of the default RQMC layout (scipy's qmc_quad's 8).
MIN_REPLICATES = 8
#: Highest dimension in which the default RQMC layout doubles some of its nets. Measured
#: (bench/rqmc_layout.py, docs/monte_carlo.md): ``g = 1 + rho``, ``rho`` the correlation
#: of the two halves of a scrambled Sobol' net of ``2^(m+1)`` points, is below 1 (the
#: doubled net beats two independent nets) on every Genz family in d = 3, 6 and 8 at
#: 2^11 and 2^14 points (mean over integrands at most 0.92), but above 1 on 5 of the 6
#: families in d = 9 and on 4 in d = 10 (single integrands up to g = 1.84), and 0.36-1.01
#: in d = 12: there the doubled net loses to, or merely ties, scipy's equal nets.
MAX_DOUBLED_DIM = 8


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
    group (the smallest replicate's, when ``sizes`` differ); ``cells`` the grid of strata
    per axis and ``counts`` the points in each cell (stratified designs; a stratified
    batch holds cells ``start .. start + group - 1``); ``sizes`` the points of each
    replicate (replicated designs); ``base`` the seed of a Sobol' scramble that all
    replicates share (each then has its own digital shift), or None: one each.
    """

    design: str
    d: int
    n_used: int
    n_groups: int
    per_group: int
    batches: tuple
    cells: tuple = ()
    counts: np.ndarray | None = None
    sizes: tuple = ()
    base: np.random.SeedSequence | None = None


def default_batch_size(n: int) -> int:
    """At most ~32 batches, none smaller than 128 points: cheap serially, splittable."""
    return max(128, -(-n // 32))


def plan(design: str, n: int, d: int, seed, *, batch_size: int | None = None,
         n_replicates: int | None = None, cells=None, counts=None, mixed: bool = True,
         base=None) -> Plan:
    """Lay out ``n`` points of ``design`` in ``d`` dimensions as seeded batches.

    The default ``"qmc"`` layout (``n_replicates=None``, ``mixed=True``) takes the
    largest ``2^m`` with ``8 * 2^m <= n`` and makes 8 replicates of it, ``k`` of them
    doubled to ``2^(m+1)`` points, as many as the budget allows (``k = n // 2^m - 8``,
    0 to 7): the same number of points as ``8 + k`` equal sets of ``2^m``, in fewer,
    larger nets. That wins only while a doubled net's two halves are negatively
    correlated (:func:`replicate_means`), measured so for d <= ``MAX_DOUBLED_DIM`` (8);
    above, and with ``mixed=False``, the layout is the ``8 + k`` equal sets (scipy's
    ``qmc_quad`` at its best for the budget). Each replicate has its own scramble and
    digital shift; ``base`` (a seed) makes all of them share one scramble, each with its
    own digital shift: cheaper (one engine), as accurate on average, but the error then
    varies more from seed to seed (the variance given the scramble spreads over two
    decades for smooth f); VEGAS uses it, where one engine per replicate would cost more
    than the integrand.

    Examples
    --------
    >>> p = plan("qmc", 100_000, 3, seed=0)
    >>> p.n_groups, p.sizes, p.n_used      # 4 Sobol' nets of 2^14 and 4 of 2^13
    (8, (16384, 16384, 16384, 16384, 8192, 8192, 8192, 8192), 98304)
    >>> plan("qmc", 100_000, 3, seed=0, mixed=False).sizes     # 12 nets of 2^13
    (8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192)
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
        seeds = _batch_seeds(seed, len(counts))
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
        if ends[-1] <= batch_size:  # one batch (VEGAS iterations, mostly)
            bounds = np.array([0, n_cells])
        else:  # cut after the cell where the running count passes each batch_size
            cuts = np.unique(np.searchsorted(ends, np.arange(batch_size, ends[-1],
                                                             batch_size)))
            bounds = np.concatenate([[0], cuts + 1, [n_cells]])
            bounds = np.unique(np.minimum(bounds, n_cells))
        seeds = _batch_seeds(seed, bounds.size - 1)
        batches = tuple(Batch(s, int(counts[a:b].sum()), int(b - a), int(a)) for s, a, b in
                        zip(seeds, bounds[:-1], bounds[1:], strict=True))
        return Plan(design, d, int(ends[-1]), n_cells, int(counts[0]), batches, tuple(cells),
                    counts)
    # replicated randomized QMC
    sizes = _replicate_layout(design, n, n_replicates, mixed and d <= MAX_DOUBLED_DIM)
    seeds = spawn_seeds(seed, len(sizes))
    base = None if base is None else _seed_sequence(base)
    batches = []
    for r, (s, size) in enumerate(zip(seeds, sizes, strict=False)):
        start = 0
        for count in _split(size, batch_size):
            batches.append(Batch(s, count, r, start))
            start += count
    return Plan(design, d, sum(sizes), len(sizes), min(sizes), tuple(batches),
                sizes=tuple(sizes), base=base)


def _batch_seeds(seed, count: int) -> list:
    """One seed per batch: spawned children, or the seed itself when it is already a
    SeedSequence and there is one batch (a spawn costs ~50 us: VEGAS makes one plan per
    iteration)."""
    if count == 1 and isinstance(seed, np.random.SeedSequence):
        return [seed]
    return spawn_seeds(seed, count)


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return spawn_seeds(seed, 1)[0]


def replicate_means(values: np.ndarray, sizes) -> tuple[np.ndarray, np.ndarray]:
    """The replicate means ``Q_r`` of ``values`` (rows in replicate order, ``sizes[r]``
    of them for replicate ``r``) and their weights ``w_r = n_r / n_min``.

    The estimator built on them (``monte_carlo``): every point weighs the same,
    ``Q = sum_r n_r Q_r / N``. Its variance is the weighted least-squares one under
    ``Var Q_r = s^2 n_min / n_r`` (the Monte Carlo rate):
    ``s^2 = sum_r w_r (Q_r - Q)^2 / (R - 1)`` with ``w_r = n_r / n_min`` and
    ``Var Q = s^2 / sum_r w_r``; for equal sizes, the usual ``s^2 / R``.

    When it is honest: while a scrambled net of ``2n`` points has at most half the
    variance of one of ``n`` points (exactly half at the Monte Carlo rate ``1/n``, an
    eighth at the ``n^-3`` rate of smooth f). That is ``x = (1 + rho) / 2`` with ``rho``
    the correlation of the net's two halves (each a scrambled net of ``n``), and it
    fails where ``rho > 0``: measured (bench/rqmc_layout.py) up to ``rho = 0.84`` for
    single Genz integrands in d = 9-12, hence ``MAX_DOUBLED_DIM``; in d <= 8 negative on
    average for every family, up to 0.28 for single integrands (where the estimate below
    is then at most ~5% low, well inside the t factor's margin). With ``k`` nets of
    ``2n`` and ``8 - k`` of ``n``, the expected estimate minus the true variance is
    ``(8 + k)(2kx + 8 - k)/8 - (4kx + 8 - k)`` (times 8/7, in units of ``Var Q_n /
    N^2``; ``x`` = the variance ratio of the two sizes): zero at ``x = 1/2`` and
    decreasing in ``x``, so never negative for ``x <= 1/2``. And then it never loses to
    ``8 + k`` equal nets of ``n``: the variance ``sum_r n_r^2 Var Q_r / N^2`` is the
    same at ``x = 1/2`` and smaller below (half at ``n^-3`` for ``k = 4``); above, it
    loses.
    """
    sizes = np.asarray(sizes, dtype=float)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    means = np.add.reduceat(values, starts, axis=0) / (
        sizes if values.ndim == 1 else sizes[:, None])
    weights = sizes / sizes.min()
    return means, weights


def _base_net(base: np.random.SeedSequence, d: int, size: int) -> np.ndarray:
    """The first ``size`` points of the LMS-scrambled Sobol' sequence of ``base``, as
    30-bit integers (``uint32``, read-only), cached: all replicates (and all VEGAS
    iterations sharing ``base``) reuse one scrambled engine's points."""
    key = (tuple(base.generate_state(4)), d)
    with _BASE_LOCK:  # vegas may run in several threads of one process
        cached = _BASE_CACHE.get(key)
        if cached is None or cached.shape[0] < size:
            engine = qmc.Sobol(d, scramble=True, rng=_generator(base))
            grow = 2 ** int(math.ceil(math.log2(max(size, 1))))
            with warnings.catch_warnings():  # Sobol' balance warning for non-powers of 2
                warnings.simplefilter("ignore", UserWarning)
                unit = engine.random(grow)
            cached = (unit * 2.0**_BITS).astype(np.uint32)  # exact: multiples of 2^-30
            cached.flags.writeable = False
            if len(_BASE_CACHE) >= 8:
                _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
            _BASE_CACHE[key] = cached
    return cached


_BITS = 30  # scipy's Sobol' points are multiples of 2^-30
_BASE_CACHE: dict = {}
_BASE_LOCK = threading.Lock()


def points(layout: Plan, batch: Batch, out=None, scratch=None) -> np.ndarray:
    """The ``(batch.count, d)`` points of one batch, in [0, 1)^d (deterministic).

    Antithetic points come as interleaved pairs (row 2i and 2i+1 are ``u`` and
    ``1 - u``); stratified points cell by cell, ``per_group`` in each. ``out``: write
    the ``"mc"`` and ``"stratified"`` points there (``scratch``, as large, takes the
    strata's corners: VEGAS reuses its buffers instead of fresh temporaries).
    """
    d = layout.d
    if layout.design == "mc":
        return _generator(batch.seed).random((batch.count, d), out=out)
    if layout.design == "antithetic":
        u = _generator(batch.seed).random((batch.count // 2, d))
        return np.stack([u, 1.0 - u], axis=1).reshape(batch.count, d)
    if layout.design == "stratified":
        stop = batch.start + batch.group
        corners, scale = _scaled_corners(layout.cells)
        cell = np.repeat(np.arange(batch.start, stop), layout.counts[batch.start:stop])
        u = _generator(batch.seed).random((batch.count, d), out=out)
        u *= scale
        u += np.take(corners, cell, axis=0, out=scratch, mode="clip")  # "raise" buffers
        return u
    if layout.design == "qmc" and layout.base is not None:
        return _shifted_net(layout, batch)
    if layout.design == "qmc":  # the replicate's own scramble (LMS + digital shift)
        engine = qmc.Sobol(d, scramble=True, rng=_generator(batch.seed))
        if batch.start:
            engine.fast_forward(batch.start)
        with warnings.catch_warnings():  # Sobol' balance warning for non-powers of two
            warnings.simplefilter("ignore", UserWarning)
            u = engine.random(batch.count)
        u += 2.0**-(_BITS + 1)  # the centres of the 2^-30 cells (see _shifted_net)
        return u
    engine = qmc.Halton(d, scramble=True, rng=_generator(batch.seed))
    if batch.start:
        engine.fast_forward(batch.start)
    return engine.random(batch.count)


def _shifted_net(layout: Plan, batch: Batch) -> np.ndarray:
    """Points ``start .. start + count`` of the plan's shared scrambled net, XOR the
    replicate's random digital shift, at the centres of their 2^-30 cells.

    Given the scramble, a uniform digital shift makes every point uniform on the grid, so
    each replicate is unbiased and, given a shared scramble, the replicates are still
    independent (Owen, "Variance with alternative scramblings of digital nets", 2003: the
    linear scramble plus a digital shift has the variance of nested uniform scrambling).
    scipy's points are multiples of 2^-30; the cell centre removes the -2^-31 bias of
    every coordinate's mean (at no cost, unlike uniform noise in the cell).
    """
    size = max(layout.sizes[batch.group] if layout.sizes else 0, batch.start + batch.count)
    base = _base_net(layout.base, layout.d, size)
    shift = _generator(batch.seed).integers(0, 2**_BITS, layout.d, dtype=np.uint32)
    u = (base[batch.start:batch.start + batch.count] ^ shift).astype(np.float64)
    u *= 2.0**-_BITS
    u += 2.0**-(_BITS + 1)
    return u


def _generator(seed: np.random.SeedSequence) -> np.random.Generator:
    # A fresh generator from the seed's state: scipy's engines spawn from the
    # SeedSequence they are given, which would change the points on a second call.
    return np.random.default_rng(seed.generate_state(4))


@lru_cache(maxsize=16)
def _corners(cells: tuple) -> np.ndarray:
    """The lower corner (in cells) of every stratum, ``(prod(cells), d)``, C order."""
    corners = np.stack(np.unravel_index(np.arange(math.prod(cells)), cells), axis=1)
    corners.flags.writeable = False
    return corners


@lru_cache(maxsize=16)
def _scaled_corners(cells: tuple):
    """The lower corners of the strata in the unit cube ``(prod(cells), d)`` and the
    cell widths ``1 / cells`` (read-only)."""
    scale = 1.0 / np.asarray(cells, dtype=float)
    corners = _corners(cells) * scale
    corners.flags.writeable = False
    scale.flags.writeable = False
    return corners, scale


def _split(total: int, size: int) -> list[int]:
    full, rest = divmod(total, size)
    return [size] * full + ([rest] if rest else [])


@lru_cache(maxsize=64)
def _strata_grid(max_cells: int, d: int) -> tuple:
    """Cells per axis, as equal as possible, with at most ``max_cells`` cells in all."""
    max_cells = max(1, max_cells)
    base = max(1, int(math.floor(max_cells ** (1.0 / d) + 1e-9)))
    cells = [base] * d
    for axis in range(d):  # grow the first axes by one while the budget allows
        if math.prod(cells) // base * (base + 1) <= max_cells:
            cells[axis] = base + 1
    return tuple(cells)


def _replicate_layout(design: str, n: int, n_replicates: int | None, mixed: bool = True):
    """The points of each replicate."""
    if n_replicates is not None:
        return [max(1, n // n_replicates)] * n_replicates
    if design == "qmc":
        # Sobol' nets of 2^m points keep their balance. The variance of a scrambled net's
        # mean falls like n^-3 for smooth f, so at a fixed budget the fewest, largest nets
        # win: the largest 2^m leaving MIN_REPLICATES of them, and k of those doubled
        # (mixed; else 8 + k equal nets, scipy qmc_quad's best layout at this budget).
        # The t quantile of the R - 1 degrees of freedom is in the error (monte_carlo).
        # Measured in bench/montecarlo.py against scipy's qmc_quad.
        per_replicate = 2 ** int(math.floor(math.log2(max(1, n // MIN_REPLICATES))))
        total = max(2, n // per_replicate)
        if not mixed or total <= MIN_REPLICATES:
            return [per_replicate] * total
        doubled = total - MIN_REPLICATES
        return [2 * per_replicate] * doubled + [per_replicate] * (MIN_REPLICATES - doubled)
    replicates = max(2, min(16, n // 2))
    return [n // replicates] * replicates
