"""Evidence estimators against closed forms and 1-D quadrature references."""

import math
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

import bayescalc as bc
from bayescalc.posterior import METHODS, evidence

sys.path.insert(0, str(Path(__file__).parent))
import _posterior_models as M  # noqa: E402


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("d", [2, 10, 25])
def test_laplace_exact_on_gaussian_posteriors(d):
    m = M.linear_regression(d)
    r = evidence(m, method="laplace")
    assert abs(r.log_z - m.log_z_exact) < 1e-8
    assert r.error < 1e-8 and r.success
    assert r.n_evals > 0 and r.n_grad_evals > 0


def test_laplace_error_sees_cross_terms():
    # unknown noise: the scale of beta couples to s2 (cross terms the axis rule misses);
    # the sampled correction sees them: the error bar is the size of the true error
    m = M.nig_regression(10)
    r = quiet(evidence, m, method="laplace", seed=0)
    delta = abs(r.log_z - m.log_z_exact)
    assert delta > 0.1 and r.error > 0.5 * delta and not r.success


def test_laplace_error_is_not_zero_off_gaussian():
    m = M.banana()
    r = quiet(evidence, m, method="laplace")
    assert r.error > 0.1 and not r.success  # measured correction: non-Gaussian, says so
    assert abs(r.log_z - m.log_z_exact) < r.error


@pytest.mark.parametrize("name", ["beta_binomial", "banana", "bimodal"])
def test_quadrature_within_its_error(name):
    m = getattr(M, name)()
    r = evidence(m, method="quadrature", seed=0)
    assert r.success
    assert abs(r.log_z - m.log_z_exact) <= max(r.error, 1e-9) + 1e-9
    assert abs(r.log_z - m.log_z_exact) < 1e-5


def test_quadrature_sparse_gaussian_d6():
    m = M.linear_regression(6)
    r = evidence(m, method="quadrature")
    assert r.diagnostics["rule"] == "sparse" and abs(r.log_z - m.log_z_exact) < 1e-8


def test_quadrature_does_not_apply_at_d40():
    with pytest.raises(ValueError, match="d = 40.*importance"):
        evidence(M.linear_regression(40, n=60), method="quadrature")


@pytest.mark.parametrize("d,tol", [(2, 0.01), (5, 0.01), (10, 0.01), (25, 0.05)])
def test_auto_conjugate(d, tol, seed):
    m = M.linear_regression(d)
    r = evidence(m, seed=seed)
    assert r.success and abs(r.log_z - m.log_z_exact) <= tol
    assert r.n_evals <= 2000  # 1/10 of dynesty's default (~20,000 likelihood calls)


@pytest.mark.parametrize("name", ["banana", "bimodal"])
def test_auto_non_gaussian_honest(name, seed):
    m = getattr(M, name)()
    r = evidence(m, seed=seed)
    delta = abs(r.log_z - m.log_z_exact)
    assert r.success and delta <= 0.02 and delta <= 2 * r.error + 1e-8


def test_importance_covers_truth_on_seeds():
    m = M.linear_regression(3)
    for s in range(3):
        r = evidence(m, method="importance", seed=s, n=2000)
        assert r.success and abs(r.log_z - m.log_z_exact) <= 3 * r.error


def test_importance_flags_banana():
    m = M.banana()
    with pytest.warns(bc.ReliabilityWarning, match="k-hat"):
        r = evidence(m, method="importance", seed=0)
    assert not r.success and r.diagnostics["khat"] > 0.7
    assert r.error == math.inf and math.isfinite(r.diagnostics["standard_error"])


@pytest.mark.parametrize("make", ["banana", "funnel", "shells", "logistic"])
def test_importance_error_is_a_promise_even_when_flagged(make):
    # the delta-method standard error promised nothing once k-hat > 0.7: the bench's
    # banana, funnel, shells and 32-d Gaussian were 2-70 of those bars off
    from bayescalc import models

    m = {"banana": models.banana, "funnel": lambda: models.funnel(5),
         "shells": lambda: models.gaussian_shells(2),
         "logistic": models.logistic_regression}[make]()
    for seed in (0, 1):
        r = quiet(evidence, m, method="importance", seed=seed)
        k = r.diagnostics["khat"]
        # 3 errors: a false alarm about 1 time in 300 (logistic, 20 seeds: 95% within 2)
        assert abs(r.log_z - m.log_z_exact) <= 3 * r.error, (r.log_z - m.log_z_exact, r.error, k)
        se = r.diagnostics["standard_error"]
        assert r.error == (math.inf if k > 0.7 else 2 * se if k > 0.5 else se)


