"""minmax.stability: eigenvalues against the analytic ones, step radii against formulas.

The game Jacobian comes from torch autodiff of f (exact second derivatives), so the
eigenvalues agree with the closed forms to rounding: 1e-10 is far above it.
"""

import cmath
import math
import warnings

import numpy as np
import pytest

from bayescalc import ConvergenceWarning
from bayescalc.minmax import games, solve, stability, step_matrices


def sort(values):
    return np.sort_complex(np.asarray(values, dtype=complex))


@pytest.mark.parametrize("d", [1, 3])
def test_bilinear_eigenvalues_are_plus_minus_i_everywhere(d, seed):
    rng = np.random.default_rng(seed)
    x, y = (rng.normal(size=d), rng.normal(size=d)) if d > 1 else (0.3, -1.2)
    result = stability(games.bilinear, x, y)
    np.testing.assert_allclose(result.eigenvalues, sort([1j] * d + [-1j] * d), atol=1e-10)
    expected = np.block([[np.zeros((d, d)), np.eye(d)], [-np.eye(d), np.zeros((d, d))]])
    np.testing.assert_allclose(result.jacobian, expected, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 3.0])
def test_dirac_gan_eigenvalues_at_the_equilibrium(gamma):
    def f(theta, psi):
        return games.dirac_gan(theta, psi, gradient_penalty=gamma)

    result = stability(f, 0.0, 0.0)
    # Mescheder et al. (2018), Sec. 2.2 and 3.3: J = [[0, φ'(0)], [-φ'(0), γ]], φ'(0) = 1/2
    root = cmath.sqrt(gamma**2 / 4 - 0.25)
    np.testing.assert_allclose(result.eigenvalues, sort([gamma / 2 + root, gamma / 2 - root]),
                               atol=1e-10)


@pytest.mark.parametrize("point", [(0.4, -0.7), (1.5, 2.0), (-2.0, 0.3)])
@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_dirac_gan_jacobian_away_from_the_equilibrium(point, gamma):
    result = stability(lambda t, p: games.dirac_gan(t, p, gradient_penalty=gamma), *point)
    expected = games.dirac_gan_jacobian(*point, gradient_penalty=gamma)
    np.testing.assert_allclose(result.jacobian, expected, atol=1e-12)
    np.testing.assert_allclose(result.eigenvalues, sort(np.linalg.eigvals(expected)), atol=1e-10)


def test_step_radii_match_the_formulas():
    eta = 0.1
    result = stability(games.bilinear, 0.0, 0.0, lr=eta, consensus_weight=0.5)
    radius = result.spectral_radius
    assert math.isclose(radius["simultaneous"], math.sqrt(1 + eta**2), rel_tol=1e-12)
    # extragradient: |1 - iη + (iη)²| = sqrt((1 - η²)² + η²)
    assert math.isclose(radius["extragradient"], math.sqrt((1 - eta**2) ** 2 + eta**2),
                        rel_tol=1e-12)
    # optimistic: roots of μ² - (1 - 2ηλ)μ - ηλ = 0, λ = ±i
    lam = 1j
    b, c = -(1 - 2 * eta * lam), -eta * lam
    roots = [(-b + s * cmath.sqrt(b * b - 4 * c)) / 2 for s in (1, -1)]
    assert math.isclose(radius["optimistic"], max(abs(r) for r in roots), rel_tol=1e-12)
    # alternating on x·y: det M = 1 and |trace| < 2, so both |μ| = 1 (a cycle)
    assert math.isclose(radius["alternating"], 1.0, rel_tol=1e-12)
    # consensus: I - η(J + γI) for the bilinear game, |1 - ηγ - iη|
    assert math.isclose(radius["consensus"], abs(1 - eta * 0.5 - 1j * eta), rel_tol=1e-12)


@pytest.mark.parametrize("method", ["simultaneous", "extragradient", "optimistic", "consensus"])
def test_radius_predicts_the_solver(method):
    eta, steps = 0.1, 400
    predicted = stability(games.bilinear, 0.0, 0.0, lr=eta).spectral_radius[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = solve(games.bilinear, 1.0, 1.0, method=method, lr=eta, steps=steps, tol=0.0)
    rate = (np.linalg.norm(result.path[-1]) / np.linalg.norm(result.path[100])) ** (1 / 300)
    assert rate == pytest.approx(predicted, rel=1e-3)   # transients decay by step 100


def test_step_matrices_alternating_matches_one_step_by_hand():
    rng = np.random.default_rng(1)
    jacobian = rng.normal(size=(3, 3))
    z = rng.normal(size=3)
    eta = 0.2
    a, b, c, d = jacobian[:1, :1], jacobian[:1, 1:], jacobian[1:, :1], jacobian[1:, 1:]
    x = z[:1] - eta * (a @ z[:1] + b @ z[1:])
    y = z[1:] - eta * (c @ x + d @ z[1:])
    np.testing.assert_allclose(step_matrices(jacobian, 1, eta)["alternating"] @ z,
                               np.concatenate([x, y]), rtol=1e-14)


def test_numeric_callable_gives_approximate_eigenvalues():
    # no torch: the diff core's finite-difference Hessian, accurate to ~1e-6 here
    result = stability(lambda x, y: float(x) * float(y), 0.2, 0.1)
    np.testing.assert_allclose(result.eigenvalues, [-1j, 1j], atol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        stability(games.bilinear, 0.0, 0.0, lr=0.0)
    with pytest.raises(ValueError, match=r"x must be a scalar or have shape \(d,\)"):
        stability(games.bilinear, np.zeros((2, 2)), 0.0)
    with pytest.raises(TypeError, match="f must be callable"):
        stability(None, 0.0, 0.0)
    with pytest.raises(ValueError, match="grad_method must be one of"):
        stability(games.bilinear, 0.0, 0.0, grad_method="magic")
