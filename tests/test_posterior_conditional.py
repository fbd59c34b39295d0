"""``evidence(method="conditional")``: one coordinate by quadrature, the others by
conditional Laplace-importance sampling, against closed forms and high-precision
quadrature; and ``auto`` choosing it on hierarchical posteriors.

The promise checked everywhere: ``|log Z - exact| <= 2 error``; where the conditionals
are Gaussian (the funnels with a Gaussian prior, both eight schools) the value is exact
up to the trapezoid rule and round-off.
"""

import math
import warnings

import numpy as np
import pytest
import torch

from bayescalc import models
from bayescalc.model import Model
from bayescalc.posterior import evidence
from bayescalc.posterior.conditional import conditional_evidence
from bench._evidence_problems import funnel as bench_funnel

LOG2PI = math.log(2 * math.pi)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def box_funnel(d, half=10.0, v_scale=3.0):
    """The bench's funnel: v ~ N(0, 3^2), x_i | v ~ N(0, e^v) as the likelihood under a
    uniform prior on [-half, half]^d (a sigmoid transform: conditionals with exponential
    shoulders, not Gaussian); log Z by 1-D quadrature to ~1e-13."""
    return bench_funnel(d, half=half, v_scale=v_scale).model


@pytest.mark.parametrize("d,scale", [(3, 1.5), (10, 3.0)])
def test_gaussian_conditionals_are_exact(d, scale):
    m = models.funnel(d, scale=scale)
    r = conditional_evidence(m, seed=0)
    assert r.success and r.diagnostics["coordinate"] == 0  # v, chosen by the scan
    assert abs(r.log_z - m.log_z_exact) <= 1e-9 and r.error <= 1e-9
    assert abs(r.log_z - m.log_z_exact) <= 2 * r.error
    assert r.n_evals < 40_000 and r.n_grad_evals > 0


@pytest.mark.parametrize("centered", [True, False])
def test_eight_schools_picks_tau_and_is_exact(centered):
    m = models.eight_schools(centered=centered)
    r = conditional_evidence(m, seed=1)
    assert r.success and m.names[r.diagnostics["coordinate"]] == "tau"
    assert abs(r.log_z - m.log_z_exact) <= max(2 * r.error, 1e-6), r.message


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_non_gaussian_conditionals_error_covers(seed):
    """The box funnel (d = 5): the importance correction carries the non-Gaussian part;
    measured at d = 10 (bench), 0.0004-0.0065 nats off with bars 0.005-0.0075."""
    m = box_funnel(5)
    r = quiet(conditional_evidence, m, seed=seed)
    delta = abs(r.log_z - m.log_z_exact)
    assert delta <= 2 * r.error, (delta, r.error, r.message)
    assert not r.success or delta <= 0.02


def test_same_seed_same_answer():
    m = box_funnel(4)
    a, b = (quiet(conditional_evidence, m, seed=3) for _ in range(2))
    assert a.log_z == b.log_z and a.error == b.error and a.n_evals == b.n_evals


def test_ring_conditionals_are_flagged_not_trusted():
    """Two thin shells: no conditional is unimodal; the result must not claim success
    with a finite bar that misses."""
    from bayescalc.models import gaussian_shells

    m = gaussian_shells(5)
    r = quiet(conditional_evidence, m, seed=0)
    delta = abs(r.log_z - m.log_z_exact)
    assert not r.success and (r.error == math.inf or delta <= 2 * r.error)


def test_a_known_mode_the_conditional_misses_is_flagged():
    """Two modes at the same h (coordinate 0) and x_1 = +-4: the conditional search from
    one side finds one; the other, given as a known point, is reported as missed."""
    def log_prior(t):
        return (-0.5 * (t / 5.0) ** 2).sum(-1) - t.shape[1] * (0.5 * LOG2PI + math.log(5.0))

    def loglike(t):
        a = -0.5 * ((t[:, 1] - 4.0) / 0.5) ** 2
        b = -0.5 * ((t[:, 1] + 4.0) / 0.5) ** 2
        return torch.logsumexp(torch.stack([a, b]), 0) - 0.5 * (t[:, 0] ** 2 + t[:, 2] ** 2)

    m = Model(log_prior, loglike, 3)
    points = [np.array([0.0, 4.0, 0.0]), np.array([0.0, -4.0, 0.0])]
    near_one = (np.random.default_rng(0).normal([0.0, 4.0, 0.0], 0.5, (400, 3)), np.zeros(400))
    r = quiet(conditional_evidence, m, seed=0, coordinate=0, points=points, draws=near_one)
    assert not r.success and r.error == math.inf and "miss" in r.message


def test_a_saddle_everywhere_is_not_applicable():
    """Started between the two modes (no draws, no prior sampler: the centre is 0), every
    conditional search sits on a saddle."""
    def loglike(t):
        a = -0.5 * ((t[:, 1] - 4.0) / 0.5) ** 2
        b = -0.5 * ((t[:, 1] + 4.0) / 0.5) ** 2
        return torch.logsumexp(torch.stack([a, b]), 0) - 0.5 * t[:, 0] ** 2

    m = Model(lambda t: -0.5 * (t * t).sum(-1) / 25 - LOG2PI - 2 * math.log(5.0), loglike, 2)
    r = quiet(conditional_evidence, m, seed=0, coordinate=0)
    assert r.log_z == math.inf and not r.success and "not applicable" in r.message


