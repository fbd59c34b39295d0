"""Model: from_torch, from_pyro (vectorized over particles), block transforms for mixed
supports, chunked large-data likelihoods, and the bad-input errors."""

import math
import warnings

import numpy as np
import pyro
import pyro.distributions as pdist
import pytest
import scipy.optimize as so
import torch
from torch.distributions import Beta, Dirichlet, HalfNormal, Normal, Poisson, Uniform

import bayescalc as bc
from bayescalc import models
from bayescalc._core.warnings import BayescalcWarning

F64 = torch.float64


def _laplace_log_z(model):
    """log Z by Laplace (exact for a Gaussian posterior): scipy L-BFGS-B mode, autograd
    Hessian."""
    def f(z):
        v, g = model.log_joint_and_grad(torch.as_tensor(z)[None])
        return -float(v[0]), -g[0].numpy()
    res = so.minimize(f, np.zeros(model.dim), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000})
    mode = torch.as_tensor(res.x)
    hess = torch.autograd.functional.hessian(lambda z: -model.log_joint(z[None])[0], mode)
    return (-res.fun + 0.5 * model.dim * math.log(2 * math.pi)
            - 0.5 * float(torch.linalg.slogdet(hess)[1]))


def _gl2_log_z(logf, box, panels=30, nodes=20):
    u, w = np.polynomial.legendre.leggauss(nodes)
    axes = []
    for lo, hi in box:
        edges = np.linspace(lo, hi, panels + 1)
        half = 0.5 * np.diff(edges)[:, None]
        axes.append(((edges[:-1, None] + half * (u + 1)).ravel(), (half * w).ravel()))
    (x, wx), (y, wy) = axes
    xx, yy = np.meshgrid(x, y, indexing="ij")
    vals = logf(torch.as_tensor(np.column_stack([xx.ravel(), yy.ravel()]))).numpy() \
        + np.log(np.outer(wx, wy)).ravel()
    top = vals.max()
    return float(top + np.log(np.exp(vals - top).sum()))


# -- Pyro -----------------------------------------------------------------------------------
def _pyro_linreg(X, y, sigma=1.0, tau=1.0):
    d = X.shape[1]
    beta = pyro.sample("beta", pdist.Normal(torch.zeros(d, dtype=F64), tau).to_event(1))
    mean = (X * beta).sum(-1)           # broadcasts over leading particle dimensions
    with pyro.plate("data", X.shape[0]):
        pyro.sample("y", pdist.Normal(mean, sigma), obs=y)


def test_from_pyro_linear_regression_matches_hand_written_model_and_log_z():
    ref = models.linear_regression(d=3, n=100, seed=0)
    m = bc.Model.from_pyro(_pyro_linreg, ref.X, ref.y)
    assert m.vectorized and m.names == ref.names and m.observed_sites == ("y",)
    z = ref.sample_prior(500, seed=1)
    assert torch.allclose(m.log_joint(z), ref.log_joint(z), rtol=0, atol=1e-10)
    assert torch.allclose(m.log_prior(z), ref.log_prior(z), rtol=0, atol=1e-10)
    assert torch.allclose(m.log_likelihood(z), ref.log_likelihood(z), rtol=0, atol=1e-10)
    _, g = m.log_joint_and_grad(z)
    assert torch.allclose(g, ref.log_joint_and_grad(z)[1], rtol=0, atol=1e-9)
    # same log Z (Laplace is exact on this Gaussian posterior)
    assert _laplace_log_z(m) == pytest.approx(ref.log_z_exact, abs=1e-7)
    # particles evaluated in chunks (the memory bound): same values and gradients
    m._log_prior_and_likelihood.particle_chunk = 64
    v2, g2 = m.log_joint_and_grad(z)
    assert torch.allclose(v2, ref.log_joint(z), rtol=0, atol=1e-10)
    assert torch.allclose(g2, g, rtol=0, atol=1e-10)


