"""The approximating families against torch's own distributions and closed forms."""

import resource

import pytest
import torch
from torch.distributions import (
    Independent,
    LowRankMultivariateNormal,
    MultivariateNormal,
    Normal,
)

from bayescalc.vi import Flow, FullRankNormal, LowRankNormal, MeanFieldNormal, make_family

D = 4


def _random_cov(d, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, d, generator=g, dtype=torch.float64)
    return A @ A.T + 0.5 * torch.eye(d, dtype=torch.float64)


def _pairs():
    g = torch.Generator().manual_seed(1)
    loc = torch.randn(D, generator=g, dtype=torch.float64)
    scale = torch.rand(D, generator=g, dtype=torch.float64) + 0.3
    cov = _random_cov(D, 2)
    W = torch.randn(D, 2, generator=g, dtype=torch.float64)
    diag = torch.rand(D, generator=g, dtype=torch.float64) + 0.5
    return [
        (MeanFieldNormal(D, loc=loc, scale=scale), Independent(Normal(loc, scale), 1)),
        (FullRankNormal(D, loc=loc, covariance_matrix=cov), MultivariateNormal(loc, cov)),
        (LowRankNormal(D, 2, loc=loc, diag=diag, factor=W),
         LowRankMultivariateNormal(loc, W, diag**2)),
    ]


@pytest.mark.parametrize("index", range(3))
def test_log_prob_entropy_moments_match_torch(index):
    ours, ref = _pairs()[index]
    z = ref.sample((50,))
    torch.testing.assert_close(ours.log_prob(z), ref.log_prob(z), rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(ours.entropy(), ref.entropy(), rtol=1e-12, atol=1e-12)
    ref_cov = getattr(ref, "covariance_matrix", None)
    ref_cov = torch.diag(ref.variance) if ref_cov is None else ref_cov
    torch.testing.assert_close(ours.covariance_matrix, ref_cov)
    draws = ours.sample((40_000,), generator=0)
    assert ((draws.mean(0) - ref.mean).abs() / ref.variance.sqrt()).max() < 0.03


@pytest.mark.parametrize("index", range(3))
def test_rsample_is_differentiable_and_seeded(index):
    ours, _ = _pairs()[index]
    a = ours.rsample((3,), generator=5)
    b = ours.rsample((3,), generator=5)
    assert torch.equal(a, b)
    a.sum().backward()
    assert all(p.grad is not None for p in ours.parameters())
    assert all(p.is_leaf and p.requires_grad for p in ours.parameters())


@pytest.mark.parametrize("index", range(3))
def test_affine_is_the_law_of_the_mapped_variable(index):
    ours, _ = _pairs()[index]
    shift = torch.arange(D, dtype=torch.float64)
    scale = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    mapped = ours.affine(shift, scale)
    expect_mean = shift + scale * ours.mean.detach()
    expect_cov = scale[:, None] * ours.covariance_matrix.detach() * scale[None, :]
    torch.testing.assert_close(mapped.mean.detach(), expect_mean)
    torch.testing.assert_close(mapped.covariance_matrix.detach(), expect_cov)


def test_fullrank_affine_with_a_triangular_matrix():
    q = FullRankNormal(3, covariance_matrix=_random_cov(3, 4))
    A = torch.linalg.cholesky(_random_cov(3, 5))
    mapped = q.affine(torch.ones(3, dtype=torch.float64), A)
    torch.testing.assert_close(mapped.covariance.detach(), A @ q.covariance.detach() @ A.T)


def test_meanfield_from_gaussian_uses_the_precision_diagonal():
    cov = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64)
    q = MeanFieldNormal.from_gaussian(torch.zeros(2), cov)
    # precision = inv(cov), diag = 1 / (1 - 0.81): variances 0.19, not the marginal 1
    torch.testing.assert_close(q.variance.detach(), torch.full((2,), 0.19, dtype=torch.float64))


def test_lowrank_never_builds_a_dense_matrix():
    # d = 1e5, rank 10: a d x d float64 matrix would be 80 GB. Sampling, log_prob,
    # entropy and their gradients must run and stay far below 1 GB of new memory.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    q = LowRankNormal(100_000, rank=10)
    z = q.rsample((4,), generator=0)
    value = q.log_prob(z).sum() + q.entropy()
    value.backward()
    assert torch.isfinite(value)
    grown_gb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 2**20
    assert grown_gb < 1.0
    # and the Woodbury log density agrees with torch's low-rank normal (also dense-free)
    ref = LowRankMultivariateNormal(q.loc.detach(), q.factor.detach(), q.diag.detach()**2)
    torch.testing.assert_close(q.log_prob(z).detach(), ref.log_prob(z.detach()), rtol=1e-10,
                               atol=1e-6)


def test_detached_cuts_the_graph_but_keeps_the_density():
    q = FullRankNormal(2, covariance_matrix=_random_cov(2, 0))
    z = q.sample((5,), generator=0)
    det = q.detached()
    torch.testing.assert_close(det.log_prob(z), q.log_prob(z).detach())
    assert not det.log_prob(z).requires_grad


def test_state_roundtrip_and_bad_input():
    q = LowRankNormal(5, 2, seed=3)
    r = LowRankNormal(5, 2, seed=9).load_state(q.state())
    torch.testing.assert_close(r.covariance.detach(), q.covariance.detach())
    with pytest.raises(ValueError, match="dim"):
        MeanFieldNormal(0)
    with pytest.raises(ValueError, match="rank"):
        LowRankNormal(3, 0)
    with pytest.raises(ValueError, match="scale"):
        MeanFieldNormal(2, scale=[1.0, -1.0])
    with pytest.raises(ValueError, match="valid: meanfield, fullrank, lowrank, flow"):
        make_family("gaussian", 2)


def test_flow_samples_and_densities_are_consistent():
    pytest.importorskip("zuko")
    q = Flow(2, transforms=2, hidden_features=(16,), seed=0,
             shift=torch.tensor([1.0, -1.0]), scale=torch.tensor([2.0, 0.5]))
    z = q.rsample((4000,), generator=0)
    lp = q.log_prob(z)
    assert z.shape == (4000, 2) and lp.shape == (4000,)
    assert torch.isfinite(lp).all()
    # the density integrates to one: E_q[1/q] over a box vs its area is hard; instead
    # the affine map must shift the mean and scale log q by the log-Jacobian
    base = Flow(2, transforms=2, hidden_features=(16,), seed=0)
    u = base.sample((3,), generator=1)
    zz = torch.tensor([1.0, -1.0]) + u * torch.tensor([2.0, 0.5])
    torch.testing.assert_close(q.log_prob(zz).detach(),
                               base.log_prob(u).detach() - torch.log(torch.tensor(1.0)))
    lp.mean().backward()
    assert any(p.grad is not None for p in q.parameters())
    with pytest.raises(ValueError):
        Flow(2, flow="NoSuchFlow")
