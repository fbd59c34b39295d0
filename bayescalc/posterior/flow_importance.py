"""Importance sampling from a normalizing flow fitted to a short tempering run.

A short SMC run from the prior (256 particles, a coarse temperature ladder, two HMC
moves a rung) finds where the posterior's mass lies; its log Z is far too noisy to use
(0.03-0.3 nats off on the 10-d shells). A masked autoregressive flow with a defensive
Student-t (:func:`.flow_proposal.fit_flow_proposal`) is fitted to its weighted draws;
a quarter of the ``n`` draws from it refit the flow to thousands of weighted draws;
the estimate uses the other draws, half from each flow, weighted against the even
mixture of the two (multiple importance sampling with the balance heuristic): ``log Z =
log mean exp(log w)``, PSIS-smoothed, with the delta-method standard error and the
Pareto k-hat of the weights. This is the split pocoMC makes (explore by tempering,
estimate with the flow), at fewer evaluations than a tempering run precise enough to
use on its own: on the bench's 10-d shells, a median 0.0049 nats off (bar 0.019) at
55,600 evaluations, where the default SMC is 0.017 off at 498,000 and pocoMC a median
0.031 at 78,000.

What it cannot see: mass the tempering run never reached (a mode its particles all
missed) is mass the flow never proposes, and k-hat, computed from the draws made, does
not see it either. ``auto`` does not trust one run: it pools two independent ones
only where both have k-hat <= 0.5 and agree to 0.025 nats
(:func:`._evidence.agreeing_flows`), and otherwise runs a full SMC and its flow check.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .._core.random import spawn_seeds
from .._core.warnings import ReliabilityWarning
from ..integrate.sampling import check_executor
from ._common import MixtureProposal, counted
from .flow_proposal import fit_flow_proposal, flows_available
from .importance import _finish, draw_weighted
from .result import EvidenceResult

#: Above this k-hat the result is flagged (``error = inf``), stricter than plain
#: importance sampling's 0.7: between 0.5 and 0.7, on funnels and the centred eight
#: schools, the flows' estimates were 0.05-0.12 nats low at 2.3-3.1 times their
#: doubled standard errors (measured), the neck under-explored by 256 particles.
KHAT_FLOW = 0.5

#: The Student-t's share in each flow proposal (see ``fit_flow_proposal``).
#: 0.25 kept the 2-D mixture's k-hat below 0.5 on 6 of 6 seeds (0.1: 4 of 6) but
#: doubled the median error on the 10-d shells (0.012 against 0.005 nats).
DEFENSIVE = 0.1

#: The short exploration run: options of
#: :func:`bayescalc.posterior.tempering.smc_evidence`.
EXPLORE = {"n_particles": 256, "n_replicates": 2, "rho": 0.5, "n_steps": 2, "max_steps": 2,
           "freeze": False}


def flow_importance_evidence(model, *, seed=None, executor=None, progress=False, n=32768,
                             explore=None) -> EvidenceResult:
    """log Z by importance sampling from a flow fitted to a short SMC run's draws.

    Parameters
    ----------
    model : bayescalc.Model
        The unnormalized posterior (its prior normalized); SMC starts from the prior
        where it can be sampled, else from a widened Laplace reference.
    seed : int, numpy Generator or SeedSequence, optional
        The same seed gives the same answer, on any executor and number of workers.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Runs SMC's replicates and the importance batches.
    progress : bool
    n : int
        Draws in all (at least 1,000): a quarter from the flow fitted to the SMC draws,
        to refit it; of the rest, half from each flow, for the estimate.
    explore : dict, optional
        Options of the exploring SMC run, updating :data:`EXPLORE`.

    Returns
    -------
    EvidenceResult
        ``method="flow"``; ``error`` = the delta-method standard error of log Z;
        ``inf`` with ``success=False`` where the weights' k-hat exceeds 0.5 (stricter
        than plain importance sampling's 0.7, see ``KHAT_FLOW``) or where no flow could
        be fitted. ``n_evals`` and ``n_grad_evals`` count SMC's work and the ``n`` draws.
        ``diagnostics``: ``khat``, ``ess``, ``samples`` and ``log_weights`` (the
        estimate's draws with normalized weights: weighted posterior draws),
        ``smc_log_z``, ``smc_error`` and ``smc_evals`` (the exploring run), ``flow`` and
        ``first_flow`` (the refitted and the first proposal), ``pilot_log_z``,
        ``pilot_error`` and ``pilot_khat`` (the refitting draws' own estimate).

    Raises
    ------
    ImportError
        Without zuko (``pip install 'bayescalc[flows]'``).
    ValueError
        ``n`` below 1,000.

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t).sum(-1),
    ...           lambda t: Normal(t, 1.0).log_prob(torch.tensor(1.0)).sum(-1), dim=2,
    ...           prior_sample=lambda n, g: torch.randn(n, 2, generator=g,
    ...                                                 dtype=torch.float64))
    >>> r = flow_importance_evidence(m, seed=0, n=4096)
    >>> exact = 2 * Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(1.0)).item()
    >>> r.success and abs(r.log_z - exact) < 3 * r.error
    True
    """
    from .tempering import smc_evidence

    check_executor(executor)
    if int(n) < 1000:
        raise ValueError(f"n must be at least 1000 draws, got {n}")
    if not flows_available():
        raise ImportError("method='flow' fits a normalizing flow with zuko: "
                          "pip install 'bayescalc[flows]'")
    options = dict(EXPLORE)
    options.update(explore or {})
    smc_seed, fit_seed, pilot_seed, refit_seed, draw_seed = spawn_seeds(seed, 5)
    run = smc_evidence(model, seed=smc_seed, executor=executor, progress=progress, **options)
    cm = counted(model)
    cm.n_evals, cm.n_grad_evals = run.n_evals, run.n_grad_evals
    smc = {"smc_log_z": run.log_z, "smc_error": run.error, "smc_evals": run.n_evals}

    def failed(why):
        return EvidenceResult(math.inf if run.log_z == math.inf else math.nan, math.inf,
                              cm.n_evals, cm.n_grad_evals, "flow", False,
                              f"flow: no flow could be fitted to {why} ({run.message})", smc)

    z, log_w = run.diagnostics.get("samples"), run.diagnostics.get("log_weights")
    if z is None or log_w is None or not math.isfinite(run.log_z):
        return failed("the exploring SMC run's draws")
    first = fit_flow_proposal(z, log_w, seed=int(fit_seed.generate_state(1)[0]),
                              defensive=DEFENSIVE)
    if first is None:
        return failed("the exploring SMC run's draws")
    # a quarter of the draws refit the flow to thousands of weighted draws instead of 256
    # particles; the estimate takes fresh draws, half from each flow, weighted by
    # p / (q1 + q2) / 2 (the balance heuristic of multiple importance sampling), so that
    # wherever the refitted flow is too narrow the first one still proposes (a refitted
    # flow alone was 0.068 nats low at k-hat 0.09 on one seed of the 10-d shells, its
    # bar 0.019). The refitting draws stay out of the estimate: the refitted flow's
    # density is raised at the very draws it was fitted to, which biased the pooled
    # estimate 0.04-0.11 nats low (measured)
    n_pilot = int(n) // 4
    z0, lw0 = draw_weighted(model, first, n_pilot, pilot_seed, executor, progress=progress)
    cm.n_evals += len(lw0)
    with warnings.catch_warnings():  # the pilot's k-hat is the refit's business only
        warnings.simplefilter("ignore", ReliabilityWarning)
        pilot = _finish(counted(model), z0, lw0, True, "flow")
    second = fit_flow_proposal(z0, pilot.diagnostics["log_weights"], defensive=DEFENSIVE,
                               seed=int(refit_seed.generate_state(1)[0])) or first
    n_first = (int(n) - n_pilot) // 2
    seeds_first, seeds_second = spawn_seeds(draw_seed, 2)
    z1, lw1 = draw_weighted(model, first, n_first, seeds_first, executor, progress=progress)
    z2, lw2 = draw_weighted(model, second, int(n) - n_pilot - n_first, seeds_second, executor,
                            progress=progress)
    cm.n_evals += len(lw1) + len(lw2)
    zz = torch.cat([z1, z2])
    both = MixtureProposal([first, second], [len(lw1), len(lw2)])
    with torch.no_grad():  # log p = log w + log q of each draw's own flow
        log_p = np.concatenate([lw1 + first.log_prob(z1).numpy(),
                                lw2 + second.log_prob(z2).numpy()])
        lw = log_p - both.log_prob(zz).numpy()
    extra = dict(smc, flow=second, first_flow=first, pilot_log_z=pilot.log_z,
                 pilot_error=pilot.error, pilot_khat=float(pilot.diagnostics["khat"]))
    result = _finish(cm, zz, lw, True, "flow", extra=extra)
    khat = float(result.diagnostics["khat"])
    what = (f"flow: {len(lw)} draws, half from a flow fitted to {len(z)} SMC draws "
            f"({run.n_evals} evaluations), half from it refitted to {n_pilot} of its draws, "
            f"weighted against their even mixture; Pareto k-hat {khat:.2f}, ESS "
            f"{result.diagnostics['ess']:.0f}")
    if not (np.isfinite(result.log_z) and khat <= KHAT_FLOW):
        return result._replace(error=math.inf, success=False,
                               message=f"{what}: k-hat above {KHAT_FLOW}, the flows miss "
                               "part of the posterior; not to be trusted")
    # the exploring run's own value is kept in the diagnostics, not used as a check:
    # with 2 runs of 128 particles its bar says little (on the 2-D mixture it was 0.15
    # and 0.29 nats off with bars of 0.015 and 0.06, where the flow was within 0.0005)
    message = (f"{what}; error = delta-method standard error; mass the exploring SMC run "
               "never reached is not seen")
    return result._replace(message=message)
