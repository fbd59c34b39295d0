"""Issue 8: cubature over R^d keeps its promise on multimodal integrands and thin shells.

Every answer, converged or not, must have ``|value - exact| <= error``. Before: AGHQ
built at the first mode returned one mode's mass with a bar near 1e-11 (two-mode
mixtures with the second mode 7+ standard deviations away: 0.1 to 2.4 nats off in 55 of
the 96 mixtures below); auto's sparse-grid fallback was 1e-9 to 3e-4 off with bars of
1e-14 to 1e-9; thin rings "converged" 3 to 9 nats off with bars of 1e-8 to 1e-15. Now
AGHQ runs at every mode that ascents from its wide check's draws find
(:mod:`bayescalc.integrate._aghq`), the fallback's error is at least its distance from
AGHQ's estimate, a sparse-grid round that adds only zeros is no evidence, and a
suspicious randomized check is repeated with four times the points.
"""

import math
import warnings

import numpy as np
import pytest
from scipy.special import log_ndtr

from bayescalc.integrate import cubature

INF = np.inf


def mixture(d, separation, ratio, scale, seed):
    """log of N(0, I) + ratio N(m, scale^2 I), |m| = separation, a random direction;
    the integral is 1 + ratio."""
    u = np.random.default_rng(seed).standard_normal(d)
    second = separation * u / np.linalg.norm(u)

    def log_f(x):
        a = -0.5 * np.sum(x**2, axis=1) - 0.5 * d * math.log(2 * math.pi)
        b = (math.log(ratio) - 0.5 * np.sum((x - second) ** 2, axis=1) / scale**2
             - 0.5 * d * math.log(2 * math.pi * scale**2))
        return np.logaddexp(a, b)

    return log_f, math.log1p(ratio)


def shell(d, radius, width):
    """log of exp(-(|x| - r)^2 / (2 w^2)) over R^d (d = 2, 3) and its log integral:
    the sphere's area times w * int (r + w u)^(d-1) exp(-u^2/2) du over u > -r/w."""
    a = radius / width
    log_phi = log_ndtr(a) + 0.5 * math.log(2 * math.pi)   # log int_{-a}^inf e^{-u^2/2}
    if d == 2:   # 2 pi w (r sqrt(2 pi) Phi(a) + w e^{-a^2/2})
        log_radial = np.logaddexp(math.log(radius) + log_phi,
                                  math.log(width) - 0.5 * a * a)
        log_z = math.log(2 * math.pi * width) + log_radial
    else:        # 4 pi w ((r^2 + w^2) sqrt(2 pi) Phi(a) + r w e^{-a^2/2})
        log_radial = np.logaddexp(math.log(radius**2 + width**2) + log_phi,
                                  math.log(radius * width) - 0.5 * a * a)
        log_z = math.log(4 * math.pi * width) + log_radial

    def log_f(x):
        return -0.5 * (np.linalg.norm(x, axis=1) - radius) ** 2 / width**2

    return log_f, float(log_z)


