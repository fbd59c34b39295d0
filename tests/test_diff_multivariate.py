"""gradient / jacobian / hessian / hvp / check_gradient: closed forms, autodiff, batches."""

import numpy as np
import pytest
import torch

from bayescalc import AccuracyWarning
from bayescalc.diff import (
    check_gradient,
    gradient,
    gradient_estimate,
    hessian,
    hessian_estimate,
    hvp,
    hvp_estimate,
    jacobian,
    jacobian_estimate,
)
from bayescalc.optim.surfaces import rosenbrock_gradient, rosenbrock_hessian


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_batch(xs):
    return np.sum(100.0 * (xs[:, 1:] - xs[:, :-1] ** 2) ** 2 + (1.0 - xs[:, :-1]) ** 2, axis=1)


def rosenbrock_torch(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def point(d, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, d)


# -- the notes: the gradient is the vector of partials, others held constant ------------

def test_gradient_is_the_vector_of_partial_derivatives():
    from bayescalc.diff import derivative

    f = lambda p: p[0] ** 2 * p[1] + np.sin(p[1]) * p[2]  # noqa: E731
    x = np.array([1.5, -0.5, 2.0])
    partials = [derivative(lambda t, i=i: f(np.where(np.arange(3) == i, t, x)), x[i],
                           method="richardson") for i in range(3)]
    exact = np.array([2 * x[0] * x[1], x[0] ** 2 + np.cos(x[1]) * x[2], np.sin(x[1])])
    np.testing.assert_allclose(partials, exact, rtol=1e-13)
    np.testing.assert_allclose(gradient(f, x), exact, rtol=1e-13)


@pytest.mark.parametrize("d", [2, 10, 100])
def test_numeric_gradient_of_rosenbrock(d):
    x = point(d)
    result = gradient_estimate(rosenbrock_batch, x, vectorized=True)
    exact = rosenbrock_gradient(x)
    true_error = np.abs(result.value - exact)
    # Relative to the gradient's scale: the round-off floor is ~eps * |f| / h.
    assert np.max(true_error) <= 1e-12 * np.max(np.abs(exact))
    assert np.all(result.error >= true_error)


def test_vectorized_gradient_equals_looped_and_calls_once_per_round():
    calls = []

    def f(xs):
        calls.append(xs.shape)
        return rosenbrock_batch(xs)

    x = point(10)
    batched = gradient_estimate(f, x, vectorized=True)
    looped = gradient_estimate(rosenbrock, x)
    np.testing.assert_allclose(batched.value, looped.value, rtol=1e-15, atol=1e-15)
    assert batched.n_evals == looped.n_evals
    assert calls[0] == (1, 10)                   # f(x)
    assert calls[1][0] >= 2 * 5 * 10             # every axis's first window in one call
    assert len(calls) <= 6


def test_autodiff_gradient_hessian_hvp_agree_with_closed_forms():
    x = point(10, seed=1)
    tx = torch.tensor(x)
    g = gradient(rosenbrock_torch, tx)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_allclose(g.numpy(), rosenbrock_gradient(x), rtol=1e-13, atol=1e-12)
    H = hessian(rosenbrock_torch, tx)
    np.testing.assert_allclose(H.numpy(), rosenbrock_hessian(x), rtol=1e-13, atol=1e-12)
    v = np.linspace(-1, 1, 10)
    np.testing.assert_allclose(hvp(rosenbrock_torch, tx, torch.tensor(v)).numpy(),
                               rosenbrock_hessian(x) @ v, rtol=1e-13, atol=1e-11)
    # numpy point + torch-traceable f: "auto" still uses autodiff and returns numpy
    g_numpy = gradient(rosenbrock_torch, x)
    assert isinstance(g_numpy, np.ndarray)
    np.testing.assert_allclose(g_numpy, rosenbrock_gradient(x), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("d", [2, 10])
def test_numeric_hessian_of_rosenbrock(d):
    x = point(d, seed=2)
    result = hessian_estimate(rosenbrock_batch, x, vectorized=True)
    exact = rosenbrock_hessian(x)
    true_error = np.abs(result.value - exact)
    assert np.max(true_error) <= 1e-9 * np.max(np.abs(exact))
    assert np.all(result.error >= true_error)
    np.testing.assert_array_equal(result.value, result.value.T)
    # d(d+1)/2 lines of ~10 evaluations: far below numdifftools' ~3,000 at d = 10.
    assert result.n_evals <= 12 * d * (d + 1) // 2 + 1


def test_hessian_of_a_logistic_regression_log_likelihood():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 4))
    y = rng.integers(0, 2, 50)
    beta = rng.normal(size=4) * 0.5

    def loglik(b):
        eta = X @ b
        return np.sum(y * eta - np.logaddexp(0, eta))

    p = 1 / (1 + np.exp(-X @ beta))
    exact_gradient = X.T @ (y - p)
    exact_hessian = -(X.T * (p * (1 - p))) @ X
    np.testing.assert_allclose(gradient(loglik, beta), exact_gradient, rtol=1e-11, atol=1e-11)
    result = hessian_estimate(loglik, beta)
    assert np.max(np.abs(result.value - exact_hessian)) <= 1e-8 * np.max(np.abs(exact_hessian))
    assert np.all(result.error >= np.abs(result.value - exact_hessian))


