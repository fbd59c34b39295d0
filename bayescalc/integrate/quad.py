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
from ._result import IntegrationResult
from ._scaled import finish
from .doubling_rules import doubling_gauss_legendre, doubling_simpson
from .gauss_kronrod import adaptive_gauss_kronrod
from .tanh_sinh import adaptive_tanh_sinh
from .transforms import WrappedIntegrand, t_of_x, t_range

METHODS = ("auto", "gauss-kronrod", "tanh-sinh", "gauss-legendre", "simpson")
_ENGINES = {
    "gauss-kronrod": adaptive_gauss_kronrod,
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
         points=None) -> IntegrationResult:
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
        ``"auto"`` (default): adaptive Gauss–Kronrod, handing over to tanh-sinh when the
        error piles up at an end of the range; on an infinite range the double
        exponential rules (exp-sinh, sinh-sinh) are tried first. The better answer is
        returned when a rule misses. ``"gauss-kronrod"``: globally
        adaptive G10/K21, all active subintervals evaluated in one call per round.
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

    Returns
    -------
    IntegrationResult
        ``value`` (:math:`I`, or :math:`\log I` with ``log=True``), ``error``,
        ``n_evals``, ``success``, ``message``, ``method``. A missed tolerance gives
        ``success=False`` and an :class:`IntegrationWarning`.

    Notes
    -----
    Infinite ranges are mapped to finite ones (:mod:`bayescalc.integrate.transforms`);
    with ``method="tanh-sinh"`` that gives the exp-sinh and sinh-sinh rules.
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
    """
    a, b, rtol, atol, method, max_evals, points = _quad_iv(
        f, a, b, rtol, atol, method, log, max_evals, points)
    if a == b:
        return IntegrationResult(-np.inf if log else 0.0, 0.0, 0, True,
                                 "empty range (a == b)", method)
    sign = 1.0
    if a > b:
        if log:
            raise ValueError(f"with log=True, a must be <= b (the integral from a = {a} to "
                             f"b = {b} is negative, its log undefined)")
        a, b, sign = b, a, -1.0
    integrand = WrappedIntegrand(f, a, b, log=log)
    options = dict(rtol=rtol, atol=atol, log=log)
    if method == "auto":
        estimate, used, wrappers = _auto(integrand, points, options, max_evals)
    else:
        integrand = _mapped_for(method, integrand)
        estimate = _ENGINES[method](integrand, _edges(integrand, points), max_evals=max_evals,
                                    **options)
        used, wrappers = method, [integrand]
    value, error = finish(estimate, log=log)
    success, message = estimate.converged, estimate.message
    if not log and all(wrapper.all_zero for wrapper in wrappers):
        success = False
        message = (f"f was exactly 0 at all {integrand.n_evals} nodes: if f underflows "
                   "float64 (e.g. exp of a log-likelihood), pass log f with log=True; if f "
                   "is 0 outside a small region, give that region with points=")
    if not math.isfinite(value) and not (log and value == -np.inf):
        success = False
        message = f"the estimate is not finite ({value}): {message}"
    result = IntegrationResult(float(sign * value), float(error), integrand.n_evals,
                               bool(success), message, used)
    return warn_unless_success(result, IntegrationWarning)


def _auto(integrand, points, options, max_evals):
    """Pick a rule, fall back on failure; returns the estimate, its method, the maps used.

    Infinite range: the double exponential rule first (exp-sinh, sinh-sinh), with an
    eighth of the budget: tails that decay like a power or faster cost tens of nodes; on a
    half-infinite range, if it misses, again on the map that also resolves the finite
    end to 1e-300 (a singularity there, as in exp(-x)/sqrt(x)).
    Then, as on a finite range: Gauss–Kronrod, handing over to tanh-sinh (on the split
    map, which resolves ``|x|`` up to 1e300) when the error piles up at an end of the
    range (an endpoint singularity, a slow tail). The better answer is returned when all
    miss.
    """
    tried, wrappers = [], [integrand]
    if integrand.kind != "finite":
        maps = [_mapped_for("tanh-sinh", integrand)]
        if integrand.kind != "infinite":  # then with both ends resolved (transforms)
            maps.append(integrand.remapped(integrand.kind + "-split"))
        for de in maps:
            first = adaptive_tanh_sinh(de, _edges(de, points), max_evals=max_evals // 8,
                                       patience=2, **options)
            if first.converged:
                return first, "tanh-sinh", [de]
            tried.append(("tanh-sinh", first))
            wrappers.append(de)
    estimate, used = _gauss_kronrod_then_tanh_sinh(integrand, _edges(integrand, points),
                                                   options, max_evals)
    for name, missed in tried:
        if estimate.converged or _relative(estimate) <= _relative(missed):
            estimate = estimate._replace(message=_after(name, missed, estimate))
        else:
            estimate, used = missed._replace(message=_after(used, estimate, missed)), name
    return estimate, used, wrappers


def _gauss_kronrod_then_tanh_sinh(integrand, edges, options, max_evals):
    """Gauss–Kronrod; at a suspected endpoint singularity, tanh-sinh; the better wins."""
    depth = _ENDPOINT_DEPTH[integrand.kind != "finite"]
    reserve = min((max_evals - integrand.n_evals) // 4, _FALLBACK_RESERVE)
    first = adaptive_gauss_kronrod(integrand, edges,
                                   max_evals=max_evals - integrand.n_evals - reserve,
                                   endpoint_depth=depth, growing_depth=2, **options)
    if first.converged:
        return first, "gauss-kronrod"
    second = adaptive_tanh_sinh(integrand, edges, max_evals=max_evals - integrand.n_evals,
                                patience=2, **options)
    if second.converged:
        return second, "tanh-sinh"
    if first.message.startswith("endpoint"):  # not a clean endpoint singularity after all
        first = adaptive_gauss_kronrod(integrand, edges,
                                       max_evals=max_evals - integrand.n_evals, **options)
        if first.converged:
            return first, "gauss-kronrod"
    if _relative(second) < _relative(first):
        return second._replace(message=_after("Gauss-Kronrod", first, second)), "tanh-sinh"
    return first._replace(message=_after("tanh-sinh", second, first)), "gauss-kronrod"


def _after(name, missed, used):
    """The message of ``used``, saying that ``name`` was tried first and missed."""
    if used.converged:
        return f"{used.message} (after {name} missed: {missed.message})"
    return f"{used.message}; {name} also missed ({missed.message})"


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
