"""Funnel geometry (issue 10): Neal's funnel and the centred eight schools through
``evidence(method="auto")``, the Jacobi-scaled propriety test, the step-size mixture of
the tempering kernel and the flow check of the tempering branch.

Default run: the flow check flagging SMC on the funnel (d = 5) and one round of the
latent refinement after it, the latent walk's invariance and ceiling, the centred eight
schools' mode search (climbing, not flat), the kernel's invariance, the propriety test on a
funnel, a banana with a saddle and a true improper posterior
(tests/test_posterior_evidence.py keeps its own). The seed studies (the funnel through auto in
d = 5 and 10, scales 1.5 and 3, both eight-schools parameterizations, seeds 0-2) are
``-m slow``. The promise checked everywhere: ``|log Z - exact| <= 2 error``, and within
0.05 nats wherever ``success=True``.
"""

import math
import warnings

import numpy as np
import pytest
import torch

import bayescalc as bc
from bayescalc import models
from bayescalc.model import Model
from bayescalc.posterior import evidence
from bayescalc.posterior._common import counted, fit_laplace


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def honest(r, exact, tol=0.05):
    """Whether ``r`` keeps its promise: the truth within 2 bars, and within ``tol`` where
    it claims success (the acceptance line of issue 10)."""
    delta = abs(r.log_z - exact)
    return math.isfinite(r.log_z) and delta <= 2 * r.error and (not r.success or delta <= tol)


def _why(r, exact):
    return (r.log_z - exact, r.error, r.success, r.message)


def test_funnel_stationary_point_is_a_proper_maximum():
    # v = -40.5, x = 0: curvatures 1/9 and e^40.5; the unscaled ratio (3e-19) had called
    # it singular and auto reported the funnel improper
    fit = fit_laplace(counted(models.funnel(10)), n_starts=2, seed=0)
    assert fit.problem == "" and abs(fit.best.point[0] + 40.5) < 1e-3
    assert fit.best.min_eigenvalue > 0.5


@pytest.mark.parametrize("scale", [1.5, 2.0, 3.0])
def test_2d_funnel_is_not_improper(scale):
    """The 2-D funnel's mass reaches 100 Laplace standard deviations from its mode, where
    the trapezoid grid's box stopped growing: auto reported log Z = inf ('improper') on
    a proper posterior. Genz-Malik over R^d now decides: within 0.01 nats."""
    m = models.funnel(2, scale=scale)
    r = quiet(evidence, m, seed=0)
    assert r.success and "improper" not in r.message
    assert abs(r.log_z - m.log_z_exact) <= min(2 * r.error, 0.01), _why(r, m.log_z_exact)


def test_banana_saddle_is_not_improper():
    # bc.models.banana: a saddle 0.2 nats below its two arms' maxima was reported as an
    # improper posterior; a clearly indefinite point is dropped at any level
    m = models.banana()
    r = evidence(m, seed=0)
    assert r.success and abs(r.log_z - m.log_z_exact) < 1e-3


def test_flat_direction_still_improper():
    # the likelihood ignores theta[1] under a flat prior: a zero curvature, improper
    m = Model(lambda t: torch.distributions.Normal(0.0, 1.0).log_prob(t[:, 0]),
              lambda t: torch.distributions.Normal(t[:, 0], 1.0).log_prob(
                  torch.tensor(0.3, dtype=torch.float64)), 2)
    with pytest.warns(bc.ReliabilityWarning):
        r = evidence(m, seed=0)
    assert not r.success and r.log_z == math.inf


