"""``cubature``: integrals over boxes in d dimensions with an honest error estimate."""

from __future__ import annotations

import numpy as np

from .._core.batch import BatchFunction
from .._core.validation import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_tolerances,
)
from .._core.warnings import IntegrationWarning, warn_unless_success
from ._bounds import oriented_bounds
from ._laplace import laplace_map
from ._quad import quad
from ._result import IntegrationResult
from .gauss_hermite import gauss_hermite_expectation
from .rules.genz_malik import adaptive_genz_malik, genz_malik_template
from .rules.range_maps import BoxIntegrand
from .rules.scaled import finish, linear_values
from .rules.sparse_grid import dimension_adaptive_sparse_grid
from .rules.tails import box_divergence
from .rules.tensor_rule import adaptive_tensor
from .sampling import point_sets as samplers

METHODS = ("auto", "genz-malik", "sparse-grid", "tensor", "gauss-hermite")
_ENGINES = {
    "genz-malik": adaptive_genz_malik,
    "sparse-grid": dimension_adaptive_sparse_grid,
    "tensor": adaptive_tensor,
}
# "auto": Genz-Malik first up to this dimension, the sparse grid first above it; the
# first runs on half the budget and the second, if the first did not converge, on the
# rest; the smaller relative error wins (Genz-Malik only when half the budget holds
# _MIN_PILOT_REGIONS of its regions).
_GENZ_MALIK_FIRST_MAX_DIM = 3
_MIN_PILOT_REGIONS = 8
# the randomized check of the sparse grid (:func:`randomized_check`)
_CHECK_SETS = 16
_CHECK_ALARM = 5.2   # t with 15 dof: P(|t| > 5.2) = 1e-4
_CHECK_COVER = 2.2   # t with 15 dof: P(|t| > 2.2) = 0.044
_CHECK_MIN = 4096  # points wanted at least (16 sets of 256), as the budget allows
_CHECK_RESOLVED = 0.1  # a stopped run whose error is above 0.1 s gets the check's bound


