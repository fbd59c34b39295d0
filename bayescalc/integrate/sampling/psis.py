"""Pareto-smoothed importance sampling (PSIS): the k-hat diagnostic and smoothed weights.

Importance weights ``w = p / q`` whose right tail is heavy make an importance-sampling
estimate unreliable even when its standard error looks small. PSIS fits a generalized
Pareto distribution (GPD) to the largest weights; its shape ``k`` says how many moments
the weights have (``1/k`` of them): ``k < 0.5`` the variance is finite and the estimate
converges at the usual rate, ``0.5 <= k < 0.7`` it still converges but slowly,
``k >= 0.7`` the estimate is unreliable at any practical sample size.

References: Vehtari, Simpson, Gelman, Yao and Gabry, "Pareto smoothed importance
sampling", JMLR 25 (2024), first as arXiv:1507.02646 (2015); the GPD fit is Zhang and
Stephens, "A new and efficient estimation method for the generalized Pareto
distribution", Technometrics 51 (2009), with the weakly informative prior of Vehtari
et al. (2024, appendix). Shared with :mod:`bayescalc.vi`.
"""

from __future__ import annotations

import math

import numpy as np

from ..._core.arraykind import to_numpy

#: k-hat above this makes an importance-sampling estimate unreliable (Vehtari et al. 2024).
KHAT_THRESHOLD = 0.7

_MIN_TAIL = 5  # fewer tail draws than this: no fit (k-hat is nan)


def psis_khat(log_weights) -> float:
    """Pareto k-hat of importance weights, the PSIS reliability diagnostic.

    Parameters
    ----------
    log_weights : array_like, shape (S,)
        Log importance ratios ``log p(x_s) - log q(x_s)`` (any additive constant; ``-inf``
        entries are zero weights). numpy array or torch tensor.

    Returns
    -------
    float
        The estimated shape ``k`` of the generalized Pareto fit to the largest
        ``M = ceil(min(S / 5, 3 sqrt(S)))`` weights. Above 0.7: unreliable. ``inf`` when a
        weight is infinite (the proposal has zero density where the target does not),
        ``-inf`` when the largest weights are all equal (no tail at all), ``nan`` when
        there are too few draws to fit (fewer than 5 tail draws).

    Notes
    -----
    The tail ``w_(S-M+1) <= ... <= w_(S)`` above the threshold ``u = w_(S-M)`` is fitted
    with the GPD ``F(x) = 1 - (1 + k x / sigma)^(-1/k)`` of the exceedances ``x = w - u``
    by the Zhang-Stephens posterior-mean estimate, then shrunk towards 0.5 with the
    prior of weight 10 used by Vehtari et al.: ``k = (M k_zs + 5) / (M + 10)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> good = -0.5 * rng.standard_normal(4000) ** 2          # bounded weights
    >>> round(psis_khat(good), 1) < 0.5
    True
    >>> heavy = rng.pareto(1.0, 4000)                         # tail index 1: k = 1
    >>> round(psis_khat(np.log1p(heavy)), 2)
    0.87
    """
    return _tail_fit(_log_weights_iv(log_weights))[0]


def psis_smooth(log_weights):
    """Pareto-smoothed log weights and their k-hat.

    The ``M`` largest weights are replaced by the expected order statistics of the
    fitted generalized Pareto distribution (capped at the largest raw weight), which
    lowers the variance of importance-sampling estimates at a small bias
    (Vehtari et al. 2024, section 3). With k-hat not finite the weights are returned
    unchanged.

    Parameters
    ----------
    log_weights : array_like, shape (S,)
        Log importance ratios.

    Returns
    -------
    smoothed : numpy.ndarray, shape (S,)
        Smoothed log weights, in the input order, with the same additive constant.
    khat : float
        As :func:`psis_khat`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> log_w = np.log1p(rng.pareto(1.5, 2000))
    >>> smoothed, khat = psis_smooth(log_w)
    >>> bool(smoothed.max() <= log_w.max()), round(khat, 2)
    (True, 0.83)
    """
    log_w = _log_weights_iv(log_weights)
    khat, sigma, order, shift, cutoff = _tail_fit(log_w, smoothing=True)
    smoothed = log_w.copy()
    if not (math.isfinite(khat) and math.isfinite(sigma)):
        return smoothed, khat
    tail = order[-_tail_size(log_w.size):]
    m = tail.size
    p = (np.arange(1, m + 1) - 0.5) / m
    if abs(khat) < 1e-12:
        quantiles = -sigma * np.log1p(-p)
    else:
        quantiles = sigma / khat * np.expm1(-khat * np.log1p(-p))
    new_log_tail = np.log(math.exp(cutoff) + quantiles)
    smoothed[tail] = np.minimum(new_log_tail, log_w[order[-1]] - shift) + shift
    return smoothed, khat