def test_flow_check_of_smc_on_the_funnel_is_honest(seed):
    # d = 5: SMC alone was 0.3 nats low with success=True (its runs lagged alike) and the
    # flow importance check flagged it. Since the replicates replay a pilot's frozen
    # schedule SMC's own bar covers that (~0.3), so the check may agree with it; either
    # way what comes back covers the truth, at 8,192 gradient-free evaluations
    from bayescalc.posterior._flow_check import flow_check
    from bayescalc.posterior.tempering import smc_evidence

    m = models.funnel(5)
    smc = quiet(smc_evidence, m, seed=seed)
    checked = flow_check(m, smc, seed=seed)
    assert checked.n_evals == 8192 and checked.n_grad_evals == 0
    for r in (smc, checked):
        assert abs(r.log_z - m.log_z_exact) <= 2 * r.error, (r.log_z, r.error)
    # the cheap refinement (auto's default where the check does not confirm): latent
    # moves and a refitted flow; gradient-free, one round never confirms (3 levels are
    # needed), its bar covers the truth and is never below the first check's
    from bayescalc.posterior._flow_check import flow_refine

    if checked.success:
        return
    refined = flow_refine(m, smc, checked, seed=seed, rounds=1)
    assert refined.n_evals == 2048 * 21 + 8192 and refined.n_grad_evals == 0
    assert not refined.success and refined.error >= checked.diagnostics["flow_error"]
    assert abs(refined.log_z - m.log_z_exact) <= 2 * refined.error


def test_flow_walk_keeps_its_target():
    # random-walk Metropolis in a flow's latent space is exact for any flow: started from
    # exact draws of N(0, diag(1, 9)) it keeps them there (a flow fitted only briefly)
    from bayescalc.posterior.flow_proposal import fit_flow_proposal

    g = torch.Generator().manual_seed(0)
    scale = torch.tensor([1.0, 3.0], dtype=torch.float64)
    z = torch.randn(4000, 2, generator=g, dtype=torch.float64) * scale
    q = fit_flow_proposal(z[:1000], torch.zeros(1000), seed=0, max_iter=30)
    moved, n, rate = q.walk(lambda x: -0.5 * ((x / scale) ** 2).sum(1), z, 10, g)
    assert n == 44_000 and 0.1 < rate < 0.9
    var = moved.var(0) / scale**2
    assert torch.all((var - 1.0).abs() < 0.1), var  # 4000 draws: sd of a variance ~0.03
    # a ceiling: moves may not climb more than `climb` above the starting draws' best
    moved, _, _ = q.walk(lambda x: -0.5 * ((x / scale) ** 2).sum(1), z[:100] + 20.0, 20, g,
                         climb=0.0)
    start = -0.5 * (((z[:100] + 20.0) / scale) ** 2).sum(1)
    assert float((-0.5 * ((moved / scale) ** 2).sum(1)).max()) <= float(start.max()) + 1e-9


def test_auto_refine_bad_input():
    with pytest.raises(ValueError, match="refine"):
        evidence(models.linear_regression(2), seed=0, refine="nuts")


@pytest.mark.parametrize(("estimator", "d", "scale"), [
    ("smc", 3, 3.0), ("smc", 5, 3.0), ("smc", 10, 3.0), ("smc", 10, 1.5),
    ("stepping-stone", 5, 3.0), ("stepping-stone", 10, 3.0),
    ("thermodynamic", 3, 3.0), ("thermodynamic", 10, 1.5)])
def test_tempering_alone_on_funnels_is_never_confidently_wrong(estimator, d, scale):
    # with a frozen schedule SMC alone on the 10-d funnel reported success=True while
    # 0.4-1.15 nats low at bars of 0.11-0.13: every run misses the neck alike. The
    # rungs' incremental weights are heavy-tailed there (pooled k-hat 0.5-2.4, against
    # < 0.25 on every bounded-likelihood model), which now flags the run with an
    # infinite bar. The same runs feed stepping-stone and thermodynamic integration.
    from bayescalc.posterior.tempering import (
        smc_evidence,
        stepping_stone_evidence,
        thermodynamic_evidence,
    )

    fn = {"smc": smc_evidence, "stepping-stone": stepping_stone_evidence,
          "thermodynamic": thermodynamic_evidence}[estimator]
    m = models.funnel(d, scale=scale)
    for seed in (0, 1):
        r = quiet(fn, m, seed=seed)
        # no tolerance: alone, success means the bar can be trusted
        assert honest(r, m.log_z_exact, tol=math.inf), _why(r, m.log_z_exact)
        k = np.nanmax(r.diagnostics["increment_khat"])
        assert k <= 0.5 or r.error == math.inf and not r.success and "heavy-tailed" in r.message
        assert r.error < math.inf or not r.success


