"""VEGAS: adaptive importance sampling with a separable map (Lepage 1978).

The integrand is sampled through an :class:`~.sampling.vegas_map.AdaptiveMap`, iteration after
iteration; after each iteration the map is trained on ``(f J)^2`` so that the next one
samples where ``|f|`` is large. Three ways to draw the points in the map's ``y`` space
(:mod:`.sampling.point_sets`): ``"stratified"`` (the cube cut into about
``n_eval / 8`` equal cells, each with 2 points plus a share of the rest that follows the
cell's standard deviation in the previous iteration: VEGAS+, Lepage 2021), ``"mc"``
(uniform, as Lepage 1978) and ``"qmc"`` (scrambled
Sobol', our addition: the warm-up trains the map on Sobol' points, then the map is
frozen and the remaining budget goes to replicated randomized QMC through it, so the
error comes from independent replicates and converges at the QMC rate on what the map
leaves smooth; one scramble per run, each set with its own random digital shift, so one
Sobol' engine serves the whole run). The default, ``"auto"``, takes ``"qmc"`` up to d = 6
and ``"stratified"``
above, as measured in bench/montecarlo.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special

from .._core.progress import is_long, progress_bar
from .._core.random import spawn_seeds
from .._core.validation import check_callable, check_choice, check_int, check_positive
from .._core.warnings import IntegrationWarning, warn_unless_success
from ._bounds import oriented_bounds
from ._result import IntegrationResult
from .sampling import point_sets as samplers
from .sampling.estimate import design_estimate, evaluate_plan, stratified_estimate
from .sampling.parallel import Integrand, check_executor
from .sampling.vegas_map import AdaptiveMap, MapWork, map_points, map_tables

SAMPLINGS = ("auto", "stratified", "mc", "qmc")
_AUTO_QMC_MAX_DIM = 6  # bench/montecarlo.py: Sobol'-driven VEGAS wins up to d = 6 on Genz
_Q_FAIL = 1e-3  # iterations this inconsistent (chi^2 p-value) make the result suspect
_MEAN_PER_CELL = 8  # VEGAS+ strata: 2 fixed points each, the rest allocated by variance
_WHOLE = 2**62  # a batch size that puts all of an iteration's points in one batch


@dataclass(frozen=True, repr=False)
class VegasResult(IntegrationResult):
    """A VEGAS integral; ``error`` is its standard error.

    Attributes
    ----------
    chi2_dof : float
        ``chi^2 / (n_iter - 1)`` of the combined iterations about their weighted mean:
        about 1 when the iterations agree within their errors; much larger means the
        map was still moving or the errors are underestimated (``success`` is then
        False if its p-value is below 1e-3). ``nan`` for ``sampling="qmc"``, whose
        estimate comes from independent replicates, not iterations.
    q_value : float
        The p-value of that chi^2 (nan for ``"qmc"``).
    iterations : tuple of (float, float)
        (estimate, standard error) of each combined iteration (``"qmc"``: of each
        replicate, with error nan).
    map : AdaptiveMap
        The trained map (reuse it: ``vegas(..., initial_map=result.map)``).
    """

    chi2_dof: float = float("nan")
    q_value: float = float("nan")
    iterations: tuple = ()
    map: AdaptiveMap | None = None


def vegas(f, lower, upper, *, n_iter: int = 10, n_eval: int = 10_000, n_adapt: int = 5,
          sampling: str = "auto", alpha: float = 0.5, beta: float = 0.75,
          n_bins: int | None = None, seed=None,
          executor=None, batch_size: int | None = None, device=None,
          initial_map: AdaptiveMap | None = None, progress=None) -> VegasResult:
    r"""Integral of ``f`` over a box by VEGAS adaptive importance sampling.

    Each iteration estimates :math:`I_k = \int_{[0,1]^d} f(x(y)) J(y)\,dy` with
    ``n_eval`` points and trains the map; ``n_adapt`` warm-up iterations only train it.
    The ``n_iter`` iterations that count are combined by their inverse variances,

    .. math::

        \bar I = \frac{\sum_k I_k/\sigma_k^2}{\sum_k 1/\sigma_k^2},\qquad
        \sigma^2 = \Big(\sum_k 1/\sigma_k^2\Big)^{-1},\qquad
        \chi^2 = \sum_k \frac{(I_k - \bar I)^2}{\sigma_k^2},

    (Lepage 1978, eq. 5). With ``sampling="qmc"`` the map is frozen after the warm-up
    and the ``n_iter * n_eval`` remaining points are replicated scrambled Sobol' sets
    through it; ``error`` is the standard error of the replicate mean.

    Parameters
    ----------
    f : callable
        Vectorized integrand ``(n, d) -> (n,)`` (``(n,)`` points in 1-D).
    lower, upper : float or array_like, shape (d,)
        Finite bounds. An axis with ``lower > upper`` flips the sign of the integral (as
        in :func:`quad`, :func:`cubature` and :func:`monte_carlo`); ``lower == upper``
        gives 0.
    n_iter : int
        Iterations combined into the answer (at least 2).
    n_eval : int
        Evaluations per iteration (at least 2). Total cost ``(n_adapt + n_iter) * n_eval``.
    n_adapt : int
        Warm-up iterations that only train the map (may be 0).
    sampling : {"auto", "stratified", "mc", "qmc"}
        How the points are drawn in the map's ``y`` space (see the module docstring):
        ``"stratified"`` cells with adaptive counts (VEGAS+), ``"mc"`` uniform points
        (Lepage 1978), ``"qmc"`` scrambled Sobol' with a frozen final map. ``"auto"``
        (default): ``"qmc"`` for d <= 6, ``"stratified"`` above, as measured on the Genz
        families (bench/montecarlo.py; Sobol' loses its edge in d = 10 with an
        undertrained frozen map). Only the iterated samplings have a chi^2 check.
    alpha : float
        Damping of the map training, in [0, 2]: 0 freezes the map, 0.5 (vegas's
        default) is safe, larger adapts faster but can oscillate.
    beta : float
        With ``sampling="stratified"``: each of the ~``n_eval / 8`` cells of the ``y``
        cube gets 2 points plus a share of the rest proportional to its standard
        deviation to the power ``beta``, measured in the previous iteration (VEGAS+,
        Lepage 2021; 0.75 is his default). 0: equal counts (Lepage 1980).
    n_bins : int, optional
        Bins per axis, default ``min(1000, max(10, n_eval // 10))`` like the vegas package.
    seed, executor, device
        As in :func:`monte_carlo`; every iteration has its own spawned seed.
    batch_size : int, optional
        Points per batch, default ``max(2048, n_eval / 8)``; as in :func:`monte_carlo`.
    initial_map : AdaptiveMap, optional
        Start from a trained map (it is copied, not changed).
    progress : bool, optional
        A progress bar over the iterations (tqdm). Default: shown when the run spends at
        least ``LONG_RUN_EVALS`` (10^6) evaluations; False for none.

    Returns
    -------
    VegasResult
        ``value``, ``error`` (standard error), ``n_evals``, ``success``, ``message``,
        ``method`` ("vegas-mc", "vegas-stratified" or "vegas-qmc"), ``chi2_dof``,
        ``q_value``, ``iterations``, ``map``.

    Examples
    --------
    >>> import numpy as np
    >>> peak = lambda x: np.exp(-100 * ((x - 0.5) ** 2).sum(axis=1))   # integral pi/100
    >>> r = vegas(peak, [0, 0], [1, 1], n_eval=4000, sampling="stratified", seed=0)
    >>> abs(r.value - np.pi / 100) < 3 * r.error, round(r.value, 4)
    (True, 0.0314)
    >>> q = vegas(peak, [0, 0], [1, 1], n_eval=4000, seed=0)            # auto: qmc in 2-D
    >>> q.error < r.error / 3, q.method
    (True, 'vegas-qmc')
    """
    f, low, high, sign, empty = _vegas_iv(f, lower, upper, n_iter, n_eval, n_adapt, sampling,
                                          alpha, beta, n_bins, executor, batch_size)
    if empty:
        return VegasResult(0.0, 0.0, 0, True, "empty box (lower == upper on some axis)",
                           "vegas")
    show = is_long(n_eval * (n_iter + n_adapt), progress)
    with progress_bar(total=n_adapt + n_iter, enabled=show, desc="vegas") as bar:
        result = _vegas(f, low, high, n_iter=n_iter, n_eval=n_eval, n_adapt=n_adapt,
                        sampling=sampling, alpha=alpha, beta=beta, n_bins=n_bins, seed=seed,
                        executor=executor, batch_size=batch_size, device=device,
                        initial_map=initial_map,
                        squeeze=np.ndim(lower) == 0 and np.ndim(upper) == 0, bar=bar)
    if sign < 0:
        result = result._replace(value=-result.value,
                                 iterations=tuple((-v, e) for v, e in result.iterations))
    return warn_unless_success(result, IntegrationWarning)


def _vegas(f, low, high, *, n_iter, n_eval, n_adapt, sampling, alpha, beta, n_bins, seed,
           executor, batch_size, device, initial_map, squeeze, bar):
    d = low.size
    if sampling == "auto":
        sampling = "qmc" if d <= _AUTO_QMC_MAX_DIM else "stratified"
    n_bins = n_bins or min(1000, max(10, n_eval // 10))
    adaptive = AdaptiveMap(d, n_bins)
    if initial_map is not None:
        if initial_map.d != d:
            raise ValueError(f"initial_map has dimension {initial_map.d}, the box has {d}")
        adaptive.grid = initial_map.grid.copy()
        adaptive._sum, adaptive._count = np.zeros_like(adaptive.grid[:, 1:]), np.zeros_like(
            adaptive.grid[:, 1:])
    user_batch_size = batch_size is not None
    batch_size = batch_size or max(2048, -(-n_eval // 8))  # few batches: the map is per batch
    run = _Runner(f, low, high - low, adaptive, device, squeeze, executor, batch_size)
    run.user_batch_size = user_batch_size
    run.beta = beta
    seeds = spawn_seeds(seed, n_adapt + n_iter + 1)
    design = "qmc" if sampling == "qmc" else sampling
    for k in range(n_adapt):
        # warm-up estimates are discarded: one Sobol' set per iteration is enough to train;
        # the sets share one scramble (one engine), each with its own digital shift
        run.iteration(design, n_eval, seeds[k], train=True, alpha=alpha,
                      n_replicates=1 if design == "qmc" else None,
                      base=seeds[-1] if design == "qmc" else None)
        bar.update(1)
    if sampling == "qmc":
        # the replicates share the warm-up's scramble, each with its own digital shift:
        # unbiased and independent given the scramble (samplers._shifted_net), one
        # Sobol' engine for the whole run instead of one per replicate
        estimate = run.iteration("qmc", n_eval * n_iter, seeds[n_adapt], train=False,
                                 alpha=0.0, base=seeds[-1])
        bar.update(n_iter)
        replicate_values = tuple((float(v), float("nan")) for v in run.last_replicates)
        result = VegasResult(estimate.value, estimate.error, run.n_evals, True,
                             estimate.message + " through the trained map", "vegas-qmc",
                             iterations=replicate_values, map=adaptive)
        return result
    estimates = []
    for k in range(n_iter):
        estimates.append(run.iteration(design, n_eval, seeds[n_adapt + k], train=True,
                                       alpha=alpha))
        bar.update(1)
    return _combine(estimates, run.n_evals, sampling, adaptive)


class _Runner:
    """Runs iterations on one map and counts evaluations.

    The map is applied here, in the calling process, to every point of an iteration at
    once (one bin search that the training reuses); only ``f`` at the mapped points goes
    to the executor's workers (:class:`~.sampling.parallel.Integrand`), so the map and its
    training are the same for any executor.
    """

    def __init__(self, f, lower, width, adaptive, device, squeeze, executor, batch_size):
        self.adaptive = adaptive
        self.integrand = Integrand(f, lower, width, device=device, squeeze=squeeze)
        self.executor, self.batch_size = executor, batch_size
        self.n_evals = 0
        self.last_replicates = ()
        self.beta = 0.0
        self.counts = None  # points per stratum for the next iteration (VEGAS+)
        self.user_batch_size = False
        self.work = MapWork()  # the map's buffers, reused by every iteration

    def iteration(self, design, n, seed, *, train, alpha, n_replicates=None, base=None):
        """One iteration: its estimate (``value``, ``error``), training the map if asked.

        Lean on purpose (bench/montecarlo.py times it against the compiled vegas
        package): the points are mapped with one flat gather whose bins the training
        reuses, the strata statistics are computed once for the estimate and the VEGAS+
        allocation, and only the final Sobol' estimate builds a full result.
        """
        strata = {}
        if design == "stratified":
            cells = samplers._strata_grid(max(1, n // _MEAN_PER_CELL), self.adaptive.d)
            counts = self.counts if self.counts is not None else _even_counts(n, cells)
            strata = {"cells": cells, "counts": counts}
        d = self.adaptive.d
        if design in ("mc", "stratified"):
            # one stream for all the iteration's points (no seed spawned per batch: the
            # same points for any batch_size), written into one fresh array (f gets it);
            # the batches only cut the evaluation
            whole = samplers.plan(design, n, d, seed, batch_size=_WHOLE, **strata)
            y = np.empty((whole.n_used, d))
            samplers.points(whole, whole.batches[0], out=y,
                            scratch=self.work.views(whole.n_used, d)[1])
            layout = whole._replace(batches=tuple(
                samplers.Batch(seed, count)
                for count in samplers._split(whole.n_used, self.batch_size)))
        else:
            # Sobol' replicates: one batch (one scrambled engine) per replicate by default
            batch_size = self.batch_size if self.user_batch_size else None
            layout = samplers.plan(design, n, d, seed, batch_size=batch_size,
                                   n_replicates=n_replicates, base=base)
            inputs = [samplers.points(layout, b) for b in layout.batches]
            y = inputs[0] if len(inputs) == 1 else np.concatenate(inputs)
        # the points of the whole iteration are mapped at once (overwriting y: its bins
        # are all the training needs); the map is only changed after every batch is back
        grid = self.adaptive.grid
        unit, jacobian, bins = map_points(grid, y, map_tables(grid), with_bins=True,
                                          overwrite=True, work=self.work)
        if len(layout.batches) > 1:
            inputs = np.split(unit, np.cumsum([b.count for b in layout.batches])[:-1])
        else:
            inputs = [unit]
        values = evaluate_plan(self.integrand, layout, executor=self.executor, inputs=inputs)
        # f J volume, in the Jacobian's buffer: f's own array may be read-only or kept by f
        f_values = jacobian
        f_values *= values[:, 0]
        self.n_evals += layout.n_used
        if design == "stratified":
            mean, variance, cell_variances = stratified_estimate(f_values, layout.counts)
            estimate = _Iteration(float(mean), float(np.sqrt(variance)))
            if self.beta > 0:
                self.counts = _allocate(n, cell_variances, self.beta)
        elif design == "mc":
            estimate = _Iteration(float(f_values.mean()),
                                  float(f_values.std(ddof=1) / np.sqrt(f_values.size)))
        elif train:  # a Sobol' training set: its estimate is discarded
            estimate = _Iteration(float(f_values.mean()), float("nan"))
        else:
            estimate = design_estimate(f_values[:, None], layout, np.empty(0), False)
            self.last_replicates = samplers.replicate_means(f_values, layout.sizes)[0]
        if train:
            weights = None
            if design == "stratified":  # unequal counts: weight by inverse density
                weights = np.repeat(1.0 / layout.counts, layout.counts)
            self.adaptive.add_binned_data(bins, f_values, weights, work=self.work)
            self.adaptive.adapt(alpha)
        return estimate


class _Iteration(NamedTuple):
    value: float
    error: float


def _even_counts(n, cells):
    n_cells = int(np.prod(cells))
    return np.full(n_cells, max(2, n // n_cells))


def _allocate(n, cell_variances, beta):
    """VEGAS+ allocation: 2 points per cell plus the rest in proportion to sigma_h^beta.

    Lepage, J. Comput. Phys. 439 (2021) 110386, sec. 3 (his default beta = 0.75); the
    leftover points go to the largest fractional shares, so the total is ``n`` exactly.
    """
    n_cells = cell_variances.size
    spare = n - 2 * n_cells
    weights = np.maximum(cell_variances, 0.0) ** (0.5 * beta)  # sigma_h^beta
    total = float(weights.sum())
    if spare <= 0 or not 0.0 < total < np.inf:
        return _even_counts(n, [n_cells])
    shares = weights
    shares *= spare / total
    floor = np.floor(shares)
    counts = floor.astype(np.intp)
    counts += 2
    leftover = n - int(counts.sum())
    if leftover > 0:
        shares -= floor  # the fractional parts: the largest get the leftover points
        counts[np.argsort(-shares, kind="stable")[:leftover]] += 1
    return counts


def _combine(estimates, n_evals, sampling, adaptive):
    values = np.array([e.value for e in estimates])
    errors = np.array([e.error for e in estimates])
    iterations = tuple((float(v), float(s)) for v, s in zip(values, errors, strict=True))
    if np.any(errors == 0):  # an exactly integrated iteration (f constant through the map)
        value, error, chi2 = float(values.mean()), 0.0, 0.0
    else:
        weights = 1.0 / errors**2
        value = float(np.sum(weights * values) / weights.sum())
        error = float(1.0 / np.sqrt(weights.sum()))
        chi2 = float(np.sum(weights * (values - value) ** 2))
    dof = len(estimates) - 1
    q_value = float(special.chdtrc(dof, chi2))  # chi2.sf, without its ~35 us of checks
    success = q_value >= _Q_FAIL
    message = (f"{len(estimates)} iterations agree: chi2/dof = {chi2 / dof:.2f}" if success
               else f"iterations disagree (chi2/dof = {chi2 / dof:.2f}, Q = {q_value:.1e}): "
                    "the error is underestimated; raise n_eval or n_adapt")
    return VegasResult(value, error, n_evals, success, message, f"vegas-{sampling}",
                       chi2_dof=chi2 / dof, q_value=q_value, iterations=iterations,
                       map=adaptive)


def _vegas_iv(f, lower, upper, n_iter, n_eval, n_adapt, sampling, alpha, beta, n_bins, executor,
              batch_size):
    check_callable(f, "f")
    low, high, sign, empty = oriented_bounds(lower, upper, allow_infinite=False)
    check_int(n_iter, "n_iter", minimum=2)
    check_int(n_eval, "n_eval", minimum=2)
    check_int(n_adapt, "n_adapt", minimum=0)
    check_choice(sampling, "sampling", SAMPLINGS)
    check_positive(alpha, "alpha", allow_zero=True)
    check_positive(beta, "beta", allow_zero=True)
    if alpha > 2:
        raise ValueError(f"alpha must be in [0, 2], got {alpha}")
    check_int(n_bins, "n_bins", minimum=2, allow_none=True)
    check_int(batch_size, "batch_size", minimum=2, allow_none=True)
    check_executor(executor)
    return f, low, high, sign, empty