def _pyro_nig(X, y, a0=2.0, b0=2.0, tau=1.0):
    d = X.shape[1]
    s2 = pyro.sample("sigma2", pdist.InverseGamma(torch.tensor(a0, dtype=F64),
                                                  torch.tensor(b0, dtype=F64)))
    sd = (s2.sqrt() * tau).unsqueeze(-1)
    beta = pyro.sample("beta", pdist.Normal(torch.zeros(d, dtype=F64), sd).to_event(1))
    with pyro.plate("data", X.shape[0]):
        pyro.sample("y", pdist.Normal((X * beta).sum(-1), s2.sqrt()), obs=y)


def test_from_pyro_unknown_noise_positive_scale_matches_nig_and_its_log_z():
    ref = models.linear_regression(d=1, n=30, noise="unknown", seed=2)
    m = bc.Model.from_pyro(_pyro_nig, ref.X, ref.y)
    assert m.vectorized and m.names == ("sigma2", "beta[0]")
    z_ref = ref.sample_prior(200, seed=0)
    z = z_ref[:, [1, 0]]                         # Pyro's trace order: sigma2, beta
    assert torch.allclose(m.log_joint(z), ref.log_joint(z_ref), rtol=0, atol=1e-10)
    log_z = _gl2_log_z(lambda z: m.log_joint(z), [(-5, 5), (-6, 6)], panels=15)
    assert log_z == pytest.approx(ref.log_z_exact, abs=1e-7)


def _pyro_mixed(data):
    scale = pyro.sample("scale", pdist.HalfNormal(torch.tensor(2.0, dtype=F64)))
    w = pyro.sample("w", pdist.Dirichlet(torch.ones(3, dtype=F64)))
    cuts = pyro.sample("cuts", pdist.TransformedDistribution(
        pdist.Normal(torch.zeros(3, dtype=F64), 1.0).to_event(1),
        pdist.transforms.OrderedTransform()))
    p = pyro.sample("p", pdist.Uniform(torch.tensor(-1.0, dtype=F64),
                                       torch.tensor(2.0, dtype=F64)))
    loc = p.unsqueeze(-1) + cuts                          # (..., 3): broadcasts
    mix = pdist.MixtureSameFamily(pdist.Categorical(probs=w),
                                  pdist.Normal(loc, scale.unsqueeze(-1)))
    with pyro.plate("data", data.shape[0]):
        pyro.sample("x", mix, obs=data)


def test_from_pyro_positive_simplex_ordered_interval_round_trip():
    data = torch.linspace(-2, 3, 12, dtype=F64)
    m = bc.Model.from_pyro(_pyro_mixed, data)
    assert m.vectorized
    assert m.dim == 1 + 2 + 3 + 1 and m.constrained_dim == 1 + 3 + 3 + 1
    assert m.names == ("scale", "w[0]", "w[1]", "cuts[0]", "cuts[1]", "cuts[2]", "p")
    z = torch.randn(50, m.dim, generator=torch.Generator().manual_seed(0), dtype=F64)
    theta = m.constrain(z)
    assert bool((theta[:, 0] > 0).all())
    assert torch.allclose(theta[:, 1:4].sum(-1), torch.ones(50, dtype=F64), atol=1e-14)
    assert bool((theta[:, 1:4] > 0).all())
    assert bool((theta[:, 5] > theta[:, 4]).all() and (theta[:, 6] > theta[:, 5]).all())
    assert bool(((theta[:, 7] > -1) & (theta[:, 7] < 2)).all())
    assert torch.allclose(m.unconstrain(theta), z, atol=1e-10)
    assert torch.allclose(m.constrain(m.unconstrain(theta)), theta, atol=1e-12)
    draws = m.sample_prior(400, seed=3)
    assert torch.equal(draws, m.sample_prior(400, seed=3))
    assert abs(float(m.constrain(draws)[:, 7].mean()) - 0.5) < 4 * math.sqrt(0.75 / 400)
    values, grad = m.log_joint_and_grad(z)
    assert torch.isfinite(values).all() and torch.isfinite(grad).all()


