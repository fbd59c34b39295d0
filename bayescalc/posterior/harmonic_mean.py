"""The harmonic-mean estimator (Newton & Raftery 1994): the cautionary tale.

``1 / Z = E_post[1 / L(theta)]``, so ``log Z = -log mean exp(-log L)`` over posterior
draws. It is consistent, but ``1 / L`` usually has infinite variance under the posterior:
the average is dominated by rare draws in the prior's tails that a finite run never
sees, so the estimate is biased upwards (often by nats), converges at an unknowably
slow rate, and its standard error is small and wrong. It is here to be compared, and
it is always reported with ``success=False``. Use any other method.
"""

from __future__ import annotations

import warnings

import torch

from .._core.random import spawn_seeds
from .._core.warnings import ReliabilityWarning
from ..integrate import psis_khat
from ..integrate.sampling import check_executor
from ._common import counted, failed_fit, fit_laplace, log_mean_exp
from .bridge import posterior_draws
from .result import EvidenceResult


def harmonic_mean_evidence(model, *, seed=None, executor=None, progress=False, n_chains=64,
                           n_steps=100, n_warmup=150, n_starts=4) -> EvidenceResult:
    """log Z by the harmonic mean of the likelihood over MALA posterior draws (unreliable).

    Parameters
    ----------
    model : bayescalc.Model
    seed : int, optional
    executor
        Accepted for the common signature (unused).
    progress : bool
    n_chains, n_steps, n_warmup : int
        The MALA run giving the posterior draws.
    n_starts : int
        Starting points of the mode search.

    Returns
    -------
    EvidenceResult
        Always ``success=False`` (with a ReliabilityWarning): the delta-method ``error``
        ignores the infinite variance and is far too small.

    Examples
    --------
    >>> import warnings, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 10.0).log_prob(t).sum(-1),
    ...           lambda t: Normal(t, 1.0).log_prob(torch.tensor(1.0)).sum(-1), dim=2)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     r = harmonic_mean_evidence(m, seed=0, n_chains=16, n_steps=40, n_warmup=40)
    >>> r.success
    False
    """
    check_executor(executor)
    cm = counted(model)
    seeds = spawn_seeds(seed, 2)
    fit = fit_laplace(cm, n_starts=int(n_starts), seed=seeds[0])
    failed = failed_fit(cm, fit, "harmonic-mean", "harmonic mean")
    if failed:
        return failed
    draws, _, _ = posterior_draws(cm, fit, seeds[1], n_chains=n_chains, n_steps=n_steps,
                                  n_warmup=n_warmup, progress=progress)
    flat = draws.reshape(-1, model.dim)
    with torch.no_grad():
        log_lik = cm.log_likelihood(flat).numpy()
    neg_log_z, error = log_mean_exp(-log_lik)
    khat = float(psis_khat(-log_lik))
    message = ("harmonic mean: unreliable by construction (1/L has infinite variance under "
               f"the posterior; Pareto k-hat of 1/L = {khat:.2f}); its error bar is not a "
               "promise; use any other method")
    warnings.warn(message, ReliabilityWarning, stacklevel=2)
    return EvidenceResult(float(-neg_log_z), float(error), cm.n_evals, cm.n_grad_evals,
                          "harmonic-mean", False, message, {"khat": khat, "samples": flat})
