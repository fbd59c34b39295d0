"""The six Genz test families on [0, 1]^d with their exact integrals, and the coverage
study of the Monte Carlo error bars (used by bench/montecarlo.py and by the slow test
tests/test_integrate_mc_coverage.py).

Genz, "Testing multidimensional integration routines", in Tools, Methods and Languages
for Scientific and Engineering Computation (1984) 81-94. Each family is
``f(x; a, u)`` with difficulty ``a > 0`` per axis and a shift ``u`` in [0, 1]^d; here the
``a_i`` are uniform draws rescaled to the mean ``DIFFICULTY[family]``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

FAMILIES = ("oscillatory", "product_peak", "corner_peak", "gaussian", "continuous",
            "discontinuous")
SMOOTH = ("oscillatory", "product_peak", "corner_peak", "gaussian")
DIFFICULTY = {"oscillatory": 0.9, "product_peak": 5.0, "corner_peak": 0.6, "gaussian": 5.0,
              "continuous": 5.0, "discontinuous": 1.0}


@dataclass(frozen=True)
class GenzCase:
    """One integrand: ``f(x)`` vectorized (n, d) -> (n,), its exact integral."""

    family: str
    d: int
    a: np.ndarray
    u: np.ndarray

    def __call__(self, x):
        return _integrand(self.family, x, self.a, self.u)

    @property
    def exact(self) -> float:
        return _exact(self.family, self.a, self.u)

    def scipy_form(self, x):
        """scipy.integrate.qmc_quad's convention: points (d, n) -> (n,), or one (d,)."""
        x = np.asarray(x)
        return self(x[None, :])[0] if x.ndim == 1 else self(x.T)


def draw(family: str, d: int, rng) -> GenzCase:
    a = rng.random(d)
    a = a / a.mean() * DIFFICULTY[family]
    u = rng.random(d)
    return GenzCase(family, d, a, u)


def _integrand(family, x, a, u):
    if family == "oscillatory":
        return np.cos(2 * np.pi * u[0] + x @ a)
    if family == "product_peak":
        return np.prod(1.0 / (a**-2.0 + (x - u) ** 2), axis=1)
    if family == "corner_peak":
        return (1.0 + x @ a) ** (-(a.size + 1))
    if family == "gaussian":
        return np.exp(-np.sum(a**2 * (x - u) ** 2, axis=1))
    if family == "continuous":
        return np.exp(-np.sum(a * np.abs(x - u), axis=1))
    if family == "discontinuous":
        inside = np.all(x[:, :2] <= u[:2], axis=1)
        return np.where(inside, np.exp(x @ a), 0.0)
    raise ValueError(family)


def _exact(family, a, u):
    d = a.size
    if family == "oscillatory":
        factor = np.prod((np.exp(1j * a) - 1.0) / (1j * a))
        return float(np.real(np.exp(2j * np.pi * u[0]) * factor))
    if family == "product_peak":
        return float(np.prod(a * (np.arctan(a * (1 - u)) + np.arctan(a * u))))
    if family == "corner_peak":  # inclusion-exclusion over the corners of the cube
        total = 0.0
        for corner in itertools.product((0, 1), repeat=d):
            corner = np.array(corner)
            total += (-1) ** corner.sum() / (1.0 + corner @ a)
        return float(total / (math.factorial(d) * np.prod(a)))
    if family == "gaussian":
        return float(np.prod(np.sqrt(np.pi) / (2 * a) * (erf(a * (1 - u)) + erf(a * u))))
    if family == "continuous":
        return float(np.prod((2.0 - np.exp(-a * u) - np.exp(-a * (1 - u))) / a))
    if family == "discontinuous":
        upper = np.ones(d)
        upper[: min(2, d)] = u[: min(2, d)]
        return float(np.prod(np.expm1(a * upper) / a))
    raise ValueError(family)


# ---- the coverage study ----------------------------------------------------------------

COVERAGE_CASES = (("gaussian", 3), ("product_peak", 4), ("continuous", 2))


def coverage_methods():
    """name -> run(case, seed) returning (value, standard error)."""
    from bayescalc.integrate import monte_carlo, vegas

    def mc(method):
        def run(case, seed):
            r = monte_carlo(case, np.zeros(case.d), np.ones(case.d), n=4096, method=method,
                            seed=seed)
            return r.value, r.error
        return run

    def vg(sampling):
        def run(case, seed):
            r = vegas(case, np.zeros(case.d), np.ones(case.d), n_eval=2000, n_iter=5,
                      n_adapt=3, sampling=sampling, seed=seed)
            return r.value, r.error
        return run

    methods = {m: mc(m) for m in ("mc", "antithetic", "stratified", "qmc", "halton")}
    methods.update({f"vegas-{s}": vg(s) for s in ("mc", "stratified", "qmc")})
    return methods


def coverage_study(repeats: int = 200, seed: int = 0, methods=None):
    """Fraction of ``repeats`` seeded runs with ``|value - exact| <= 2 * error``.

    Returns {method: {case label: fraction}}. The integrand of each case is fixed (drawn
    once from ``seed``); only the integration seed varies.
    """
    import warnings

    methods = methods or coverage_methods()
    rng = np.random.default_rng(seed)
    cases = [draw(family, d, rng) for family, d in COVERAGE_CASES]
    table = {}
    for name, run in methods.items():
        table[name] = {}
        for case in cases:
            hits = 0
            for k in range(repeats):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value, error = run(case, 1000 * seed + k)
                hits += abs(value - case.exact) <= 2 * error
            table[name][f"{case.family} d={case.d}"] = hits / repeats
    return table
