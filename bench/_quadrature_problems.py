"""Test problems with exact answers for quadrature: a 1-D battery and the Genz families.

Shared by ``bench/quadrature.py`` and the tests (``tests/test_integrate_quad*.py``,
``tests/test_integrate_cubature*.py``). Exact values are closed forms (or mpmath where
noted).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
from scipy.special import erf


@dataclass(frozen=True)
class Problem:
    name: str
    kind: str          # smooth, peaked, oscillatory, singular, infinite, kink, step, underflow
    f: object          # vectorized; with log=True returns log f
    a: float
    b: float
    exact: float       # the integral, or log of it when log is True
    log: bool = False
    points: tuple = ()
    weight: str | None = None
    wvar: object = None


def _likelihood_problem():
    """A normal-mean posterior: 100 000 observations, log values around -1.4e5.

    log f(mu) = sum_i log N(y_i; mu, 1) + log N(mu; 0, 10^2). The integral is
    Gaussian: with n, S = sum y, Q = sum y^2 and prior precision p = 0.01,
    log Z = -n/2 log(2 pi) - Q/2 - 1/2 log(2 pi 100) + S^2 / (2 (n + p))
            + 1/2 log(2 pi / (n + p)).
    """
    rng = np.random.default_rng(20261126)
    y = rng.normal(0.7, 1.0, 100_000)
    n, total, squares, precision = y.size, y.sum(), np.sum(y * y), 0.01

    def log_f(mu):
        mu = np.asarray(mu, dtype=float)
        return (-0.5 * n * np.log(2 * np.pi) - 0.5 * (squares - 2 * mu * total + n * mu * mu)
                - 0.5 * np.log(2 * np.pi * 100.0) - 0.5 * precision * mu * mu)

    exact = (-0.5 * n * np.log(2 * np.pi) - 0.5 * squares - 0.5 * np.log(2 * np.pi * 100.0)
             + total**2 / (2 * (n + precision)) + 0.5 * np.log(2 * np.pi / (n + precision)))
    return log_f, exact


def battery() -> list[Problem]:
    """At least 15 one-dimensional integrands with exact values."""
    log_likelihood, log_z = _likelihood_problem()
    return [
        Problem("exp", "smooth", np.exp, 0.0, 1.0, np.e - 1),
        Problem("runge", "smooth", lambda x: 1 / (1 + 25 * x * x), -1.0, 1.0,
                0.4 * np.arctan(5.0)),
        Problem("sqrt(1-x^2)", "smooth", lambda x: np.sqrt(np.maximum(1 - x * x, 0.0)),
                -1.0, 1.0, np.pi / 2),
        Problem("peak 1/(1e-4+(x-0.3)^2)", "peaked", lambda x: 1 / (1e-4 + (x - 0.3) ** 2),
                0.0, 1.0, 100 * (np.arctan(70.0) + np.arctan(30.0))),
        Problem("gaussian peak s=1e-3", "peaked",
                lambda x: np.exp(-0.5 * ((x - 0.6137) / 1e-3) ** 2), 0.0, 1.0,
                1e-3 * np.sqrt(np.pi / 2) * (erf(0.3863 / (1e-3 * np.sqrt(2)))
                                            + erf(0.6137 / (1e-3 * np.sqrt(2))))),
        Problem("cos(50x)", "oscillatory", lambda x: np.cos(50 * x), 0.0, 1.0, np.sin(50) / 50),
        Problem("x sin(30x)", "oscillatory", lambda x: x * np.sin(30 * x), 0.0, 2 * np.pi,
                -2 * np.pi / 30),
        Problem("1/sqrt(x)", "singular", lambda x: 1 / np.sqrt(x), 0.0, 1.0, 2.0),
        Problem("log(x)", "singular", np.log, 0.0, 1.0, -1.0),
        Problem("x^-0.9", "singular", lambda x: x**-0.9, 0.0, 1.0, 10.0),
        Problem("abs(x-1/3)", "kink", lambda x: np.abs(x - 1 / 3), 0.0, 1.0, 5 / 18),
        Problem("step at 1/pi", "step", lambda x: np.where(x > 1 / np.pi, 1.0, 0.0), 0.0, 1.0,
                1 - 1 / np.pi),
        Problem("exp(-x^2)", "infinite", lambda x: np.exp(-x * x), -np.inf, np.inf,
                np.sqrt(np.pi)),
        Problem("1/(1+x^2)", "infinite", lambda x: 1 / (1 + x * x), 0.0, np.inf, np.pi / 2),
        Problem("x^2 exp(-x)", "infinite", lambda x: x * x * np.exp(-x), 0.0, np.inf, 2.0),
        Problem("(1+x)^-1.5", "infinite", lambda x: (1 + x) ** -1.5, 0.0, np.inf, 2.0),
        Problem("likelihood n=1e5 (log)", "underflow", log_likelihood, -2.0, 3.0, log_z,
                log=True),
        Problem("exp(-1000-x^2) (log)", "underflow", lambda x: -1000.0 - x * x, -np.inf,
                np.inf, -1000.0 + 0.5 * np.log(np.pi), log=True),
    ]


def scipy_quadpack_suite() -> list[Problem]:
    """The 1-D cases of scipy's own ``integrate/tests/test_quadpack.py`` (TestQuad), with
    their tabled values; ``args`` are bound, the piecewise integrand is vectorized."""
    from math import cos, exp, log, pi, sin, sqrt

    def piecewise(x):
        x = np.asarray(x, dtype=float)
        return np.where((0 < x) & (x < 2.5), np.sin(x),
                        np.where((2.5 <= x) & (x <= 5.0), np.exp(-x), 0.0))

    ome = 2.0**3.4
    a = 0.4
    cauchy = ((2.0**(-0.4) * log(1.5) - 2.0**(-1.4) * log((4.0**(-a) + 16) / (4.0**(-a) + 1))
               - np.arctan(2.0**(a + 2)) - np.arctan(2.0**a)) / (4.0**(-a) + 1))
    return [
        Problem("typical (Bessel)", "smooth", lambda x: np.cos(2 * x - 1.8 * np.sin(x)) / pi,
                0.0, pi, 0.30614353532540296487),
        Problem("indefinite (Euler)", "infinite", lambda x: -np.exp(-x) * np.log(x), 0.0,
                np.inf, 0.577215664901532860606512),
        Problem("singular (points)", "step", piecewise, 0.0, 10.0,
                1 - cos(2.5) + exp(-2.5) - exp(-5.0), points=(2.5, 5.0)),
        Problem("sine weighted finite", "weight", lambda x: np.exp(20 * (x - 1)), 0.0, 1.0,
                (20 * sin(ome) - ome * cos(ome) + ome * exp(-20)) / (20**2 + ome**2),
                weight="sin", wvar=ome),
        Problem("sine weighted infinite", "weight", lambda x: np.exp(-4.0 * x), 0.0, np.inf,
                3.0 / (16.0 + 9.0), weight="sin", wvar=3.0),
        Problem("cosine weighted (-inf, 0]", "weight", lambda x: np.exp(2.5 * x), -np.inf, 0.0,
                2.5 / (2.5**2 + 2.3**2), weight="cos", wvar=2.3),
        Problem("algebraic weight", "weight", lambda x: 1 / (1 + x + 2**-1.5), -1.0, 1.0,
                pi / sqrt((1 + 2**-1.5) ** 2 - 1), weight="alg", wvar=(-0.5, -0.5)),
        Problem("cauchy weight", "weight", lambda x: 2.0**-a / ((x - 1) ** 2 + 4.0**-a), 0.0,
                5.0, cauchy, weight="cauchy", wvar=2.0),
        Problem("b < a (exp)", "infinite", lambda x: 2 * np.exp(-3 * x), np.inf, 0.0, -2 / 3),
        Problem("b < a (gaussian)", "infinite", lambda x: np.exp(-x**2 / 4) / 2, np.inf,
                -np.inf, -sqrt(pi)),
        Problem("b < a (alg weight)", "weight", lambda x: np.ones_like(x), 1.0, 0.0, -1.0,
                weight="alg", wvar=(0, 0)),
    ]


def tanhsinh_battery() -> list[Problem]:
    """scipy's ``integrate/tests/test_tanhsinh.py`` problems f1-f15 (Bailey, Jeyabalan &
    Li 2005, sec. 6), from 0 to the tabled b."""
    from scipy.special import gamma
    pi = np.pi
    rows = [
        ("f1 t log(1+t)", lambda t: t * np.log1p(t), 1.0, 0.25),
        ("f2 t^2 atan t", lambda t: t**2 * np.arctan(t), 1.0, (pi - 2 + 2 * np.log(2)) / 12),
        ("f3 e^t cos t", lambda t: np.exp(t) * np.cos(t), pi / 2, (np.exp(pi / 2) - 1) / 2),
        ("f4 atan sqrt(2+t^2)", lambda t: np.arctan(np.sqrt(2 + t**2))
         / ((1 + t**2) * np.sqrt(2 + t**2)), 1.0, 5 * pi**2 / 96),
        ("f5 sqrt(t) log t", lambda t: np.sqrt(t) * np.log(t), 1.0, -4 / 9),
        ("f6 sqrt(1-t^2)", lambda t: np.sqrt(1 - t**2), 1.0, pi / 4),
        ("f7 sqrt(t)/sqrt(1-t^2)", lambda t: np.sqrt(t) / np.sqrt(1 - t**2), 1.0,
         2 * np.sqrt(pi) * gamma(3 / 4) / gamma(1 / 4)),
        ("f8 log(t)^2", lambda t: np.log(t) ** 2, 1.0, 2.0),
        ("f9 log cos t", lambda t: np.log(np.cos(t)), pi / 2, -pi * np.log(2) / 2),
        ("f10 sqrt tan t", lambda t: np.sqrt(np.tan(t)), pi / 2, pi * np.sqrt(2) / 2),
        ("f11 1/(1+t^2)", lambda t: 1 / (1 + t**2), np.inf, pi / 2),
        ("f12 e^-t/sqrt t", lambda t: np.exp(-t) / np.sqrt(t), np.inf, np.sqrt(pi)),
        ("f13 e^(-t^2/2)", lambda t: np.exp(-t**2 / 2), np.inf, np.sqrt(pi / 2)),
        ("f14 e^-t cos t", lambda t: np.exp(-t) * np.cos(t), np.inf, 0.5),
        ("f15 sin(t)/t", lambda t: np.sin(t) / t, np.inf, pi / 2),
    ]
    return [Problem(name, "literature", f, 0.0, b, float(ref)) for name, f, b, ref in rows]


# --- the six Genz (1984) families on [0, 1]^d -------------------------------------------
GENZ_FAMILIES = ("oscillatory", "product peak", "corner peak", "gaussian", "C0",
                 "discontinuous")
# difficulty: sum of the a_i (Genz 1987's b_j, as used by Barthelmann, Novak & Ritter 2000)
_DIFFICULTY = {"oscillatory": 9.0, "product peak": 7.25, "corner peak": 1.85,
               "gaussian": 7.03, "C0": 20.4, "discontinuous": 4.3}


@dataclass(frozen=True)
class GenzProblem:
    family: str
    d: int
    f: object
    exact: float


def genz(family: str, d: int, seed: int = 0) -> GenzProblem:
    """One Genz integrand on [0, 1]^d with seeded a (scaled to the difficulty) and u."""
    rng = np.random.default_rng([seed, d, GENZ_FAMILIES.index(family)])
    a = rng.uniform(size=d)
    a *= _DIFFICULTY[family] / a.sum()
    u = rng.uniform(size=d)
    if family == "oscillatory":
        def f(x):
            return np.cos(2 * np.pi * u[0] + x @ a)
        exact = np.real(np.exp(2j * np.pi * u[0]) * np.prod((np.exp(1j * a) - 1) / (1j * a)))
    elif family == "product peak":
        def f(x):
            return np.prod(1.0 / (a**-2 + (x - u) ** 2), axis=1)
        exact = np.prod(a * (np.arctan(a * (1 - u)) + np.arctan(a * u)))
    elif family == "corner peak":
        def f(x):
            return (1.0 + x @ a) ** (-(d + 1))
        exact = 0.0
        for corner in np.ndindex(*([2] * d)):
            v = np.array(corner)
            exact += (-1) ** v.sum() / (1.0 + a @ v)
        exact /= factorial(d) * np.prod(a)
    elif family == "gaussian":
        def f(x):
            return np.exp(-np.sum(a**2 * (x - u) ** 2, axis=1))
        exact = np.prod(np.sqrt(np.pi) / (2 * a) * (erf(a * (1 - u)) + erf(a * u)))
    elif family == "C0":
        def f(x):
            return np.exp(-np.sum(a * np.abs(x - u), axis=1))
        exact = np.prod((2 - np.exp(-a * u) - np.exp(-a * (1 - u))) / a)
    else:
        def f(x):
            inside = (x[:, 0] <= u[0]) & ((x[:, 1] <= u[1]) if d > 1 else True)
            return np.where(inside, np.exp(x @ a), 0.0)
        limits = np.ones(d)
        limits[: min(d, 2)] = u[: min(d, 2)]
        exact = np.prod((np.exp(a * limits) - 1) / a)
    return GenzProblem(family, d, f, float(exact))