def cubature(f, lower, upper, *, rtol=1e-8, atol=0.0, method="auto", log=False,
             max_evals=200_000) -> IntegrationResult:
    r"""Integrate ``f`` over the box :math:`\prod_j [\text{lower}_j, \text{upper}_j]`.

    Parameters
    ----------
    f : callable
        Vectorized: points of shape ``(n, d)`` -> values ``(n,)`` (a one-point function
        is detected and wrapped, slowly). With ``log=True`` it returns :math:`\log f`.
    lower, upper : array_like, shape (d,)
        Bounds; any may be infinite (each infinite axis is mapped to a finite one,
        :class:`bayescalc.integrate.rules.range_maps.BoxIntegrand`).
    rtol, atol : float, keyword-only
        Stop when ``error <= max(atol, rtol * |I|)`` (with ``log=True``: when the error of
        :math:`\log I` is below ``max(rtol, atol)``).
    method : {"auto", "genz-malik", "sparse-grid", "tensor", "gauss-hermite"}, keyword-only
        ``"genz-malik"``: adaptive subdivision with the degree-7/5 Genz–Malik pair,
        vectorized over regions (robust: peaks, kinks, discontinuities; d <= ~7).
        ``"sparse-grid"``: dimension-adaptive Smolyak (Gerstner–Griebel) on nested
        Clenshaw–Curtis rules (smooth integrands up to d ~ 10-15). ``"tensor"``:
        Gauss–Legendre products with order doubling (smooth, d <= 3).
        ``"gauss-hermite"`` (all of R^d only): adaptive Gauss–Hermite (AGHQ), nodes at
        the mode of log f scaled by its Laplace covariance
        (:func:`~bayescalc.integrate.laplace_map`), tensor rule for d <= 3, sparse above;
        exact-fast for Gaussian-like integrands. ``"auto"``: :func:`quad` for d = 1; on
        R^d AGHQ first (a quarter of the budget); then the sparse grid and Genz–Malik by
        measured convergence (Genz–Malik first up to d = 3, on half the budget; the other
        gets the rest if the first missed; the smaller relative error wins). Every
        answer but the tensor rule's is checked against an independent randomized QMC
        estimate (:func:`randomized_check`), which also bounds the error of a run stopped
        by its budget.
    log : bool, keyword-only
    max_evals : int, keyword-only
        Budget of integrand evaluations.

    Returns
    -------
    IntegrationResult
        A missed tolerance gives ``success=False`` and an :class:`IntegrationWarning`.

    Examples
    --------
    >>> import numpy as np
    >>> r = cubature(lambda x: np.exp(-np.sum(x**2, axis=1)), [0, 0], [1, 1])
    >>> print(f"{r.value:.10f} {r.method} {r.success}")
    0.5577462854 genz-malik True
    >>> r = cubature(lambda x: -0.5 * np.sum(x**2, axis=1), [-np.inf] * 2, [np.inf] * 2,
    ...              log=True, rtol=1e-6)
    >>> print(f"{r.value:.6f} {np.log(2 * np.pi):.6f}")
    1.837877 1.837877
    """
    lower, upper, sign, rtol, atol, max_evals = _cubature_iv(
        f, lower, upper, rtol, atol, method, log, max_evals)
    if lower.size == 1 and method == "auto":
        result = quad(lambda t: f(t[:, None]), lower[0], upper[0], rtol=rtol, atol=atol,
                      log=log, max_evals=max_evals)
        return result._replace(value=sign * result.value) if sign < 0 else result
    if np.any(lower == upper):
        return IntegrationResult(-np.inf if log else 0.0, 0.0, 0, True,
                                 "empty box (lower == upper on some axis)", method)
    whole_space = not np.any(np.isfinite(lower)) and not np.any(np.isfinite(upper))
    if method == "gauss-hermite" and not whole_space:
        raise ValueError("method='gauss-hermite' integrates over all of R^d: every lower "
                         "bound must be -inf and every upper bound inf")
    if method == "gauss-hermite" or (method == "auto" and whole_space):
        budget = max_evals if method == "gauss-hermite" else max_evals // 4
        adapted = _adaptive_gauss_hermite(f, lower.size, rtol, atol, log, budget)
        if method == "gauss-hermite" or adapted.success:
            result = adapted if sign > 0 else adapted._replace(value=-adapted.value)
            return warn_unless_success(result, IntegrationWarning)
        max_evals -= adapted.n_evals
    spent = adapted.n_evals if method == "auto" and whole_space else 0
    if method == "auto" and not whole_space and not np.all(np.isfinite(lower + upper)):
        f, lower, upper, used_by_map = location_scale(f, lower, upper, log=log)
        max_evals -= used_by_map
        spent += used_by_map
    integrand = BoxIntegrand(f, lower, upper, log=log)
    if integrand.mapped.any():  # issue 8: a tail that does not vanish means divergence
        divergent, _ = box_divergence(integrand.function, lower, upper, log=log)
        if divergent:
            return warn_unless_success(IntegrationResult(
                np.nan, np.inf, integrand.n_evals, False, divergent, method), IntegrationWarning)
    options = dict(rtol=rtol, atol=atol, log=log)
    t_lower, t_upper = integrand.t_lower, integrand.t_upper
    if method == "auto":
        estimate, used = _auto(integrand, t_lower, t_upper, max_evals, options)
    else:
        used = method
        estimate = _run_engine(used, integrand, t_lower, t_upper, max_evals, options)
    value, error = finish(estimate, log=log)
    success, message = estimate.converged, estimate.message
    if not log and integrand.all_zero:
        success = False
        message = (f"f was exactly 0 at all {integrand.n_evals} points: if f underflows "
                   "float64, pass log f with log=True")
    if not np.isfinite(value) and not (log and value == -np.inf):
        success, message = False, f"the estimate is not finite ({value}): {message}"
    result = IntegrationResult(float(sign * value), float(error), integrand.n_evals + spent,
                               bool(success), message, used)
    return warn_unless_success(result, IntegrationWarning)


def location_scale(f, lower, upper, *, log):
    """``(g, lower', upper', n_evals)``: f in coordinates centred and scaled to itself.

    Each infinite axis is mapped affinely before the box's own map to a finite range
    (``x = t / (1 - t^2)`` centred at 0 with unit scale): ``x = mode + s z`` on a doubly
    infinite axis, ``x = a + s z`` on ``[a, inf)`` (``b + s z`` on ``(-inf, b]``), with
    the mode and ``s = sqrt(Sigma_jj)`` of the Laplace map (:func:`laplace_map`). Without
    it a Gaussian centred at 3 with scale 0.3 sits in a sliver of the mapped box that
    every rule's nodes miss. When log f has no concave mode, f is returned unchanged.
    """
    function = BatchFunction(f)
    finite = np.isfinite(lower) & np.isfinite(upper)
    log_f = _log_values(function, log)

    start = np.where(finite, 0.5 * (lower + upper), np.clip(0.0, lower, upper))
    try:
        with np.errstate(all="ignore"):
            mode, cov = laplace_map(log_f, start)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return f, lower, upper, function.n_evals
    scale = np.where(finite, 1.0, np.sqrt(np.diag(cov)))
    inside = np.all(np.isfinite(mode)) and np.all((mode >= lower) & (mode <= upper))
    if not inside or not np.all(np.isfinite(scale) & (scale > 0)):
        return f, lower, upper, function.n_evals
    both = ~np.isfinite(lower) & ~np.isfinite(upper)
    centre = np.where(finite, 0.0, np.where(both, mode, np.where(np.isfinite(lower), lower,
                                                                upper)))
    new_lower = np.where(finite, lower, np.where(np.isfinite(lower), 0.0, -np.inf))
    new_upper = np.where(finite, upper, np.where(np.isfinite(upper), 0.0, np.inf))
    log_volume = float(np.sum(np.log(scale)))
    volume = float(np.exp(log_volume))

    def scaled(z):
        values = np.asarray(function(centre + scale * z), dtype=float)
        return values + log_volume if log else values * volume

    return scaled, new_lower, new_upper, function.n_evals