def test_jacobian_numeric_autodiff_and_shapes():
    polar = lambda p: np.array([p[0] * np.cos(p[1]), p[0] * np.sin(p[1])])  # noqa: E731
    x = np.array([2.0, 0.5])
    exact = np.array([[np.cos(0.5), -2 * np.sin(0.5)], [np.sin(0.5), 2 * np.cos(0.5)]])
    result = jacobian_estimate(polar, x)
    assert result.value.shape == (2, 2)
    np.testing.assert_allclose(result.value, exact, rtol=1e-13, atol=1e-14)
    assert np.all(result.error >= np.abs(result.value - exact))
    polar_torch = lambda p: torch.stack([p[0] * torch.cos(p[1]), p[0] * torch.sin(p[1])])  # noqa: E731
    np.testing.assert_allclose(jacobian(polar_torch, x), exact, rtol=1e-15)
    batch = lambda ps: np.stack([ps[:, 0] * np.cos(ps[:, 1]), ps[:, 0] * np.sin(ps[:, 1])], 1)  # noqa: E731
    np.testing.assert_allclose(jacobian(batch, x, vectorized=True), result.value, rtol=1e-15)
    # a scalar f: the Jacobian is the gradient, shape (d,)
    assert jacobian(lambda p: np.sum(p**2), x).shape == (2,)


def test_numeric_hvp_and_methods():
    x = point(6, seed=4)
    v = np.random.default_rng(5).normal(size=6)
    exact = rosenbrock_hessian(x) @ v
    result = hvp_estimate(rosenbrock, x, v)
    assert np.max(np.abs(result.value - exact)) <= 1e-8 * np.max(np.abs(exact))
    assert np.all(result.error >= np.abs(result.value - exact))
    np.testing.assert_array_equal(hvp(rosenbrock, x, np.zeros(6)), np.zeros(6))


@pytest.mark.parametrize("method, tolerance", [
    ("central", 1e-8), ("forward", 1e-5), ("backward", 1e-5), ("complex", 1e-14)])
def test_gradient_methods(method, tolerance):
    x = point(5, seed=6)
    value = gradient(rosenbrock, x, method=method)
    exact = rosenbrock_gradient(x)
    assert np.max(np.abs(value - exact)) <= tolerance * np.max(np.abs(exact))


def test_hessian_central_method_and_complex_is_refused():
    x = point(3, seed=7)
    H = hessian(rosenbrock, x, method="central")
    np.testing.assert_allclose(H, rosenbrock_hessian(x), rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="method must be one of"):
        hessian(rosenbrock, x, method="complex")


def test_check_gradient():
    x = point(5, seed=8)
    good = check_gradient(rosenbrock, rosenbrock_gradient, x)
    assert good.ok and good.max_rel_error < 1e-10
    bad = check_gradient(rosenbrock, lambda p: rosenbrock_gradient(p) * (1 + 1e-4), x)
    assert not bad.ok and bad.max_rel_error == pytest.approx(1e-4, rel=1e-3)
    with pytest.raises(ValueError, match="grad\\(x\\) must have shape"):
        check_gradient(rosenbrock, lambda p: p[:2], x)


def test_kink_in_a_gradient_warns():
    with pytest.warns(AccuracyWarning, match="not differentiable"):
        result = gradient_estimate(lambda p: np.abs(p[0]) + p[1] ** 2, np.array([0.0, 1.0]))
    assert not result.success and result.error[0] >= 1.0