def test_importance_user_proposal():
    m = M.linear_regression(2)
    q = torch.distributions.MultivariateNormal(torch.as_tensor(m.posterior_mean),
                                               torch.as_tensor(1.5 * m.posterior_cov))
    r = evidence(m, method="importance", proposal=q, seed=0, n=2000)
    assert r.success and abs(r.log_z - m.log_z_exact) <= 3 * r.error


def test_same_answer_on_any_number_of_workers():
    m = M.linear_regression(3)
    a = evidence(m, method="importance", seed=3, n=3000, batch_size=500)
    with ThreadPoolExecutor(3) as pool:
        b = evidence(m, method="importance", seed=3, n=3000, batch_size=500, executor=pool)
    assert a.log_z == b.log_z and a.error == b.error


def test_bridge_covers_truth():
    m = M.linear_regression(3)
    for s in range(2):
        r = evidence(m, method="bridge", seed=s, n_chains=32, n_steps=60, n_warmup=80)
        assert r.success and abs(r.log_z - m.log_z_exact) <= 3 * r.error


@pytest.mark.parametrize("seed", [0, 1])
def test_bridge_bar_covers_the_truth_when_its_chains_do_not_mix(seed):
    """Stuck MALA chains bias the bridge, which its relative MSE cannot see (the banana:
    0.33-0.52 nats off with bars of 0.16-0.19, non-centred eight schools 0.45-0.65 off
    with 0.16). A flagged bridge's bar is floored by its gap to plain importance sampling
    from the same proposal, or infinite when those weights are heavy-tailed too."""
    from bayescalc.models import banana, eight_schools, funnel
    for m in (banana(), eight_schools(centered=False), funnel(d=5)):
        r = quiet(evidence, m, method="bridge", seed=seed)
        assert abs(r.log_z - m.log_z_exact) <= r.error, (m, r.log_z, r.error)
        if not r.success:
            assert "not reliable" in r.message


def test_harmonic_mean_is_off_by_more_than_a_nat():
    m = M.linear_regression(5)
    with pytest.warns(bc.ReliabilityWarning, match="harmonic"):
        r = evidence(m, method="harmonic-mean", seed=0, n_chains=32, n_steps=60)
    assert not r.success and r.log_z - m.log_z_exact > 1.0


def test_nested_dynesty_reference():
    m = M.linear_regression(2)
    r = evidence(m, method="nested", seed=0, nlive=100, dlogz=0.1)
    assert abs(r.log_z - m.log_z_exact) <= 3 * r.error
    assert r.diagnostics["dynesty_logzerr"] < r.error


def test_unknown_method():
    with pytest.raises(ValueError, match="laplace"):
        evidence(M.linear_regression(2), method="magic")


@pytest.mark.parametrize("method", ["auto", "laplace", "quadrature", "importance"])
def test_improper_posterior_never_confident(method):
    with pytest.warns(bc.ReliabilityWarning):
        r = evidence(M.improper(), method=method, seed=0)
    assert not r.success and r.log_z == math.inf


def test_improper_flat_prior_unbounded_likelihood():
    # flat prior on the line, one Bernoulli success: the posterior mass escapes to +inf
    m = bc.Model(lambda t: torch.zeros(t.shape[0], dtype=torch.float64),
                 lambda t: torch.nn.functional.logsigmoid(3 * t[:, 0]), 1)
    r = quiet(evidence, m, seed=0)
    assert not r.success and not (math.isfinite(r.log_z) and r.error < 0.1)


def test_nan_log_density_names_theta():
    m = bc.Model(lambda t: torch.where(t[:, 0] > 0.5, torch.nan, -0.5 * t[:, 0] ** 2),
                 lambda t: -0.5 * (t[:, 0] - 1) ** 2, 1)
    with pytest.raises(ValueError, match="NaN|nan"):
        evidence(m, method="quadrature")


def test_not_batched_and_dimension_mismatch():
    wrong_shape = bc.Model(lambda t: -0.5 * t ** 2, lambda t: -0.5 * (t ** 2).sum(-1), 2)
    with pytest.raises(ValueError, match="shape"):
        evidence(wrong_shape, method="laplace")
    # A density written for one point is detected and wrapped (with a warning), and the
    # evidence is still right: log of the integral of exp(-|t|^2) over R^2 = log(pi).
    scalar = bc.Model(lambda t: -0.5 * (t ** 2).sum(), lambda t: -0.5 * (t ** 2).sum(), 2)
    with pytest.warns(bc.BayescalcWarning, match="not batched"):
        r = evidence(scalar, method="laplace")
    assert abs(r.log_z - math.log(math.pi)) < 1e-8


def test_dimension_mismatch_of_start_and_proposal():
    m = M.linear_regression(3)
    with pytest.raises(ValueError, match="x0"):
        evidence(m, method="laplace", x0=[0.0, 0.0])
    q = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                                               torch.eye(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="dimension"):
        evidence(m, method="importance", proposal=q, seed=0, n=100)