def test_from_pyro_discrete_latent_site_is_a_clear_error():
    def model():
        k = pyro.sample("k", pdist.Categorical(torch.ones(3) / 3))
        pyro.sample("y", pdist.Normal(k.to(F64), 1.0), obs=torch.tensor(0.5, dtype=F64))
    with pytest.raises(ValueError, match="'k' is a discrete latent site"):
        bc.Model.from_pyro(model)

    def poisson():
        pyro.sample("n", pdist.Poisson(torch.tensor(3.0)))
    with pytest.raises(ValueError, match="discrete"):
        bc.Model.from_pyro(poisson)


def test_from_pyro_non_broadcasting_model_falls_back_to_a_loop_with_a_warning():
    ref = models.linear_regression(d=2, n=20, seed=1)

    def model(X, y):  # X @ beta does not broadcast over (n, 1, d) particles
        beta = pyro.sample("beta", pdist.Normal(torch.zeros(2, dtype=F64), 1.0).to_event(1))
        with pyro.plate("data", X.shape[0]):
            pyro.sample("y", pdist.Normal(X @ beta, 1.0), obs=y)

    with pytest.warns(BayescalcWarning, match="one particle at a time"):
        m = bc.Model.from_pyro(model, ref.X, ref.y)
    assert not m.vectorized
    z = ref.sample_prior(7, seed=0)
    assert torch.allclose(m.log_joint(z), ref.log_joint(z), atol=1e-10)


# -- from_torch --------------------------------------------------------------------------
def test_from_torch_mixed_supports_jacobian_integrates_prior_to_one():
    prior = {"s": HalfNormal(torch.tensor(1.5, dtype=F64)),
             "p": Beta(torch.tensor(2.0, dtype=F64), torch.tensor(3.0, dtype=F64))}
    m = bc.Model.from_torch(prior, lambda th, y: Normal(th["s"][:, None] * th["p"][:, None],
                                                        1.0), torch.zeros(3, dtype=F64))
    assert m.names == ("s", "p") and m.dim == 2
    # exp(log_prior) over the unconstrained plane integrates to 1 only with the Jacobian
    assert _gl2_log_z(m.log_prior, [(-25, 6), (-25, 20)]) == pytest.approx(0.0, abs=1e-8)


def test_from_torch_simplex_ordered_vector_prior_round_trip_and_sampling():
    prior = [Dirichlet(torch.ones(4, dtype=F64)),
             Uniform(torch.tensor([0.0, -1.0], dtype=F64), torch.tensor([1.0, 5.0], dtype=F64))]
    m = bc.Model.from_torch(prior, lambda th, y: Normal(th[1][:, :1], 1.0) if isinstance(
        th, tuple) else None, torch.zeros(5, dtype=F64))
    assert m.dim == 3 + 2 and m.constrained_dim == 4 + 2
    assert m.names == ("theta0[0]", "theta0[1]", "theta0[2]", "theta1[0]", "theta1[1]")
    draws = m.sample_prior(1000, seed=0)
    theta = m.constrain(draws)
    assert torch.allclose(theta[:, :4].sum(-1), torch.ones(1000, dtype=F64))
    assert abs(float(theta[:, 5].mean()) - 2.0) < 4 * 6 / math.sqrt(12 * 1000)
    assert torch.allclose(m.unconstrain(theta), draws, atol=1e-9)
    assert torch.isfinite(m.log_joint(draws)).all()