def integrate(log_f, d, *, log=True, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if log:
            return cubature(log_f, [-INF] * d, [INF] * d, log=True, **options)
        return cubature(lambda x: np.exp(log_f(x)), [-INF] * d, [INF] * d, **options)


def assert_honest(result, log_exact, *, log=True):
    """|error| <= reported error, in log space or relative to the exact value."""
    if log:
        assert abs(result.value - log_exact) <= result.error, result
    else:
        exact = math.exp(log_exact)
        assert abs(result.value - exact) <= result.error, (result, exact)


def test_shell_closed_form_matches_mpmath():
    mpmath = pytest.importorskip("mpmath")
    for d, radius, width in [(2, 3.0, 0.1), (3, 2.0, 0.3)]:
        _, log_z = shell(d, radius, width)
        area = 2 * mpmath.pi ** (d / 2) / mpmath.gamma(d / 2)
        radial = mpmath.quad(lambda p, d=d, r=radius, w=width: p ** (d - 1) * mpmath.exp(
            -(p - r) ** 2 / (2 * w**2)), [0, radius, mpmath.inf])
        assert log_z == pytest.approx(float(mpmath.log(area * radial)), abs=1e-12)


# (d, separation, ratio, scale of the second mode): AGHQ at both modes answers; fast
FOUND = [(d, sep, ratio, scale) for d in (2, 3, 4, 5) for sep in (7, 10, 15)
         for ratio in (1.0, 10.0) for scale in (0.6, 1.5)
         if not (scale == 1.5 and sep == 7)]
# the second mode 4 sds away (or wide and 7 away): the mixture's pieces converge slowly,
# and auto runs the box rules too (up to a minute each in d = 4 on 2 shared cores)
SLOW = ([(d, 4, ratio, scale) for d in (3, 4, 5) for ratio in (1.0, 10.0, 0.1)
         for scale in (0.6, 1.5)]
        + [(d, 7, ratio, 1.5) for d in (3, 4, 5) for ratio in (1.0, 10.0, 0.1)])


@pytest.mark.parametrize("d, separation, ratio, scale", FOUND)
def test_two_modes_over_r_d_are_found_and_integrated(d, separation, ratio, scale):
    log_f, log_exact = mixture(d, separation, ratio, scale, seed=100 * d + separation)
    result = integrate(log_f, d, rtol=1e-8)
    assert_honest(result, log_exact)
    assert result.success and "2 modes" in result.message
    assert result.n_evals < 10_000


@pytest.mark.parametrize("separation, ratio, scale", [
    (4, 1.0, 0.6), (4, 1.0, 1.5), (4, 10.0, 0.6), (4, 10.0, 1.5), (4, 0.1, 0.6),
    (4, 0.1, 1.5), (7, 1.0, 1.5), (7, 10.0, 1.5), (7, 0.1, 1.5)])
def test_two_close_modes_in_the_plane_are_honest(separation, ratio, scale):
    """4 sds apart (or a wide second mode 7 away): AGHQ's mixture may miss rtol 1e-8,
    then the box rules answer with an error at least their distance from AGHQ's estimate
    (the sparse grid was 1.4e-8 to 8e-7 off with bars of 5e-11 to 6e-10)."""
    log_f, log_exact = mixture(2, separation, ratio, scale, seed=200 + separation)
    result = integrate(log_f, 2, rtol=1e-8)
    assert_honest(result, log_exact)


def test_a_heavier_second_mode_in_linear_space():
    log_f, log_exact = mixture(3, 10.0, 10.0, 0.6, seed=7)
    result = integrate(log_f, 3, log=False, rtol=1e-8)
    assert result.success
    assert_honest(result, log_exact, log=False)


@pytest.mark.slow
@pytest.mark.parametrize("d, separation, ratio, scale", SLOW)
def test_two_modes_close_or_wide_are_honest(d, separation, ratio, scale):
    log_f, log_exact = mixture(d, separation, ratio, scale, seed=100 * d + separation)
    result = integrate(log_f, d, rtol=1e-8)
    assert_honest(result, log_exact)


def test_the_unimodal_gaussian_costs_about_what_it_did():
    """Nothing found beyond the first mode: the search costs nothing, the third
    Gauss-Hermite level (orders 1 and 3 no longer suffice) a few dozen points."""
    counts = {}
    for d in (2, 3, 5):
        rng = np.random.default_rng(d)
        a = rng.standard_normal((d, d))
        precision = a @ a.T + d * np.eye(d)
        centre = rng.standard_normal(d)

        def log_f(x, precision=precision, centre=centre):
            y = x - centre
            return -0.5 * np.einsum("ni,ij,nj->n", y, precision, y)

        exact = 0.5 * d * math.log(2 * math.pi) - 0.5 * np.linalg.slogdet(precision)[1]
        result = integrate(log_f, d, rtol=1e-8)
        assert result.success and "at the Laplace map" in result.message
        assert_honest(result, exact)
        counts[d] = result.n_evals
    assert counts[2] < 1_400 and counts[3] < 1_700 and counts[5] < 2_100


SHELLS = [(2, 3.0, 0.1, 50_000), (2, 5.0, 0.05, 50_000), (2, 10.0, 0.01, 200_000),
          (3, 3.0, 0.1, 50_000), (3, 5.0, 0.05, 50_000),
          pytest.param(3, 10.0, 0.01, 200_000, marks=pytest.mark.slow)]


@pytest.mark.parametrize("d, radius, width, budget", SHELLS)
def test_thin_shells_in_log_space_are_honest(d, radius, width, budget):
    """Thin rings "converged" 3 to 9 nats off with bars of 1e-8 to 1e-15: the sparse
    grid's refinements added only zeros, Genz-Malik's regions straddled the ring. Now
    they fail with covering bars."""
    log_f, log_exact = shell(d, radius, width)
    result = integrate(log_f, d, rtol=1e-8, max_evals=budget)
    assert_honest(result, log_exact)
    assert not result.success


@pytest.mark.parametrize("d, radius, width, budget", SHELLS[:-1])
def test_thin_shells_in_linear_space_are_honest(d, radius, width, budget):
    """f itself: 0 with error 0 and success before where no node hit the ring."""
    log_f, log_exact = shell(d, radius, width)
    result = integrate(log_f, d, log=False, rtol=1e-8, max_evals=budget)
    assert_honest(result, log_exact, log=False)
    assert not result.success


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="remaining limit: no point of the rules or of the "
                   "checks lands on a ring 0.01 wide at radius 10 in R^3 often enough; "
                   "0.7 to 1 of the mass missed with bars of 5e-3 to 0.6 of it (budgets 3e4 "
                   "to 2e5)")
def test_the_thinnest_shell_in_linear_space_in_r3():
    log_f, log_exact = shell(3, 10.0, 0.01)
    assert_honest(integrate(log_f, 3, log=False, rtol=1e-8), log_exact, log=False)


@pytest.mark.parametrize("d", [2, 3])
def test_a_wide_ring(d):
    """The sparse grid stalled on a wide ring, 3.4e-5 off (d = 3) and 8.5e-11 (d = 2)
    with bars near 3e-11; without a concave mode both box rules now run, and their gap
    is an error floor."""
    log_f, log_exact = shell(d, 2.0, 0.3)
    result = integrate(log_f, d, rtol=1e-8)
    assert_honest(result, log_exact)
    assert result.success == (d == 2)


def test_the_bimodal_mixture_posterior_is_integrated_at_both_modes():
    """bc.models.bimodal_mixture over R^2: 1.17 nats off with a 1e-11 bar at one mode
    (before the Student-t check); now both modes, converged."""
    import torch

    from bayescalc.models import bimodal_mixture

    model = bimodal_mixture()

    def log_joint(x):
        theta = torch.as_tensor(x, dtype=torch.float64)
        return (model.log_prior(theta) + model.log_likelihood(theta)).numpy()

    result = integrate(log_joint, 2, rtol=1e-8)
    assert result.success and "2 modes" in result.message
    assert abs(result.value - model.log_z_exact) <= result.error <= 1e-8
