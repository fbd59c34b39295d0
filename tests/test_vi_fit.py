"""fit: accuracy against exact posteriors, the fast method, convergence, guards, I/O."""

import math
import warnings

import numpy as np
import pytest
import torch

import bayescalc as bc
from bayescalc import ConvergenceWarning, ReliabilityWarning
from bayescalc.model import Model
from bayescalc.vi import FullRankNormal, LowRankNormal, MeanFieldNormal, VIResult, fit
from bench import _vi_problems as P


@pytest.fixture(scope="module")
def linreg():
    return P.linear_regression()          # N = 10,000, D = 20, posterior sds ~0.01


@pytest.fixture(scope="module")
def small():
    g = np.random.default_rng(3)
    return P.linear_from_design(g.standard_normal((30, 3)), np.array([1.0, -0.5, 0.2]),
                                1.0, 1.0, seed=4)


def _kl(model, r):
    return float(P.gaussian_kl(r.mean, r.cov, model.posterior_mean, model.posterior_cov))


def test_fullrank_defaults_recover_the_exact_posterior_to_2_percent(linreg):
    r = fit(linreg, "fullrank", seed=0, progress=False)
    assert r.converged and r.success and r.n_steps <= 5000
    sd = torch.diagonal(linreg.posterior_cov).sqrt()
    assert ((r.mean - linreg.posterior_mean).abs() / sd).max() < 0.05
    rel = (r.cov - linreg.posterior_cov).abs().max() / linreg.posterior_cov.abs().max()
    assert rel < 0.02
    assert torch.allclose(torch.diagonal(r.cov).sqrt(), sd, rtol=0.02)
    assert _kl(linreg, r) < 0.05
    # the gap log Z - ELBO is KL(q || p): the estimate agrees with the exact KL
    assert abs(r.gap - _kl(linreg, r)) < 4 * r.elbo_error + 1e-3
    assert r.khat < 0.5


def test_meanfield_underestimates_variance_by_its_closed_form(linreg):
    r = fit(linreg, "meanfield", seed=0, progress=False)
    # the mean-field optimum for a Gaussian target: variances 1 / diag(precision)
    expected = 1.0 / torch.diagonal(linreg.posterior_precision)
    torch.testing.assert_close(torch.diagonal(r.cov), expected, rtol=0.03, atol=0.0)
    assert (torch.diagonal(r.cov) <= torch.diagonal(linreg.posterior_cov) * 1.03).all()
    assert _kl(linreg, r) < P.meanfield_optimum_kl(linreg) + 0.05
    assert r.n_steps <= 5000


def test_meanfield_variance_underestimation_on_a_correlated_gaussian():
    cov = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64)
    m = P.gaussian(torch.zeros(2), cov)
    mf = fit(m, "meanfield", seed=0, progress=False)
    fr = fit(m, "fullrank", seed=0, progress=False)
    torch.testing.assert_close(torch.diagonal(mf.cov), torch.full((2,), 0.19,
                               dtype=torch.float64), rtol=0.03, atol=0.0)
    torch.testing.assert_close(fr.cov, cov, rtol=0.03, atol=0.03)
    assert fr.khat < 0.5


def test_lowrank_reaches_at_least_the_meanfield_optimum(linreg):
    r = fit(linreg, "lowrank", rank=3, seed=0, progress=False)
    assert isinstance(r.approx, LowRankNormal)
    assert _kl(linreg, r) < P.meanfield_optimum_kl(linreg) + 0.05


def test_batch_and_match_from_a_standard_start_uses_10x_fewer_gradients(linreg):
    # ADVI from a standard start needs ~160,000 gradient evaluations to come within
    # 0.05 nats here (issue 11); BaM must need at most a tenth.
    hit = {}

    def cb(info):
        if _kl(linreg, type("R", (), {"mean": info.approx().mean.detach(),
                                      "cov": info.approx().covariance.detach()})) < 0.05:
            hit.setdefault("n", info.n_grad_evals)
            return True
        return False

    fit(linreg, method="bam", init="standard", seed=0, progress=False, callback=cb)
    assert hit["n"] <= 16_000
    r = fit(linreg, method="bam", seed=0, progress=False)       # from Laplace
    assert r.converged and _kl(linreg, r) < 0.05 and r.n_grad_evals < 16_000


@pytest.mark.parametrize("name", ["scale_mismatch", "correlated_uncentred", "collinear"])
@pytest.mark.parametrize("method", ["advi", "bam"])
def test_real_data_shapes_fullrank_defaults(name, method):
    m = getattr(P, name)()
    r = fit(m, "fullrank", method=method, seed=0, progress=False)
    sd = torch.diagonal(m.posterior_cov).sqrt()
    assert ((r.mean - m.posterior_mean).abs() / sd).max() <= 0.1
    ratio = torch.diagonal(r.cov).sqrt() / sd
    assert ((ratio >= 0.9) & (ratio <= 1.1)).all()


