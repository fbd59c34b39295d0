"""``quad``: adaptive one-dimensional integration with an honest error estimate."""

from __future__ import annotations

import math

import numpy as np

from .._core.arraykind import to_numpy
from .._core.validation import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_tolerances,
)
from .._core.warnings import IntegrationWarning, warn_unless_success
from ._result import IntegrationResult, zero_integrand_message
from .rules.doubling_rules import doubling_gauss_legendre, doubling_simpson
from .rules.gauss_kronrod import adaptive_gauss_kronrod
from .rules.qags import adaptive_qags
from .rules.range_maps import NonFiniteValue, WrappedIntegrand, t_of_x, t_range
from .rules.scaled import finish
from .rules.tails import measure_tail
from .rules.tanh_sinh import adaptive_tanh_sinh
from .rules.weights import check_weight, weighted_quad

METHODS = ("auto", "gauss-kronrod", "qags", "tanh-sinh", "gauss-legendre", "simpson")
_ENGINES = {
    "gauss-kronrod": adaptive_gauss_kronrod,
    "qags": adaptive_qags,
    "tanh-sinh": adaptive_tanh_sinh,
    "gauss-legendre": doubling_gauss_legendre,
    "simpson": doubling_simpson,
}
# "auto" keeps this much of max_evals for the tanh-sinh fallback.
_FALLBACK_RESERVE = 4000
# ... and hands over to tanh-sinh once the worst subinterval is an end one bisected this often
# (deeper on infinite ranges, whose mapped integrand is often steep but harmless at t = 0,
# unless it grows toward the end: then 2 there too). Indexed by "is the range infinite".
_ENDPOINT_DEPTH = (2, 4)
_NO_POINTS = np.zeros(0)
_NO_POINTS.flags.writeable = False


