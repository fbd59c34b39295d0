"""ELBO and IWAE estimators against closed forms on a conjugate linear regression.

For a Gaussian posterior p and any Gaussian q the ELBO is exactly log Z - KL(q || p),
so every estimator's value is checked against it within its Monte Carlo error, and the
gradient estimators against each other (same expectation) and in variance.
"""

import math

import numpy as np
import pytest
import torch

from bayescalc.vi import FullRankNormal, MeanFieldNormal, elbo, iwae
from bench import _vi_problems as P


@pytest.fixture(scope="module")
def model():
    g = np.random.default_rng(0)
    X = g.standard_normal((40, 3))
    return P.linear_from_design(X, np.array([0.5, -1.0, 2.0]), 1.0, 1.0, seed=1)


def _near_posterior(model, shrink=0.8, shift=0.3):
    sd = torch.diagonal(model.posterior_cov).sqrt()
    return FullRankNormal(3, loc=model.posterior_mean + shift * sd,
                          covariance_matrix=shrink * model.posterior_cov)


def _exact_elbo(model, q):
    kl = P.gaussian_kl(q.mean.detach(), q.covariance.detach(), model.posterior_mean,
                       model.posterior_cov)
    return model.log_z_exact - float(kl)


@pytest.mark.parametrize("estimator", ["reparam", "stl", "score", "analytic-kl"])
def test_elbo_value_matches_log_z_minus_kl(model, estimator):
    q = _near_posterior(model)
    exact = _exact_elbo(model, q)
    values = [elbo(model, q, n_samples=500, estimator=estimator, seed=s).item()
              for s in range(20)]
    mean, se = np.mean(values), np.std(values, ddof=1) / math.sqrt(len(values))
    assert abs(mean - exact) < 4 * se + 1e-9


def _grads(model, q, estimator, n_rep, n_samples, **kw):
    out = []
    for s in range(n_rep):
        for p in q.parameters():
            p.grad = None
        elbo(model, q, n_samples=n_samples, estimator=estimator, seed=s, **kw).backward()
        out.append(torch.cat([p.grad.reshape(-1) for p in q.parameters()]).clone())
    return torch.stack(out)


def test_score_and_reparam_gradients_agree_in_expectation(model):
    q = MeanFieldNormal(3, loc=model.posterior_mean + 0.05, scale=torch.full((3,), 0.1))
    score = _grads(model, q, "score", 200, 64)
    rep = _grads(model, q, "reparam", 200, 64)
    diff = score.mean(0) - rep.mean(0)
    se = (score.var(0) / len(score) + rep.var(0) / len(rep)).sqrt()
    assert (diff.abs() <= 4.5 * se).all(), (diff / se)
    # and the score estimator is the noisier one by far
    assert (score.var(0) > rep.var(0)).all()


def test_score_baseline_removes_variance(model):
    q = MeanFieldNormal(3, loc=model.posterior_mean + 0.05, scale=torch.full((3,), 0.1))
    with_b = _grads(model, q, "score", 100, 16)
    without = _grads(model, q, "score", 100, 16, score_baseline=False)
    ratio = (without.var(0) / with_b.var(0)).median()
    assert ratio > 10                       # measured ~1e3-1e4: see docs/vi.md


def test_stl_is_exactly_zero_at_the_posterior_and_lower_variance_near_it(model):
    exact = FullRankNormal(3, loc=model.posterior_mean, covariance_matrix=model.posterior_cov)
    g = _grads(model, exact, "stl", 3, 16)
    assert g.abs().max() < 1e-8
    q = _near_posterior(model, shrink=0.95, shift=0.05)
    stl = _grads(model, q, "stl", 100, 4)
    rep = _grads(model, q, "reparam", 100, 4)
    assert stl.var(0).sum() < 0.2 * rep.var(0).sum()


def test_iwae_bound_lies_between_elbo_and_log_z_and_rises_with_k(model):
    q = _near_posterior(model, shrink=0.6, shift=0.5)
    e = _exact_elbo(model, q)
    b1 = iwae(model, q, n_samples=4000, k=1, seed=0).item()
    b8 = iwae(model, q, n_samples=1000, k=8, seed=0).item()
    b64 = iwae(model, q, n_samples=200, k=64, seed=0).item()
    assert abs(b1 - e) < 0.05
    assert e < b8 < b64 < model.log_z_exact


def test_dreg_has_lower_variance_than_the_iwae_gradient_near_the_optimum(model):
    q = _near_posterior(model, shrink=0.95, shift=0.05)

    def grads(est):
        out = []
        for s in range(100):
            for p in q.parameters():
                p.grad = None
            iwae(model, q, n_samples=1, k=16, estimator=est, seed=s).backward()
            out.append(torch.cat([p.grad.reshape(-1) for p in q.parameters()]).clone())
        return torch.stack(out)

    dreg, rep = grads("dreg"), grads("reparam")
    assert dreg.var(0).sum() < 0.2 * rep.var(0).sum()


def test_analytic_kl_needs_a_gaussian_prior_and_bad_input_is_named(model):
    q = MeanFieldNormal(3)
    bare = P.gaussian(torch.zeros(3), torch.eye(3))
    with pytest.raises(ValueError, match="prior"):
        elbo(bare, q, estimator="analytic-kl")
    with pytest.raises(ValueError, match="valid: reparam, stl, score, analytic-kl"):
        elbo(model, q, estimator="reinforce")
    with pytest.raises(ValueError, match="valid: dreg, reparam"):
        iwae(model, q, estimator="stl")
    with pytest.raises(ValueError, match="dim 2 but the model has dim 3"):
        elbo(model, MeanFieldNormal(2))
    with pytest.raises(ValueError, match="n_samples"):
        elbo(model, q, estimator="score", n_samples=1)
