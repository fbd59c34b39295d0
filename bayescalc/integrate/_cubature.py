"""``cubature``: integrals over boxes in d dimensions with an honest error estimate."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._core.batch import BatchFunction
from .._core.progress import is_long, progress_bar
from .._core.validation import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_tolerances,
)
from .._core.warnings import IntegrationWarning, warn_unless_success
from ._aghq import FLAGGED, adaptive_gauss_hermite, log_values
from ._bounds import oriented_bounds
from ._laplace import laplace_map
from ._quad import quad
from ._result import IntegrationResult
from .rules.genz_malik import adaptive_genz_malik, genz_malik_template
from .rules.range_maps import BoxIntegrand
from .rules.scaled import finish, linear_values, tolerance
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
_CHECK_RETRY = 4  # a converged answer 2.2 s to 5.2 s off: a second check, 4x the points
# the quantile map (mixed boxes) is skipped when f / phi at an end of an infinite side
# exceeds its value at the centre by e^30: tails like exp(-|x|) or 1/x^2 (e^100 or more
# at the clip), while a Gaussian times a polynomial stays within e^10
_HEAVY_TAIL = 30.0


def cubature(f, lower, upper, *, rtol=1e-8, atol=0.0, method="auto", log=False,
             max_evals=200_000, progress=None) -> IntegrationResult:
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
        exact-fast for Gaussian-like integrands. Ascents from the draws of a wide
        Student-t check that lie far above the Gaussian envelope find other modes, and
        the rule then runs at each (a mixture of their Laplace maps); the check's
        importance estimate flags mass that it still misses. ``"auto"``: :func:`quad`
        for d = 1; on R^d AGHQ first (a quarter of the budget); then the sparse grid and
        Genz–Malik by measured convergence (Genz–Malik first up to d = 3, on half the
        budget; the other gets the rest if the first missed; the smaller relative error
        wins; on R^d their error is at least their gap to AGHQ's estimate, and without a
        concave mode both run and their gap is an error floor). Every answer but the
        tensor rule's is checked against an independent randomized QMC estimate
        (:func:`randomized_check`), which also bounds the error of a run stopped by its
        budget.
    log : bool, keyword-only
    max_evals : int, keyword-only
        Budget of integrand evaluations.
    progress : bool, optional
        A progress bar over the evaluations (tqdm; it stops short of the total when the
        tolerance is met early). Default: shown when ``max_evals`` is at least
        ``LONG_RUN_EVALS`` (10^6); False for none.

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
    checked = _cubature_iv(f, lower, upper, rtol, atol, method, log, max_evals)
    if is_long(checked[-1], progress):
        with progress_bar(total=checked[-1], desc="cubature") as bar:
            return cubature(_counting(f, bar), lower, upper, rtol=rtol, atol=atol,
                            method=method, log=log, max_evals=max_evals, progress=False)
    lower, upper, sign, rtol, atol, max_evals = checked
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
        adapted = adaptive_gauss_hermite(f, lower.size, rtol, atol, log, budget)
        if method == "gauss-hermite" or adapted.success:
            result = adapted if sign > 0 else adapted._replace(value=-adapted.value)
            return warn_unless_success(result, IntegrationWarning)
        max_evals -= adapted.n_evals
    spent = adapted.n_evals if method == "auto" and whole_space else 0
    if method == "auto" and not whole_space and not np.all(np.isfinite(lower + upper)):
        centre = laplace_centre(f, lower, upper, log=log)
        max_evals -= centre.n_evals
        spent += centre.n_evals
        if centre.mode is not None:
            # a Gaussian-like f over a box with infinite sides: first through the normal
            # quantile map at its own centre and spread (f / the reference density is
            # then nearly constant, even for a mode beyond a half-line's end: the
            # reference is the normal truncated to the range); kept only if it converges
            mapped, used = _quantile_map_attempt(f, lower, upper, centre, max_evals // 2,
                                                 rtol, atol, log)
            if mapped.success:
                result = mapped._replace(value=sign * mapped.value,
                                         n_evals=mapped.n_evals + spent)
                return warn_unless_success(result, IntegrationWarning)
            max_evals -= mapped.n_evals
            spent += mapped.n_evals
        f, lower, upper = location_scale(f, lower, upper, centre=centre, log=log)
    integrand = BoxIntegrand(f, lower, upper, log=log)
    if integrand.mapped.any():  # issue 8: a tail that does not vanish means divergence
        divergent, _ = box_divergence(integrand.function, lower, upper, log=log)
        if divergent:
            return warn_unless_success(IntegrationResult(
                np.nan, np.inf, integrand.n_evals, False, divergent, method), IntegrationWarning)
    options = dict(rtol=rtol, atol=atol, log=log)
    t_lower, t_upper = integrand.t_lower, integrand.t_upper
    if method == "auto":
        # over R^d without a concave mode (AGHQ found no Laplace map: rings, ridges) the
        # two box rules must agree: both run, and their gap is an error floor
        both = whole_space and not np.isfinite(adapted.value)
        estimate, used = _auto(integrand, t_lower, t_upper, max_evals, options, both=both)
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
    if method == "auto" and whole_space:
        value, error, success, message, used = _second_opinion(
            (value, error, success, message, used), adapted, rtol=rtol, atol=atol, log=log)
    result = IntegrationResult(float(sign * value), float(error), integrand.n_evals + spent,
                               bool(success), message, used)
    return warn_unless_success(result, IntegrationWarning)


def _second_opinion(fallback, adapted, *, rtol, atol, log):
    """The fallback's answer over R^d, its error at least its distance from AGHQ's.

    AGHQ at the modes it found (:mod:`._aghq`) missed the tolerance but, unless its
    importance check flagged missed mass, its estimate is an independent one: the rules
    on the mapped box (nodes on a few lines through the centre) can agree with
    themselves far more closely than they agree with it (two modes 4-7 standard deviations
    apart: the sparse grid 1.4e-8 to 8e-7 off with bars of 5e-11 to 6e-10, AGHQ's mixture
    2e-9 to 6e-8 off). The disagreement becomes the fallback's error, and of the two the
    answer with the smaller error is returned.
    """
    value, error, success, message, used = fallback
    if not (np.isfinite(adapted.value) and np.isfinite(adapted.error)) or (
            FLAGGED in adapted.message) or not np.isfinite(value):
        return fallback
    gap = abs(value - adapted.value)
    allowed = max(atol, rtol) if log else max(atol, rtol * abs(value))
    if gap > error:
        error = gap
        success = success and error <= allowed
        message += f" (AGHQ's estimate differs by {gap:.2e}: that is the error)"
    if adapted.error < error:
        return (adapted.value, adapted.error, adapted.error <= allowed,
                adapted.message + f" (the box rules' estimate, {used}, differs by {gap:.2e})",
                adapted.method)
    return value, error, success, message, used


class LaplaceCentre(NamedTuple):
    """The mode and per-axis Laplace scale of log f (``None`` when it has no concave
    mode), whether the mode lies in the box, and the evaluations spent finding them."""

    mode: np.ndarray | None
    scale: np.ndarray | None
    n_evals: int
    inside: bool = False
    cov: np.ndarray | None = None


def laplace_centre(f, lower, upper, *, log) -> LaplaceCentre:
    """The mode of log f in the box and ``sqrt(Sigma_jj)`` of its Laplace map."""
    function = BatchFunction(f)
    finite = np.isfinite(lower) & np.isfinite(upper)
    log_f = log_values(function, log)

    start = np.where(finite, 0.5 * (lower + upper), np.clip(0.0, lower, upper))
    try:
        with np.errstate(all="ignore"):
            mode, cov = laplace_map(log_f, start)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return LaplaceCentre(None, None, function.n_evals)
    scale = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(mode)) and np.all(np.isfinite(scale) & (scale > 0))):
        return LaplaceCentre(None, None, function.n_evals)
    inside = bool(np.all((mode >= lower) & (mode <= upper)))
    return LaplaceCentre(mode, scale, function.n_evals, inside, cov)


def location_scale(f, lower, upper, *, centre: LaplaceCentre, log):
    """``(g, lower', upper')``: f in coordinates centred and scaled to itself.

    Each infinite axis is mapped affinely before the box's own map to a finite range
    (``x = t / (1 - t^2)`` centred at 0 with unit scale): ``x = mode + s z`` on a doubly
    infinite axis, ``x = a + s z`` on ``[a, inf)`` (``b + s z`` on ``(-inf, b]``), with
    the mode and ``s = sqrt(Sigma_jj)`` of the Laplace map (:func:`laplace_centre`).
    Without it a Gaussian centred at 3 with scale 0.3 sits in a sliver of the mapped box
    that every rule's nodes miss. When log f has no concave mode, f is returned unchanged.
    """
    if centre.mode is None or not centre.inside:
        return f, lower, upper
    finite = np.isfinite(lower) & np.isfinite(upper)
    scale = np.where(finite, 1.0, centre.scale)
    both = ~np.isfinite(lower) & ~np.isfinite(upper)
    shift = np.where(finite, 0.0, np.where(both, centre.mode,
                                           np.where(np.isfinite(lower), lower, upper)))
    new_lower = np.where(finite, lower, np.where(np.isfinite(lower), 0.0, -np.inf))
    new_upper = np.where(finite, upper, np.where(np.isfinite(upper), 0.0, np.inf))
    log_volume = float(np.sum(np.log(scale)))
    volume = float(np.exp(log_volume))
    function = BatchFunction(f)

    def scaled(z):
        values = np.asarray(function(shift + scale * z), dtype=float)
        return values + log_volume if log else values * volume

    return scaled, new_lower, new_upper


class QuantileMap:
    r"""f on the unit cube through the Gaussian of its Laplace map, axis after axis.

    The Rosenblatt transform of ``N(m, Sigma)`` (the mode and Laplace covariance of
    log f) restricted to the box: the finite sides first, mapped linearly; then each
    infinite side ``k`` given the ones before it, ``x_k = mu_k + sigma_k z_k`` with
    ``mu_k, sigma_k`` the conditional mean and spread (a Cholesky factor of ``Sigma`` in
    that order) and ``z_k`` the quantile of ``u_k`` under the standard normal truncated
    to the side's range ``((a_k - mu_k)/sigma_k, (b_k - mu_k)/sigma_k)``:
    ``dx_k/du_k = sigma_k M_k / phi(z_k)``, ``M_k`` the mass of the range. The box stays
    a box (the truncation follows each point), and for a Gaussian f, ``f(x(u)) |dx/du|``
    is ``prod_k M_k`` times the finite sides' density: smooth and bounded, so the rules on
    the cube converge in a few levels. This is AGHQ's location-scale map carried to
    half-lines (a half-line with its mode at the end gets the half-normal; a mode beyond
    the end, the normal's tail). The quantile is taken from the nearer tail and clipped
    at ``|z| <= sqrt(1200 / k)`` (``k`` infinite sides; 17 for k = 4), so the ends of the
    cube are finite points where a Gaussian-like f does not underflow even at a corner.
    Heavier tails than the normal make ``f / phi`` grow at the ends; the rules then miss
    the tolerance and ``cubature`` falls back to :func:`location_scale`.
    """

    def __init__(self, f, lower, upper, mode, cov, *, log):
        from scipy.special import ndtr

        self.function = BatchFunction(f)
        self.log = log
        self.lower, self.upper = lower, upper
        finite = np.isfinite(lower) & np.isfinite(upper)
        self.order = np.concatenate([np.flatnonzero(finite), np.flatnonzero(~finite)])
        self.finite = finite
        self.mode = mode
        self.factor = np.linalg.cholesky(cov[np.ix_(self.order, self.order)])
        self.clip = float(ndtr(-np.sqrt(1200.0 / max(1, int((~finite).sum())))))
        self.log_finite_volume = float(np.sum(np.log(upper[finite] - lower[finite])))

    @property
    def n_evals(self) -> int:
        return self.function.n_evals

    def points(self, u):
        """``(x, log |dx/du|)`` for points ``u`` of the unit cube."""
        from scipy.special import log_ndtr, ndtr, ndtri

        u = np.asarray(u, dtype=float)
        n = u.shape[0]
        x = np.empty_like(u)
        z = np.empty((n, u.shape[1]))
        log_jacobian = np.full(n, self.log_finite_volume)
        for row, axis in enumerate(self.order):
            scale = self.factor[row, row]
            mean = self.mode[axis] + z[:, :row] @ self.factor[row, :row]
            if self.finite[axis]:
                x[:, axis] = self.lower[axis] + (self.upper[axis] - self.lower[axis]) * u[:, axis]
                z[:, row] = (x[:, axis] - mean) / scale
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                za = (self.lower[axis] - mean) / scale
                zb = (self.upper[axis] - mean) / scale
            flip = za > 0  # a range in the upper tail: work on -z (its small tail)
            lo, hi = np.where(flip, -zb, za), np.where(flip, -za, zb)
            log_hi, log_lo = log_ndtr(hi), log_ndtr(lo)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_mass = log_hi + np.log1p(-np.exp(log_lo - log_hi))
            mass = np.exp(log_mass)
            p = np.maximum(ndtr(lo) + u[:, axis] * mass, self.clip)
            q = np.maximum(ndtr(-hi) + (1.0 - u[:, axis]) * mass, self.clip)
            side = np.where(p < q, ndtri(p), -ndtri(q))
            side = np.where(flip, -side, side)
            z[:, row] = side
            x[:, axis] = mean + scale * side
            log_jacobian += np.log(scale) + log_mass + 0.5 * side * side + 0.5 * np.log(
                2 * np.pi)
        return x, log_jacobian

    def __call__(self, u):
        x, log_jacobian = self.points(u)
        values = np.asarray(self.function(x), dtype=float)
        if self.log:
            return values + log_jacobian
        with np.errstate(divide="ignore", over="ignore"):  # 0 * e^big is 0, not nan
            return np.sign(values) * np.exp(np.log(np.abs(values)) + log_jacobian)


def _quantile_map_attempt(f, lower, upper, centre, budget, rtol, atol, log):
    """``cubature`` of f through :class:`QuantileMap` on the unit cube, on ``budget``."""
    mapped = QuantileMap(f, lower, upper, centre.mode, centre.cov, log=log)
    unit_lower, unit_upper = np.zeros(lower.size), np.ones(lower.size)
    if budget < 1000:
        return IntegrationResult(np.nan, np.inf, 0, False, "no budget", "auto"), "auto"
    # Probe the ends of every infinite side (the centre of the cube elsewhere): tails
    # far heavier than the normal make f / phi grow there by many decades, and the
    # rules would spend the budget on them; then skip to the affine map at once.
    infinite = np.flatnonzero(~(np.isfinite(lower) & np.isfinite(upper)))
    probes = np.full((2 * infinite.size + 1, lower.size), 0.5)
    probes[1 + np.arange(infinite.size), infinite] = 0.0
    probes[1 + infinite.size + np.arange(infinite.size), infinite] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        values = mapped(probes)
        magnitude = values if log else np.log(np.abs(values))
    if not np.all(np.isfinite(magnitude[1:]) | (magnitude[1:] == -np.inf)) or not (
            np.isfinite(magnitude[0]) and np.max(magnitude[1:]) - magnitude[0] <= _HEAVY_TAIL):
        return IntegrationResult(np.nan, np.inf, mapped.n_evals, False,
                                 "tails heavier than the normal: no quantile map",
                                 "auto"), "auto"
    integrand = BoxIntegrand(mapped, unit_lower, unit_upper, log=log)
    options = dict(rtol=rtol, atol=atol, log=log)
    estimate, used = _auto(integrand, integrand.t_lower, integrand.t_upper,
                           budget - mapped.n_evals, options)
    value, error = finish(estimate, log=log)
    success = bool(estimate.converged and np.isfinite(value) and not (
        not log and integrand.all_zero))
    message = (f"{estimate.message} (through the Gaussian quantile map at the Laplace "
               f"centre {np.round(centre.mode, 4)}, scales {np.round(centre.scale, 4)})")
    return IntegrationResult(float(value), float(error), mapped.n_evals, success, message,
                             used), used


def _run_engine(used, integrand, lower, upper, budget, options):
    """One engine on ``budget`` evaluations, some of them kept for the randomized check."""
    start = integrand.n_evals
    estimate = _ENGINES[used](integrand, lower, upper, max_evals=budget - _check_size(budget),
                              **options)
    return randomized_check(integrand, lower, upper, estimate,
                            budget - (integrand.n_evals - start))


def _auto(integrand, lower, upper, max_evals, options, *, both=False):
    """Choose the rule by measured convergence (see :func:`cubature`, ``method="auto"``).

    ``both``: run both rules (half the budget each) even when the first converges, and
    return the one with the smaller relative error, its error at least the gap between
    them (converged only if it still meets the tolerance): a thin ring over R^2 fooled
    each rule alone (3.9 nats off with a bar of 1e-8) but not both the same way.
    """
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
        if estimate.converged and not both:
            return estimate, used
        runs.append((_relative_error(estimate), used, estimate))
    _, used, estimate = min(runs, key=lambda run: run[0])
    if both:
        other = next(run[2] for run in runs if run[1] != used)
        gap = abs(estimate.total - _rescaled_total(other, estimate.shift))
        if gap > estimate.error:
            allowed = tolerance(estimate.total, estimate.shift, **options)
            estimate = estimate._replace(error=gap,
                                         converged=estimate.converged and gap <= allowed)
    return estimate._replace(message=estimate.message + f" ({_pilot_note(runs)})"), used


def _rescaled_total(estimate, shift):
    """``estimate.total`` in the units of ``exp(shift)``."""
    if estimate.shift == shift:
        return estimate.total
    if not np.isfinite(estimate.shift):
        return 0.0
    return estimate.total * float(np.exp(estimate.shift - shift))


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
    n_sets = _CHECK_SETS
    wanted = max(estimate.n_evals // 4, _CHECK_MIN)
    per = 2 ** int(np.clip(np.floor(np.log2(wanted / n_sets)), 5, 9))
    while n_sets * per > budget and per > 32:
        per //= 2
    if n_sets * per > budget or not np.isfinite(estimate.total):
        return estimate
    drawn = _check_estimate(integrand, lower, upper, estimate.shift, n_sets, per, seed)
    if drawn is None:  # the check found far more mass
        return estimate._replace(error=np.inf, converged=False, message=(
            "a randomized check found values far above the rule's: unresolved"))
    check, spread, size = drawn
    gap = abs(estimate.total - check)
    if (estimate.converged and gap > estimate.error + _CHECK_COVER * spread
            and budget >= size + _CHECK_RETRY * size):
        # suspicious but not conclusive (a thin shell that few points hit: 3.4 s apart
        # at 0.02 of the truth): a second check with four times the points decides
        larger = _check_estimate(integrand, lower, upper, estimate.shift, n_sets,
                                 _CHECK_RETRY * per, seed + 1)
        if larger is None:
            return estimate._replace(error=np.inf, converged=False, message=(
                "a randomized check found values far above the rule's: unresolved"))
        check, spread, more = larger
        size += more
        gap = abs(estimate.total - check)
    elif estimate.converged and gap > estimate.error + _CHECK_COVER * spread:
        # suspicious, and no budget left for the second check: not converged, with the
        # check's bound (two thin shells in 2-D, mapped from R^2: Genz-Malik converged
        # 0.4 nats off, one third of the mass missed, with a relative error of 1.5e-4,
        # passed by a 2,048-point check that could not afford its retry)
        return estimate._replace(
            error=max(estimate.error, gap + _CHECK_COVER * spread), converged=False,
            n_evals=estimate.n_evals + size, message=(
                f"unresolved: a randomized check ({size} scrambled Sobol' points) differs "
                f"from the {estimate.message.split(':')[0]} estimate by {gap:.2e}, more "
                f"than its error {estimate.error:.2e} plus 2.2 of the check's standard "
                "errors, and the budget left no room for a larger check"))
    rounding = 64 * np.finfo(float).eps * max(abs(check), abs(estimate.total))
    n_evals = estimate.n_evals + size
    if not estimate.converged and (estimate.error >= _CHECK_RESOLVED * spread
                                   or gap > estimate.error + _CHECK_COVER * spread):
        # stopped at an error the check can see: the check's interval bounds it
        return estimate._replace(error=max(estimate.error, gap + _CHECK_COVER * spread),
                                 n_evals=n_evals)
    # (a rule that saw exactly nothing while the check's points found mass, however few,
    # has not resolved f: a thin ring that no node hit "converged" to 0 with error 0)
    if gap > estimate.error + _CHECK_ALARM * spread + rounding or (
            estimate.total == 0 and check != 0):
        return estimate._replace(
            error=max(estimate.error, gap + _CHECK_COVER * spread), converged=False,
            n_evals=n_evals, message=(
                f"unresolved: a randomized check ({size} scrambled Sobol' points) "
                f"differs from the {estimate.message.split(':')[0]} estimate by "
                f"{gap:.2e}, more than its error {estimate.error:.2e}"))
    return estimate._replace(n_evals=n_evals)


def _check_estimate(integrand, lower, upper, shift, n_sets, per, seed):
    """``(R, s, points)`` of the randomized check (in the rule's scaled units), or None
    when log f exceeds the rule's largest value by e^700."""
    d = lower.size
    layout = samplers.plan("qmc", n_sets * per, d, seed, n_replicates=n_sets)
    unit = np.concatenate([samplers.points(layout, b) for b in layout.batches])
    values = integrand(lower + (upper - lower) * unit)
    if integrand.log:
        top = float(np.max(values))
        if np.isfinite(top) and top > shift + 700:
            return None
        values = linear_values(values, shift)
    means = float(np.prod(upper - lower)) * values.reshape(n_sets, per).mean(axis=1)
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(n_sets)), values.size


def _counting(f, bar):
    """f, advancing ``bar`` by the number of points of each call."""

    def counted(x):
        bar.update(int(np.shape(x)[0]) if np.ndim(x) > 1 else 1)
        return f(x)

    return counted


def _cubature_iv(f, lower, upper, rtol, atol, method, log, max_evals):
    check_callable(f)
    low, high, sign, _ = oriented_bounds(lower, upper, log=log)
    rtol, atol = check_tolerances(rtol, atol)
    check_choice(method, "method", METHODS)
    check_bool(log, "log")
    max_evals = check_int(max_evals, "max_evals", minimum=1)
    return low, high, sign, rtol, atol, max_evals