def _adaptive_gauss_hermite(f, d, rtol, atol, log, max_evals):
    """AGHQ over R^d: Gauss-Hermite nodes at the mode of log f, scaled by its Laplace
    covariance (:func:`~bayescalc.integrate.laplace_map`)."""
    function = BatchFunction(f)
    log_f = _log_values(function, log)

    try:
        mode, cov = laplace_map(log_f, np.zeros(d))
    except ValueError as error:
        return IntegrationResult(np.nan, np.inf, function.n_evals, False,
                                 f"gauss-hermite: {error}", "gauss-hermite")
    factor = np.linalg.cholesky(cov)
    log_normalizer = 0.5 * d * np.log(2 * np.pi) + float(np.sum(np.log(np.diag(factor))))

    def log_ratio(x):  # log f - log N(x; mode, cov)
        z = np.linalg.solve(factor, (x - mode).T)
        return log_f(x) + 0.5 * np.sum(z * z, axis=0) + log_normalizer

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        try:
            inner = gauss_hermite_expectation(
                log_ratio, mode, cov, log=True, method="sparse" if d >= 4 else "tensor",
                rtol=max(rtol, 1e-15), max_evals=max(1, max_evals - function.n_evals))
        except ValueError as error:
            return IntegrationResult(np.nan, np.inf, function.n_evals, False,
                                     f"gauss-hermite: {error}", "gauss-hermite")
    value, error = inner.value, inner.error
    if not log:
        value = float(np.exp(value))
        error = value * float(np.expm1(error)) if np.isfinite(error) else np.inf
        success = inner.success or error <= atol
    else:
        success = inner.success or error <= max(atol, rtol)
    n_evals = function.n_evals + inner.n_evals
    return IntegrationResult(float(value), float(error), n_evals, bool(success),
                             f"gauss-hermite at the Laplace map (mode {np.round(mode, 4)}): "
                             + inner.message, "gauss-hermite")


def _run_engine(used, integrand, lower, upper, budget, options):
    """One engine on ``budget`` evaluations, some of them kept for the randomized check."""
    start = integrand.n_evals
    estimate = _ENGINES[used](integrand, lower, upper, max_evals=budget - _check_size(budget),
                              **options)
    return randomized_check(integrand, lower, upper, estimate,
                            budget - (integrand.n_evals - start))


def _auto(integrand, lower, upper, max_evals, options):
    """Choose the rule by measured convergence (see :func:`cubature`, ``method="auto"``)."""
    d = lower.size
    order = (["genz-malik", "sparse-grid"] if d <= _GENZ_MALIK_FIRST_MAX_DIM
             else ["sparse-grid", "genz-malik"])
    pilot = max_evals // 2
    regions = pilot // genz_malik_template(d)[0].shape[0]
    if regions < _MIN_PILOT_REGIONS:  # Genz-Malik cannot be judged on a handful of regions
        order.remove("genz-malik")
    if len(order) == 1:
        return _run_engine(order[0], integrand, lower, upper, max_evals, options), order[0]
    runs = []
    for k, used in enumerate(order):
        budget = max_evals // 2 if k == 0 else max_evals - integrand.n_evals
        estimate = _run_engine(used, integrand, lower, upper, budget, options)
        if estimate.converged:
            return estimate, used
        runs.append((_relative_error(estimate), used, estimate))
    _, used, estimate = min(runs, key=lambda run: run[0])
    return estimate._replace(message=estimate.message + f" ({_pilot_note(runs)})"), used


def _relative_error(estimate):
    return estimate.error / abs(estimate.total) if estimate.total != 0 else np.inf


def _pilot_note(runs):
    return "; ".join(f"{used}: relative error {error:.1e}" for error, used, _ in runs)