def quad(f, a, b, *, rtol=1e-10, atol=0.0, method="auto", log=False, max_evals=50_000,
         points=None, weight=None, wvar=None) -> IntegrationResult:
    r"""Integrate ``f`` from ``a`` to ``b``: :math:`I = \int_a^b f(x)\,dx`.

    Parameters
    ----------
    f : callable
        Vectorized: takes nodes of shape ``(n,)`` and returns shape ``(n,)``. A function
        of one float (``math.exp``) or of torch tensors is detected and wrapped (slower).
        With ``log=True`` it returns :math:`\log f(x)` (``-inf`` where ``f = 0``).
    a, b : float
        Limits; either may be ``±inf``. ``a > b`` flips the sign; ``a == b`` gives 0.
    rtol, atol : float, keyword-only
        Stop when ``error <= max(atol, rtol * |I|)``. With ``log=True`` both bound the
        error of :math:`\log I` (the relative error of :math:`I`).
    method : str, keyword-only
        ``"auto"`` (default): adaptive Gauss–Kronrod with Wynn ε-extrapolation (QAGS),
        handing over to tanh-sinh when the error piles up at an end at 0; on an infinite
        range the double exponential rules (exp-sinh, sinh-sinh) are tried first. The
        better answer is returned when a rule misses. ``"gauss-kronrod"``: globally
        adaptive G10/K21, all active subintervals evaluated in one call per round.
        ``"qags"``: QUADPACK's QAGS, Gauss–Kronrod bisecting one subinterval at a time
        with Wynn ε-extrapolation of the bisection sums (singularities at any end, kinks;
        not with ``log=True``).
        ``"tanh-sinh"``: double exponential, for endpoint singularities such as
        :math:`1/\sqrt{x}` or :math:`\log x`. ``"gauss-legendre"``, ``"simpson"``: the
        textbook rules refined uniformly (baselines).
    log : bool, keyword-only
        ``f`` returns log values; the result is :math:`\log I`, summed with log-sum-exp
        so that integrands whose values all underflow float64 still integrate.
    max_evals : int, keyword-only
        Budget of integrand evaluations; every loop stops there.
    points : sequence of float, optional
        Known breakpoints inside ``(a, b)`` (kinks, jumps, peaks) where subintervals start.
        f is never evaluated at a breakpoint (nor at ``a`` or ``b``).
    weight, wvar : optional
        Integrate ``f(x) w(x)`` for a known weight ``w``, as ``scipy.integrate.quad``
        (:mod:`bayescalc.integrate.rules.weights`): ``'alg'`` ``(x-a)^α (b-x)^β`` with
        ``wvar=(α, β)``, ``'alg-loga'``, ``'alg-logb'``, ``'alg-log'`` (times ``log(x-a)``,
        ``log(b-x)``, both); ``'cauchy'``: the principal value of ``f(x) / (x - c)``,
        ``wvar=c``; ``'cos'``, ``'sin'``: ``cos(ωx)``, ``sin(ωx)`` with ``wvar=ω``, on a
        finite range or a half-infinite one (``∫_0^∞ sin(x)/x`` is ``f = 1/x``,
        ``weight='sin'``, ``wvar=1``). Not with ``log=True`` or ``points``.

    Returns
    -------
    IntegrationResult
        ``value`` (:math:`I`, or :math:`\log I` with ``log=True``), ``error``,
        ``n_evals``, ``success``, ``message``, ``method``. A missed tolerance gives
        ``success=False`` and an :class:`IntegrationWarning`.

    Notes
    -----
    Infinite ranges are mapped to finite ones (:mod:`bayescalc.integrate.rules.range_maps`);
    with ``method="tanh-sinh"`` that gives the exp-sinh and sinh-sinh rules. The tail
    beyond ``|x| = 1e100`` is measured first (:mod:`bayescalc.integrate.rules.tails`): one that
    decays no faster than ``|x|^-1.02`` gives ``success=False`` with "divergent?";
    a slower convergent one is added to the value and to the error. f overflowing to
    ``±inf`` (``x**-1.5`` at 0) is reported as divergence too.
    With ``log=False``, an integrand that is exactly 0 at every node is reported as a
    failure: it usually means ``exp`` underflowed (use ``log=True``).

    Examples
    --------
    >>> import numpy as np
    >>> r = quad(np.exp, 0.0, 1.0)
    >>> print(f"{r.value:.12f} {r.success} {r.n_evals}")
    1.718281828459 True 21
    >>> r = quad(lambda x: 1 / np.sqrt(x), 0.0, 1.0, method="tanh-sinh")
    >>> print(f"{r.value:.10f}")
    2.0000000000
    >>> r = quad(lambda x: -x**2, -np.inf, np.inf, log=True)   # log of sqrt(pi)
    >>> print(f"{r.value:.12f} {0.5 * np.log(np.pi):.12f}")
    0.572364942925 0.572364942925
    >>> r = quad(lambda x: 1 / x, 0.0, np.inf, weight="sin", wvar=1.0)   # ∫ sin(x)/x
    >>> print(f"{r.value:.10f} {np.pi / 2:.10f} {r.success}")
    1.5707963268 1.5707963268 True
    """
    a, b, rtol, atol, method, max_evals, points = _quad_iv(
        f, a, b, rtol, atol, method, log, max_evals, points)
    if weight is not None:
        wvar = check_weight(weight, wvar, a, b)
        if log or points.size:
            raise ValueError(f"weight={weight!r} cannot be combined with log=True or points=")
    if a == b:
        return IntegrationResult(-np.inf if log else 0.0, 0.0, 0, True,
                                 "empty range (a == b)", method)
    sign = 1.0
    if a > b:
        if log:
            raise ValueError(f"with log=True, a must be <= b (the integral from a = {a} to "
                             f"b = {b} is negative, its log undefined)")
        a, b, sign = b, a, -1.0
    if weight is not None:
        result = weighted_quad(quad, f, a, b, weight, wvar, rtol=rtol, atol=atol,
                               max_evals=max_evals)
        result = IntegrationResult(sign * result.value, result.error, result.n_evals,
                                   result.success, result.message, result.method)
        return warn_unless_success(result, IntegrationWarning)
    integrand = WrappedIntegrand(f, a, b, log=log)
    tails = _measure_tails(integrand, a, b, log)
    divergent = [tail for tail in tails if tail[1].divergent]
    if divergent:
        result = _divergent_result(divergent, integrand, sign, log, method)
        return warn_unless_success(result, IntegrationWarning)
    options = dict(rtol=rtol, atol=atol, log=log)
    try:
        if method == "auto":
            estimate, used, wrappers = _auto(integrand, points, options, max_evals)
        else:
            mapped = _mapped_for(method, integrand)
            estimate = _ENGINES[method](mapped, _edges(mapped, points), max_evals=max_evals,
                                        **options)
            used, wrappers = method, [mapped]
    except NonFiniteValue as error:
        if not error.overflow:
            raise
        result = IntegrationResult(
            sign * np.inf, np.inf, integrand.n_evals, False,
            f"f overflows to ±inf at x = {error.x!r}: a non-integrable singularity there "
            "(the integral is divergent?), or an integrable one hit exactly by a node (then "
            "give it with points=)", method)
        return warn_unless_success(result, IntegrationWarning)
    value, error = finish(estimate, log=log)
    success, message = estimate.converged, estimate.message
    if all(wrapper.all_zero for wrapper in wrappers) or (
            error == 0 and value == (-np.inf if log else 0.0)):
        # Nothing but zeros (or -inf in log space) seen: f may be 0, or be nonzero only
        # where no node fell (a narrow peak on a wide range, exp(-(x - 1000)^2 / 2) on
        # [0, inf)): the nodes cannot tell, so nothing is promised. The same result
        # with and without log=True.
        value, error, success = (-np.inf if log else 0.0), np.inf, False
        message = zero_integrand_message(integrand.n_evals, "nodes", log)
    value, error, success, message = _add_tails(tails, value, error, success, message,
                                                rtol, atol, log)
    if not math.isfinite(value) and not (log and value == -np.inf):
        success = False
        message = f"the estimate is not finite ({value}): {message}"
    result = IntegrationResult(float(sign * value), float(error), integrand.n_evals,
                               bool(success), message, used)
    return warn_unless_success(result, IntegrationWarning)


