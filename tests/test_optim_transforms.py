"""The first-order update rules as composed transforms, against their equations."""

import numpy as np
import pytest
import torch

from bayescalc.optim import transforms
from bayescalc.optim.lbfgs import two_loop


def _run(rule, gradients, x0):
    state = rule.init(x0)
    updates = []
    for g in gradients:
        update, state = rule.update(np.asarray(g, dtype=np.float64), state)
        updates.append(update)
    return np.array(updates)


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    # Bias correction makes m̂₁ = g₁ and v̂₁ = g₁², so u₁ = -lr g/(|g| + ε).
    g = np.array([3.0, -0.02, 1e3])
    (u,) = _run(transforms.adam(0.1), [g], np.zeros(3))
    np.testing.assert_allclose(u, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-15)


def test_adam_matches_torch_adam_over_several_steps(seed):
    rng = np.random.default_rng(seed)
    gradients = rng.normal(size=(6, 4))
    ours = _run(transforms.adam(0.05, b1=0.8, b2=0.99, eps=1e-6), gradients, np.zeros(4))
    x = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([x], lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    previous = x.detach().clone()
    for g, u in zip(gradients, ours, strict=True):
        x.grad = torch.as_tensor(g)
        optimizer.step()
        np.testing.assert_allclose((x.detach() - previous).numpy(), u, rtol=1e-12, atol=1e-15)
        previous = x.detach().clone()


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_rules_match_torch_sgd(nesterov, seed):
    # torch.optim.SGD(momentum=β, nesterov=...) uses the same buffer m = β m + g.
    rng = np.random.default_rng(seed)
    gradients = rng.normal(size=(5, 3))
    rule = (transforms.nesterov if nesterov else transforms.momentum)(0.1, beta=0.7)
    ours = _run(rule, gradients, np.zeros(3))
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=0.1, momentum=0.7, nesterov=nesterov)
    previous = x.detach().clone()
    for g, u in zip(gradients, ours, strict=True):
        x.grad = torch.as_tensor(g)
        optimizer.step()
        np.testing.assert_allclose((x.detach() - previous).numpy(), u, rtol=1e-13, atol=1e-16)
        previous = x.detach().clone()


def test_chain_composes_in_order_and_scale_is_stateless():
    rule = transforms.chain(transforms.scale(2.0), transforms.scale(-0.5))
    state = rule.init(np.zeros(2))
    update, new_state = rule.update(np.array([1.0, 4.0]), state)
    np.testing.assert_array_equal(update, [-1.0, -4.0])
    assert new_state == ((), ())


def test_gd_is_minus_lr_times_the_gradient():
    (u,) = _run(transforms.gd(0.25), [[2.0, -8.0]], np.zeros(2))
    np.testing.assert_array_equal(u, [-0.5, 2.0])


def test_two_loop_satisfies_the_secant_equation_and_matches_dense_bfgs(seed):
    # The L-BFGS inverse Hessian H satisfies H y_k = s_k for the newest pair, and equals
    # the dense BFGS recursion (N&W eq. 6.17) started from γ I on the same pairs.
    rng = np.random.default_rng(seed)
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
    pairs = tuple((s, a @ s) for s in rng.normal(size=(4, 3)))
    s_last, y_last = pairs[-1]
    np.testing.assert_allclose(two_loop(y_last, pairs), -s_last, rtol=1e-12)
    h = (s_last @ y_last) / (y_last @ y_last) * np.eye(3)
    for s_k, y_k in pairs:
        rho = 1.0 / (y_k @ s_k)
        left = np.eye(3) - rho * np.outer(s_k, y_k)
        h = left @ h @ left.T + rho * np.outer(s_k, s_k)
    g = rng.normal(size=3)
    np.testing.assert_allclose(two_loop(g, pairs), -h @ g, rtol=1e-12)
