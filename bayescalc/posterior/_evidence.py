"""``evidence``: one entry point to every estimator of log Z, and ``auto``.

``METHODS`` maps each method name to its estimator, all with the signature
``estimator(model, *, seed=None, executor=None, progress=False, **options)``. The
tempering estimators (``smc``, ``ais``, ``thermodynamic``, ``stepping-stone``) join it
from :mod:`bayescalc.posterior.tempering` when that sub-package is present.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .._core.random import spawn_seeds
from .._core.warnings import ReliabilityWarning
from ..integrate.sampling import check_executor, psis_khat
from ._common import counted, fit_laplace, laplace_proposal, log_mean_exp, moment_matched_proposal
from ._flow_check import CONFIRM_TOL, flow_check, flow_recheck, flow_refine
from .bridge import bridge_evidence
from .conditional import conditional_evidence
from .control_variates import controls as cv_controls
from .control_variates import cv_log_mean
from .flow_importance import KHAT_FLOW, flow_importance_evidence
from .flow_proposal import flows_available
from .harmonic_mean import harmonic_mean_evidence
from .importance import draw_weighted, importance_evidence
from .laplace import laplace_evidence, laplace_from_fit
from .nested import nested_evidence
from .quadrature import TENSOR_MAX_DIM, quadrature_evidence
from .result import EvidenceResult

METHODS = {
    "laplace": laplace_evidence,
    "quadrature": quadrature_evidence,
    "importance": importance_evidence,
    "bridge": bridge_evidence,
    "conditional": conditional_evidence,
    "nested": nested_evidence,
    "harmonic-mean": harmonic_mean_evidence,
}

try:  # the tempering sub-package (smc, ais, thermodynamic, stepping-stone), once merged
    from .tempering import (
        ais_evidence,
        smc_evidence,
        stepping_stone_evidence,
        thermodynamic_evidence,
    )
except ImportError:  # pragma: no cover - depends on the merge
    smc_evidence = None
else:  # pragma: no cover - depends on the merge
    METHODS.update({"smc": smc_evidence, "ais": ais_evidence,
                    "thermodynamic": thermodynamic_evidence,
                    "stepping-stone": stepping_stone_evidence,
                    "flow": flow_importance_evidence})


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def auto_evidence(model, *, seed=None, executor=None, progress=False, target=0.005,
                  max_evals=60_000, n_check=1000, rechecks=3, refine="latent",
                  conditional=True) -> EvidenceResult:
    """log Z by the method that the model's own diagnostics point to.

    1. Modes by L-BFGS from several starts, each with its Laplace fit (a singular
       Hessian: reported as improper, ``log_z = inf``, ``success=False``).
    2. ``d <= 3``: adapted quadrature (Gauss-Hermite, the trapezoid rule, then
       Genz-Malik cubature over R^d; up to 250,000 evaluations for ``d <= 2``, else
       ``max_evals``), kept when it converges to ``target``.
    3. Importance sampling from the Laplace mixture (``n_check`` draws) beside the
       Laplace value with its measured non-Gaussian correction: when k-hat < 0.5, the
       correction is below 1e-3 and the two agree within their errors, the posterior is
       Gaussian to that precision and Laplace is returned.
    4. Otherwise, for 2 <= d <= 32, ``conditional`` (one coordinate by quadrature, the
       others by conditional Laplace-importance sampling), kept where it succeeds with a
       bar of at most 0.01 nats and matches every mode found (a success with a wider bar
       is held, and returned only where the later stages do not succeed): the
       hierarchical posteriors (funnels, eight schools) and the regressions with an
       unknown noise scale end here, exact where the conditionals are Gaussian.
    5. When the check's k-hat is good, the
       proposal is refitted to the check's weighted draws (their mean and covariance:
       80% Gaussian, 20% Student-t with 8 degrees of freedom), a pilot of ``n_check``
       fresh draws measures its error, and draws are added until ``target`` nats (k-hat
       checked again); the estimate uses regression control variates (the whitened
       coordinates and their products, whose means under the proposal are known). Where
       the refit does not help, the Laplace mixture is rerun with enough draws instead.
    6. Otherwise (heavy-tailed weights, disagreement), where tempering is available:
       bridge sampling; when the importance check has k-hat < 0.9 and agrees with it
       within 2 combined errors, the bridge value; else the bridge checked by SMC from a
       Student-t reference at the Laplace mode: when the two succeed and agree within 2
       combined errors, the bridge value.
    7. Otherwise, where the prior can be sampled and zuko is present, two independent
       ``flow`` runs (importance sampling from flows fitted to a short SMC run each,
       65,536 draws and ~88,000 evaluations apiece on the 10-d shells): where both have
       k-hat <= 0.5 and agree within 2 combined errors and a combined bar of at most
       0.025 nats, their pooled value (:func:`agreeing_flows`).
    8. Otherwise SMC from the prior (from the Student-t reference with 8,192 particles
       when the prior cannot be sampled), or bridge sampling without tempering; the
       result's own diagnostics decide ``success``. With zuko (the ``flows`` extra) SMC
       is checked by importance sampling from a normalizing flow fitted to its weighted
       draws (8,192 draws, PSIS), which confirms it only where the two agree within a
       combined bar of 0.025 nats. Where it does not, rounds of gradient-free moves in
       the flow's latent space and refitted flows (``refine="latent"``, up to
       ``rechecks + 1`` rounds of ~51,000 evaluations, their levels pooled) or of HMC
       moves (``refine="hmc"``, up to ``rechecks`` rounds of ~1.4 million on the 10-d
       funnel) refine the value; they confirm only with an error, never below the first
       check's, of at most 0.025 nats (the levels of refitted flows share a low bias on
       hard posteriors, which the first check's error measures and their spread does
       not).

    A mode search that climbs without reaching a stationary point (an unbounded but
    possibly integrable density, like the centred eight schools) goes straight to
    ``conditional``, then step 8, where the prior can be sampled; a flat direction at a
    stationary point is reported as an improper posterior.

    Parameters
    ----------
    model : bayescalc.Model
    seed : int, optional
    executor : optional
        Passed to the particle methods.
    progress : bool
    target : float
        Standard error in nats aimed at by importance sampling.
    max_evals : int
        Budget of the quadrature and importance stages.
    n_check : int
        Draws of the importance-sampling check.
    rechecks : int
        Rounds of moves and flow refits after a flow check that does not confirm SMC
        (one more with ``refine="latent"``).
    refine : {"latent", "hmc"}
        How the rechecks move the draws: ``"latent"`` (default), rounds of gradient-free
        random-walk moves in the flow's latent space and refitted flows
        (:func:`bayescalc.posterior._flow_check.flow_refine`); ``"hmc"``, SMC's draws
        moved 40 more times by HMC with the step-size mixture
        (:func:`bayescalc.posterior._flow_check.flow_recheck`): 1-5 million evaluations
        and as many gradients against 0.25-0.7 million on the funnels and eight schools
        (see docs/posterior.md).
    conditional : bool
        Whether step 4 (``conditional``) is tried; False gives the path of the steps
        after it (the refitted importance sampling, the bridge, SMC).

    Returns
    -------
    EvidenceResult
        ``method="auto"``; ``diagnostics["chosen"]`` names the estimator whose value is
        returned and ``diagnostics["stages"]`` lists what was tried.

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t).sum(-1),
    ...           lambda t: Normal(t, 1.0).log_prob(torch.tensor(1.0)).sum(-1), dim=5)
    >>> r = auto_evidence(m, seed=0)
    >>> exact = 5 * Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(1.0)).item()
    >>> r.diagnostics["chosen"], abs(r.log_z - exact) < 1e-6
    ('laplace', True)
    """
    check_executor(executor)
    if refine not in ("latent", "hmc"):
        raise ValueError(f"refine must be 'latent' or 'hmc', got {refine!r}")
    cm = counted(model)
    d = model.dim
    seeds = spawn_seeds(seed, 12)  # the first 10 as before 12 were spawned
    fit = fit_laplace(cm, n_starts=8 if d <= 3 else 4, seed=seeds[0], hunt=HUNT)
    stages = []

    held = []  # a conditional result that succeeded with a bar above CONDITIONAL_BAR

    def done(result, chosen, extra_message=""):
        if not result.success and held:  # the later stages did worse: the held result
            result, chosen = held[0], "conditional"
            extra_message = (f" (kept over the later stages, which did not succeed; its "
                             f"bar {result.error:.2g} is above {CONDITIONAL_BAR})")
        diagnostics = dict(result.diagnostics)
        diagnostics.update({"chosen": chosen, "stages": stages})
        message = f"auto chose {chosen}: {result.message}" + extra_message
        out = EvidenceResult(result.log_z, result.error, cm.n_evals, cm.n_grad_evals, "auto",
                             result.success, message, diagnostics)
        if not out.success:
            warnings.warn(out.message, ReliabilityWarning, stacklevel=3)
        return out

    def _checked_by_flow(result, note=""):
        checked = flow_check(model, result, seed=seeds[7],
                             executor=executor)
        if checked is None:
            return done(result, "smc", note)
        cm.n_evals += checked.n_evals
        stages.append(("flow-importance", checked.diagnostics["flow_log_z"],
                       checked.diagnostics["flow_error"], checked.diagnostics["khat"] < 0.7))
        if checked.success:
            return done(checked, checked.diagnostics["chosen"], note)
        if refine == "latent":
            # rounds of gradient-free moves in the flow's latent space and refitted flows,
            # their levels pooled: ~51,000 evaluations a round instead of ~1.4 million,
            # flagged always (their levels share a low bias), see flow_refine
            refined = flow_refine(model, result, checked, seed=seeds[8], executor=executor,
                                  rounds=rechecks + 1) if rechecks > 0 else None
            if refined is None:
                return done(checked, checked.diagnostics["chosen"], note)
            cm.n_evals += refined.n_evals
            stages.append(("flow-refined", refined.log_z, refined.error, refined.success))
            return done(refined, "flow-importance", note)
        # not confirmed: move SMC's draws further at the posterior and look again, up
        # to `rechecks` times, until two successive looks agree within 0.025 nats
        draws, previous = None, checked
        history = [checked.diagnostics["flow_log_z"]]
        for recheck_seed in spawn_seeds(seeds[8], rechecks):
            again = flow_recheck(model, result, previous, seed=recheck_seed,
                                 executor=executor, draws=draws, history=history,
                                 floor=checked.diagnostics["flow_error"])
            if again is None:
                break
            cm.n_evals += again.n_evals
            cm.n_grad_evals += again.n_grad_evals
            stages.append(("flow-importance", again.log_z, again.error, again.success))
            previous = again
            history.append(again.log_z)
            if again.success:
                break
            draws = (again.diagnostics["moved_samples"], np.zeros(len(again.diagnostics[
                "moved_samples"])))
        return done(previous, previous.diagnostics["chosen"], note)

    def conditional_stage(note="", points=()):
        # hierarchical posteriors (funnels, eight schools) in 15,000-70,000 evaluations,
        # where SMC and the flow checks took 0.3-0.9 million and stayed flagged; its
        # diagnostics vouch for it, and the modes found must match conditional ones
        # (a second conditional mode is mass its proposals never draw). A success with
        # a bar above CONDITIONAL_BAR is held while the later stages try for a finer one
        if not (2 <= d <= CONDITIONAL_MAX_DIM and conditional):
            return None
        result = spend(_quiet(conditional_evidence, model, seed=seeds[9], target=0.01,
                              points=points),
                       (0, 0))
        if result.success and result.error <= CONDITIONAL_BAR:
            return done(result, "conditional", note)
        if result.success:
            held.append(result)
        return None

    def flow_pair_stage():
        # two independent `flow` runs (each its own short SMC from the prior): where both
        # weights are light-tailed and the two agree to CONFIRM_TOL, a full SMC run and
        # its flow check (~600,000 evaluations on the 10-d shells) would add nothing they
        # can see; where either does not (funnels, eight schools: k-hat 0.53-1.03), the
        # SMC path below runs as before
        if not (model.can_sample_prior and flows_available()):
            return None
        runs = [spend(_quiet(flow_importance_evidence, model, seed=s, executor=executor,
                             progress=progress, n=FLOW_PAIR_DRAWS), (0, 0))
                for s in seeds[10:12]]
        agreed = agreeing_flows(runs)
        return None if agreed is None else done(agreed, "flow")

    def spend(result, base):
        cm.n_evals += result.n_evals - base[0]
        cm.n_grad_evals += result.n_grad_evals - base[1]
        stages.append((result.method, result.log_z, result.error, result.success))
        return result

    if fit.problem and fit.climbing and smc_evidence is not None and model.can_sample_prior:
        # the search climbed without reaching a stationary point: the log joint may be
        # unbounded yet integrable (the centred eight schools as tau -> 0) or the
        # posterior improper; the prior is proper and can be sampled, so tempering from
        # it decides (no Laplace-based stage applies without a mode)
        stages.append(("laplace", math.inf, math.inf, False))
        note = f" (no mode: {fit.problem})"
        found = conditional_stage(note)
        if found is not None:
            return found
        result = spend(_quiet(smc_evidence, model, seed=seeds[3], executor=executor,
                              progress=progress), (0, 0))
        return _checked_by_flow(result, note)
    if fit.problem:
        improper = EvidenceResult(math.inf, math.inf, cm.n_evals, cm.n_grad_evals, "laplace",
                                  False, fit.problem + "; no finite log Z", {})
        return done(improper, "laplace")
    base = (cm.n_evals, cm.n_grad_evals)
    fit.cost = base
    if d <= TENSOR_MAX_DIM:
        quad = spend(_quiet(quadrature_evidence, model, fit=fit, tol=target,
                            max_evals=max(max_evals, QUADRATURE_2D_EVALS) if d <= 2
                            else max_evals), base)
        if quad.success or quad.log_z == math.inf:  # converged, or found divergent
            return done(quad, "quadrature")
    lap_log_z, lap_error, _ = laplace_from_fit(cm, fit, n_check=0)
    stages.append(("laplace", lap_log_z, lap_error, True))
    fit.cost = (cm.n_evals, cm.n_grad_evals)
    check = spend(_quiet(importance_evidence, model, fit=fit, n=n_check, seed=seeds[1],
                         executor=executor), fit.cost)
    khat = check.diagnostics.get("khat", math.inf)
    good_weights = check.success and khat < 0.5
    agree = abs(check.log_z - lap_log_z) <= 3 * check.error + lap_error
    if good_weights and agree and lap_error < 1e-3:
        lap_log_z, lap_error = _laplace_corrected(fit, check, lap_log_z, lap_error)
        lap = EvidenceResult(lap_log_z, lap_error, 0, 0, "laplace", True,
                             f"Laplace corrected by the check's draws (error {lap_error:.1e}; "
                             f"importance check k-hat {khat:.2f} agrees within "
                             f"{abs(check.log_z - lap_log_z):.1e})",
                             {"mode": fit.best.point, "cov": fit.best.cov,
                              "samples": check.diagnostics["samples"],
                              "log_weights": check.diagnostics["log_weights"]})
        return done(lap, "laplace")
    found = conditional_stage(points=[mode.point for mode in fit.modes])
    if found is not None:
        return found
    if good_weights:
        refined = moment_matched_proposal(check.diagnostics["samples"],
                                          check.diagnostics["log_weights"], df=8.0)
        if refined is not None:
            more = _refit_importance(cm, model, refined, check, n_check, target, max_evals,
                                     (seeds[2], seeds[4]), executor)
            if more is not None:
                stages.append((more.method, more.log_z, more.error, more.success))
                return done(more, "importance")
        n = int(min(max_evals, max(n_check, n_check * (check.error / target) ** 2)))
        fit.cost = (cm.n_evals, cm.n_grad_evals)
        more = spend(_quiet(importance_evidence, model, fit=fit, n=n, seed=seeds[2],
                            executor=executor), fit.cost)
        # kept only with k-hat < 0.5, as the refit above: between 0.5 and 0.7 the
        # delta-method bar is too small (a 4-d mixture of two mirrored bananas: 0.037
        # nats low at k-hat 0.52 with a bar of 0.012, success=True, on 3 of 4 runs)
        if more.success and more.diagnostics.get("khat", math.inf) < 0.5:
            return done(more, "importance")
    fit.cost = (cm.n_evals, cm.n_grad_evals)
    if smc_evidence is not None:  # pragma: no cover - depends on the merge
        # Bridge sampling (MALA draws and a fitted proposal) first, checked by the
        # importance check already paid for, or, where the two disagree, by SMC from a
        # Student-t reference at the Laplace mode. When a check agrees within 2 combined
        # errors, the bridge value is returned; otherwise SMC from the prior (or the
        # Student-t reference with more particles) decides. Measured on the unknown-noise
        # regression at d = 25: bridge at most 0.021 nats off over 20 seeds (bars ~0.015)
        # in ~17,000 evaluations, where SMC from the prior was 0.27-0.36 off in 470,000.
        fit.cost = (cm.n_evals, cm.n_grad_evals)
        bridge = spend(_quiet(bridge_evidence, model, fit=fit, seed=seeds[5],
                              executor=executor, progress=progress,
                              n_warmup=BRIDGE_WARMUP), fit.cost)
        if bridge.success and _agrees_with_check(bridge, check):
            return done(bridge, "bridge", _check_note(bridge, check))
        if bridge.success:
            second = spend(_quiet(smc_evidence, model, seed=seeds[6], executor=executor,
                                  progress=progress, reference="student-t"), (0, 0))
            gap = abs(bridge.log_z - second.log_z)
            if second.success and gap <= 2 * math.hypot(bridge.error, second.error):
                return done(bridge, "bridge",
                            f" (checked by SMC from a Student-t reference: "
                            f"{second.log_z:.4f} +- {second.error:.2g}, gap {gap:.2g})")
        found = flow_pair_stage()
        if found is not None:
            return found
        # Without a prior sampler SMC starts from a Laplace-centred reference; the heavier
        # tailed Student-t one with more particles is the less biased there (measured on
        # a 5-d banana: -0.03 to -0.06 nats against -0.09 to -0.12 for the Gaussian).
        extra = {} if model.can_sample_prior else {"reference": "student-t",
                                                   "n_particles": 8192}
        result = spend(_quiet(smc_evidence, model, seed=seeds[3], executor=executor,
                              progress=progress, **extra), (0, 0))
        return _checked_by_flow(result)
    result = spend(_quiet(bridge_evidence, model, fit=fit, seed=seeds[3], executor=executor,
                          progress=progress), fit.cost)
    return done(result, "bridge",
                f" (importance check: k-hat {khat:.2f}, |IS - Laplace| = "
                f"{abs(check.log_z - lap_log_z):.3g})")


# auto's pair of flow runs: draws each (32,768, the method's default, gave bars of ~0.019
# on the 10-d shells, whose combined 0.027 never resolves to CONFIRM_TOL)
FLOW_PAIR_DRAWS = 65_536

# auto's conditional stage: up to this dimension (the coordinate scan's Newton solves cost
# ~d^3 gradients: at d = 60, 16 s and 160,000 gradients more than without it on a logistic
# regression it did not resolve), and kept at once only with a bar up to CONDITIONAL_BAR
# (a 10-d logistic regression: 0.02 there, 0.005 by the refitted importance sampling);
# otherwise held as the fallback of the later stages
CONDITIONAL_MAX_DIM = 32
CONDITIONAL_BAR = 0.01

# The quadrature stage's budget for d <= 2: Genz-Malik cubature resolves thin rings
# there (two shells of width 0.03: 228,000 evaluations) where the next stages, SMC and
# the flow check, spend ~1 million; in d = 3 it does not converge within 100,000
QUADRATURE_2D_EVALS = 250_000

# Dispersed points that climb together after the L-BFGS starts, looking for modes those
# missed (posterior/_mode_hunt.py): 16 x 25 = 400 evaluations. A 70/30 mixture 10 sds
# apart in d = 5 was 0.357 nats low with a bar of 0 and success=True on 1 seed in 3.
HUNT = 16

# MALA warm-up steps of auto's bridge: its chains start from the Laplace mixture's draws,
# so the warm-up mostly adapts the step; 100 instead of bridge_evidence's 150 saves 3,200
# of ~20,500 evaluations at d = 25 (20 seeds: coverage and max error unchanged, see
# docs/posterior.md)
BRIDGE_WARMUP = 100


def agreeing_flows(runs, tol=CONFIRM_TOL):
    """Two ``flow`` results pooled where both vouch for themselves and agree, else None.

    Both must succeed with k-hat <= ``KHAT_FLOW``, differ by at most 2 combined errors,
    and the combined error must be at most ``tol`` (``CONFIRM_TOL``, 0.025 nats: the
    resolution at which ``auto`` confirms a flow check). The value is their
    inverse-variance mean; the error the larger of its standard error and half their
    gap; the draws, both runs' weighted draws with half the weight each.

    Examples
    --------
    >>> from bayescalc.posterior.result import EvidenceResult
    >>> a = EvidenceResult(-3.00, 0.010, 0, 0, "flow", True, "", {"khat": 0.2})
    >>> b = EvidenceResult(-3.01, 0.010, 0, 0, "flow", True, "", {"khat": 0.3})
    >>> r = agreeing_flows([a, b])
    >>> round(r.log_z, 3), round(r.error, 4)
    (-3.005, 0.0071)
    >>> agreeing_flows([a, b._replace(log_z=-3.1)]) is None
    True
    """
    if len(runs) != 2 or not all(r.success and math.isfinite(r.error) and r.error > 0
                                 and r.diagnostics.get("khat", math.inf) <= KHAT_FLOW
                                 for r in runs):
        return None
    a, b = runs
    gap, combined = abs(a.log_z - b.log_z), math.hypot(a.error, b.error)
    if gap > 2.0 * combined or combined > tol:
        return None
    wa, wb = a.error ** -2, b.error ** -2
    value = (wa * a.log_z + wb * b.log_z) / (wa + wb)
    error = max((wa + wb) ** -0.5, gap / 2)
    diagnostics = {"khat": max(a.diagnostics["khat"], b.diagnostics["khat"]),
                   "runs": [(r.log_z, r.error) for r in runs]}
    if all("samples" in r.diagnostics for r in runs):
        diagnostics["samples"] = torch.cat([r.diagnostics["samples"] for r in runs])
        diagnostics["log_weights"] = np.concatenate(
            [np.asarray(r.diagnostics["log_weights"]) - math.log(2) for r in runs])
    message = (f"two independent flow runs agree: {a.log_z:.4f} +- {a.error:.2g} and "
               f"{b.log_z:.4f} +- {b.error:.2g} (gap {gap:.2g}, k-hat <= {KHAT_FLOW}); "
               "error = the larger of their pooled standard error and half their gap")
    return EvidenceResult(value, error, a.n_evals + b.n_evals,
                          a.n_grad_evals + b.n_grad_evals, "flow", True, message, diagnostics)


def _agrees_with_check(bridge, check, khat_limit=0.9) -> bool:
    """Whether the importance check (draws from the Laplace mixture) vouches for the
    bridge value: its weights have a mean (k-hat < ``khat_limit``) and the two agree
    within 2 combined errors. Then the SMC check is not run: at d = 25 (unknown-noise
    regression) it cost 50,000 of auto's 70,000 evaluations, where the importance check
    (1,000 draws) and the bridge (20,000) agreed on every seed measured."""
    khat = check.diagnostics.get("khat", math.inf)
    se = check.diagnostics.get("standard_error", check.error)  # the bar before k-hat's say
    if not (khat < khat_limit and math.isfinite(check.log_z) and math.isfinite(se)):
        return False
    return abs(bridge.log_z - check.log_z) <= 2 * math.hypot(bridge.error, se)


def _check_note(bridge, check):
    se = check.diagnostics.get("standard_error", check.error)
    return (f" (checked by the importance check: {check.log_z:.4f} +- {se:.2g}, "
            f"k-hat {check.diagnostics.get('khat', math.nan):.2f}, gap "
            f"{abs(bridge.log_z - check.log_z):.2g})")


def _laplace_corrected(fit, check, lap_log_z, lap_error):
    """Laplace's log Z corrected by the importance check's draws, with its honest error.

    The Laplace density ``Z_lap G(z)`` (G the Laplace-weighted Gaussian mixture) is a
    control variate with known integral: ``Z = Z_lap + E_q[(p - Z_lap G) / q]`` for the
    check's proposal ``q``. On a Gaussian posterior ``p = Z_lap G`` and the correction is
    exactly zero with zero variance; elsewhere it measures what Laplace's non-Gaussian
    correction misses (0.009 nats on the diabetes regression with unknown noise, where
    that correction claimed 4e-4).
    """
    z = torch.as_tensor(np.asarray(check.diagnostics["samples"], dtype=float))
    raw = np.asarray(check.diagnostics["raw_log_weights"], dtype=float)
    with torch.no_grad():
        log_q = laplace_proposal(fit, "mixture").log_prob(z).numpy()
        log_g = laplace_proposal(fit, "gaussian").log_prob(z).numpy()
    residual = np.exp(raw - lap_log_z) - np.exp(log_g - log_q)
    shift = float(residual.mean()) if residual.size >= 2 else math.nan
    if not (np.all(np.isfinite(residual)) and shift > -1.0):  # no usable correction
        return lap_log_z, max(lap_error, abs(check.log_z - lap_log_z) + check.error)
    se = float(residual.std(ddof=1) / math.sqrt(residual.size)) / (1.0 + shift)
    value = lap_log_z + math.log1p(shift)
    return value, max(se, 1e-13 * (1.0 + abs(value)))


def _refit_importance(cm, model, refined, check, n_check, target, max_evals, seeds,
                      executor):
    """Importance sampling from ``refined`` with regression control variates: a pilot of
    ``n_check`` draws measures the standard error, then draws are added until it is about
    ``target``; None where the refit does not beat the check or k-hat is not < 0.5."""
    g_args = (refined.centre, refined.scale, refined.second_moment)

    def estimate(z, log_w):
        khat = float(psis_khat(log_w))
        cv = cv_log_mean(log_w, cv_controls(z.numpy(), *g_args))
        if cv is None:
            cv = log_mean_exp(log_w)
        return cv[0], cv[1], khat

    z, log_w = draw_weighted(model, refined, n_check, seeds[0], executor)
    cm.n_evals += len(log_w)
    log_z, error, khat = estimate(z, log_w)
    if not (khat < 0.5 and np.isfinite(log_z) and error < check.error):
        return None
    n = int(min(max_evals, max(n_check, n_check * (error / target) ** 2)))
    if n > n_check:  # the pilot's draws are kept: the same proposal
        z2, log_w2 = draw_weighted(model, refined, n - n_check, seeds[1], executor)
        cm.n_evals += len(log_w2)
        z, log_w = torch.cat([z, z2]), np.concatenate([log_w, log_w2])
        log_z, error, khat = estimate(z, log_w)
    if not (khat < 0.5 and np.isfinite(log_z) and np.isfinite(error)):
        return None
    norm = log_w - np.logaddexp.reduce(log_w)
    w = np.exp(norm)
    message = (f"importance sampling from the Laplace mixture refitted to the weighted "
               f"draws ({len(log_w)} draws, k-hat {khat:.2f}), with regression control "
               f"variates; error = their standard error of log Z")
    return EvidenceResult(float(log_z), float(error), cm.n_evals, cm.n_grad_evals,
                          "importance", True, message,
                          {"khat": khat, "ess": float(1.0 / np.sum(w * w)), "samples": z,
                           "log_weights": norm, "control_variates": True})


METHODS["auto"] = auto_evidence


def evidence(model, *, method="auto", seed=None, executor=None, progress=False,
             **options) -> EvidenceResult:
    """The log evidence log Z of ``model`` by ``method``.

    Parameters
    ----------
    model : bayescalc.Model
        The unnormalized posterior (normalized prior x likelihood).
    method : str
        One of ``METHODS``: ``"auto"`` (default: chosen by dimension and diagnostics),
        ``"laplace"``, ``"quadrature"`` (d <= 10), ``"importance"``, ``"bridge"``,
        ``"conditional"`` (one coordinate by quadrature, the others by conditional
        Laplace-importance sampling: hierarchical posteriors, d >= 2),
        ``"nested"`` (dynesty), ``"harmonic-mean"`` (cautionary), and the tempering
        methods ``"smc"``, ``"ais"``, ``"thermodynamic"``, ``"stepping-stone"`` and
        ``"flow"`` (importance sampling from a flow fitted to a short SMC run; zuko)
        when present.
    seed : int, numpy Generator or SeedSequence, optional
        The only source of randomness: the same seed gives the same answer.
    executor : concurrent.futures.Executor or dask Client, optional
        Where the particle methods run their batches (the answer does not depend on it).
    progress : bool
        Progress bars for long work.
    **options
        Passed to the estimator (see each one's docstring).

    Returns
    -------
    EvidenceResult

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1)
    >>> r = evidence(m, method="quadrature")
    >>> exact = -0.5 * math.log(4 * math.pi) - 0.25   # log N(1; 0, 2)
    >>> abs(r.log_z - exact) < 1e-10
    True
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    key = method.lower().replace("_", "-")
    if key not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return METHODS[key](model, seed=seed, executor=executor, progress=progress, **options)
