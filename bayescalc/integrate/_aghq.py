"""Adaptive Gauss–Hermite quadrature over R^d, at every mode that a cheap search finds.

AGHQ puts a Gauss–Hermite rule at the mode of ``log f``, scaled by its Laplace covariance
(:func:`~bayescalc.integrate.laplace_map`): exact-fast for Gaussian-like integrands, and
blind to everything the rule at that mode does not reach (a second mode 7 standard
deviations away: the rule converged to one mode's mass with a bar near 1e-11). So:

1. **A wide importance sample** (:data:`WIDE_CHECK_DRAWS` draws of a Student-t with 3
   degrees of freedom and twice the Laplace scale at each known mode, a fixed seed)
   evaluates ``log f`` far from the mode.
2. **Mode search.** Draws where ``f`` is far above the Gaussian envelope of the known
   modes (``log f - max_k [log f(m_k) - |L_k^-1 (x - m_k)|^2 / 2] > 3``: another basin,
   or a heavy tail) are starts of local ascents (L-BFGS on vectorized central
   differences, in the first mode's standardized coordinates), the highest ``log f``
   first, a few per round; an ascent that ends more than one standard deviation from
   every known mode, at a point where ``log f`` is concave, adds a mode (its Laplace
   map). Up to three rounds, each with fresh draws from the mixture of the modes' wide
   t's.
3. **Mixture AGHQ.** With modes ``m_k``, covariances ``Sigma_k`` and Laplace masses
   ``alpha_k`` (normalized), ``q = sum_k alpha_k N(m_k, Sigma_k)`` and

       integral f = sum_k alpha_k E_{N(m_k, Sigma_k)}[f / q],

   each expectation by its own Gauss–Hermite rule (``f / q`` is smooth and near 1 at
   every mode). One mode is plain AGHQ: nothing changes, nothing costs more, for a
   unimodal Gaussian-like f whose draws all sit near their envelope.
4. **The check.** The importance estimate of the last draws against the rule's answer:
   clearly more mass (3 of its relative standard errors, and 10 rtol) makes the answer
   ``success=False`` with a bar of what it found plus 2 standard errors.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln, logsumexp

from .._core.batch import BatchFunction
from .._core.warnings import IntegrationWarning
from ._laplace import laplace_map
from ._result import IntegrationResult
from .gauss_hermite import gauss_hermite_expectation

#: draws of each importance check of an adaptive Gauss-Hermite answer (fixed seeds: the
#: check is part of the deterministic rule)
WIDE_CHECK_DRAWS = 1024
_T_DOF = 3.0
_T_WIDEN = 2.0
_EXCESS = 3.0          # log f this far above the Gaussian envelope: a start of an ascent
_STARTS_PER_ROUND = 4
_ROUNDS = 3
_MAX_MODES = 8
_DISTINCT = 1.0        # standard deviations between two modes counted as distinct
_ASCENT_TOL = 1e-3     # gradient norm in standardized coordinates
_ASCENT_STEPS = 200
_FD_STEP = 1e-4        # central differences, in standardized coordinates
#: the message of an answer whose importance check found clearly more mass
FLAGGED = "importance check finds"


class Mode(NamedTuple):
    """A mode of log f with its Laplace map and log Laplace mass."""

    mode: np.ndarray
    cov: np.ndarray
    factor: np.ndarray      # Cholesky factor of cov
    log_peak: float         # log f(mode)
    log_mass: float         # log f(mode) + log sqrt(det(2 pi cov))


def log_values(function, log):
    """``x -> log f(x)`` (f's own values when they are already logs)."""

    def log_f(x):
        values = np.asarray(function(x), dtype=float)
        if log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values)

    return log_f


