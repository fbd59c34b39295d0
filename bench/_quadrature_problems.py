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