def test_khat_flags_the_funnel_and_passes_the_gaussian():
    with pytest.warns(ReliabilityWarning, match="k-hat"):
        bad = fit(P.funnel(10), "meanfield", seed=0, progress=False, steps=1000)
    assert bad.khat > 0.7 and not bad.success
    good = fit(P.gaussian(torch.zeros(3), torch.eye(3) + 0.5), "fullrank", seed=0,
               progress=False)
    assert good.khat < 0.5 and good.success


def test_convergence_stops_a_noisy_flat_fit_before_the_budget(small):
    # score gradients: noisy, and the start (Laplace) is already optimal
    r = fit(small, "meanfield", estimator="score", n_samples=4, steps=20_000, seed=0,
            progress=False)
    assert r.converged and r.n_steps < 2_000


def test_convergence_does_not_stop_a_slowly_improving_fit():
    # a standard start far from the optimum and a small learning rate: the ELBO rises
    # slowly but steadily; the fit must keep going until it is close.
    m = P.gaussian(torch.full((2,), 6.0), torch.eye(2) * 0.25)
    r = fit(m, "meanfield", init="standard", lr=0.002, steps=30_000, seed=0, progress=False)
    assert r.converged
    assert r.gap < 0.05, r.message


def test_elbo_history_and_counts(small):
    r = fit(small, "meanfield", steps=300, check_every=10**6, seed=0, progress=False)
    assert len(r.elbo_history) == r.n_steps == 300
    assert r.n_grad_evals >= 300 and r.n_evals >= r.n_grad_evals
    assert not r.converged