def test_improper_along_h_is_reported():
    flat = Model(lambda t: torch.zeros(t.shape[0], dtype=torch.float64),
                 lambda t: -0.5 * t[:, 1] ** 2, 2)
    r = quiet(conditional_evidence, flat, seed=0, coordinate=0)
    assert r.log_z == math.inf and not r.success and "improper" in r.message


def test_bad_input():
    m = models.funnel(3)
    with pytest.raises(ValueError, match="d >= 2"):
        conditional_evidence(models.conjugate_normal_mean(d=1))
    with pytest.raises(ValueError, match="coordinate"):
        conditional_evidence(m, coordinate=3)
    with pytest.raises(ValueError, match="n_draws"):
        conditional_evidence(m, n_draws=4)
    with pytest.raises(ValueError, match="target"):
        conditional_evidence(m, target=0.0)


@pytest.mark.parametrize("make", [lambda: box_funnel(10), lambda: models.eight_schools(True)],
                         ids=["box funnel d=10", "centred eight schools"])
def test_auto_chooses_it_on_hierarchical_posteriors(make):
    """Before: the box funnel 0.074 nats off (bar 0.15, flagged) in 858,000 evaluations;
    the centred eight schools 0.04-0.10 off, flagged."""
    m = make()
    r = quiet(evidence, m, seed=0)
    assert r.diagnostics["chosen"] == "conditional" and r.success, r.message
    assert abs(r.log_z - m.log_z_exact) <= min(2 * r.error, 0.02)
    assert r.n_evals < 150_000


@pytest.mark.slow
@pytest.mark.parametrize("d,v_scale,half", [(5, 3.0, 10.0), (10, 3.0, 10.0), (7, 2.0, 10.0),
                                            (15, 3.0, 10.0), (10, 3.0, 5.0)])
def test_error_bars_cover_over_seeds(d, v_scale, half):
    """Issue 10's promise over 20 seeds, where the importance part of the bar matters (the
    box funnel: non-Gaussian conditionals): coverage at 2 errors >= 90% of the runs it
    vouches for, median |error| / bar >= 0.3. On Gaussian conditionals (the funnels with
    a Gaussian prior, the eight schools, the unknown-noise regressions) the bar is the
    change between two grid levels, 1e-12 to 1e-4 where the error is at round-off: the
    trapezoid rule converges geometrically there, and the bar does not claim it.
    Measured over 30 seeds (target 0.01, as auto runs it): coverage 93-97%, median ratio
    0.63-0.86, max |error| 0.0175 (d = 15)."""
    m = box_funnel(d, half=half, v_scale=v_scale)
    runs = [quiet(conditional_evidence, m, seed=100 + s) for s in range(20)]
    vouched = [r for r in runs if r.success]
    ratios = np.array([abs(r.log_z - m.log_z_exact) / r.error for r in vouched])
    print(f"conditional, box funnel d={d}, v_scale={v_scale}, half={half}: "
          f"{len(vouched)}/20 vouched for, coverage "
          f"{np.mean(ratios <= 2):.0%}, median ratio {np.median(ratios):.2f}, errors "
          f"{[round(r.log_z - m.log_z_exact, 4) for r in runs]}, bars "
          f"{[round(r.error, 4) for r in runs]}")
    assert len(vouched) >= 10
    assert np.mean(ratios <= 2) >= 0.9 and np.median(ratios) >= 0.3
    assert all(abs(r.log_z - m.log_z_exact) <= 2 * r.error for r in runs if not r.success)


def test_weighted_draws_give_the_posterior_moments():
    """The funnel's v ~ N(0, 3^2) and x_i | v ~ N(0, e^v): E[v] = 0, sd(v) = 3, and
    E[x_i^2] = E[e^v] = e^{4.5} (from the grid's weighted draws, through normalize)."""
    from bayescalc.posterior import normalize

    m = models.funnel(4)
    post = quiet(normalize, m, seed=0)
    assert post.evidence.diagnostics["chosen"] == "conditional"
    mean, cov = np.asarray(post.mean), np.asarray(post.cov)
    assert abs(mean[0]) < 0.05 and abs(math.sqrt(cov[0, 0]) - 3.0) < 0.05
    assert abs(cov[1, 1] / math.exp(4.5) - 1.0) < 0.15  # heavy: e^v has a long tail


def test_auto_holds_a_wide_conditional_bar_for_a_finer_stage():
    """A 10-d logistic regression: conditional succeeds with a bar of ~0.02, the refitted
    importance sampling reaches ~0.005; auto keeps the finer one, and both agree."""
    m = models.logistic_regression(100, 10, seed=1)
    r = quiet(evidence, m, seed=0)
    direct = quiet(conditional_evidence, m, seed=0)
    assert r.diagnostics["chosen"] == "importance" and r.success and r.error <= 0.01
    assert abs(r.log_z - direct.log_z) <= 2 * math.hypot(r.error, direct.error)


def test_auto_returns_the_held_conditional_where_the_later_stages_fail(monkeypatch):
    """With every conditional bar counted as wide, the 5-d funnel's later stages (bridge,
    SMC and the flow checks) do not succeed, and auto returns the held result."""
    import bayescalc.posterior._evidence as ev

    monkeypatch.setattr(ev, "CONDITIONAL_BAR", 0.0)
    m = models.funnel(5)
    r = quiet(evidence, m, seed=0)
    assert r.diagnostics["chosen"] == "conditional" and r.success, r.message
    assert "kept over the later stages" in r.message
    assert abs(r.log_z - m.log_z_exact) <= 1e-9
