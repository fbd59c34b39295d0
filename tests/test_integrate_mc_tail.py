"""Issue 8, item 12: one convention for reversed bounds, and infinite variance flagged.

Reversed bounds: every integrator flips the sign per reversed axis (the oriented
integral, quad's convention), checked against the forward integral of the same method
and seed. Infinite variance: the Pareto k-hat of |f| at the sample points estimates
1/p for a tail P(|f| > t) ~ t^-p. The class below has exact k = 1/p:
x^-q on a face (p = 1/q), 1/(x+y)^2 at a corner (p = 1), |x - c|^-q at an interior
hyperplane (p = 1/q). k >= 0.75 is flagged (success False, a warning); the
finite-variance integrands (k <= 0.3 or bounded) and the smooth Genz families in
d = 2..6 (bounded) are not.
"""

import warnings

import numpy as np
import pytest

from bayescalc import IntegrationWarning
from bayescalc.integrate import cubature, monte_carlo, quad, vegas
from bench._genz import SMOOTH, draw


def smooth(x):
    return np.exp(x @ np.arange(1.0, x.shape[1] + 1) / 4)


@pytest.mark.parametrize("method", ["mc", "antithetic", "stratified", "qmc", "halton"])
def test_monte_carlo_flips_the_sign_per_reversed_axis(method):
    forward = monte_carlo(smooth, [0, 0, 0], [1, 2, 1], n=2048, method=method, seed=3)
    one = monte_carlo(smooth, [0, 2, 0], [1, 0, 1], n=2048, method=method, seed=3)
    two = monte_carlo(smooth, [1, 2, 0], [0, 0, 1], n=2048, method=method, seed=3)
    assert one.value == -forward.value and two.value == forward.value
    assert one.error == forward.error
    exact = np.prod([(np.exp(k * w / 4) - 1) / (k / 4) for k, w in ((1, 1), (2, 2), (3, 1))])
    assert abs(-one.value - exact) <= 5 * one.error


def test_every_integrator_uses_the_same_sign_convention():
    f1 = lambda x: np.exp(x)  # noqa: E731
    exact = np.e - 1
    assert quad(f1, 1, 0).value == pytest.approx(-exact, rel=1e-10)
    assert cubature(lambda x: np.exp(x[:, 0]) * x[:, 1], [1, 0], [0, 2]).value == (
        pytest.approx(-2 * exact, rel=1e-8))
    assert monte_carlo(f1, 1.0, 0.0, seed=0).value == pytest.approx(-exact, rel=1e-6)
    for sampling in ("qmc", "stratified"):
        r = vegas(lambda x: np.exp(x[:, 0]) * x[:, 1], [1, 0], [0, 2], n_eval=2000,
                  sampling=sampling, seed=0)
        assert abs(r.value + 2 * exact) <= 5 * r.error
        assert all(v < 0 for v, _ in r.iterations)


def test_empty_box_is_zero_and_log_reversed_is_refused():
    assert monte_carlo(smooth, [0, 1], [1, 1]).value == 0.0
    assert vegas(smooth, [0, 1], [1, 1]).value == 0.0
    with pytest.raises(ValueError, match="log=True"):
        monte_carlo(lambda x: x[:, 0], [1, 0], [0, 1], log=True)


INFINITE_VARIANCE = {  # name: (f, d, exact k)
    "1/x": (lambda x: 1 / x[:, 0], 2, 1.0),
    "x^-0.8": (lambda x: x[:, 0] ** -0.8, 3, 0.8),
    "1/(x+y)^2": (lambda x: (x[:, 0] + x[:, 1]) ** -2.0, 2, 1.0),
    "|x-0.3|^-0.9": (lambda x: np.abs(x[:, 0] - 0.3) ** -0.9, 2, 0.9),
    "-1/x (negative)": (lambda x: -1 / x[:, 1], 4, 1.0),
}
FINITE_VARIANCE = {
    "x^-0.25": (lambda x: x[:, 0] ** -0.25, 2),
    "log x": (lambda x: np.log(x[:, 0]), 2),
    "|x|^-1/2 in 3-D": (lambda x: np.sum(x**2, axis=1) ** -0.25, 3),
    "cos": (lambda x: np.cos(x.sum(axis=1)), 5),
}


@pytest.mark.parametrize("method", ["mc", "qmc", "stratified"])
@pytest.mark.parametrize("name", sorted(INFINITE_VARIANCE))
def test_infinite_variance_is_flagged(name, method):
    f, d, k = INFINITE_VARIANCE[name]
    with pytest.warns(IntegrationWarning, match="k-hat"):
        r = monte_carlo(f, np.zeros(d), np.ones(d), method=method, seed=1)
    assert not r.success and r.khat > 0.7
    assert abs(r.khat - k) < 0.25


@pytest.mark.parametrize("method", ["mc", "qmc", "antithetic"])
@pytest.mark.parametrize("name", sorted(FINITE_VARIANCE))
def test_finite_variance_is_not_flagged(name, method):
    f, d = FINITE_VARIANCE[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = monte_carlo(f, np.zeros(d), np.ones(d), method=method, seed=2)
    assert r.success and r.khat < 0.5


def test_no_false_alarm_on_the_smooth_genz_families():
    rng = np.random.default_rng(8)
    flagged = []
    for family in SMOOTH:
        for d in (2, 4, 6):
            case = draw(family, d, rng)
            for method in ("mc", "qmc"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = monte_carlo(case, np.zeros(d), np.ones(d), n=8192, method=method,
                                    seed=d)
                if not r.success:
                    flagged.append((family, d, method, r.khat))
    assert not flagged