@pytest.mark.filterwarnings("ignore::bayescalc.ConvergenceWarning")
def test_final_elbo_evaluates_the_draws_in_bounded_chunks():
    """The final estimate's 2,000 draws go to the model in chunks (a plain-function
    likelihood over N data builds (draws, N) intermediates), with the same result as one
    call: the model is row-wise, so chunking changes no value."""
    seen = []
    g = torch.Generator().manual_seed(0)
    X = torch.randn(50, 2, dtype=torch.float64, generator=g)

    def log_lik(t):
        seen.append(t.shape[0])
        return (-0.5 * (t @ X.T) ** 2).sum(-1)

    model = Model(lambda t: -0.5 * (t**2).sum(-1), log_lik, 2)
    r = fit(model, "fullrank", steps=200, check_every=10**6, seed=0, progress=False,
            n_final=2000)
    assert max(seen[-8:]) <= 256 and sum(seen[-8:]) == 2000
    z = r.approx.sample((2000,), generator=torch.Generator().manual_seed(1))
    whole = model.log_joint(z)
    parts = torch.cat([model.log_joint(z[i:i + 256]) for i in range(0, 2000, 256)])
    assert torch.allclose(whole, parts, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("estimator", ["stl", "reparam"])
@pytest.mark.parametrize("family", [MeanFieldNormal, FullRankNormal])
@pytest.mark.parametrize("whiten", ["diagonal", "triangular"])
def test_closed_form_step_equals_autograd_on_the_same_draws(family, estimator, n, whiten):
    """fit's hot path writes the chain rule through the draw by hand: its gradient must
    be autograd's gradient of the estimator's surrogate on the same draws."""
    from bayescalc.model import CountedModel
    from bayescalc.vi._elbo import elbo_terms
    from bayescalc.vi._fit import _Step, _whitened_log_joint

    g = torch.Generator().manual_seed(0)
    m = P.logistic_regression(n=60, d=4, seed=2)
    shift = torch.randn(4, dtype=torch.float64, generator=g)
    scale = (torch.rand(4, dtype=torch.float64, generator=g) + 0.5 if whiten == "diagonal"
             else torch.tril(torch.randn(4, 4, dtype=torch.float64, generator=g)) * 0.3 +
             torch.eye(4, dtype=torch.float64))
    log_joint, logdet = _whitened_log_joint(CountedModel(m), shift, scale, None)
    q = (MeanFieldNormal(4, loc=torch.randn(4, dtype=torch.float64, generator=g),
                         scale=torch.rand(4, dtype=torch.float64, generator=g) + 0.5)
         if family is MeanFieldNormal else
         FullRankNormal(4, loc=torch.randn(4, dtype=torch.float64, generator=g),
                        scale_tril=torch.tril(torch.randn(4, 4, dtype=torch.float64,
                                                          generator=g)) * 0.3 +
                        torch.eye(4, dtype=torch.float64)))
    step = _Step(q, log_joint, logdet, estimator, n, None, None)
    assert step.kind != "generic"
    value = step(torch.Generator().manual_seed(1))
    fast = [p.grad.clone() for p in q.parameters()]
    for p in q.parameters():
        p.grad = None
    z = q.rsample((n,), generator=torch.Generator().manual_seed(1))
    surrogate, _ = elbo_terms(log_joint, q, z, estimator, weights=False)
    (n * surrogate).backward()
    for a, p in zip(fast, q.parameters(), strict=True):
        torch.testing.assert_close(a, p.grad, rtol=1e-10, atol=1e-10)
    # the value: mean log p + H[q] in the model's coordinates
    lp = float(log_joint(z.detach()).mean()) + logdet
    assert value == pytest.approx(lp + float(q.entropy()), rel=1e-12, abs=1e-9)


def test_nan_at_the_initial_point_is_a_clear_error():
    m = Model(lambda t: torch.log(t[:, 0] - 1.0), lambda t: -(t**2).sum(-1), 2)
    with pytest.raises(ValueError, match="initial point|nan at theta"):
        fit(m, progress=False)


class _Flaky:
    """A log density that turns NaN for a stretch of calls (or forever)."""

    def __init__(self, start, stop):
        self.calls, self.start, self.stop = 0, start, stop

    def __call__(self, t):
        self.calls += 1
        out = -0.5 * (t**2).sum(-1)
        if self.start <= self.calls < self.stop:
            out = out * float("nan")
        return out


def test_divergence_mid_run_recovers_with_a_warning():
    lik = _Flaky(200, 205)
    m = Model(lambda t: -0.5 * (t**2).sum(-1), lik, 2)
    with pytest.warns(ConvergenceWarning, match="non-finite ELBO"):
        r = fit(m, "fullrank", seed=0, progress=False, steps=2000)
    assert r.diagnostics["restarts"] >= 1 and math.isfinite(r.elbo)
    torch.testing.assert_close(r.cov, 0.5 * torch.eye(2, dtype=torch.float64), atol=0.05,
                               rtol=0.0)


def test_permanent_divergence_stops_with_a_message_and_the_last_good_result():
    lik = _Flaky(300, 10**9)
    m = Model(lambda t: -0.5 * (t**2).sum(-1), lik, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit(m, "fullrank", seed=0, progress=False, steps=2000, n_final=10)
    assert "non-finite" in r.message and not r.success and not r.converged
    assert torch.isfinite(r.mean).all() and torch.isfinite(r.cov).all()


def test_bad_arguments_are_named(small):
    with pytest.raises(ValueError, match="valid: advi, bam"):
        fit(small, method="pathfinder")
    with pytest.raises(ValueError, match="valid: reparam, stl, score, analytic-kl"):
        fit(small, estimator="rb")
    with pytest.raises(ValueError, match="valid: meanfield, fullrank, lowrank, flow"):
        fit(small, approx="gaussian")
    with pytest.raises(ValueError, match="dim 2 but the model has dim 3"):
        fit(small, approx=MeanFieldNormal(2))
    with pytest.raises(ValueError, match="full-rank"):
        fit(small, "meanfield", method="bam")
    with pytest.raises(ValueError, match="larger than the data"):
        fit(small, batch_size=31)
    plain = P.gaussian(torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="n_data"):
        fit(plain, batch_size=4)


def test_subsampling_scales_the_likelihood_by_n_over_b():
    g = np.random.default_rng(5)
    m = P.linear_from_design(g.standard_normal((2000, 2)), np.array([1.0, -1.0]), 1.0, 1.0,
                             seed=6)
    r = fit(m, "fullrank", batch_size=200, seed=0, progress=False, steps=3000, lr=0.02)
    sd = torch.diagonal(m.posterior_cov).sqrt()
    assert ((r.mean - m.posterior_mean).abs() / sd).max() < 0.5
    ratio = torch.diagonal(r.cov).sqrt() / sd      # without N/B the sds would be 3x wider
    assert ((ratio > 0.6) & (ratio < 1.5)).all()


def test_keyboard_interrupt_returns_the_partial_result(small):
    def stop(info):
        if info.step == 50:
            raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit(small, "fullrank", seed=0, progress=False, callback=stop)
    assert "interrupted" in r.message and r.n_steps == 50 and not r.converged
    assert math.isfinite(r.elbo)


def test_save_load_and_resume(small, tmp_path):
    r = fit(small, "fullrank", seed=0, progress=False)
    r.save(tmp_path / "fit.pkl")
    back = VIResult.load(tmp_path / "fit.pkl")
    torch.testing.assert_close(back.cov, r.cov)
    assert back.elbo == r.elbo and np.array_equal(back.elbo_history, r.elbo_history)
    more = fit(small, back, steps=200, check_every=10**6, seed=1, progress=False)
    assert more.n_steps == r.n_steps + 200
    assert len(more.elbo_history) == len(r.elbo_history) + 200
    assert _kl(small, more) < 0.05


def test_sample_to_arviz_progress_and_snr(small):
    r = fit(small, "meanfield", seed=0, progress=True, monitor_snr=True, steps=400)
    assert r.sample(7, seed=0).shape == (7, 3)
    assert torch.equal(r.sample(7, seed=0), r.sample(7, seed=0))
    idata = r.to_arviz(n=50)
    assert set(idata.posterior.data_vars) == set(small.names)
    assert r.grad_snr.shape == (6,) and np.isfinite(r.grad_snr).all()


def test_analytic_kl_fit(small):
    r = fit(small, "fullrank", estimator="analytic-kl", seed=0, progress=False)
    assert _kl(small, r) < 0.05


def test_flow_fit_on_a_banana():
    pytest.importorskip("zuko")

    def log_p(t):
        x, y = t[:, 0], t[:, 1]
        return -0.5 * x**2 - 0.5 * ((y - 0.5 * x**2) / 0.5) ** 2

    zero = torch.zeros((), dtype=torch.float64)
    m = Model(log_p, lambda t: zero.expand(t.shape[0]), 2,
              log_z_exact=math.log(2 * math.pi * 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flow = fit(m, "flow", seed=0, progress=False, steps=400, n_samples=8, lr=0.01,
                   flow_options={"transforms": 2, "hidden_features": (16, 16)})
        gauss = fit(m, "fullrank", seed=0, progress=False)
    assert flow.gap < gauss.gap           # the flow bends, the Gaussian cannot


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_cuda_matches_cpu():
    m_cpu = P.gaussian(torch.zeros(3), torch.eye(3) + 0.5)
    mean, cov = torch.zeros(3).cuda().double(), (torch.eye(3) + 0.5).cuda().double()
    dist = torch.distributions.MultivariateNormal(mean, cov)
    zero = torch.zeros((), dtype=torch.float64, device="cuda")
    m = Model(dist.log_prob, lambda t: zero.expand(t.shape[0]), 3, log_z_exact=0.0)
    r = fit(m, "fullrank", device="cuda", seed=0, progress=False)
    assert r.mean.device.type == "cuda"
    c = fit(m_cpu, "fullrank", seed=0, progress=False)
    torch.testing.assert_close(r.cov.cpu(), c.cov, atol=0.05, rtol=0.0)
    assert r.khat < 0.5


def test_vi_is_exported():
    assert bc.vi.fit is fit and bc.vi.FullRankNormal is FullRankNormal


@pytest.mark.slow
def test_meanfield_closes_the_laplace_gap_on_a_non_gaussian_logistic_posterior():
    """Small-N logistic regression (N = 100, D = 10, prior sd 3): the mean-field Laplace
    approximation (precision diagonal at the mode) is ~0.2 nats worse than the
    mean-field optimum; fit's defaults close the gap to within 0.05 nats with < 950
    gradient evaluations (10x fewer than ADVI's 9,500 from a standard start, issue
    11), and their converged ELBO matches a long many-sample run (the reference)."""
    m = P.logistic_regression(n=100, d=10, prior_sd=3.0, seed=3)

    def elbo_of(q, n=20_000):
        with torch.no_grad():
            z = q.sample((n,), generator=7)
            return float((m.log_joint(z) - q.log_prob(z)).mean())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fit(m, "meanfield", n_samples=32, lr=0.02, steps=3000, tol=0,
                  check_every=10**9, seed=1, progress=False)
        best = elbo_of(ref.approx)
        laplace = fit(m, "meanfield", steps=0, seed=0, progress=False)
    assert best - elbo_of(laplace.approx) > 0.1           # Laplace is off here
    hit = {}

    def cb(info):
        if info.step % 25 == 0 and best - elbo_of(info.approx(), 4000) < 0.05:
            hit["n"] = info.n_grad_evals
            return True
        return False

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(m, "meanfield", seed=0, progress=False, callback=cb)
        r = fit(m, "meanfield", seed=0, progress=False)
    assert hit["n"] < 950
    assert r.converged and abs(best - elbo_of(r.approx)) < 0.05