def test_compare_same_answer_with_executor():
    m = M.linear_regression(2)
    methods = ["importance", "bridge"]
    opts = {"bridge": {"n_chains": 16, "n_steps": 30, "n_warmup": 30}}
    a = bc.posterior.compare(m, methods=methods, seed=5, options=opts)
    with ThreadPoolExecutor(2) as pool:
        b = bc.posterior.compare(m, methods=methods, seed=5, options=opts, executor=pool)
    assert [r.log_z for r in a.rows] == [r.log_z for r in b.rows]


def test_auto_in_5d_banana_is_never_confidently_wrong():
    # beyond quadrature's reach: without tempering, auto falls back to bridge sampling and
    # must either cover the truth or say it failed
    m = _banana5()
    r = quiet(evidence, m, seed=0)
    assert (not r.success) or abs(r.log_z - m.log_z_exact) <= 3 * r.error
    assert r.diagnostics["stages"][1][0] == "importance"


def _banana5():
    ban = M.banana()
    normal = torch.distributions.Normal
    one, half = torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    y = torch.tensor(0.3, dtype=torch.float64)
    exact = ban.log_z_exact + 3 * normal(0.0, math.sqrt(1.25)).log_prob(y).item()

    def log_prior(t):
        return ban._log_prior(t[:, :2]) + normal(0 * one, one).log_prob(t[:, 2:]).sum(-1)

    def log_lik(t):
        return ban._log_likelihood(t[:, :2]) + normal(t[:, 2:], half).log_prob(y).sum(-1)

    return bc.Model(log_prior, log_lik, 5, log_z_exact=exact)


def test_methods_registry():
    assert {"laplace", "quadrature", "importance", "bridge", "nested", "harmonic-mean",
            "auto"} <= set(METHODS)


@pytest.mark.slow
@pytest.mark.parametrize("method,options", [("importance", {"n": 2000}),
                                            ("bridge", {"n_chains": 32, "n_steps": 60})])
@pytest.mark.parametrize("name", ["lr3", "bimodal"])
def test_error_bars_are_promises_over_seeds(method, options, name):
    m = M.linear_regression(3) if name == "lr3" else M.bimodal()
    ratios = []
    for s in range(20):
        r = quiet(evidence, m, method=method, seed=100 + s, **options)
        ratios.append(abs(r.log_z - m.log_z_exact) / r.error)
    ratios = np.array(ratios)
    assert np.mean(ratios <= 2) >= 0.9
    assert np.median(ratios) >= 0.3


@pytest.mark.slow
def test_nested_error_bar_over_seeds():
    # the reported error is sqrt(2) x dynesty's logzerr; dynesty's own bar is checked too
    m = M.linear_regression(2)
    ours, theirs = [], []
    for s in range(20):
        r = quiet(evidence, m, method="nested", seed=200 + s, nlive=100, dlogz=0.1)
        delta = abs(r.log_z - m.log_z_exact)
        ours.append(delta / r.error)
        theirs.append(delta / r.diagnostics["dynesty_logzerr"])
    ours, theirs = np.array(ours), np.array(theirs)
    print(f"nested coverage at 2 errors: ours {np.mean(ours <= 2):.2f}, "
          f"dynesty's {np.mean(theirs <= 2):.2f}; median ratio {np.median(ours):.2f}")
    assert np.mean(ours <= 2) >= 0.9
    assert np.median(ours) >= 0.3


def test_saddle_between_modes_is_not_improper():
    # two bumps at +-3: L-BFGS started at the origin stops there (zero gradient, a local
    # minimum of the log joint); that point says nothing about propriety (the shells'
    # centre was reported as an improper posterior, log Z = inf)
    normal = torch.distributions.Normal(0.0, 1.0)

    def log_lik(t):
        return torch.logsumexp(torch.stack([normal.log_prob(t[:, 0] - 3),
                                            normal.log_prob(t[:, 0] + 3)]), 0) - math.log(2)

    m = bc.Model(lambda t: torch.distributions.Normal(0.0, 3.0).log_prob(t[:, 0]), log_lik, 1)
    exact = torch.distributions.Normal(0.0, math.sqrt(10.0)).log_prob(torch.tensor(3.0)).item()
    for method in ("laplace", "auto"):
        r = quiet(evidence, m, method=method, seed=0)
        assert math.isfinite(r.log_z) and "improper" not in r.message
    assert r.success and abs(r.log_z - exact) <= 3 * r.error + 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_start_on_a_saddle_is_pushed_off_it(seed):
    """L-BFGS from the origin of a banana stays on its symmetry line and stops at the
    saddle there; that point is no mode and says nothing about propriety. The search
    restarts on either side of it (the banana's quadrature failed as 'improper' on
    some seeds before)."""
    from bayescalc.models import banana
    m = banana()
    for method in ("quadrature", "laplace"):
        r = quiet(evidence, m, method=method, seed=seed)
        assert "improper" not in r.message and math.isfinite(r.log_z)
    r = quiet(evidence, m, method="quadrature", seed=seed)
    assert r.success and abs(r.log_z - m.log_z_exact) <= r.error + 1e-9


