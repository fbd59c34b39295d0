"""Monte Carlo integration over a box: plain, antithetic, stratified and randomized QMC.

``monte_carlo(f, lower, upper)`` estimates ``I = integral of f over the box`` as the
volume times the mean of ``f`` at points of one of the designs of :mod:`.samplers`, with
a standard error that each design estimates honestly (replicates for QMC). Optional
control variates (:mod:`.control_variates`) and any ``concurrent.futures.Executor`` or
Dask client (:mod:`.parallel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._core.validation import check_bool, check_callable, check_choice, check_int
from .._core.warnings import IntegrationWarning, warn_unless_success
from . import control_variates as cv
from . import samplers
from ._bounds import oriented_bounds
from ._result import IntegrationResult
from .parallel import Integrand, check_executor, map_batches
from .psis import KHAT_THRESHOLD, _gpd_fit_zhang_stephens, _tail_size


@dataclass(frozen=True, repr=False)
class MonteCarloResult(IntegrationResult):
    """A Monte Carlo integral; ``error`` is its standard error.

    Attributes
    ----------
    n_groups : int
        Independent replicates behind the error (randomized QMC), strata (stratified),
        or 1 (plain and antithetic: the error comes from the points themselves).
    variance_reduction : float
        With control variates, ``Var f / Var residual`` (> 1 when they help); else 1.
    control_coefficients : numpy.ndarray or None
        The fitted regression coefficients of the control variates.
    khat : float
        Pareto k-hat of the upper tail of ``|f|`` at the sample points
        (:func:`~bayescalc.integrate.psis_khat`): about ``1/p`` for a singularity whose
        tail ``P(|f| > t)`` falls like ``t^-p``. Below 0.5 the variance of ``f`` is finite;
        above 0.7 (:data:`~bayescalc.integrate.psis.KHAT_THRESHOLD`) ``success`` is False:
        the variance is infinite (or the sample has not resolved a peak) and the standard
        error is not a promise. ``nan`` when too few points to fit.
    """

    n_groups: int = 1
    variance_reduction: float = 1.0
    control_coefficients: np.ndarray | None = None
    khat: float = float("nan")


def monte_carlo(f, lower, upper, *, n: int = 2**14, method: str = "qmc", seed=None,
                log: bool = False, control_variate=None, executor=None,
                batch_size: int | None = None, n_replicates: int | None = None,
                device=None) -> MonteCarloResult:
    r"""Integral of ``f`` over the box ``[lower, upper]`` by (quasi-)Monte Carlo.

    .. math::

        I = \int_{[a, b]} f(x)\,dx \approx \frac{V}{n}\sum_{i=1}^n f(a + (b - a) \odot u_i),
        \qquad V = \prod_j (b_j - a_j),

    with the points ``u_i`` from the chosen design on the unit cube.

    Parameters
    ----------
    f : callable
        Vectorized integrand ``(n, d) -> (n,)`` (``(n,) -> (n,)`` in one dimension);
        scalar-only callables are detected and looped (slow). With ``log=True`` it
        returns ``log f``. Must be picklable (a module-level function) for a process pool.
    lower, upper : float or array_like, shape (d,)
        Finite bounds. An axis with ``lower > upper`` flips the sign of the integral (the
        convention of :func:`quad` and :func:`cubature`); an axis with ``lower == upper``
        gives 0 without evaluating ``f``.
    n : int
        Number of evaluations (at least 2). The designs use whole units: an even number
        for antithetic pairs, ``R`` sets of ``2^m`` Sobol' points; ``n_evals`` tells.
    method : {"qmc", "halton", "mc", "antithetic", "stratified"}
        ``"qmc"``: 8 independently scrambled Sobol' nets, of ``2^m`` points (the
        largest with ``8 * 2^m <= n``) and, as the budget allows, ``k`` of them of
        ``2^(m+1)`` (the points of ``8 + k`` equal nets in fewer, larger ones; error ~
        1/n for smooth f; the standard error carries the t quantile of the 7 degrees of
        freedom); ``"halton"``: 16 scrambled Halton sets; ``"mc"``: independent
        uniform points (error ~ 1/sqrt(n)); ``"antithetic"``: pairs ``u, 1 - u``;
        ``"stratified"``: about n/2 equal cells with 2 or more points each.
    seed : None, int, numpy Generator or SeedSequence
        The same seed gives the same number for any executor and number of workers.
    log : bool
        ``f`` returns ``log f``; the result is ``log I`` and its error the standard
        error of ``log I`` (delta method: the relative error of ``I``).
    control_variate : (callable, float) or list of them, optional
        Functions ``g`` with known integrals over the same box, ``(g, integral of g)``;
        their coefficients are fitted by regression on the same draws. Not with
        ``"stratified"`` nor ``log=True``.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Evaluate the batches there (f must then be picklable).
    batch_size : int, optional
        Points per batch (default ``max(128, n / 32)``). The plain, antithetic and
        stratified answers depend on it (each batch has its own stream); QMC's do not.
    n_replicates : int, optional
        Replicates for ``"qmc"``/``"halton"``, all of ``n // n_replicates`` points
        (default: 8 nets for ``"qmc"``, 16 sets for ``"halton"``, see above).
    device : str or torch.device, optional
        Evaluate ``f`` on float64 torch tensors on this device (e.g. ``"cuda"``).

    Returns
    -------
    MonteCarloResult
        ``value`` (float), ``error`` (standard error), ``n_evals``, ``success``
        (there is no tolerance: False only when the tail of ``|f|`` is too heavy for a
        standard error, Pareto k-hat > 0.7, with an IntegrationWarning), ``message``,
        ``method``, ``n_groups``, ``variance_reduction``, ``control_coefficients``,
        ``khat``.

    Raises
    ------
    ValueError
        ``n < 2``, infinite bounds, or ``f`` returning NaN/inf
        (``log=True``: NaN or +inf; ``-inf`` is a zero) - the message names the point.

    See Also
    --------
    vegas : adaptive importance sampling for peaked integrands.
    importance : integrals over unbounded domains with a proposal distribution.

    Examples
    --------
    >>> import numpy as np
    >>> r = monte_carlo(lambda x: np.exp(x.sum(axis=1)), [0, 0], [1, 1], seed=1)
    >>> round(r.value, 5), round((np.e - 1) ** 2, 5)
    (2.95249, 2.95249)
    >>> r.error < 1e-5, r.method, r.n_groups
    (True, 'qmc', 8)
    >>> mc = monte_carlo(lambda x: x**2, 0, 3, n=10_000, method="mc", seed=1,
    ...                  control_variate=(lambda x: x, 4.5))
    >>> round(mc.value, 1), mc.variance_reduction > 10
    (9.0, True)

    An integrand of infinite variance is flagged by the Pareto k-hat of its tail:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     bad = monte_carlo(lambda x: 1 / x[:, 0], [0, 0], [1, 1], method="mc", seed=1)
    >>> bad.success, bad.khat > 0.7
    (False, True)
    """
    f, low, high, sign, empty, controls, integrals = _monte_carlo_iv(
        f, lower, upper, n, method, log, control_variate, executor, batch_size, n_replicates)
    if empty:
        return MonteCarloResult(-np.inf if log else 0.0, 0.0, 0, True,
                                "empty box (lower == upper on some axis)", method)
    layout = samplers.plan(method, n, low.size, seed, batch_size=batch_size,
                           n_replicates=n_replicates, mixed=not controls)
    integrand = Integrand(f, low, high - low, controls=controls, device=device, log=log,
                          squeeze=np.ndim(lower) == 0 and np.ndim(upper) == 0)
    values = evaluate_plan(integrand, layout, executor=executor, log=log)
    result = _estimate(values, layout, integrals, log, check_tail=True)
    if sign < 0:
        result = result._replace(value=-result.value)
    return warn_unless_success(result, IntegrationWarning)


def tail_khat(f_values, *, log: bool = False) -> float:
    """Pareto k-hat of the upper tail of ``|f|`` (``f_values`` are log f with ``log``).

    The same fit as :func:`~bayescalc.integrate.psis_khat`, on the largest values found by
    a partition instead of a full sort (a third of the run time at 1e5 points).
    """
    if log:
        log_abs = np.asarray(f_values, dtype=float)
    else:
        with np.errstate(divide="ignore"):
            log_abs = np.log(np.abs(np.asarray(f_values, dtype=float)))
    size = log_abs.size
    tail = _tail_size(size)
    if np.isposinf(log_abs).any():
        return float("inf")
    if np.count_nonzero(np.isfinite(log_abs)) <= tail or tail < 5:
        return float("nan")
    top = np.sort(np.partition(log_abs, size - tail - 1)[size - tail - 1:])
    top = top - top[-1]
    exceedances = np.exp(top[1:]) - np.exp(top[0])
    if exceedances[-1] <= 0:
        return float("-inf")
    return float(_gpd_fit_zhang_stephens(exceedances)[0])


def evaluate_plan(function, layout, *, executor=None, log=False, inputs=None) -> np.ndarray:
    """Values ``(n_used, c)`` of ``function`` on every batch of ``layout``, in order.

    ``inputs``: the batches' points when the caller already made them (else made here).
    Raises ValueError naming the first point where the integrand (column 0) is NaN or
    infinite (``log=True``: NaN or +inf).
    """
    if inputs is None:
        inputs = (samplers.points(layout, batch) for batch in layout.batches)
    results = map_batches(function, inputs, executor=executor)
    values = results[0] if len(results) == 1 else np.concatenate(results, axis=0)
    if not log and np.isfinite(values).all():  # the fast path
        return values
    bad = np.isnan(values) | (np.isposinf(values) if log else np.isinf(values))
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        batch_index, offset = _locate(layout, row)
        unit = samplers.points(layout, layout.batches[batch_index])[offset]
        x = function.to_x(unit) if hasattr(function, "to_x") else unit
        which = "f" if bad[row, 0] else "a control variate"
        raise ValueError(f"{which} returned a non-finite value {values[row, bad[row]][0]} "
                         f"at x = {x}")
    return values


def _locate(layout, row):
    start = 0
    for i, batch in enumerate(layout.batches):
        if row < start + batch.count:
            return i, row - start
        start += batch.count
    raise IndexError(row)


def _estimate(values, layout, integrals, log, check_tail=False):
    """Mean and standard error of the design's estimator (with control variates).

    With ``check_tail``, the Pareto k-hat of ``|f|`` (:func:`tail_khat`) above 0.7 makes
    ``success`` False: the variance is infinite and the standard error means nothing.
    """
    design, k = layout.design, integrals.size
    shift = 0.0
    f_values = values[:, 0]
    khat = tail_khat(f_values, log=log) if check_tail else float("nan")
    if log:
        finite = f_values[np.isfinite(f_values)]
        shift = float(finite.max()) if finite.size else 0.0
        f_values = np.exp(f_values - shift)
    g_values = values[:, 1:]
    if design == "antithetic":
        f_values = f_values.reshape(-1, 2).mean(axis=1)
        g_values = g_values.reshape(-1, 2, k).mean(axis=1) if k else g_values[::2]
    replicated = design in ("qmc", "halton")
    weights = None
    if replicated:  # the replicate means are the independent observations
        sizes = layout.sizes or (layout.per_group,) * layout.n_groups
        f_values, weights = samplers.replicate_means(f_values, sizes)
        g_values = samplers.replicate_means(g_values, sizes)[0] if k else g_values[
            :layout.n_groups]
    beta, reduction = None, 1.0
    if k:
        # For RQMC the coefficient is fitted on the replicate means, not on the points:
        # the point-level optimum ignores what QMC already cancels (Hickernell, Lemieux
        # and Owen, "Control variates for quasi-Monte Carlo", Stat. Sci. 20, 2005).
        beta = cv.fit_coefficients(f_values, g_values)
        residual = cv.residuals(f_values, g_values, integrals, beta)
        reduction = cv.variance_reduction(f_values, residual)
        f_values = residual
    if design == "stratified":
        mean, variance, cell_variances = stratified_estimate(f_values, layout.counts)
        detail = (f"{layout.n_groups} strata of {layout.per_group} points"
                  if np.all(layout.counts == layout.counts[0]) else
                  f"{layout.n_groups} strata of {layout.counts.min()}-{layout.counts.max()} "
                  "points")
    elif replicated:
        # every point weighs the same; with unequal nets the variance is the weighted
        # least-squares one (samplers.replicate_means: honest for any rate >= 1/n)
        total = weights.sum()
        mean = np.sum(weights * f_values) / total
        dof = max(1, layout.n_groups - 1 - k)
        variance = np.sum(weights * (f_values - mean) ** 2) / dof / total
        variance *= _t_factor(int(layout.n_groups - 1 - k)) ** 2
        detail = f"{layout.n_groups} scrambled replicates of " + (
            f"{layout.per_group} points" if min(sizes) == max(sizes) else
            "/".join(str(s) for s in sorted(set(sizes), reverse=True)) + " points")
    else:
        mean = f_values.mean()
        variance = f_values.var(ddof=min(1 + k, f_values.size - 1)) / f_values.size
        detail = f"{f_values.size} {'antithetic pairs' if design == 'antithetic' else 'points'}"
    error = float(np.sqrt(variance))
    value = float(mean)
    if log:
        value, error = (np.log(mean) + shift, error / mean) if mean > 0 else (-np.inf, np.inf)
        value, error = float(value), float(error)
    message = f"{design}: {detail}" + (f"; control variates cut the variance {reduction:.3g}x"
                                       if k else "")
    success = not khat > KHAT_THRESHOLD
    if not success:
        message = (f"the tail of |f| is heavy (Pareto k-hat = {khat:.2f} > {KHAT_THRESHOLD}): "
                   "f has infinite variance (a singularity?) or a peak the sample has not "
                   f"resolved, so the standard error is unreliable ({message})")
    elif khat > 0.5:
        message += f"; Pareto k-hat of |f| = {khat:.2f} > 0.5: the variance may be infinite"
    return MonteCarloResult(value, error, layout.n_used, success, message, design,
                            n_groups=layout.n_groups, variance_reduction=reduction,
                            control_coefficients=beta, khat=khat)


@lru_cache(maxsize=64)
def _t_factor(dof):
    """``t_dof / z`` at the 2-sigma level: with few replicates the standard error is scaled
    so that ``value +- 2 error`` keeps its normal-theory coverage (0.954)."""
    from scipy import stats

    dof = max(1, dof)
    return float(stats.t.ppf(stats.norm.cdf(2.0), dof) / 2.0)


def stratified_estimate(values, counts):
    """Mean, its variance and the per-cell variances, for equal-volume cells.

    ``values`` are ordered cell by cell, ``counts[h] >= 2`` of them in cell ``h``:
    ``I = (1/K) sum_h mean_h`` and ``Var = (1/K^2) sum_h s_h^2 / n_h``.
    """
    n_cells = counts.size
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    means = np.add.reduceat(values, starts) / counts
    deviations = values - np.repeat(means, counts)
    cell_variances = np.add.reduceat(deviations**2, starts) / (counts - 1)
    mean = means.mean()
    variance = np.sum(cell_variances / counts) / n_cells**2
    return mean, variance, cell_variances


def _monte_carlo_iv(f, lower, upper, n, method, log, control_variate, executor, batch_size,
                    n_replicates):
    check_callable(f, "f")
    check_bool(log, "log")
    low, high, sign, empty = oriented_bounds(lower, upper, log=log, allow_infinite=False)
    check_int(n, "n", minimum=2)
    check_choice(method, "method", samplers.DESIGNS)
    check_executor(executor)
    check_int(batch_size, "batch_size", minimum=2, allow_none=True)
    check_int(n_replicates, "n_replicates", minimum=2, allow_none=True)
    if n_replicates is not None and n < 2 * n_replicates:
        raise ValueError(f"n must be >= 2 * n_replicates = {2 * n_replicates}, got {n}")
    controls, integrals = cv.control_variate_iv(control_variate)
    if controls and (method == "stratified" or log):
        raise ValueError("control_variate works with method 'mc', 'antithetic', 'qmc' or "
                         "'halton' and log=False")
    return f, low, high, sign, empty, controls, integrals