def _log_weights_iv(log_weights) -> np.ndarray:
    log_w = to_numpy(log_weights)
    if log_w.ndim != 1:
        raise ValueError(f"log_weights must have shape (S,), got shape {log_w.shape}")
    if np.isnan(log_w).any():
        raise ValueError("log_weights must not contain NaN")
    return log_w


def _tail_size(s: int) -> int:
    return int(math.ceil(min(0.2 * s, 3.0 * math.sqrt(s))))


def _tail_fit(log_w: np.ndarray, smoothing: bool = False):
    """(khat, sigma, order, shift, log cutoff) of the GPD fit to the weights' tail."""
    nan_out = (math.nan, math.nan, None, 0.0, 0.0)
    if np.isposinf(log_w).any():
        return (math.inf,) + nan_out[1:] if smoothing else (math.inf,)
    finite = log_w[np.isfinite(log_w)]
    m = _tail_size(log_w.size)
    if finite.size <= m or m < _MIN_TAIL:
        return nan_out if smoothing else (math.nan,)
    shift = float(finite.max())
    order = np.argsort(log_w, kind="stable")
    sorted_log_w = log_w[order] - shift
    cutoff = float(sorted_log_w[-m - 1])
    exceedances = np.exp(sorted_log_w[-m:]) - math.exp(cutoff)
    # The tail is flat (to round-off: the largest weight is exp(0) = 1 after the shift):
    # the weights are bounded, nothing to fit. An exact q gives such round-off weights.
    if exceedances[-1] <= 1e-12:
        out = (-math.inf, math.nan, order, shift, cutoff)
        return out if smoothing else out[:1]
    khat, sigma = _gpd_fit_zhang_stephens(exceedances)
    return (khat, sigma, order, shift, cutoff) if smoothing else (khat,)


def _gpd_fit_zhang_stephens(x: np.ndarray):
    """Shape k and scale sigma of a GPD fitted to sorted exceedances ``x`` >= 0.

    Zhang & Stephens (2009), section 3: a posterior mean of ``theta = -k / sigma`` over
    a grid of ``30 + sqrt(n)`` values (profile likelihood weights), then ``k`` from
    theta; finally the prior shrinkage of Vehtari et al. (2024), appendix.
    """
    n = x.size
    grid_size = 30 + int(math.sqrt(n))
    j = np.arange(1, grid_size + 1, dtype=np.float64)
    theta = 1.0 - np.sqrt(grid_size / (j - 0.5))
    quartile = x[int(n / 4 + 0.5) - 1]
    if quartile <= 0:  # tied weights at the cutoff: scale by the smallest positive one
        quartile = x[x > 0][0]
    theta = theta / (3.0 * quartile) + 1.0 / x[-1]
    k_grid = np.log1p(-theta[:, None] * x).mean(axis=1)
    profile = n * (np.log(-theta / k_grid) - k_grid - 1.0)
    with np.errstate(over="ignore"):  # exp overflow means a negligible weight: 1/inf = 0
        weights = 1.0 / np.exp(profile - profile[:, None]).sum(axis=1)
    keep = weights >= 10 * np.finfo(float).eps
    weights, theta = weights[keep], theta[keep]
    theta_mean = float(np.sum(theta * weights / weights.sum()))
    k = float(np.log1p(-theta_mean * x).mean())
    sigma = -k / theta_mean if theta_mean != 0 else float(x.mean())  # k = 0: exponential
    k = (n * k + 10 * 0.5) / (n + 10)  # weakly informative prior towards k = 0.5
    return k, sigma