@pytest.mark.parametrize("d,max_evals", [(2, 60_000), (2, 400_000), (3, 60_000)])
def test_quadrature_on_thin_shells_never_claims_a_wrong_value(d, max_evals):
    """Two thin shells: the trapezoid sums wander until the grid resolves the shells, so
    two successive levels can agree by chance (the 2-D case once returned 1.65 nats off
    with a 1.4e-4 bar and success=True). Convergence now needs every coset of the last
    grid to agree and the box's faces to hold no mass: whatever comes back, its bar
    covers the truth."""
    from bayescalc.models import gaussian_shells
    m = gaussian_shells(d)
    for seed in (0, 2):
        r = quiet(evidence, m, method="quadrature", seed=seed, tol=1e-3,
                  max_evals=max_evals)
        assert abs(r.log_z - m.log_z_exact) <= r.error, (seed, r.log_z, r.error)


@pytest.mark.parametrize("width,radius,half_width", [(0.1, 2.0, 6.0), (0.2, 1.5, 6.0),
                                                    (0.3, 2.0, 9.0)])
def test_auto_integrates_2d_shells_by_genz_malik_after_the_grids(width, radius, half_width):
    """Rings defeat Gauss-Hermite and the trapezoid grid in the Laplace coordinates; the
    Genz-Malik fallback follows them: within its bar and 0.01 nats, and at most 60,000
    evaluations for auto's quadrature stage (it took ~850,000 through SMC and the flow
    check before; nautilus reaches 0.009 nats in ~47,500 on the first, dynesty 0.08 in
    ~20,000)."""
    from bayescalc.models import gaussian_shells
    m = gaussian_shells(2, width=width, radius=radius, half_width=half_width)
    r = quiet(evidence, m, seed=1)
    delta = abs(r.log_z - m.log_z_exact)
    assert r.success and r.diagnostics["chosen"] == "quadrature", r.message
    assert r.diagnostics["rule"] == "genz-malik" and r.n_evals <= 62_000
    assert delta <= min(2 * r.error, 0.01), (delta, r.error)


@pytest.mark.parametrize("width", [0.05, 0.02])
def test_auto_gives_2d_cubature_the_budget_to_resolve_thinner_rings(width):
    """Shells of width 0.02-0.05 need 110,000-230,000 Genz-Malik points; auto's
    quadrature stage may spend 250,000 for d <= 2 (SMC and the flow check took ~1.06
    million for width 0.05 and 0.0017 nats)."""
    from bayescalc.models import gaussian_shells
    m = gaussian_shells(2, width=width)
    r = quiet(evidence, m, seed=0)
    delta = abs(r.log_z - m.log_z_exact)
    assert r.success and r.diagnostics["chosen"] == "quadrature" and r.n_evals <= 255_000
    assert delta <= min(2 * r.error, 0.01), (delta, r.error)


@pytest.mark.parametrize("d,width", [(2, 0.03), (3, 0.1), (3, 0.3)])
def test_unconverged_genz_malik_fallback_keeps_its_promise(d, width):
    """When the Genz-Malik fallback runs out of budget, its error is at least its gap to
    the trapezoid rule's estimate: 2-D shells of width 0.03 were 1.09 nats off with an
    error of 0.02 from Genz-Malik alone."""
    from bayescalc.models import gaussian_shells
    m = gaussian_shells(d, width=width, half_width=9.0)
    r = quiet(evidence, m, method="quadrature", seed=0, tol=1e-3, max_evals=30_000)
    delta = abs(r.log_z - m.log_z_exact)
    assert delta <= 2 * r.error and (not r.success or delta <= 1e-2), (delta, r.error)


def test_gauss_hermite_needs_two_agreeing_steps():
    """On the bimodal mixture, orders 9 and 15 of the tensor rule differ by 0.003 while
    both are 0.028 nats off: at tol = 5e-3 one agreement stopped the rule."""
    m = bc.models.bimodal_mixture()
    r = quiet(evidence, m, method="quadrature", seed=0, tol=5e-3)
    assert abs(r.log_z - m.log_z_exact) <= max(r.error, 5e-3), (r.log_z, r.error)