def adaptive_gauss_hermite(f, d, rtol, atol, log, max_evals) -> IntegrationResult:
    """AGHQ over R^d at the modes of log f that the search finds (see the module)."""
    function = BatchFunction(f)
    log_f = log_values(function, log)
    try:
        modes = [_mode_at(log_f, np.zeros(d))]
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as error:
        return IntegrationResult(np.nan, np.inf, function.n_evals, False,
                                 f"gauss-hermite: {error}", "gauss-hermite")
    # a small budget keeps three quarters of itself for the rules
    n_draws = int(min(WIDE_CHECK_DRAWS, max(128, max_evals // 4)))
    x, log_t, values = _draws(log_f, modes, seed=0, n=n_draws)
    for round_ in range(1, _ROUNDS + 1):
        found = _search(log_f, modes, x, values)
        if not found:
            break
        modes = _strongest(modes + found)
        x, log_t, values = _draws(log_f, modes, seed=round_, n=n_draws)
    quadrature = _mixture_quadrature(log_f, modes, rtol, max_evals - function.n_evals)
    if isinstance(quadrature, str):
        return IntegrationResult(np.nan, np.inf, function.n_evals, False,
                                 f"gauss-hermite: {quadrature}", "gauss-hermite")
    log_value, log_error, converged, message = quadrature
    success = converged or log_error <= max(atol, rtol) if log else converged
    log_check, rel_se = _importance_estimate(values, log_t)
    missed = log_check - log_value
    if missed > np.log1p(3.0 * rel_se) and missed > 10 * max(rtol, 1e-6):
        success = False
        log_error = max(log_error, float(missed + 2.0 * rel_se))
        message += (f"; but a wide Student-t {FLAGGED} {np.exp(missed):.3g}x "
                    f"the mass (relative standard error {rel_se:.2g}): another mode or a "
                    "heavy tail that the rules at these modes do not see")
    if log:
        value, error = float(log_value), float(log_error)
    else:
        value = float(np.exp(log_value))
        error = value * float(np.expm1(log_error)) if np.isfinite(log_error) else np.inf
        success = success or error <= atol
    # (the rules call f through ``function``: its count is every evaluation)
    return IntegrationResult(value, error, function.n_evals, bool(success), message,
                             "gauss-hermite")


def _mode_at(log_f, start) -> Mode:
    """The Laplace map of log f from ``start`` (ValueError when there is no concave mode)."""
    with np.errstate(all="ignore"):
        mode, cov = laplace_map(log_f, start)
    factor = np.linalg.cholesky(cov)
    log_peak = float(np.asarray(log_f(mode[None, :]), dtype=float)[0])
    if not (np.all(np.isfinite(mode)) and np.isfinite(log_peak)):
        raise ValueError("log f is not finite at the mode found")
    log_mass = log_peak + 0.5 * mode.size * np.log(2 * np.pi) + float(
        np.sum(np.log(np.diag(factor))))
    return Mode(mode, cov, factor, log_peak, log_mass)


def _standardized(modes, x):
    """``|L_k^-1 (x - m_k)|^2`` per point (rows) and mode (columns)."""
    out = np.empty((x.shape[0], len(modes)))
    for k, m in enumerate(modes):
        z = np.linalg.solve(m.factor, (x - m.mode).T)
        out[:, k] = np.sum(z * z, axis=0)
    return out


def _search(log_f, modes, x, values):
    """New modes from ascents started at draws where f is far above its Gaussian envelope."""
    if len(modes) >= _MAX_MODES:
        return []
    peaks = np.array([m.log_peak for m in modes])
    envelope = np.max(peaks - 0.5 * _standardized(modes, x), axis=1)
    with np.errstate(invalid="ignore"):
        excess = np.where(np.isfinite(values), values - envelope, -np.inf)
    candidates = np.flatnonzero(excess > _EXCESS)
    if candidates.size == 0:
        return []
    candidates = candidates[np.argsort(-values[candidates], kind="stable")]
    base = modes[0]
    found, starts, misses = [], [], 0
    for i in candidates:
        if len(starts) >= _STARTS_PER_ROUND or misses >= 2:
            break
        z = np.linalg.solve(base.factor, x[i] - base.mode)
        if any(np.linalg.norm(z - s) < 2.0 for s in starts):
            continue
        starts.append(z)
        top = _ascend(log_f, base, z)
        if top is None or not _is_new(top, modes + found):
            misses += 1
            continue
        try:
            mode = _mode_at(log_f, top)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            misses += 1
            continue
        if _is_new(mode.mode, modes + found, mode):
            found.append(mode)
            misses = 0
    return found


def _ascend(log_f, base, z0):
    """A local maximum of log f from ``base.mode + L z0`` (L-BFGS on central differences
    in the standardized coordinates z; vectorized: one call of f per gradient)."""
    from ..optim import minimize

    d = z0.size
    offsets = _FD_STEP * np.concatenate([np.eye(d), -np.eye(d)])

    def negative(z):
        x = base.mode + base.factor @ np.asarray(z, dtype=float)
        return -float(np.asarray(log_f(x[None, :]), dtype=float)[0])

    def gradient(z):
        x = base.mode + (np.asarray(z, dtype=float) + offsets) @ base.factor.T
        with np.errstate(invalid="ignore"):
            values = -np.asarray(log_f(x), dtype=float)
        return (values[:d] - values[d:]) / (2 * _FD_STEP)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = minimize(negative, z0, method="lbfgs", tol=_ASCENT_TOL,
                             max_steps=_ASCENT_STEPS, grad=gradient)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            return None
    z = np.asarray(found.x, dtype=float)
    if not (np.all(np.isfinite(z)) and np.isfinite(found.fun)):
        return None
    return base.mode + base.factor @ z


def _is_new(point, modes, mode: Mode | None = None):
    """More than :data:`_DISTINCT` standard deviations from every known mode (in their
    metrics, and in the new mode's own when it is given)."""
    for m in modes:
        if np.linalg.norm(np.linalg.solve(m.factor, point - m.mode)) <= _DISTINCT:
            return False
        if mode is not None and np.linalg.norm(
                np.linalg.solve(mode.factor, point - m.mode)) <= _DISTINCT:
            return False
    return True


def _strongest(modes):
    """At most :data:`_MAX_MODES` modes, the largest Laplace masses first."""
    return sorted(modes, key=lambda m: -m.log_mass)[:_MAX_MODES]


def _log_weights(modes):
    masses = np.array([m.log_mass for m in modes])
    return masses - logsumexp(masses)


def _log_mixture_density(modes, log_weights, x):
    """log q(x), q = sum_k alpha_k N(x; m_k, Sigma_k)."""
    d = x.shape[1]
    log_norms = np.array([0.5 * d * np.log(2 * np.pi) + np.sum(np.log(np.diag(m.factor)))
                          for m in modes])
    return logsumexp(log_weights - log_norms - 0.5 * _standardized(modes, x), axis=1)


def _mixture_quadrature(log_f, modes, rtol, budget):
    """``(log I, its error, converged, message)`` by AGHQ at every mode of the
    mixture (one mode: plain AGHQ), or the message why it could not run."""
    d = modes[0].mode.size
    log_weights = _log_weights(modes)
    method = "sparse" if d >= 4 else "tensor"
    pieces, n_evals = [], 0  # (the pieces' own counts: the budget is shared among them)
    for k, m in enumerate(modes):
        if len(modes) == 1:
            log_norm = 0.5 * d * np.log(2 * np.pi) + float(np.sum(np.log(np.diag(m.factor))))

            def log_ratio(x, m=m, log_norm=log_norm):
                z = np.linalg.solve(m.factor, (x - m.mode).T)
                return log_f(x) + 0.5 * np.sum(z * z, axis=0) + log_norm
        else:
            def log_ratio(x):
                return log_f(x) - _log_mixture_density(modes, log_weights, x)
        # a piece of small weight needs less relative accuracy
        piece_rtol = float(np.clip(rtol * np.exp(-log_weights[k]), max(rtol, 1e-15), 1e-2))
        share = (budget - n_evals) // (len(modes) - k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            try:
                inner = gauss_hermite_expectation(log_ratio, m.mode, m.cov, log=True,
                                                  method=method, rtol=piece_rtol,
                                                  max_evals=max(1, share))
            except ValueError as error:
                return str(error)
        n_evals += inner.n_evals
        pieces.append(inner)
    logs = np.array([p.value for p in pieces]) + log_weights
    log_value = float(logsumexp(logs))
    shares = np.exp(logs - log_value) if np.isfinite(log_value) else np.ones(len(pieces))
    log_error = float(np.sum(shares * np.array([p.error for p in pieces])))
    converged = all(p.success for p in pieces)
    if len(modes) == 1:
        message = (f"gauss-hermite at the Laplace map (mode {np.round(modes[0].mode, 4)}): "
                   + pieces[0].message)
    else:
        converged = converged or log_error <= rtol
        message = (f"gauss-hermite at {len(modes)} modes (a mixture of their Laplace maps; "
                   f"weights {np.round(np.exp(log_weights), 4)}): "
                   + ("converged" if converged else "missed the tolerance")
                   + f", error estimate {log_error:.2e} (relative)")
    return log_value, log_error, converged, message


def _draws(log_f, modes, *, seed, n=WIDE_CHECK_DRAWS):
    """``(x, log density, log f(x))`` of ``n`` draws from the defensive mixture of wide
    Student-t's at the modes (half by their Laplace masses, half equally)."""
    d = modes[0].mode.size
    rng = np.random.default_rng(seed)
    weights = 0.5 * np.exp(_log_weights(modes)) + 0.5 / len(modes)
    component = rng.choice(len(modes), size=n, p=weights / weights.sum())
    z = rng.standard_normal((n, d))
    radial = np.sqrt(rng.chisquare(_T_DOF, n) / _T_DOF)
    x = np.empty((n, d))
    for k, m in enumerate(modes):
        rows = component == k
        x[rows] = m.mode + (z[rows] / radial[rows, None]) @ (_T_WIDEN * m.factor).T
    log_t = np.empty((n, len(modes)))
    for k, m in enumerate(modes):
        u = np.linalg.solve(_T_WIDEN * m.factor, (x - m.mode).T)
        maha = np.sum(u * u, axis=0)
        log_t[:, k] = (np.log(weights[k]) + gammaln((_T_DOF + d) / 2) - gammaln(_T_DOF / 2)
                       - 0.5 * d * np.log(_T_DOF * np.pi)
                       - d * np.log(_T_WIDEN) - float(np.sum(np.log(np.diag(m.factor))))
                       - 0.5 * (_T_DOF + d) * np.log1p(maha / _T_DOF))
    with np.errstate(all="ignore"):
        values = np.asarray(log_f(x), dtype=float)
    values = np.where(np.isnan(values), -np.inf, values)
    return x, logsumexp(log_t, axis=1), values


def _importance_estimate(values, log_t):
    """``(log of the importance estimate, its relative standard error)``."""
    log_w = values - log_t
    top = float(np.max(log_w))
    if not np.isfinite(top):
        return -np.inf, np.inf
    w = np.exp(log_w - top)
    mean = float(w.mean())
    return top + float(np.log(mean)), float(w.std(ddof=1) / np.sqrt(w.size) / mean)