def _large_data_check(n_particles, bound):
    n_obs = 100_000
    gen = torch.Generator().manual_seed(0)
    y = 0.3 + 1.2 * torch.randn(n_obs, generator=gen, dtype=F64)
    seen = []

    def likelihood(theta, data):
        seen.append(theta.shape[0] * data.shape[0])
        return Normal(theta[:, :1], 1.2)

    m = bc.Model.from_torch(Normal(torch.zeros(1, dtype=F64), 10.0), likelihood, y,
                            max_chunk_elements=bound)
    z = 0.3 + 0.01 * torch.randn(n_particles, 1, generator=gen, dtype=F64)
    ll = m.log_likelihood(z)
    assert max(seen) <= bound and len(seen) >= 20
    ybar, ss = float(y.mean()), float(((y - y.mean()) ** 2).sum())
    exact = (-0.5 * (ss + n_obs * (ybar - z[:, 0]) ** 2) / 1.44
             - n_obs * (math.log(1.2) + 0.5 * math.log(2 * math.pi)))
    assert float(ll.max()) < -1e5
    assert torch.allclose(ll, exact, rtol=1e-11, atol=0)
    # gradients through the chunks (checkpointed), 50 particles
    seen.clear()
    _, g = m.log_joint_and_grad(z[:50])
    assert max(seen) <= bound
    g_exact = n_obs * (ybar - z[:50, 0]) / 1.44 - z[:50, 0] / 100
    assert torch.allclose(g[:, 0], g_exact, rtol=1e-9)
    # second derivatives through the chunks (20 x 1e5 > bound) too: -n / sigma^2 - 1/100
    h = torch.autograd.functional.hessian(lambda t: m.log_joint(t.expand(20, 1))[0], z[0])
    assert float(h) == pytest.approx(-n_obs / 1.44 - 0.01, rel=1e-9)
    # the evidence of this 1e5-point model: Laplace (exact here) against the closed form
    v = 100.0 + 1.44 / n_obs
    log_z = (-0.5 * n_obs * math.log(2 * math.pi * 1.44) - ss / 2.88
             + 0.5 * math.log(2 * math.pi * 1.44 / n_obs)
             - 0.5 * math.log(2 * math.pi * v) - ybar ** 2 / (2 * v))
    assert _laplace_log_z(m) == pytest.approx(log_z, abs=1e-6)
    return max(seen), float(ll.max())


def test_large_data_is_chunked_within_the_bound_without_underflow():
    largest_chunk, top = _large_data_check(n_particles=200, bound=2 ** 20)  # 20+ chunks
    assert largest_chunk <= 2 ** 20 and math.isfinite(top)


@pytest.mark.slow
def test_large_data_at_thousands_of_particles_default_bound():
    largest_chunk, top = _large_data_check(n_particles=4000, bound=2 ** 22)  # ~100 chunks
    assert largest_chunk <= 2 ** 22 and math.isfinite(top)


def test_from_torch_wrong_broadcasting_is_a_clear_error():
    y = torch.zeros(10, dtype=F64)
    m = bc.Model.from_torch(Normal(torch.zeros(1, dtype=F64), 1.0),
                            lambda th, y: Normal(th[:, 0], 1.0), y)  # should be th[:, :1]
    with pytest.raises(ValueError, match="particles on its first axis"):
        m.log_joint(torch.zeros(3, 1))
    with pytest.raises(ValueError, match="discrete"):
        bc.Model.from_torch(Poisson(torch.tensor(2.0)), lambda th, y: Normal(0, 1), y)
    with pytest.raises(TypeError, match="prior"):
        bc.Model.from_torch("normal", lambda th, y: Normal(0, 1), y)


# -- bad input on any Model ---------------------------------------------------------------
def test_nan_and_plus_inf_are_clear_errors_naming_theta_but_minus_inf_is_allowed():
    m = bc.Model(lambda t: torch.log(t[:, 0]), lambda t: -0.5 * (t ** 2).sum(-1), 2)
    with pytest.raises(ValueError, match=r"log_prior returned nan at theta = \[-1.0, 2.0\]"):
        m.log_joint(torch.tensor([[1.0, 0.0], [-1.0, 2.0]]))
    assert m.log_joint(torch.tensor([[0.0, 1.0]]))[0] == -math.inf
    m2 = bc.Model(lambda t: -0.5 * (t ** 2).sum(-1), lambda t: 1.0 / t[:, 0] ** 2, 2)
    with pytest.raises(ValueError, match=r"log_likelihood returned inf at theta = \[0.0, 3.0\]"):
        m2.log_likelihood(torch.tensor([[1.0, 1.0], [0.0, 3.0], [2.0, 2.0]]))