def _measure_tails(integrand, a, b, log):
    """``[(side, Tail)]`` for each infinite end (nothing on a finite range)."""
    tails = []
    if math.isinf(b):
        tails.append(("+inf", measure_tail(integrand.function, a if math.isfinite(a) else 0.0,
                                           1.0, log=log)))
    if math.isinf(a):
        tails.append(("-inf", measure_tail(integrand.function, b if math.isfinite(b) else 0.0,
                                           -1.0, log=log)))
    return tails


def _divergent_result(divergent, integrand, sign, log, method):
    side, tail = divergent[0]
    if tail.power > 1.0:  # maybe convergent, but not within reach: no value to give
        value = np.nan
    else:
        value = np.inf if log else (math.copysign(np.inf, tail.signed) if tail.signed else np.nan)
    power = "" if not math.isfinite(tail.power) else f" (like |x|^{-tail.power:.3g})"
    message = (f"f does not decay clearly faster than 1/|x| toward x = {side}{power}, "
               "measured over |x| from 1e49 to 1e100: the integral is divergent? (or "
               "converges too slowly for float64; "
               "an oscillating f such as sin(x)/x may converge only conditionally: use "
               "weight='sin' or 'cos' with wvar)")
    return IntegrationResult(float(sign * value) if not log else value, np.inf,
                             integrand.n_evals, False, message, method)


def _add_tails(tails, value, error, success, message, rtol, atol, log):
    """Add the measured tails beyond |x| = 1e100 to the value and to the error."""
    for side, tail in tails:
        if log:
            if tail.size == -np.inf or value == -np.inf:
                continue
            relative = math.exp(tail.size - value)
            value, error = value + math.log1p(relative), error + math.exp(tail.bound - value)
            allowed = max(rtol, atol)
        else:
            if tail.size == 0.0:
                continue
            value, error = value + tail.signed, error + tail.bound
            allowed = max(atol, rtol * abs(value))
        if success and error > allowed:
            success = False
            size = math.exp(tail.size) if log else tail.size
            message = (f"the part beyond |x| = 1e100 toward {side} holds about {size:.2e} "
                       f"(f decays only like |x|^{-tail.power:.3g}), more than the tolerance "
                       f"allows: the integral converges too slowly to resolve, or is "
                       f"divergent? (the estimate includes that part, the error covers it)")
    return value, error, success, message