def test_auto_unknown_noise_regression_refits_its_proposal():
    # near-Gaussian but skewed in (beta, log sigma): Laplace is 0.08 nats off; auto refits
    # the importance proposal to the check's weighted draws and adds control variates
    # (measured: ~3,000 evaluations instead of 12,600 at d = 5)
    # (the path where `conditional`, step 4, is off or does not apply)
    m = bc.models.linear_regression(5, noise="unknown")
    r = quiet(evidence, m, seed=0, conditional=False)
    assert r.success and r.diagnostics["chosen"] == "importance"
    assert abs(r.log_z - m.log_z_exact) <= min(0.01, 3 * r.error)  # target 0.005 nats
    assert r.n_evals <= 5000 and r.diagnostics["control_variates"]
    assert len(r.diagnostics["stages"]) == 3  # laplace, check, refit


@pytest.mark.slow
@pytest.mark.parametrize("d", [5, 10])
def test_auto_unknown_noise_error_bar_over_seeds(d):
    # the refitted importance sampling's bars (the stochastic path, `conditional` off);
    # with it on (the default) the value is exact to round-off and its bar, a grid-level
    # change, is conservative by orders of magnitude: checked for coverage only
    m = bc.models.linear_regression(d, noise="unknown")
    default = [quiet(evidence, m, seed=300 + s) for s in range(20)]
    assert all(abs(r.log_z - m.log_z_exact) <= min(1e-8, 2 * r.error) for r in default)
    runs = [quiet(evidence, m, seed=300 + s, conditional=False) for s in range(20)]
    ratios = np.array([abs(r.log_z - m.log_z_exact) / r.error for r in runs])
    errors = [abs(r.log_z - m.log_z_exact) for r in runs]
    print(f"auto, unknown-noise regression d={d}: coverage at 2 errors "
          f"{np.mean(ratios <= 2):.2f}, median |err|/bar {np.median(ratios):.2f}, max |err| "
          f"{max(errors):.4f}, evaluations {np.median([r.n_evals for r in runs]):.0f}")
    assert max(errors) <= 0.015
    assert np.mean(ratios <= 2) >= 0.9 and np.median(ratios) >= 0.3


@pytest.mark.parametrize("d,n", [(15, 40), pytest.param(25, 100, marks=pytest.mark.slow)])
def test_auto_bridge_checked_by_tempering_on_unknown_noise(d, n):
    # importance fails (k-hat > 0.5) and Laplace is off (1.4 nats at d = 25); bridge
    # sampling, checked by the importance check (or by SMC from a Student-t reference
    # where the two disagree), is returned (measured at d = 25: 0.008-0.031 nats off with
    # bars 0.015-0.021 in ~20,500 evaluations; SMC from the prior was 0.27-0.36 off in
    # 470,000)
    # (the path where `conditional`, step 4, is off or does not apply)
    m = bc.models.linear_regression(d, n=n, noise="unknown")
    r = quiet(evidence, m, seed=1, conditional=False)
    assert r.success and r.diagnostics["chosen"] == "bridge"
    assert abs(r.log_z - m.log_z_exact) <= min(0.05, 3 * r.error)


@pytest.mark.parametrize("d", [5, 10, 25])
def test_auto_unknown_noise_is_exact_by_conditional(d):
    """Gaussian given sigma: `conditional` along log sigma is exact up to the grid (the
    refitted importance sampling was 0.002-0.009 nats off, the bridge up to 0.03)."""
    m = bc.models.linear_regression(d, noise="unknown")
    r = quiet(evidence, m, seed=1)
    assert r.success and r.diagnostics["chosen"] == "conditional"
    assert abs(r.log_z - m.log_z_exact) <= min(1e-8, 2 * r.error + 1e-12)
    assert r.n_evals <= 12_000 and r.error <= 1e-3


@pytest.mark.slow
def test_auto_bridge_path_error_bar_over_seeds():
    m = bc.models.linear_regression(25, noise="unknown")
    runs = [quiet(evidence, m, seed=400 + s, conditional=False) for s in range(20)]
    ratios = np.array([abs(r.log_z - m.log_z_exact) / r.error for r in runs])
    chosen = [r.diagnostics["chosen"] for r in runs]
    evals = [r.n_evals for r in runs]
    print(f"auto, unknown-noise regression d=25: chosen {sorted(set(chosen))}, coverage at 2 "
          f"errors {np.mean(ratios <= 2):.2f}, median |err|/bar {np.median(ratios):.2f}, "
          f"max |err| {max(abs(r.log_z - m.log_z_exact) for r in runs):.3f}, evaluations "
          f"median {np.median(evals):.0f}, max {max(evals)}")
    assert np.mean(ratios <= 2) >= 0.9 and np.median(ratios) >= 0.3
    assert max(abs(r.log_z - m.log_z_exact) for r in runs) <= 0.05
    assert np.median(evals) <= DYNESTY_DEFAULT_CALLS_D25 / 10