def test_domain_edge_in_a_gradient():
    f = lambda p: np.log(p[0]) + np.sqrt(p[1])  # noqa: E731
    x = np.array([1e-4, 1e-3])
    result = gradient_estimate(f, x)
    exact = np.array([1e4, 0.5 / np.sqrt(1e-3)])
    # log(x0) = -9.2 rides along the x1 axis: its round-off (~1e-15 * 9.2 / h) costs
    # digits of the sqrt partial; the error estimate accounts for it.
    np.testing.assert_allclose(result.value, exact, rtol=1e-10)
    assert np.all(result.error >= np.abs(result.value - exact))
    assert result.success


# -- bad input ----------------------------------------------------------------------------

def test_bad_input():
    with pytest.raises(ValueError, match=r"non-finite value inf at x = \[0. 1.\]"):
        gradient(lambda p: 1 / p[0] + np.log(p[1]) if p[0] else np.inf, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="non-finite value nan at x"):
        gradient(lambda p: torch.log(p[0]), torch.tensor([-1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="x must be a scalar or have shape"):
        gradient(rosenbrock, np.ones((2, 2)))
    with pytest.raises(ValueError, match="x must not be empty"):
        hessian(rosenbrock, np.array([]))
    with pytest.raises(ValueError, match="must return a scalar"):
        gradient(lambda p: p * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"vectorized=True, f must return shape \(\d+,\)"):
        gradient(lambda ps: ps, np.ones(3), vectorized=True)
    with pytest.raises(ValueError, match="f must return a scalar or a 1-D array"):
        jacobian(lambda p: np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="v must have shape \\(3,\\)"):
        hvp(rosenbrock, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="step must be finite and > 0"):
        hessian(rosenbrock, np.ones(3), step=0.0)
    with pytest.raises(ValueError, match="step must be finite and > 0"):
        gradient(rosenbrock, np.ones(3), step=np.array([1e-3, -1e-3, 1e-3]))


def test_numeric_methods_pass_tensors_to_a_torch_f():
    x = torch.tensor(point(4, seed=9))
    value = gradient(rosenbrock_torch, x, method="richardson")
    assert isinstance(value, torch.Tensor) and value.device == x.device
    np.testing.assert_allclose(value.numpy(), rosenbrock_gradient(x.numpy()), rtol=1e-11,
                               atol=1e-11)
    H = hessian(rosenbrock_torch, x, method="richardson")
    np.testing.assert_allclose(H.numpy(), rosenbrock_hessian(x.numpy()), rtol=1e-9, atol=1e-8)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_stay_on_their_device():
    x = torch.tensor(point(4, seed=10), device="cuda")
    for method in ("autodiff", "richardson"):
        value = gradient(rosenbrock_torch, x, method=method)
        assert value.device == x.device
        np.testing.assert_allclose(value.cpu().numpy(), rosenbrock_gradient(x.cpu().numpy()),
                                   rtol=1e-11, atol=1e-11)
    H = hessian(rosenbrock_torch, x)
    assert H.device == x.device
    np.testing.assert_allclose(H.cpu().numpy(), rosenbrock_hessian(x.cpu().numpy()),
                               rtol=1e-13, atol=1e-12)


def test_auto_checks_that_autodiff_saw_every_term():
    # float(p[0]) runs under torch.func but drops the sin term's derivative: a
    # directional check against a central difference sends f to the numeric engine.
    f = lambda p: p[0] * p[1] + np.sin(float(p[0]))  # noqa: E731
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(gradient(f, x), [2.0 + np.cos(1.0), 1.0], rtol=1e-12)
    np.testing.assert_allclose(hessian(f, x), [[-np.sin(1.0), 1.0], [1.0, 0.0]], atol=1e-9)


def test_numeric_method_on_a_torch_only_f_with_a_numpy_point():
    # torch.stack refuses numpy entries: the sampler detects it and passes tensors.
    f = lambda p: torch.stack([p[0] * p[1], torch.sin(p[1])])  # noqa: E731
    J = jacobian(f, np.array([1.0, 2.0]), method="richardson")
    assert isinstance(J, np.ndarray)
    np.testing.assert_allclose(J, [[2.0, 1.0], [0.0, np.cos(2.0)]], rtol=1e-12, atol=1e-13)
