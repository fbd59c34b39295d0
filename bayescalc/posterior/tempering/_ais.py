"""Annealed importance sampling evidence: independent annealed chains and their weights."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from ..._core.warnings import warn_unless_success
from ...integrate import psis_khat
from ..result import EvidenceResult
from .replicates import common_diagnostics, run_replicates, status, t_factor

# Above this Pareto k-hat the chains' weights have infinite variance (Vehtari et al.
# 2024). Measured over 51 runs (the bench's problems, both eight schools and the 5-d
# funnel, 3 seeds each): at k-hat <= 0.5, 30 of 30 bars covered; at 0.5-0.7, 5 of 9
# (the 10-d funnel 0.8-1.2 nats low with bars of 0.15-0.31, the 5-d funnel 0.22 low with
# 0.06, the 32-d Gaussian 0.31 low with 0.105), where the limit had been 0.7.
KHAT_LIMIT = 0.5


def ais_evidence(model, *, seed=None, executor=None, progress=False, n_particles=2048,
                 **options) -> EvidenceResult:
    """log Z by annealed importance sampling (Neal 2001) with an adaptive ladder.

    Each chain starts from the reference and is annealed through the same tempered
    densities as :func:`smc_evidence`, moved by the batched preconditioned HMC kernel,
    but never resampled: it carries the weight ``sum_t (beta_t - beta_{t-1}) u(z_t)``.
    The mean of the weights is an unbiased estimate of Z. The ladder keeps the
    conditional ESS of the accumulated weights at ``rho * n``.

    Parameters
    ----------
    model, seed, executor, progress, n_particles, **options
        As in :func:`smc_evidence` (``n_particles`` chains in all, in ``n_replicates``
        groups that share a ladder and a step size).

    Returns
    -------
    EvidenceResult
        ``error`` is the delta-method standard error of log Z over all chains'
        weights, ``sqrt(var(w) / (N mean(w)^2))``, or the t-widened spread of the
        ``n_replicates`` groups' estimates where that is larger (the delta method alone
        covered the truth in 85% of 20 runs on a banana: heavy-tailed weights);
        ``success`` is False, and ``error`` inf, when the
        weights' Pareto k-hat exceeds ``KHAT_LIMIT`` = 0.5: their variance is then
        infinite, so neither bar means anything (the estimate is the plain mean of the
        weights, not smoothed).
        ``diagnostics`` adds ``khat``, ``ess`` and the chains' ``log_weights``.

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc.model import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 0.5).log_prob(torch.tensor(1.0)), dim=1,
    ...           prior_sample=lambda n, g: torch.randn(n, 1, generator=g, dtype=torch.float64))
    >>> exact = Normal(0.0, math.sqrt(1.25)).log_prob(torch.tensor(1.0)).item()
    >>> r = ais_evidence(m, seed=0, n_particles=512, n_replicates=4)
    >>> abs(r.log_z - exact) < 3 * r.error + 1e-3
    True
    """
    reps = run_replicates(model, seed=seed, executor=executor, progress=progress,
                          resample=False, desc="ais", n_particles=n_particles, **options)
    log_w = np.concatenate([run["log_weights_acc"] for run in reps.runs])
    n = log_w.shape[0]
    log_z = float(logsumexp(log_w) - math.log(n))
    ratio = np.exp(log_w - log_z)
    delta = float(np.sqrt(np.var(ratio, ddof=1) / n))
    groups = np.array([float(logsumexp(run["log_weights_acc"])
                             - math.log(run["log_weights_acc"].shape[0])) for run in reps.runs])
    spread = t_factor(len(groups)) * float(np.std(groups, ddof=1)) / math.sqrt(len(groups))
    error = max(delta, spread)
    khat = float(psis_khat(log_w))
    ess = float(np.sum(ratio) ** 2 / np.sum(ratio ** 2))
    diagnostics = common_diagnostics(reps)
    diagnostics.update(delta_error=delta, replicate_error=spread, khat=khat, ess=ess,
                       log_weights=log_w - logsumexp(log_w),
                       samples=np.concatenate([run["samples"] for run in reps.runs]))
    ok, message = status(reps, "AIS", khat <= KHAT_LIMIT,
                         f"the chains' weights have Pareto k-hat {khat:.2f} > {KHAT_LIMIT}: "
                         "their variance is infinite, and the error bar cannot be trusted "
                         "(reported as inf; the spread is diagnostics['replicate_error'])")
    if khat > KHAT_LIMIT:
        error = math.inf
    return warn_unless_success(EvidenceResult(
        log_z, error, reps.n_evals, reps.n_grad_evals, "ais", ok, message, diagnostics))