# dynesty's default run (NestedSampler, 500 live points) on the unknown-noise regression
# at d = 25 + 1: more than 200,000 likelihood calls (bench/results/evidence.md: the
# 200,000-call cap was hit, 302 nats off), so 1/10 of 200,551 is a bound on the safe side
DYNESTY_DEFAULT_CALLS_D25 = 200_551


def test_auto_unknown_noise_d25_budget():
    # issue 10: |dlogZ| <= 0.05 at d = 25 in at most 1/10 of dynesty's default run; the
    # SMC check that took 50,000 of auto's 70,000 evaluations runs only where the
    # importance check and the bridge disagree
    m = bc.models.linear_regression(25, noise="unknown")
    r = quiet(evidence, m, seed=1, conditional=False)
    assert r.success and r.diagnostics["chosen"] == "bridge"
    assert abs(r.log_z - m.log_z_exact) <= min(0.05, 3 * r.error)
    assert r.n_evals <= DYNESTY_DEFAULT_CALLS_D25 / 10
    assert [s[0] for s in r.diagnostics["stages"]] == ["laplace", "importance", "bridge"]
    r = quiet(evidence, m, seed=1)  # the default: conditional along log sigma
    assert r.diagnostics["chosen"] == "conditional" and r.n_evals <= DYNESTY_DEFAULT_CALLS_D25 / 10


@pytest.mark.parametrize("d, seed", [(3, 0), (3, 1), (5, 0), (5, 1)])
def test_auto_laplace_bar_covers_a_skewed_posterior(d, seed):
    """When auto returns Laplace on a posterior that is only nearly Gaussian (unknown noise:
    skewed in log sigma), its bar comes from the check's draws with the Laplace density as
    control variate, and covers the exact log Z at 2 bars (the non-Gaussian correction
    alone claimed ~4e-4 where the error was ~9e-3 on the diabetes regression)."""
    model = bc.models.linear_regression(d=d, n=400, noise="unknown", seed=seed)
    result = bc.posterior.evidence(model, method="auto", seed=seed)
    error = abs(result.log_z - model.log_z_exact)
    assert result.success
    assert error <= 2 * result.error
    assert result.error < 0.02   # still a useful bar (1e-3 to 7e-3 measured)


def _two_gaussians(d, sep, sd, w0, rng, prior_var=9.0):
    """A two-component Gaussian-mixture likelihood under a N(0, prior_var I) prior, modes
    ``2 sep`` apart along a random direction, component sds ``sd`` (one number, or one
    per component); exact log Z in closed form."""
    from scipy.stats import multivariate_normal as mvn

    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    shift = rng.uniform(-1, 1, d)
    mus = np.stack([shift - sep * direction, shift + sep * direction])
    means = torch.tensor(mus)
    s2 = torch.tensor(np.broadcast_to(np.asarray(sd, dtype=float) ** 2, (2,)).copy())
    weights = torch.tensor([w0, 1 - w0], dtype=torch.float64)

    def log_prior(t):
        return (-0.5 * t * t / prior_var - 0.5 * math.log(2 * math.pi * prior_var)).sum(-1)

    def log_likelihood(t):
        q = ((t[:, None, :] - means) ** 2).sum(-1) / s2
        return torch.logsumexp(torch.log(weights) - 0.5 * q
                               - 0.5 * d * torch.log(2 * math.pi * s2), -1)

    exact = float(np.logaddexp(*[
        math.log(w) + mvn(np.zeros(d), (prior_var + v) * np.eye(d)).logpdf(m)
        for w, v, m in zip((w0, 1 - w0), s2.tolist(), mus, strict=True)]))
    return bc.Model(log_prior, log_likelihood, d), exact


@pytest.mark.parametrize("trial", range(6))
def test_auto_finds_a_mode_its_first_starts_miss(trial):
    # 4 L-BFGS starts in d > 3 all fell into one basin of a two-Gaussian mixture on 7 of
    # 30 random draws of this class (d 4-10, modes 4-16 sds apart, weights 0.5-0.9):
    # Laplace and its importance check agreed on one mode, up to 1.9 nats low with bars
    # of 1e-12 and success=True. The dispersed batched climb finds the other mode.
    # Six draws of that class on which the starts alone fail, (d, half-separation, sd,
    # weight, rng seed of the geometry, evidence seed): before, each was 0.1-1.2 nats low.
    cases = [(4, 2.26, 0.44, 0.7, 1003, 1), (8, 3.99, 0.7, 0.7, 1005, 0),
             (8, 3.97, 0.41, 0.7, 1006, 1), (9, 3.03, 0.32, 0.5, 1007, 2),
             (7, 2.79, 0.53, 0.5, 1008, 0), (9, 3.07, 0.56, 0.9, 1009, 2)]
    d, sep, sd, w0, geometry, seed = cases[trial]
    m, exact = _two_gaussians(d, sep, sd, w0, np.random.default_rng(geometry))
    for s in (seed, seed + 10):
        r = evidence(m, seed=s)
        assert abs(r.log_z - exact) <= 2 * r.error + 1e-9, (r.log_z - exact, r.error, r.message)
        assert r.success and abs(r.log_z - exact) < 0.01


