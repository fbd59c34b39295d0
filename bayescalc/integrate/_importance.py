"""Importance sampling with a proposal distribution, its ESS and its PSIS k-hat.

``importance(f, proposal)`` estimates ``I = integral of f`` as the mean of the ratios
``r = f(x) / q(x)`` over draws ``x ~ q``; with ``target=log p~`` it estimates the
self-normalized expectation ``E_p[f]`` of a density known up to a constant. The
standard error alone cannot reveal a proposal whose tails are too light (the variance
of the ratios may be infinite while the sample variance looks fine), so every result
also carries the Pareto k-hat of the weights (:mod:`.sampling.psis`): above 0.7 the estimate is
unreliable and a :class:`~bayescalc.ReliabilityWarning` is emitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._core.batch import BatchFunction
from .._core.validation import check_callable, check_int
from .._core.warnings import ReliabilityWarning, warn_unless_success
from ._result import IntegrationResult
from .sampling.draws import check_proposal, sample_and_log_prob
from .sampling.psis import KHAT_THRESHOLD, psis_khat


@dataclass(frozen=True, repr=False)
class ImportanceResult(IntegrationResult):
    """An importance-sampling estimate and its diagnostics.

    Attributes
    ----------
    ess : float
        Effective sample size ``(sum w)^2 / sum w^2`` of the weights (``|f|/q`` without
        a target), between 1 and ``n``.
    khat : float
        Pareto k-hat of the weights (:func:`~bayescalc.integrate.psis_khat`); above 0.7
        the estimate is unreliable (``success`` is False and a ReliabilityWarning is
        emitted), ``inf`` when the proposal has zero density at a draw where f does not
        vanish.
    log_weights : numpy.ndarray
        The log importance weights of the ``n`` draws, in draw order: ``log |f(x_i)| -
        log q(x_i)`` without ``target`` (``log f(x_i) - log q(x_i)`` with ``log=True``),
        ``log p~(x_i) - log q(x_i)`` with it; ``-inf`` for a zero weight. Plot them
        (:func:`~bayescalc.plot.plot_importance_weights`) or smooth them
        (:func:`~bayescalc.integrate.psis_smooth`).
    """

    ess: float = float("nan")
    khat: float = float("nan")
    log_weights: np.ndarray | None = field(default=None, repr=False, compare=False)


def importance(f, proposal, *, n: int = 4096, seed=None, log: bool = False,
               target=None) -> ImportanceResult:
    r"""Integral of ``f`` (or ``E_p[f]``) by importance sampling from ``proposal``.

    Without ``target``:

    .. math::

        I = \int f(x)\,dx = E_q\!\left[\frac{f(X)}{q(X)}\right]
          \approx \frac1n \sum_i \frac{f(x_i)}{q(x_i)},\quad x_i \sim q,

    with standard error ``std(r) / sqrt(n)``. With ``target`` (``log p~``), the
    self-normalized estimate

    .. math::

        E_p[f] \approx \sum_i \bar w_i f(x_i),\quad
        \bar w_i = \frac{\tilde p(x_i)/q(x_i)}{\sum_j \tilde p(x_j)/q(x_j)},

    with the delta-method standard error ``sqrt(sum_i wbar_i^2 (f(x_i) - estimate)^2)``
    (Owen 2013, eq. 9.9).

    Parameters
    ----------
    f : callable
        Vectorized: draws of shape ``(n,)`` (scalar proposal) or ``(n, d)`` as float64
        numpy arrays -> ``(n,)``. With ``log=True`` it returns ``log f`` (f >= 0).
    proposal : torch.distributions.Distribution, scipy frozen distribution, or object
        Anything with ``sample``/``log_prob`` (torch), ``rvs``/``logpdf`` (scipy), or
        ``sample(n, rng)``/``log_prob(x)`` (your own; ``rng`` a numpy Generator).
    n : int
        Number of draws (at least 2).
    seed : None, int or Generator
        Same seed, same draws.
    log : bool
        ``f`` returns ``log f``; the result is ``log I`` with the standard error of
        ``log I``. This is how evidences are computed: ``f = log p(y, theta)``.
    target : callable, optional
        ``log p~(x)``, an unnormalized log density: the result is the self-normalized
        ``E_p[f]`` (not with ``log=True``).

    Returns
    -------
    ImportanceResult
        ``value``, ``error`` (standard error), ``n_evals``, ``success`` (False when
        k-hat > 0.7), ``message``, ``method``, ``ess``, ``khat``.

    Raises
    ------
    ValueError
        ``n < 2``, ``f`` or ``target`` returning NaN (or +inf), a NaN log density.

    Examples
    --------
    >>> import numpy as np, torch
    >>> gauss = lambda x: np.exp(-x**2 / 2)                      # integral sqrt(2 pi)
    >>> q = torch.distributions.StudentT(3.0, 0.0, 1.5)          # heavier tails: fine
    >>> r = importance(gauss, q, n=20_000, seed=0)
    >>> round(r.value, 2), round(float(np.sqrt(2 * np.pi)), 2), r.khat < 0.5
    (2.51, 2.51, True)
    >>> narrow = torch.distributions.Normal(0.0, 0.3)           # too light: k = 0.91
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     bad = importance(gauss, narrow, n=20_000, seed=0)
    >>> bad.khat > 0.7, bad.success, caught[0].category.__name__
    (True, False, 'ReliabilityWarning')
    """
    _importance_iv(f, proposal, n, log, target)
    x, log_q = sample_and_log_prob(proposal, n, seed)
    if np.isnan(log_q).any() or np.isposinf(log_q).any():
        raise ValueError("the proposal's log density is NaN or +inf at a draw "
                         f"x = {x[np.flatnonzero(~np.isfinite(log_q))[0]]}")
    values = _evaluate(f, x, "f", allow_neg_inf=log)
    if target is not None:
        log_target = _evaluate(target, x, "target", allow_neg_inf=True)
        result = _self_normalized(values, _log_ratio(log_target, log_q), x)
    elif log:
        result = _log_ratio_mean(_log_ratio(values, log_q), x)
    else:
        result = _ratio_mean(values, log_q, x)
    return warn_unless_success(result, ReliabilityWarning)


def _ratio_mean(values, log_q, x):
    n = values.size
    nonzero = values != 0
    log_abs = np.full(n, -np.inf)
    log_abs[nonzero] = np.log(np.abs(values[nonzero])) - log_q[nonzero]
    ratios = np.sign(values) * np.exp(log_abs)
    with np.errstate(invalid="ignore"):  # an infinite weight: reported, not computed
        value = float(ratios.mean())
        error = float(ratios.std(ddof=1) / math.sqrt(n))
        ess = _ess(np.abs(ratios))
    return _result(value, error, n, ess, log_abs, x, "importance")


def _log_ratio_mean(log_ratios, x):
    n = log_ratios.size
    finite = log_ratios[np.isfinite(log_ratios)]
    if np.isposinf(log_ratios).any():
        return _result(math.inf, math.inf, n, math.nan, log_ratios, x, "importance")
    if finite.size == 0:
        return _result(-math.inf, math.inf, n, math.nan, log_ratios, x, "importance")
    shift = float(finite.max())
    weights = np.exp(log_ratios - shift)
    mean = weights.mean()
    value = shift + math.log(mean)
    error = float(weights.std(ddof=1) / math.sqrt(n) / mean)
    return _result(value, error, n, _ess(weights), log_ratios, x, "importance")


def _self_normalized(values, log_weights, x):
    n = values.size
    finite = log_weights[np.isfinite(log_weights)]
    if np.isposinf(log_weights).any() or finite.size == 0:
        return _result(math.nan, math.inf, n, math.nan, log_weights, x,
                       "self-normalized importance")
    weights = np.exp(log_weights - finite.max())
    normalized = weights / weights.sum()
    value = float(normalized @ values)
    error = float(np.sqrt(np.sum(normalized**2 * (values - value) ** 2)))
    return _result(value, error, n, _ess(weights), log_weights, x,
                   "self-normalized importance")


def _result(value, error, n, ess, log_weights, x, method):
    khat = psis_khat(log_weights)
    if np.isposinf(log_weights).any():
        where = x[np.flatnonzero(np.isposinf(log_weights))[0]]
        message = (f"the proposal has zero density at x = {where} where f does not vanish: "
                   "an infinite weight (k-hat = inf); use a proposal with wider support")
    elif khat > KHAT_THRESHOLD:
        message = (f"k-hat = {khat:.2f} > {KHAT_THRESHOLD}: the weights are heavy-tailed and "
                   f"the estimate is unreliable (ess = {ess:.0f} of {n}); use a proposal "
                   "with heavier tails, closer to |f|")
    else:
        message = f"k-hat = {khat:.2f}, ess = {ess:.0f} of {n}"
    success = not khat > KHAT_THRESHOLD and (math.isfinite(value) or value == -math.inf)
    return ImportanceResult(float(value), float(error), n, bool(success), message, method,
                            ess=float(ess), khat=float(khat), log_weights=log_weights)


def _ess(weights):
    total = weights.sum()
    squares = np.sum(weights**2)
    return float(total**2 / squares) if squares > 0 else math.nan


def _log_ratio(log_numerator, log_q):
    """``log_numerator - log_q``, with 0/0 (both -inf) a zero weight (-inf), not NaN."""
    both_zero = np.isneginf(log_q) & np.isneginf(log_numerator)
    return np.where(both_zero, -np.inf, log_numerator - np.where(both_zero, 0.0, log_q))


def _evaluate(function, x, name, *, allow_neg_inf):
    values = BatchFunction(function)(x)
    bad = np.isnan(values) | np.isposinf(values) | (np.isneginf(values) & (not allow_neg_inf))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} returned a non-finite value {values[i]} at x = {x[i]}")
    return values


def _importance_iv(f, proposal, n, log, target):
    check_callable(f, "f")
    check_proposal(proposal)
    check_int(n, "n", minimum=2)
    if target is not None:
        check_callable(target, "target")
        if log:
            raise ValueError("target (self-normalized estimate of E_p[f]) needs log=False")