def _auto(integrand, points, options, max_evals):
    """Pick a rule, fall back on failure; returns the estimate, its method, the maps used.

    Infinite range: the double exponential rule first (exp-sinh, sinh-sinh), with an
    eighth of the budget: tails that decay like a power or faster cost tens of nodes; on a
    half-infinite range, if it misses, again on the map that also resolves the finite
    end to 1e-300 (a singularity there, as in exp(-x)/sqrt(x)).
    Then, as on a finite range: Gauss–Kronrod with Wynn ε-extrapolation (QAGS; the plain
    vectorized Gauss–Kronrod with ``log=True``), handing over to tanh-sinh when the error
    piles up at an end that maps to ``t = 0`` (where tanh-sinh resolves nodes to 1e-300).
    When every rule misses, the most accurate estimate is returned, and the message has
    one sentence per rule tried.
    """
    tried, wrappers = [], [integrand]
    if integrand.kind != "finite":
        maps = [_mapped_for("tanh-sinh", integrand)]
        if integrand.kind != "infinite":  # then with both ends resolved (transforms)
            maps.append(integrand.remapped(integrand.kind + "-split"))
        labels = {"infinite-sinh": "sinh-sinh", "upper-infinite": "exp-sinh",
                  "lower-infinite": "exp-sinh"}
        for de in maps:
            first = adaptive_tanh_sinh(de, _edges(de, points), max_evals=max_evals // 8,
                                       patience=2, **options)
            if first.converged:
                return first, "tanh-sinh", [de]
            tried.append(("tanh-sinh", first, labels.get(de.kind, "tanh-sinh on the split map")))
            wrappers.append(de)
    tried += [(name, estimate, _LABELS[name]) for name, estimate in
              _gauss_kronrod_then_tanh_sinh(integrand, _edges(integrand, points), options,
                                            max_evals)]
    name, estimate, _ = tried[-1]
    if estimate.converged:
        if len(tried) > 1:
            estimate = estimate._replace(message=_after(tried[:-1], estimate))
        return estimate, name, wrappers
    # A rule that diagnosed divergence (error inf) outranks finite errors of the others:
    # theirs cannot be trusted for an integral that may not exist.
    divergent = [entry for entry in tried
                 if entry[1].error == np.inf and "divergent?" in entry[1].message]
    chosen = divergent[0] if divergent else min(tried, key=lambda entry: _relative(entry[1]))
    return chosen[1]._replace(message=_all_missed(tried, chosen)), chosen[0], wrappers