def test_smc_alone_on_a_boxed_funnel_sees_the_particles_still_climbing():
    # the bench's funnel: the whole funnel as the likelihood under a uniform box prior,
    # so the likelihood is bounded and the increments' k-hat stays near 0.26; SMC was
    # 0.88-1.29 nats low with bars of 0.2 and success=True on 2 of 3 seeds. The moves of
    # the last rungs keep raising the particles' log likelihood (+0.19 sd, t = 7-10)
    from bayescalc.posterior.tempering import smc_evidence
    from bench._evidence_problems import funnel

    p = funnel(10)
    for seed in (0, 2):
        r = quiet(smc_evidence, p.model, seed=seed)
        assert r.log_z < p.log_z - 0.5  # still low: the check flags, it does not fix
        assert r.error == math.inf and not r.success and "kept rising" in r.message


@pytest.mark.slow
def test_funnel_auto_is_honest(seed):
    # the tempering path (SMC and its flow checks), which `conditional` now precedes
    # (test_posterior_conditional.py): kept honest for the models it does not resolve
    m = models.funnel(5)
    r = quiet(evidence, m, seed=seed, conditional=False)
    assert honest(r, m.log_z_exact), _why(r, m.log_z_exact)
    assert r.diagnostics["chosen"] in ("smc", "flow-importance", "flow")
    assert r.n_evals > r.n_grad_evals > 0  # the importance draws need no gradients


def test_centred_eight_schools_search_is_climbing_not_flat():
    # log p is unbounded as tau -> 0 with theta_j = mu (an integrable spike): the mode
    # search climbs without a stationary point, which is no evidence of impropriety
    # (auto then tempers from the proper prior: the slow study below, ~30 s a run); the
    # flat direction of a truly improper posterior is at a stationary point
    fit = fit_laplace(counted(models.eight_schools(centered=True)), n_starts=1, seed=0)
    assert fit.problem and fit.climbing
    flat = Model(lambda t: torch.distributions.Normal(0.0, 1.0).log_prob(t[:, 0]),
                 lambda t: -0.5 * (t[:, 0] - 0.3) ** 2, 2)
    fit = fit_laplace(counted(flat), n_starts=1, seed=0)
    assert fit.problem and not fit.climbing


@pytest.mark.slow
def test_centred_eight_schools_auto_is_not_improper(seed):
    # the tempering path from the proper prior (`conditional` off: it resolves this
    # model first, to 5e-7, see test_posterior_conditional.py)
    m = models.eight_schools(centered=True)
    r = quiet(evidence, m, seed=seed, conditional=False)
    assert honest(r, m.log_z_exact), _why(r, m.log_z_exact)
    assert r.diagnostics["chosen"] in ("smc", "flow-importance", "flow")


def test_step_decades_option_and_bad_input():
    from bayescalc.posterior.tempering import smc_evidence

    m = models.linear_regression(2)
    r = smc_evidence(m, seed=0, n_particles=512, n_replicates=4, step_decades=2.0,
                     max_leapfrog_scaled=16)
    assert abs(r.log_z - m.log_z_exact) <= 3 * r.error + 0.02
    with pytest.raises(ValueError, match="step_decades"):
        smc_evidence(m, seed=0, n_particles=64, n_replicates=2, step_decades=-1.0)


@pytest.mark.slow
@pytest.mark.parametrize("d", [5, 10])
@pytest.mark.parametrize("scale", [1.5, 3.0])
def test_funnel_auto_over_seeds(d, scale):
    # before issue 10's refinement pass the 10-d funnel at scale 3, seed 2, came back
    # success=True 0.050 off with a bar of 0.019 (a recheck's levels agreeing, all low)
    m = models.funnel(d, scale=scale)
    for s in range(3):
        r = quiet(evidence, m, seed=s)
        assert honest(r, m.log_z_exact), _why(r, m.log_z_exact)


@pytest.mark.slow
@pytest.mark.parametrize("centered", [True, False])
def test_eight_schools_auto_over_seeds(centered):
    m = models.eight_schools(centered=centered)
    for s in range(3):
        r = quiet(evidence, m, seed=s)
        assert honest(r, m.log_z_exact), _why(r, m.log_z_exact)
