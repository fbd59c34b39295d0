"""bayescalc.integrate.fixed_quad: exactness of the Gauss rules and gradients through them."""

import math

import numpy as np
import pytest
import torch

from bayescalc.diff import check_gradient
from bayescalc.integrate import fixed_quad


def test_legendre_is_exact_for_degree_2n_minus_1():
    coefficients = np.arange(1.0, 11.0)  # degree 9 = 2*5 - 1
    poly = np.polynomial.Polynomial(coefficients)
    exact = poly.integ()(2.0) - poly.integ()(-1.0)
    assert fixed_quad(poly, -1.0, 2.0, n=5) == pytest.approx(exact, rel=1e-14)


def test_hermite_and_laguerre_fold_their_weight():
    value = fixed_quad(lambda x: x**2 * np.exp(-(x**2)), -np.inf, np.inf, n=4, rule="gauss-hermite")
    assert value == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-13)
    value = fixed_quad(lambda x: x * np.exp(-(x - 1.0)), 1.0, np.inf, n=3, rule="gauss-laguerre")
    assert value == pytest.approx(2.0, rel=1e-13)


def _integral(theta):
    """F(θ) = ∫_0^1 exp(-θ0 x) sin(θ1 x) dx as a torch function of θ."""
    zero, one = torch.zeros((), dtype=torch.float64), torch.ones((), dtype=torch.float64)
    return fixed_quad(lambda x: torch.exp(-theta[0] * x) * torch.sin(theta[1] * x), zero, one,
                      n=20)


def test_gradient_flows_and_passes_check_gradient():
    def value(theta):
        return float(_integral(torch.as_tensor(theta, dtype=torch.float64)))

    def grad(theta):
        theta = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(_integral(theta), theta)
        return g.numpy()

    check = check_gradient(value, grad, np.array([0.7, 2.5]), rtol=1e-6)
    assert check.ok, check


def test_gradient_with_respect_to_the_limits_is_the_integrand():
    b = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    value = fixed_quad(torch.cos, 0.0, b, n=15)
    value.backward()
    assert b.grad.item() == pytest.approx(math.cos(1.3), rel=1e-13)  # d/db ∫_0^b f = f(b)
    assert value.item() == pytest.approx(math.sin(1.3), rel=1e-13)


def test_torch_only_integrand_with_float_limits():
    value = fixed_quad(lambda x: torch.special.erf(x), 0.0, 1.0, n=20)
    exact = math.erf(1) - (1 - math.exp(-1)) / math.sqrt(math.pi)
    assert float(value) == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("args, match", [
    ((np.exp, 0.0, np.inf, 5, "gauss-legendre"), "finite"),
    ((np.exp, 0.0, np.inf, 5, "gauss-hermite"), "-inf, inf"),
    ((np.exp, -np.inf, 0.0, 5, "gauss-laguerre"), r"\[a, inf\)"),
    ((np.exp, 0.0, 1.0, 5, "simpson"), "rule"),
    ((np.exp, np.nan, 1.0, 5, "gauss-legendre"), "a must be a scalar"),
    ((np.exp, 0.0, 1.0, 0, "gauss-legendre"), "n must be >= 1"),
])
def test_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        fixed_quad(*args)


@pytest.mark.parametrize("rule, a, b, exact_value, exact_grad", [
    # ∫ exp(-θ x²) dx = sqrt(pi/θ);  d/dθ = -sqrt(pi)/2 θ^-1.5
    ("gauss-hermite", -np.inf, np.inf, lambda t: math.sqrt(math.pi / t),
     lambda t: -0.5 * math.sqrt(math.pi) * t**-1.5),
    # ∫_0^inf x exp(-θ x) dx = 1/θ²;  d/dθ = -2/θ³
    ("gauss-laguerre", 0.0, np.inf, lambda t: t**-2, lambda t: -2 * t**-3),
])
def test_hermite_and_laguerre_gradients(rule, a, b, exact_value, exact_grad):
    integrand = {"gauss-hermite": lambda th: lambda x: torch.exp(-th * x * x),
                 "gauss-laguerre": lambda th: lambda x: x * torch.exp(-th * x)}[rule]

    def value(theta):
        th = torch.as_tensor(theta, dtype=torch.float64)[0]
        return float(fixed_quad(integrand(th), a, b, n=40, rule=rule))

    def grad(theta):
        th = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(fixed_quad(integrand(th[0]), a, b, n=40, rule=rule), th)
        return g.numpy()

    theta = np.array([1.3])
    assert value(theta) == pytest.approx(exact_value(1.3), rel=1e-10)
    assert grad(theta)[0] == pytest.approx(exact_grad(1.3), rel=1e-9)
    assert check_gradient(value, grad, theta, rtol=1e-6).ok