@pytest.mark.xfail(strict=True, reason="known limit (session 20): a narrow dominant mode "
                   "whose basin the wide mode's far field hides is not found")
@pytest.mark.parametrize("geometry", [1, 3])
def test_auto_misses_a_narrow_mode_hidden_by_a_wide_one(geometry):
    # A documented failure, kept visible: two Gaussians 5 apart in d = 5, the narrow one
    # (sd 0.3, weight 0.86) 8 nats higher at its peak, the wide one (sd 0.9) dominating
    # everywhere outside a ball of radius ~1.5-2 about the narrow one. That ball holds
    # ~1e-3 of the prior's mass: the L-BFGS starts and the dispersed climb all reach the
    # wide mode, Laplace and its importance check agree there, and auto returns log Z
    # about log 0.14 = -1.97 nats low with a bar of 1e-6 and success=True (10 of 16
    # geometries of this class at d = 5-6). Annealed Langevin hunts (32-128 points,
    # 1,500-3,200 evaluations) found the ball on 20-90% of seeds, SMC with 64-256
    # particles on 0-40%: no probe within the conjugate models' budget finds it reliably.
    # strict: when a fix lands, this test fails and must become a plain check.
    m, exact = _two_gaussians(5, 2.5, (0.3, 0.9), 0.86, np.random.default_rng(geometry))
    r = evidence(m, seed=0)
    assert abs(r.log_z - exact) <= 2 * r.error or not r.success, (r.log_z - exact, r.error)


def _two_bananas(extra):
    """Two mirrored bananas (t2 = +-(t1^2 - 1), sds 1 and 0.3, weights 1/2) in (t1, t2)
    times ``extra`` N(0, 0.5^2) coordinates, under a N(0, 9 I) prior; exact log Z by
    1-D quadrature (the mirror image has the same integral)."""
    from scipy import integrate, stats

    ps, s1, s2, g, d = 3.0, 1.0, 0.3, 0.5, 2 + extra

    def one(t, c):
        a, b = t[:, 0] / s1, (t[:, 1] - c * (t[:, 0] ** 2 - 1.0)) / s2
        return -0.5 * (a * a + b * b) - math.log(2 * math.pi * s1 * s2)

    def log_likelihood(t):
        rest = t[:, 2:] / g
        return (torch.logaddexp(one(t, 1.0), one(t, -1.0)) - math.log(2.0)
                + (-0.5 * rest * rest - 0.5 * math.log(2 * math.pi * g * g)).sum(-1))

    def log_prior(t):
        return (-0.5 * (t / ps) ** 2 - 0.5 * math.log(2 * math.pi * ps * ps)).sum(-1)

    value, _ = integrate.quad(lambda a: stats.norm.pdf(a, 0, ps) * stats.norm.pdf(a, 0, s1)
                              * stats.norm.pdf(a * a - 1.0, 0, math.hypot(ps, s2)),
                              -np.inf, np.inf, epsabs=0, epsrel=1e-13, limit=500)
    exact = math.log(value) + extra * stats.norm(0, math.hypot(ps, g)).logpdf(0.0)
    model = bc.Model(log_prior, log_likelihood, d,
                     prior_sample=lambda n, gen: ps * torch.randn(n, d, generator=gen,
                                                                  dtype=torch.float64))
    return model, exact


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_auto_on_two_mirrored_bananas_is_honest(seed):
    # Laplace-mixture importance sampling at k-hat 0.52 was 0.037 nats low with a bar of
    # 0.012 and success=True (d = 4, seed 0; 3 of 4 such runs before the fix): auto keeps
    # importance sampling only with k-hat < 0.5, and the later stages decide here
    m, exact = _two_bananas(2)
    r = evidence(m, seed=seed)
    assert not r.success or abs(r.log_z - exact) <= 2 * r.error, (r.log_z - exact, r.error)


def test_mode_hunt_costs_little_on_a_unimodal_posterior():
    from bayescalc.model import CountedModel
    from bayescalc.posterior._common import fit_laplace

    m = M.linear_regression(5)
    cm0, cm1 = CountedModel(m), CountedModel(m)
    fit_laplace(cm0, n_starts=4, seed=0)
    fit = fit_laplace(cm1, n_starts=4, seed=0, hunt=16)
    assert len(fit.modes) == 1
    assert cm1.n_evals - cm0.n_evals <= 16 * 26  # the climb, and no further L-BFGS run


