"""Weight functions for ``quad(..., weight=, wvar=)``, as in ``scipy.integrate.quad``.

``∫_a^b f(x) w(x) dx`` for a smooth ``f`` and a known, awkward ``w``:

* ``'alg'``, ``'alg-loga'``, ``'alg-logb'``, ``'alg-log'`` (QUADPACK QAWS), ``wvar = (α, β)``
  with ``α, β > -1``: ``w = (x-a)^α (b-x)^β``, times ``log(x-a)``, ``log(b-x)`` or both.
  ``'alg'`` first tries Gauss–Jacobi rules of 10, 20, 40, ... nodes (``scipy.special.
  roots_jacobi``: exact for the weight, 30-70 evaluations for a smooth f). Otherwise
  the range is split at its midpoint and each half is written in its distance ``s`` to
  its end (``x = a + s`` or ``x = b - s``): the weight is then computed from ``s`` exactly
  (``x - a`` loses all digits of ``s`` below ``eps |a|``), and the singular end sits at
  ``s = 0``, where tanh-sinh and the extrapolated Gauss–Kronrod resolve it to 1e-300.
* ``'cauchy'`` (QAWC), ``wvar = c`` with ``a < c < b``: the principal value
  ``PV ∫ f(x) / (x - c) dx``. On the symmetric part ``[c - h, c + h]`` the singular halves
  are paired, ``∫_0^h (f(c + s) - f(c - s)) / s ds`` (smooth, and f is never evaluated at
  c); the rest of the range is a regular integral.
* ``'cos'``, ``'sin'`` (QAWO), ``wvar = ω``: ``w = cos(ωx)`` or ``sin(ωx)``. On a finite
  range longer than four half-periods, QUADPACK's modified Clenshaw–Curtis rule: f is
  interpolated at 25 Chebyshev points of each subinterval (first kind: never at its
  ends), and the interpolant is integrated against ``w`` exactly through the moments
  ``∫ T_k(t) exp(iλt) dt`` (a forward recurrence for λ >= 50, the Jacobi–Anger series
  below): the cost does not grow with ω (``exp(x) cos(1e5 x)`` on [0, 1]: 25
  evaluations). The error is the upper half of the series, term by term; subintervals
  with ``ωh <= 2`` use Gauss–Kronrod on ``f w``. If that misses (f singular at an end),
  and on short ranges, the range is cut at the zeros of ``w`` (at most ``_MAX_PIECES``
  pieces of whole half-periods) and each arch integrated by ``quad``. On ``[a, ∞)`` (QAWF) and
  ``(-∞, b]`` the integral is the sum over half-periods, an alternating series for a
  decaying ``f``, whose limit Wynn's ε-algorithm finds from a few dozen terms
  (:mod:`.wynn`), as QUADPACK's ``qawfe`` does over cycles. ``∫_0^∞ sin(x)/x`` is
  ``quad(lambda x: 1 / x, 0, inf, weight='sin', wvar=1)``.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ..._core.warnings import IntegrationWarning
from .._result import IntegrationResult
from .wynn import EpsilonTable

WEIGHTS = ("alg", "alg-loga", "alg-logb", "alg-log", "cauchy", "cos", "sin")
_MAX_PIECES = 400   # finite-range cos/sin: pieces of whole half-periods at most
_MAX_ARCHES = 4     # beyond this many half-periods, modified Clenshaw–Curtis first
_MIN_TERMS = 6      # infinite-range cos/sin: half-periods summed before extrapolating
_MAX_TERMS = 200


def check_weight(weight, wvar, a, b):
    """Validate ``weight`` and ``wvar`` (ValueError/TypeError naming them)."""
    if weight not in WEIGHTS:
        raise ValueError(f"weight must be one of {WEIGHTS} or None, got {weight!r}")
    if weight.startswith("alg"):
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"weight={weight!r} needs a finite range, got [{a}, {b}]")
        try:
            alpha, beta = (float(v) for v in wvar)
        except (TypeError, ValueError):
            raise TypeError(
                f"wvar must be (alpha, beta) for weight={weight!r}, got {wvar!r}") from None
        if not (alpha > -1 and beta > -1):
            raise ValueError(f"wvar = (alpha, beta) must both be > -1, got {wvar!r}")
        return alpha, beta
    try:
        value = float(wvar)
    except (TypeError, ValueError):
        raise TypeError(f"wvar must be a number for weight={weight!r}, got {wvar!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"wvar must be finite, got {wvar!r}")
    if weight == "cauchy":
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"weight='cauchy' needs a finite range, got [{a}, {b}]")
        if not min(a, b) < value < max(a, b):
            raise ValueError(f"wvar = c must lie strictly inside ({a}, {b}), got {value}")
    return value


def weighted_quad(quad, f, a, b, weight, wvar, *, rtol, atol, max_evals):
    """``∫_a^b f w`` with ``a < b``; ``quad`` is :func:`bayescalc.integrate._quad`."""
    function = _vectorized(f)
    if weight == "alg":
        first = _gauss_jacobi(function, a, b, wvar, rtol=rtol, atol=atol,
                              max_evals=max_evals // 4)
        if first.success:
            return first
        second = _sum_parts(quad, _algebraic(function, a, b, weight, wvar), rtol=rtol,
                            atol=atol, max_evals=max_evals - first.n_evals, weight=weight)
        return IntegrationResult(second.value, second.error, first.n_evals + second.n_evals,
                                 second.success, second.message, second.method)
    if weight.startswith("alg"):
        parts = _algebraic(function, a, b, weight, wvar)
    elif weight == "cauchy":
        parts = _cauchy(function, a, b, wvar)
    elif math.isfinite(a) and math.isfinite(b):
        if abs(wvar) * (b - a) / math.pi > _MAX_ARCHES:
            first = _oscillatory_adaptive(function, a, b, weight, wvar, rtol=rtol, atol=atol,
                                          max_evals=max_evals // 2)
            if first.success:
                return first
            # f itself is hard (a singularity at an end?): one arch at a time, with QAGS
            second = _sum_parts(quad, _oscillatory_pieces(function, a, b, weight, wvar),
                                rtol=rtol, atol=atol, max_evals=max_evals - first.n_evals,
                                weight=weight)
            better = second if second.success or second.error < first.error else first
            return IntegrationResult(better.value, better.error,
                                     first.n_evals + second.n_evals, better.success,
                                     better.message if better.success else
                                     f"{second.message}; before that, modified "
                                     f"Clenshaw-Curtis missed: {first.message}",
                                     f"weight={weight}")
        parts = _oscillatory_pieces(function, a, b, weight, wvar)
    else:
        return _fourier(quad, function, a, b, weight, wvar, rtol=rtol, atol=atol,
                        max_evals=max_evals)
    return _sum_parts(quad, parts, rtol=rtol, atol=atol, max_evals=max_evals, weight=weight)


def _vectorized(f):
    from ..._core.batch import BatchFunction
    return f if isinstance(f, BatchFunction) else BatchFunction(f)


def _sum_parts(quad, parts, *, rtol, atol, max_evals, weight):
    """Integrate each ``(g, lo, hi, points)`` with quad and add them up."""
    value = error = 0.0
    n_evals, messages, success = 0, [], True
    budget = max(21, max_evals // max(1, len(parts)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        for g, lo, hi, points in parts:
            result = quad(g, lo, hi, rtol=rtol, atol=atol / len(parts), max_evals=budget,
                          points=points or None)
            value += result.value
            error += result.error
            n_evals += result.n_evals
            if not result.success:
                messages.append(f"on [{lo:.6g}, {hi:.6g}]: {result.message}")
    # Each piece's error is honest whether or not it met its own (relative) tolerance: a
    # piece near 0 cannot, and need not, as long as the sum's error meets the total's.
    allowed = max(atol, rtol * abs(value))
    if error > allowed:
        success = False
        messages.insert(0, f"the pieces' errors add up to {error:.2e} > tolerance {allowed:.2e}")
    if success:
        message = (f"converged: error estimate {error:.2e} <= tolerance {allowed:.2e} "
                   f"(weight={weight!r}, {len(parts)} pieces)")
    else:
        message = f"weight={weight!r}: " + "; ".join(messages)
    return IntegrationResult(float(value), float(error), n_evals, success, message,
                             f"weight={weight}")


def _algebraic(function, a, b, weight, wvar):
    alpha, beta = wvar
    width = b - a
    half = 0.5 * width
    log_a, log_b = weight in ("alg-loga", "alg-log"), weight in ("alg-logb", "alg-log")

    def left(s):  # x = a + s: (x - a) = s exactly, (b - x) = width - s
        s = np.asarray(s, dtype=float)
        w = s**alpha * (width - s) ** beta
        if log_a:
            w = w * np.log(s)
        if log_b:
            w = w * np.log(width - s)
        return function(a + s) * w

    def right(s):  # x = b - s
        s = np.asarray(s, dtype=float)
        w = (width - s) ** alpha * s**beta
        if log_a:
            w = w * np.log(width - s)
        if log_b:
            w = w * np.log(s)
        return function(b - s) * w

    return [(left, 0.0, half, None), (right, 0.0, half, None)]


def _gauss_jacobi(function, a, b, wvar, *, rtol, atol, max_evals):
    """'alg' for a smooth f: Gauss–Jacobi rules of 10, 20, 40, ... nodes (the weight is
    exact in the rule; nodes strictly inside). The error of the n-node sum is taken as
    its difference from the n/2-node one, accepted once the differences shrink."""
    from scipy.special import roots_jacobi
    alpha, beta = wvar
    half, center = 0.5 * (b - a), 0.5 * (a + b)
    scale = half ** (alpha + beta + 1)
    history, n_evals, count = [], 0, 10
    message = ""
    while n_evals + count <= max_evals and count <= 160:
        # scipy's Jacobi weight is (1 - t)^alpha (1 + t)^beta: (b - x) ~ (1 - t)
        t, w = roots_jacobi(count, beta, alpha)
        values = np.asarray(function(center + half * t), dtype=float)
        n_evals += count
        history.append(scale * float(values @ w))
        # roots_jacobi's nodes and weights lose accuracy like n^2 eps (measured: 1e-13 of
        # ∫|f w| at 40 nodes, 3e-12 at 80): a floor under the error
        floor = count * count * _EPS * scale * float(np.abs(values) @ np.abs(w))
        if len(history) >= 3:
            error = max(abs(history[-1] - history[-2]), floor)
            before = abs(history[-2] - history[-3])
            allowed = max(atol, rtol * abs(history[-1]))
            if error <= allowed and (error <= before or before <= allowed):
                return IntegrationResult(history[-1], error,
                                         n_evals, True,
                                         f"converged: error estimate {error:.2e} <= tolerance "
                                         f"{allowed:.2e} (Gauss-Jacobi, {count} nodes)",
                                         "weight=alg")
        count *= 2
    message = "Gauss-Jacobi did not settle (f not smooth enough)"
    value = history[-1] if history else 0.0
    return IntegrationResult(value, np.inf, n_evals, False, message, "weight=alg")


def _cauchy(function, a, b, c):
    h = min(c - a, b - c)

    def paired(s):
        s = np.asarray(s, dtype=float)
        return (function(c + s) - function(c - s)) / s

    def regular(x):
        x = np.asarray(x, dtype=float)
        return function(x) / (x - c)

    parts = [(paired, 0.0, h, None)]
    if c - h > a:
        parts.append((regular, a, c - h, None))
    if c + h < b:
        parts.append((regular, c + h, b, None))
    return parts


def _trig(weight, omega):
    return (lambda x: np.cos(omega * x)) if weight == "cos" else (lambda x: np.sin(omega * x))


def _oscillatory_pieces(function, a, b, weight, omega):
    """Cut [a, b] at zeros of the weight into at most _MAX_PIECES arches."""
    w = _trig(weight, omega)

    def g(x):
        x = np.asarray(x, dtype=float)
        return function(x) * w(x)

    if omega == 0:
        return [(g, a, b, None)]
    period = math.pi / abs(omega)
    offset = 0.5 if weight == "cos" else 0.0  # zeros of cos(ωx) at (k + 1/2) π / ω
    first = math.ceil(a / period - offset)
    last = math.floor(b / period - offset)
    count = max(0, last - first + 1)
    if count == 0:
        return [(g, a, b, None)]
    step = max(1, math.ceil(count / _MAX_PIECES))
    cuts = [(k + offset) * period for k in range(first, last + 1, step)]
    cuts = [x for x in cuts if a < x < b]
    edges = [a] + cuts + [b]
    return [(g, lo, hi, None) for lo, hi in zip(edges[:-1], edges[1:], strict=True) if hi > lo]


def _fourier(quad, function, a, b, weight, omega, *, rtol, atol, max_evals):
    """[a, ∞) or (-∞, b] or ℝ: half-period pieces summed with ε-extrapolation (QAWF)."""
    if math.isinf(a) and math.isinf(b):
        parts = [_fourier(quad, function, 0.0, np.inf, weight, omega, rtol=rtol, atol=atol / 2,
                          max_evals=max_evals // 2),
                 _fourier(quad, function, -np.inf, 0.0, weight, omega, rtol=rtol,
                          atol=atol / 2, max_evals=max_evals // 2)]
        value = parts[0].value + parts[1].value
        error = parts[0].error + parts[1].error
        success = all(p.success for p in parts)
        message = parts[0].message if success else "; ".join(
            p.message for p in parts if not p.success)
        return IntegrationResult(value, error, parts[0].n_evals + parts[1].n_evals,
                                 success and error <= max(atol, rtol * abs(value)), message,
                                 f"weight={weight}")
    if math.isinf(a):  # x = -y: ∫_{-∞}^b f(x) w(ωx) dx = ∫_{-b}^∞ f(-y) w(-ωy) dy
        sign = -1.0 if weight == "sin" else 1.0
        mirrored = _fourier(quad, lambda y: function(-np.asarray(y, dtype=float)), -b, np.inf,
                            weight, omega, rtol=rtol, atol=atol, max_evals=max_evals)
        return IntegrationResult(sign * mirrored.value, mirrored.error, mirrored.n_evals,
                                 mirrored.success, mirrored.message, mirrored.method)
    if omega == 0:
        if weight == "sin":
            return IntegrationResult(0.0, 0.0, 0, True, "sin(0 x) = 0", "weight=sin")
        return quad(lambda x: function(x), a, b, rtol=rtol, atol=atol, max_evals=max_evals)
    w = _trig(weight, omega)

    def g(x):
        x = np.asarray(x, dtype=float)
        return function(x) * w(x)

    period = math.pi / abs(omega)
    offset = 0.5 if weight == "cos" else 0.0
    zero = (math.floor(a / period - offset) + 1 + offset) * period  # first zero past a
    table, partial, error_sum, n_evals = EpsilonTable(), 0.0, 0.0, 0
    limit, limit_error, message, success = 0.0, np.inf, "", False
    piece_budget = max(63, max_evals // _MAX_TERMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        for k in range(_MAX_TERMS):
            lo = a if k == 0 else zero + (k - 1) * period
            hi = zero + k * period
            if n_evals + piece_budget > max_evals:
                message = (f"max_evals = {max_evals} reached after {k} half-periods before "
                           "the extrapolated sum settled")
                break
            piece = quad(g, lo, hi, rtol=0.1 * rtol, atol=atol / 50, max_evals=piece_budget)
            n_evals += piece.n_evals
            partial += piece.value
            error_sum += piece.error
            if not piece.success:
                message = f"the half-period [{lo:.6g}, {hi:.6g}] missed: {piece.message}"
                break
            limit, extrapolation_error = table.add(partial)
            limit_error = extrapolation_error + error_sum
            allowed = max(atol, rtol * abs(limit))
            if k + 1 >= _MIN_TERMS and limit_error <= allowed:
                success = True
                message = (f"converged: error estimate {limit_error:.2e} <= tolerance "
                           f"{allowed:.2e} (ε-extrapolation of {k + 1} half-period sums)")
                break
        else:
            message = (f"the ε-extrapolation of {_MAX_TERMS} half-period sums did not settle "
                       f"(error estimate {limit_error:.2e}): f decays too slowly, or not at "
                       "all (divergent?)")
    if not math.isfinite(limit_error):
        limit, limit_error = partial, np.inf
    return IntegrationResult(float(limit), float(limit_error), n_evals, success, message,
                             f"weight={weight}")


# --- modified Clenshaw–Curtis for cos/sin on long finite ranges (QAWO) -------------------
_CC_DEGREE = 24
_CC_NODES = np.cos(np.pi * (np.arange(_CC_DEGREE + 1) + 0.5) / (_CC_DEGREE + 1))  # interior
_CC_TRANSFORM = (2.0 / (_CC_DEGREE + 1)) * np.cos(
    np.pi * np.outer(np.arange(_CC_DEGREE + 1), np.arange(_CC_DEGREE + 1) + 0.5)
    / (_CC_DEGREE + 1))
_CC_TRANSFORM[0] *= 0.5
_SMALL_LAMBDA = 2.0  # below ω h = 2 the plain Gauss–Kronrod rule on f w is used (QUADPACK)
_EPS = np.finfo(float).eps


@functools.lru_cache(maxsize=256)
def _moments(lam: float) -> np.ndarray:
    """``μ_k = ∫_{-1}^{1} T_k(t) exp(i λ t) dt``, k = 0..24 (see the two helpers)."""
    moments = _moments_by_recurrence(lam) if lam >= 50 else _moments_by_bessel(lam)
    moments.flags.writeable = False
    return moments


def _moments_by_recurrence(lam):
    """For λ >= 50 > k: integration by parts, ``iλ μ_k = B_k - V_k`` with
    ``B_k = e^{iλ} - (-1)^k e^{-iλ}`` and ``V_k = ∫ T_k' e^{iλt}``, and
    ``T'_{k+1}/(k+1) - T'_{k-1}/(k-1) = 2 T_k``: a forward recurrence, stable while k < λ
    (each step multiplies rounding errors by about k/λ)."""
    moments = np.empty(_CC_DEGREE + 1, dtype=complex)
    v = np.empty(_CC_DEGREE + 2, dtype=complex)
    plus, minus = np.exp(1j * lam), np.exp(-1j * lam)
    moments[0] = 2.0 * math.sin(lam) / lam
    v[0], v[1] = 0.0, moments[0]
    for k in range(1, _CC_DEGREE + 1):
        moments[k] = ((plus - (-1) ** k * minus) - v[k]) / (1j * lam)
        v[k + 1] = 4.0 * moments[1] if k == 1 else (k + 1) * (2.0 * moments[k]
                                                            + v[k - 1] / (k - 1))
    return moments


def _moments_by_bessel(lam):
    """The moments for λ < 50 (and a check of the recurrence).

    With ``t = cos θ`` and the Jacobi–Anger expansion ``exp(i λ cos θ) = Σ ε_n i^n J_n(λ)
    cos(nθ)``: ``μ_k = Σ_n ε_n i^n J_n(λ) (c(k - n) + c(k + n)) / 2`` with
    ``c(m) = ∫_0^π cos(mθ) sin θ dθ = 2 / (1 - m^2)`` for even m (0 for odd m). J_n(λ)
    vanishes to float64 past n ≈ λ + 40 + 2.5 λ^(1/3); the terms never cancel badly (no
    phase λ t is ever rounded, unlike a quadrature of exp(i λ t) for large λ).
    """
    from scipy.special import jv
    last = int(lam + 60 + 6 * lam ** (1 / 3)) + _CC_DEGREE
    n = np.arange(last + 1)
    k = np.arange(_CC_DEGREE + 1)[:, None]
    weights = np.where(n == 0, 1.0, 2.0) * jv(n, lam)
    powers = np.array([1, 1j, -1, -1j])[n % 4]

    def c(m):
        m = np.abs(m)
        with np.errstate(divide="ignore"):  # m = 1 is odd: masked
            return np.where(m % 2 == 0, 2.0 / (1.0 - m.astype(float) ** 2), 0.0)

    return ((c(k - n) + c(k + n)) * 0.5) @ (weights * powers)


def _cc_rule(function, lo, hi, weight, omega):
    """(estimate, error, n_evals) of ∫_lo^hi f(x) w(ωx) dx on one subinterval."""
    center, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    lam = abs(omega) * half
    if lam <= _SMALL_LAMBDA:
        from .gauss_kronrod import G10K21, gauss_kronrod_rule
        x = center + half * G10K21.nodes
        w = np.cos(omega * x) if weight == "cos" else np.sin(omega * x)
        values = np.asarray(function(x), dtype=float) * w
        estimate, error, _ = gauss_kronrod_rule(values[None, :], np.array([half]))
        return float(estimate[0]), float(error[0]), x.size
    x = center + half * _CC_NODES
    values = np.asarray(function(x), dtype=float)
    coefficients = _CC_TRANSFORM @ values
    moments = _moments(float(lam)) if omega > 0 else np.conj(_moments(float(lam)))
    phase = np.exp(1j * omega * center)
    terms = coefficients * moments
    pick = np.real if weight == "cos" else np.imag
    estimate = half * float(pick(phase * terms.sum()))
    # the upper half of the series, term by term (no cancellation), bounds the error of
    # the truncated lower half and so, conservatively, of the whole
    upper = half * float(np.sum(np.abs(terms[_CC_DEGREE // 2 + 1:])))
    roundoff = 50 * _EPS * half * float(np.sum(np.abs(terms)))
    return estimate, max(upper, roundoff), x.size


def _oscillatory_adaptive(function, a, b, weight, omega, *, rtol, atol, max_evals):
    """Globally adaptive bisection with the modified Clenshaw–Curtis rule (long ranges)."""
    lows, highs, estimates, errors = [a], [b], [], []
    estimate, error, n_evals = _cc_rule(function, a, b, weight, omega)
    estimates.append(estimate), errors.append(error)
    message, success = "", False
    while True:
        total, total_error = math.fsum(estimates), math.fsum(errors)
        allowed = max(atol, rtol * abs(total))
        if total_error <= allowed:
            success = True
            message = (f"converged: error estimate {total_error:.2e} <= tolerance "
                       f"{allowed:.2e} (weight={weight!r}, modified Clenshaw-Curtis on "
                       f"{len(lows)} subintervals)")
            break
        if n_evals + 2 * 25 > max_evals:
            message = (f"max_evals = {max_evals} reached before the tolerance {allowed:.2e} "
                       f"(error estimate {total_error:.2e})")
            break
        worst = int(np.argmax(errors))
        lo, hi = lows[worst], highs[worst]
        middle = 0.5 * (lo + hi)
        if not lo < middle < hi:
            message = f"subintervals too narrow to bisect further near x = {middle:.6g}"
            break
        left = _cc_rule(function, lo, middle, weight, omega)
        right = _cc_rule(function, middle, hi, weight, omega)
        n_evals += left[2] + right[2]
        highs[worst], estimates[worst], errors[worst] = middle, left[0], left[1]
        lows.append(middle), highs.append(hi), estimates.append(right[0])
        errors.append(right[1])
    return IntegrationResult(float(total), float(total_error), n_evals, success, message,
                             f"weight={weight}")