def _gauss_kronrod_then_tanh_sinh(integrand, edges, options, max_evals):
    """QAGS (or Gauss–Kronrod); at an endpoint singularity at t = 0, tanh-sinh; then QAGS.

    Returns the ``[(method, estimate)]`` tried, the last one converged if any did.
    """
    log = options["log"]
    depth = _ENDPOINT_DEPTH[integrand.kind != "finite"]
    reserve = min((max_evals - integrand.n_evals) // 4, _FALLBACK_RESERVE)
    # tanh-sinh resolves nodes to 1e-300 only next to t = 0 (elsewhere to eps |t|)
    watch = dict(endpoint_depth=depth, watched=(0.0,)) if 0.0 in set(edges.tolist()) else {}
    if log:
        name = "gauss-kronrod"
        first = adaptive_gauss_kronrod(integrand, edges,
                                       max_evals=max_evals - integrand.n_evals - reserve,
                                       endpoint_depth=depth, growing_depth=2, **options)
    else:
        name = "qags"
        first = adaptive_qags(integrand, edges, max_evals=max_evals - integrand.n_evals - reserve,
                              rtol=options["rtol"], atol=options["atol"], **watch)
    tried = [(name, first)]
    if first.converged or not first.message.startswith("endpoint") and not log:
        return tried
    second = adaptive_tanh_sinh(integrand, edges, max_evals=max_evals - integrand.n_evals,
                                patience=2, **options)
    tried.append(("tanh-sinh", second))
    if second.converged:
        return tried
    if first.message.startswith("endpoint"):  # not a clean endpoint singularity after all
        if log:
            third = adaptive_gauss_kronrod(integrand, edges,
                                           max_evals=max_evals - integrand.n_evals, **options)
        else:
            third = adaptive_qags(integrand, edges, max_evals=max_evals - integrand.n_evals,
                                  rtol=options["rtol"], atol=options["atol"])
        tried[0] = (name, third)  # it supersedes the first, which only stopped to hand over
        tried.append(tried.pop(0))
    return tried


_LABELS = {"qags": "Gauss-Kronrod with extrapolation", "gauss-kronrod": "Gauss-Kronrod",
           "tanh-sinh": "tanh-sinh"}


def _after(missed, used):
    """The message of a converged ``used`` after the rules in ``missed`` stopped."""
    others = "; ".join(f"{label} stopped: {estimate.message}" for _, estimate, label in missed)
    return f"{used.message} (first {others})"


def _all_missed(tried, chosen):
    """One sentence per rule that missed, the returned one first."""
    ordered = [chosen] + [entry for entry in tried if entry is not chosen]
    sentences = [f"{label} missed: {estimate.message}." for _, estimate, label in ordered]
    return f"No rule met the tolerance; the estimate is {chosen[2]}'s. " + " ".join(sentences)


def _mapped_for(method, integrand):
    """tanh-sinh maps (-inf, inf) as one interval (sinh-sinh), the other rules split it."""
    if method == "tanh-sinh" and integrand.kind == "infinite":
        return integrand.remapped("infinite-sinh")
    return integrand


def _relative(estimate):
    return estimate.error / abs(estimate.total) if estimate.total else np.inf


def _edges(integrand, points):
    """Breakpoints in the variable of integration (after the infinite-range map)."""
    kind, a, b = integrand.kind, integrand.a, integrand.b
    fixed = np.array((a, b) if kind == "finite" else t_range(kind))
    if not points.size:
        return fixed
    inner = t_of_x(kind, a, b, points)
    inner = inner[(inner > fixed[0]) & (inner < fixed[-1])]
    return np.unique(np.concatenate([fixed, inner]))


def _quad_iv(f, a, b, rtol, atol, method, log, max_evals, points):
    check_callable(f)
    a, b = _limit(a, "a"), _limit(b, "b")
    if a == b and not math.isfinite(a):
        raise ValueError(f"a and b are both {a}: the range is empty or undefined")
    rtol, atol = check_tolerances(rtol, atol)
    check_choice(method, "method", METHODS)
    check_bool(log, "log")
    if method == "qags" and log:
        raise ValueError("method='qags' integrates f itself: with log=True use 'auto', "
                         "'gauss-kronrod' or 'tanh-sinh'")
    max_evals = check_int(max_evals, "max_evals", minimum=21)
    if points is None:
        return a, b, rtol, atol, method, max_evals, _NO_POINTS
    points = np.atleast_1d(to_numpy(points)).ravel()
    if not np.all(np.isfinite(points)):
        raise ValueError(f"points must be finite, got {points}")
    return a, b, rtol, atol, method, max_evals, points


def _limit(value, name):
    """A limit of integration as a float (±inf allowed, NaN not)."""
    if type(value) is float:  # the common case, without an array round trip
        limit = value
    else:
        array = to_numpy(value)
        if array.ndim != 0:
            raise ValueError(f"{name} must be a scalar, got shape {array.shape}")
        limit = float(array)
    if math.isnan(limit):
        raise ValueError(f"{name} must not be NaN")
    return limit