def test_compare_adds_the_vi_bounds_below_log_z():
    # issue 10, item 4: VI's ELBO and IWAE bounds join the table, as lower bounds
    from bayescalc.posterior import EvidenceTable, compare
    from bayescalc.posterior.result import EvidenceResult

    m = M.linear_regression(3)
    table = compare(m, methods=["laplace"], seed=0, vi=True)
    elbo, iw = table["vi-elbo"], table["vi-iwae"]
    exact = m.log_z_exact
    assert elbo.diagnostics["bound"] == iw.diagnostics["bound"] == "lower"
    # ELBO <= IWAE_64 <= log Z, each within its own sampling error
    assert elbo.log_z <= iw.log_z + 3 * math.hypot(elbo.error, iw.error)
    assert iw.log_z <= exact + 3 * iw.error and elbo.log_z <= exact + 3 * elbo.error
    assert exact - elbo.log_z < 0.05  # a Gaussian posterior: the full-rank fit is close
    assert table.disagreements == [] and "vi-iwae" in repr(table)
    # a bound is flagged only when it lies above an estimate beyond their errors
    est = EvidenceResult(-1.0, 0.01, 1, 0, "est", True, "", {})
    below = EvidenceResult(-3.0, 0.01, 1, 0, "vi-elbo", True, "", {"bound": "lower"})
    above = EvidenceResult(-0.5, 0.01, 1, 0, "vi-iwae", True, "", {"bound": "lower"})
    t = EvidenceTable([est, below, above], [0.0] * 3, exact=-1.0)
    assert t.disagreements == [("est", "vi-iwae")]


def test_logaddexp_likelihood_is_not_improper():
    """torch's logaddexp has a NaN second derivative where one argument lies far below
    the other: the mode's Hessian was NaN and the posterior was reported improper. The
    Hessian now falls back to differences of the gradient. Reference: the far component
    carries e^-400 of the mass, so log Z = log N(0; 0, 1 + 0.1^2)."""
    from torch.distributions import Normal

    sd = torch.tensor(0.1, dtype=torch.float64)  # (a float 0.1 would be float32's)
    m = bc.Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
                 lambda t: torch.logaddexp(Normal(0.0, sd).log_prob(t[:, 0]),
                                           Normal(30.0, sd).log_prob(t[:, 0])), 1)
    exact = -0.5 * math.log(2 * math.pi * 1.01)
    for method in ("laplace", "auto"):
        r = quiet(evidence, m, method=method, seed=0)
        assert r.success and abs(r.log_z - exact) < 1e-8, (method, r.message)


def test_bounded_box_is_found_only_for_elementwise_bounded_transforms():
    from torch.distributions import Dirichlet, biject_to

    from bayescalc.posterior._quadrature_cubature import bounded_box

    lower, upper = bounded_box(bc.models.gaussian_shells(2))
    assert np.allclose(lower, -6.0) and np.allclose(upper, 6.0)
    lower, upper = bounded_box(bc.models.beta_binomial())
    assert np.allclose(lower, 0.0) and np.allclose(upper, 1.0)
    assert bounded_box(bc.models.funnel(2)) is None                 # R^2
    assert bounded_box(bc.models.linear_regression(2, noise="unknown")) is None  # (0, inf)
    simplex = bc.Model(lambda t: torch.zeros(t.shape[0], dtype=torch.float64),
                       lambda t: torch.zeros(t.shape[0], dtype=torch.float64), 2,
                       transform=biject_to(Dirichlet(torch.ones(3)).support))
    assert bounded_box(simplex) is None                             # 3 coordinates, not 2


@pytest.mark.parametrize("max_evals", [12_000, 20_000, 30_000])
def test_prior_box_cubature_at_a_peers_budget_keeps_its_promise(max_evals):
    """Two thin shells under a uniform box prior: Genz-Malik over the box, in the
    constrained coordinates, is about 1e-5 nats off from 10,000 points on (pocoMC: 0.017
    at ~23,300); whatever comes back, its bar covers, and it is within 0.01 when it
    claims success."""
    from bayescalc.models import gaussian_shells
    m = gaussian_shells(2)
    r = quiet(evidence, m, method="quadrature", seed=0, tol=5e-3, max_evals=max_evals)
    delta = abs(r.log_z - m.log_z_exact)
    assert r.diagnostics["domain"] == "the prior box" and r.n_evals <= max_evals + 2_000
    assert delta <= 2 * r.error and (not r.success or delta <= 0.01), (delta, r.error)
    assert delta <= 1e-3