def _check_size(max_evals):
    """Points kept for the randomized check: 16 Sobol' sets of 32 to 512 points."""
    per = 2 ** int(np.clip(np.floor(np.log2(max(1, max_evals // 10) / _CHECK_SETS)), 5, 9))
    return _CHECK_SETS * per if _CHECK_SETS * per <= max_evals // 4 else 0


def randomized_check(integrand, lower, upper, estimate, budget, *, seed=0):
    """Test a rule's answer against an independent randomized QMC estimate.

    A rule that places its nodes on a few lines (the sparse grid: every node has most
    coordinates at a box center) can stagnate on an integrand it does not resolve: a
    discontinuity between its nodes adds exact zeros, round after round, and the error
    estimate reads 1e-15 at an error of 10% (Genz's discontinuous family, d = 6 and 10).
    Nothing the rule computes can see that; an estimate from points that do not share its
    structure can. ``R`` from 16 independently scrambled Sobol' sets (the standard error
    ``s`` from their spread, a t with 15 dof) disagrees with the rule's ``Q`` when
    ``|Q - R| > error + 5.2 s`` (a 1e-4 false-alarm rate when ``Q`` is right); the
    answer is then unconverged, with error ``|Q - R| + 2.2 s`` (covers the truth when R's
    95% interval does). A run stopped by its budget gets ``max(error, |Q - R| + 2.2 s)``
    whenever its error is above ``0.1 s`` or ``|Q - R|`` exceeds ``error + 2.2 s``: its
    error then covers the truth whenever R's 95% interval does (on the Genz families in
    d = 6 and 10 the rules' own errors covered in 85% of stopped runs). A stopped run far
    more accurate than the check keeps its own error. ``budget`` points at most (the
    check is skipped below 16 * 32 points).
    """
    n_sets, d = _CHECK_SETS, lower.size
    wanted = max(estimate.n_evals // 4, _CHECK_MIN)
    per = 2 ** int(np.clip(np.floor(np.log2(wanted / n_sets)), 5, 9))
    while n_sets * per > budget and per > 32:
        per //= 2
    if n_sets * per > budget or not np.isfinite(estimate.total):
        return estimate
    layout = samplers.plan("qmc", n_sets * per, d, seed, n_replicates=n_sets)
    unit = np.concatenate([samplers.points(layout, b) for b in layout.batches])
    values = integrand(lower + (upper - lower) * unit)
    shift = estimate.shift
    if integrand.log:
        top = float(np.max(values))
        if np.isfinite(top) and top > shift + 700:  # the check found far more mass
            return estimate._replace(error=np.inf, converged=False, message=(
                "a randomized check found values far above the rule's: unresolved"))
        values = linear_values(values, shift)
    means = float(np.prod(upper - lower)) * values.reshape(n_sets, per).mean(axis=1)
    check, spread = float(means.mean()), float(means.std(ddof=1) / np.sqrt(n_sets))
    gap = abs(estimate.total - check)
    rounding = 64 * np.finfo(float).eps * max(abs(check), abs(estimate.total))
    n_evals = estimate.n_evals + values.size
    if not estimate.converged and (estimate.error >= _CHECK_RESOLVED * spread
                                   or gap > estimate.error + _CHECK_COVER * spread):
        # stopped at an error the check can see: the check's interval bounds it
        return estimate._replace(error=max(estimate.error, gap + _CHECK_COVER * spread),
                                 n_evals=n_evals)
    if gap > estimate.error + _CHECK_ALARM * spread + rounding:
        return estimate._replace(
            error=max(estimate.error, gap + _CHECK_COVER * spread), converged=False,
            n_evals=n_evals, message=(
                f"unresolved: a randomized check ({values.size} scrambled Sobol' points) "
                f"differs from the {estimate.message.split(':')[0]} estimate by "
                f"{gap:.2e}, more than its error {estimate.error:.2e}"))
    return estimate._replace(n_evals=n_evals)


def _cubature_iv(f, lower, upper, rtol, atol, method, log, max_evals):
    check_callable(f)
    low, high, sign, _ = oriented_bounds(lower, upper, log=log)
    rtol, atol = check_tolerances(rtol, atol)
    check_choice(method, "method", METHODS)
    check_bool(log, "log")
    max_evals = check_int(max_evals, "max_evals", minimum=1)
    return low, high, sign, rtol, atol, max_evals


def _log_values(function, log):
    """``x -> log f(x)`` for the Laplace map (f's own values when they are already logs)."""

    def log_f(x):
        values = np.asarray(function(x), dtype=float)
        if log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values)

    return log_f
