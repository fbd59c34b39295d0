"""Issue 8 item 11: Gaussian-like integrands over boxes with half-infinite and infinite
sides converge with ``cubature(method="auto")`` (the normal quantile map at the Laplace
centre, :class:`bayescalc.integrate._cubature.QuantileMap`), and every answer's error
covers the closed form. Among them scipy's own 4-D case of test_cubature.py
(``f_gaussian`` over [0, inf)^2 x R^2 and (-inf, 0]^2 x R^2, random alphas)."""

import math
import warnings

import numpy as np
import pytest
from scipy.special import ndtr

from bayescalc._core.warnings import IntegrationWarning
from bayescalc.integrate import cubature

INF = np.inf


def scipy_gaussian(alphas):
    return lambda x: np.exp(-np.sum((alphas * x) ** 2, axis=1))


def scipy_gaussian_exact(lower, upper, alphas):
    semi = sum(np.isinf(a) != np.isinf(b) for a, b in zip(lower, upper, strict=True))
    return math.sqrt(math.pi) ** len(lower) / (2**semi * np.prod(alphas))


@pytest.mark.parametrize("lower, upper", [
    ([0, 0, -INF, -INF], [INF] * 4),          # scipy's test_infinite_limits cases
    ([-INF] * 4, [0, 0, INF, INF]),
    ([0, -INF], [INF, INF]),
    ([0, 0], [INF, INF]),
    ([-INF, 0, -INF], [0, INF, INF]),
])
@pytest.mark.parametrize("draw", [1, 2])
def test_scipy_gaussian_on_mixed_boxes_converges(lower, upper, draw):
    alphas = np.random.default_rng(draw).random(len(lower))
    exact = scipy_gaussian_exact(lower, upper, alphas)
    result = cubature(scipy_gaussian(alphas), lower, upper, rtol=1e-8)
    assert result.success, result.message
    assert abs(result.value - exact) <= result.error <= 1e-8 * exact * 1.01
    assert result.n_evals < 20_000


def _off_centre(centre, scale, lower):
    """exp(-|(x - c)/s|^2 / 2) over [lower_j, inf) on the first axes, R on the rest."""
    k = len(lower)
    tail = ndtr((centre[:k] - np.asarray(lower)) / scale[:k])
    return float(np.prod(np.sqrt(2 * np.pi) * scale) * np.prod(tail))


@pytest.mark.parametrize("centre, scale, lower", [
    ([2.0, 3.0, -1.0, 4.0], [0.3, 5.0, 2.0, 0.5], [0.0, 0.0]),   # modes inside
    ([0.0, 0.0, 1.0], [1.0, 2.0, 0.1], [2.0, -3.0]),              # a mode beyond the end
    ([-4.0, 1.0], [1.0, 1.0], [0.0]),                              # 4 sigma into the tail
])
def test_off_centre_gaussians_on_half_lines(centre, scale, lower):
    centre, scale = np.array(centre), np.array(scale)
    d, k = centre.size, len(lower)
    exact = _off_centre(centre, scale, lower)
    result = cubature(lambda x: np.exp(-0.5 * np.sum(((x - centre) / scale) ** 2, axis=1)),
                      [*lower, *[-INF] * (d - k)], [INF] * d, rtol=1e-8)
    assert result.success, result.message
    assert abs(result.value - exact) <= result.error <= 1e-8 * exact * 1.01


def test_correlated_gaussian_and_a_finite_side():
    precision = np.array([[2.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 1.5]])

    def f(x):
        return np.exp(-0.5 * np.einsum("ni,ij,nj->n", x, precision, x))

    # x0 >= 0 holds half the mass of a centred Gaussian; x2 in [-1, 1] checked by mpmath-
    # free means: compare with the same integral done with the finite side widened
    half = 0.5 * (2 * np.pi) ** 1.5 / math.sqrt(np.linalg.det(precision))
    result = cubature(f, [0, -INF, -INF], [INF, INF, INF], rtol=1e-8)
    assert result.success and abs(result.value - half) <= result.error
    finite = cubature(f, [0, -INF, -10], [INF, INF, 10], rtol=1e-8)
    assert finite.success and abs(finite.value - half) <= finite.error + 1e-12 * half


def test_gaussian_times_polynomial_and_log_space():
    # x^2 exp(-x^2/2) on [0, inf): sqrt(pi/2); times exp(-y^2) on R: sqrt(pi)
    exact = math.sqrt(math.pi / 2) * math.sqrt(math.pi)
    result = cubature(lambda x: x[:, 0] ** 2 * np.exp(-0.5 * x[:, 0] ** 2 - x[:, 1] ** 2),
                      [0, -INF], [INF, INF], rtol=1e-8)
    assert result.success and abs(result.value - exact) <= result.error
    logged = cubature(lambda x: -3000.0 + 2 * np.log(x[:, 0]) - 0.5 * x[:, 0] ** 2
                      - x[:, 1] ** 2, [0, -INF], [INF, INF], rtol=1e-8, log=True)
    assert logged.success
    assert abs(logged.value - (-3000.0 + math.log(exact))) <= logged.error


def test_heavier_tails_fall_back_and_stay_honest():
    # logistic densities: tails exp(-|x|), heavier than the normal reference; the
    # quantile map misses, the affine map takes over; the answer covers 1/2
    def f(x):
        e = np.exp(-np.abs(x))  # the logistic density, even: no overflow
        return np.prod(e / (1 + e) ** 2, axis=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        result = cubature(f, [0, -INF], [INF, INF], rtol=1e-6, max_evals=60_000)
    assert abs(result.value - 0.5) <= result.error
    assert result.n_evals <= 60_000
