"""The ``device=`` paths on a CUDA GPU; skipped where there is none (CI has none).

Each check compares the GPU answer with the same computation on the CPU (same seed), so
the tolerance is floating-point reordering only, not statistical error.
"""

import numpy as np
import pytest
import torch

import bayescalc as bc

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")


def _gaussian_bump(x):
    return torch.exp(-(x**2).sum(dim=1))


def test_monte_carlo_on_device_matches_cpu():
    # Same points (drawn on the CPU from the seed), integrand evaluated on the GPU.
    cpu = bc.integrate.monte_carlo(_gaussian_bump, [-1.0] * 3, [1.0] * 3, n=2**12, seed=3)
    gpu = bc.integrate.monte_carlo(_gaussian_bump, [-1.0] * 3, [1.0] * 3, n=2**12, seed=3,
                                   device=CUDA)
    assert gpu.value == pytest.approx(cpu.value, rel=1e-12)
    assert gpu.error == pytest.approx(cpu.error, rel=1e-9)


def test_vegas_on_device_matches_cpu():
    kwargs = dict(n_iter=4, n_eval=4000, seed=1)
    cpu = bc.integrate.vegas(_gaussian_bump, [-2.0] * 2, [2.0] * 2, **kwargs)
    gpu = bc.integrate.vegas(_gaussian_bump, [-2.0] * 2, [2.0] * 2, device=CUDA, **kwargs)
    assert gpu.value == pytest.approx(cpu.value, rel=1e-10)


def test_expectation_gradient_flows_on_device():
    # d/dmu E_{N(mu, sigma)}[x^2] = 2 mu, exactly for every QMC point set (reparam).
    mu = torch.tensor(0.7, dtype=torch.float64, device=CUDA, requires_grad=True)
    dist = torch.distributions.Normal(mu, torch.tensor(1.3, dtype=torch.float64, device=CUDA))
    result = bc.integrate.expectation(lambda x: x**2, dist, method="qmc", n=2**12, seed=0)
    assert result.value.device.type == "cuda"
    (grad,) = torch.autograd.grad(result.value, mu)
    assert grad.item() == pytest.approx(2 * 0.7, rel=1e-2)


def test_fixed_quad_differentiable_on_device():
    a = torch.tensor(0.0, dtype=torch.float64, device=CUDA)
    b = torch.tensor(2.0, dtype=torch.float64, device=CUDA, requires_grad=True)
    value = bc.integrate.fixed_quad(torch.sin, a, b, n=20)
    (grad,) = torch.autograd.grad(value, b)          # d/db ∫_0^b sin = sin(b)
    assert value.item() == pytest.approx(1 - np.cos(2.0), rel=1e-13)
    assert grad.item() == pytest.approx(np.sin(2.0), rel=1e-13)


def test_autodiff_on_device():
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, device=CUDA)

    def rosen(z):
        return 100 * (z[1] - z[0] ** 2) ** 2 + (1 - z[0]) ** 2

    grad = bc.diff.gradient(rosen, x)
    hess = bc.diff.hessian(rosen, x)
    assert grad.device.type == "cuda" and hess.device.type == "cuda"
    exact = torch.tensor([-400 * 0.3 * (-1.2 - 0.09) - 2 * 0.7, 200 * (-1.2 - 0.09)],
                         dtype=torch.float64)
    torch.testing.assert_close(grad.cpu(), exact, rtol=1e-13, atol=0)


def test_extra_and_optimistic_adam_on_device():
    for optimizer_class in (bc.minmax.ExtraAdam, bc.minmax.OptimisticAdam):
        x = torch.ones(4, device=CUDA, requires_grad=True)
        y = torch.ones(4, device=CUDA, requires_grad=True)
        cpu_x = torch.ones(4, requires_grad=True)
        cpu_y = torch.ones(4, requires_grad=True)
        for params in ((x, y), (cpu_x, cpu_y)):
            _train_bilinear(optimizer_class, *params)
        torch.testing.assert_close(x.detach().cpu(), cpu_x.detach(), rtol=1e-5, atol=1e-6)


def _train_bilinear(optimizer_class, x, y, steps=50):
    opt_x = optimizer_class([x], lr=0.05)
    opt_y = optimizer_class([y], lr=0.05)
    for _ in range(steps):
        for _phase in range(2 if optimizer_class is bc.minmax.ExtraAdam else 1):
            opt_x.zero_grad()
            opt_y.zero_grad()
            loss = (x * y).sum()
            loss.backward()
            y.grad.neg_()                          # y ascends
            if optimizer_class is bc.minmax.ExtraAdam and _phase == 0:
                opt_x.extrapolate()
                opt_y.extrapolate()
            else:
                opt_x.step()
                opt_y.step()