def test_non_batched_log_density_is_detected_and_wrapped():
    batched = bc.Model(lambda t: -0.5 * (t ** 2).sum(-1), lambda t: -((t - 1) ** 2).sum(-1), 3)
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    for lp in (lambda t: -0.5 * (t ** 2).sum(),             # vmap-able
               lambda t: -0.5 * float((t ** 2).sum())):     # needs the loop
        m = bc.Model(lp, lambda t: -((t - 1) ** 2).sum(-1), 3)
        with pytest.warns(BayescalcWarning, match="log_prior is not batched"):
            values = m.log_joint(z)
        assert torch.allclose(values, batched.log_joint(z))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # warned once, then silent
            m.log_joint(z[:2])
    # single-point first call too
    m = bc.Model(lambda t: -0.5 * t @ t, lambda t: -((t - 1) ** 2).sum(-1), 3)
    with pytest.warns(BayescalcWarning):
        assert torch.allclose(m.log_joint(z[:1]), batched.log_joint(z[:1]))
    # a batched callable costs no extra call, even at n = 1 (estimators count points)
    calls = []
    spy = bc.Model(lambda t: calls.append(t.shape[0]) or -0.5 * (t ** 2).sum(-1),
                   lambda t: -((t - 1) ** 2).sum(-1), 3)
    spy.log_prior(z[:1])
    spy.log_prior(z)
    assert calls == [1, 5]
    # neither batched nor scalar: a clear error
    bad = bc.Model(lambda t: t * 2.0, lambda t: -((t - 1) ** 2).sum(-1), 3)
    with pytest.raises(ValueError, match="must return shape"):
        bad.log_joint(z)


def test_dimension_mismatch_is_a_clear_error():
    m = models.conjugate_normal_mean(d=2)
    with pytest.raises(ValueError, match=r"z must have shape \(n, 2\)"):
        m.log_joint(torch.zeros(4, 3))
    s = bc.Model.from_torch(Dirichlet(torch.ones(3, dtype=F64)),
                            lambda th, y: Normal(th[:, :1], 1.0), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match=r"theta must have shape \(n, 3\)"):
        s.unconstrain(torch.ones(1, 2) / 2)
    with pytest.raises(ValueError, match="names has 1 entries"):
        bc.Model(lambda t: t[:, 0], lambda t: t[:, 0], 2, names=["a"])


def test_from_torch_regression_with_inputs_tuple_matches_hand_written():
    ref = models.linear_regression(d=2, n=40, seed=3)
    m = bc.Model.from_torch(Normal(torch.zeros(2, dtype=F64), 1.0),
                            lambda beta, data: Normal(beta @ data[0].T, 1.0),
                            (ref.X, ref.y), max_chunk_elements=50)
    z = ref.sample_prior(30, seed=0)
    assert torch.allclose(m.log_joint(z), ref.log_joint(z), rtol=0, atol=1e-10)
    assert torch.allclose(m.log_joint_and_grad(z)[1], ref.log_joint_and_grad(z)[1],
                          rtol=0, atol=1e-10)


def test_from_pyro_factor_is_likelihood_and_deterministic_is_ignored():
    def model():
        mu = pyro.sample("mu", pdist.Normal(torch.tensor(0.0, dtype=F64), 1.0))
        pyro.deterministic("twice", 2 * mu)
        pyro.factor("obs", -0.5 * (mu - 1.0) ** 2)

    m = bc.Model.from_pyro(model)
    assert m.vectorized and m.observed_sites == ("obs",) and m.names == ("mu",)
    z = torch.linspace(-2, 2, 5, dtype=F64)[:, None]
    assert torch.allclose(m.log_likelihood(z), -0.5 * (z[:, 0] - 1) ** 2)
    assert torch.allclose(m.log_prior(z), Normal(0.0, 1.0).log_prob(z[:, 0]))
