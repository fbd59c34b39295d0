"""Derivatives: bayescalc.diff against scipy.differentiate and numdifftools, same run.

1. A battery of 16 scalar functions at 3 points each (48 cases: smooth, near-singular,
   oscillatory, large-magnitude, and the traps: log x at 1e-4, sqrt x at 1e-3, sigmoid
   at 30, sin(1/x) at 0.05, 1/x at 1e-3): relative error against the closed form, number
   of f evaluations, whether the reported error covers the true error, and the wall time
   of the whole battery as a ratio to bayescalc's.
2. Gradients and Hessians of Rosenbrock (d = 2, 10, 100) and of a logistic-regression
   log-likelihood (d = 10, 500 observations): max relative error, evaluations, coverage,
   wall-time ratios. Every contender gets f in its own batch convention (bayescalc:
   points (n, d) with ``vectorized=True``; scipy: variables first; numdifftools: one
   point per call), so each is timed at its best.

3. The peers' own suites (bench/_derivative_suites.py): scipy.differentiate's
   test_accuracy cases and numdifftools' example functions at orders 1-10, each under
   the peer's own criterion: met / silently wrong / honestly failed, side by side.

Run: ``OMP_NUM_THREADS=1 python -m bench derivatives [--quick]``.
"""

from __future__ import annotations

import warnings

import numdifftools as nd
import numpy as np
import scipy.differentiate as sd

from bayescalc.diff import finite_difference, gradient_estimate, hessian_estimate
from bayescalc.optim.surfaces import rosenbrock_gradient, rosenbrock_hessian
from bench._derivative_problems import BATTERY, sigmoid
from bench._derivative_suites import suite_tables
from bench._harness import Table, median_time, set_threads, write_results

CASES = [(name, f, df, x) for name, f, df, points in BATTERY for x in points]


class Counted:
    """f with a count of the points it was evaluated at (arrays count every element)."""

    def __init__(self, f, points_per_call=None):
        self.f, self.count, self.points_per_call = f, 0, points_per_call

    def __call__(self, x):
        self.count += self.points_per_call(x) if self.points_per_call else np.size(x)
        return self.f(x)


# -- 1. the scalar battery ------------------------------------------------------------------

def bayescalc_scalar(f, x):
    counted = Counted(f)
    result = finite_difference(counted, x, vectorized=True)
    return result.value, result.error, counted.count


def scipy_scalar(f, x):
    counted = Counted(f)
    result = sd.derivative(counted, x)
    return float(result.df), float(result.error), counted.count


def numdifftools_scalar(f, x):
    counted = Counted(f)
    out = nd.Derivative(counted, full_output=True)(x)
    return float(out.estimate), float(out.error_estimate), counted.count


CONTENDERS = {"bayescalc": bayescalc_scalar, "scipy": scipy_scalar,
              "numdifftools": numdifftools_scalar}


def battery(quick):
    rows = {name: [] for name in CONTENDERS}
    for name, method in CONTENDERS.items():
        for _label, f, df, x in CASES:
            value, error, count = method(f, x)
            exact = df(x)
            true_error = abs(value - exact) if np.isfinite(value) else np.inf
            relative = true_error / abs(exact)
            covered = bool(np.isfinite(error) and error >= true_error)
            rows[name].append((relative, count, covered))
    times = {name: median_time(lambda m=method: [m(f, x) for _, f, _, x in CASES],
                               repeats=1 if quick else 7, min_seconds=0.0)
             for name, method in CONTENDERS.items()}
    summary = Table(
        "Scalar battery: 16 functions x 3 points (48 cases, traps included)",
        ["method", "median rel. error", "cases with rel. error > 1e-8",
         "evaluations: median / total", "error estimate covers", "wall time vs bayescalc"])
    for name, data in rows.items():
        relative = np.array([r for r, _, _ in data])
        counts = np.array([c for _, c, _ in data])
        covered = np.mean([c for _, _, c in data])
        summary.add(name, float(np.median(relative)), int(np.sum(~(relative <= 1e-8))),
                    f"{int(np.median(counts))} / {int(counts.sum())}",
                    f"{100 * covered:.0f}%", f"{times[name] / times['bayescalc']:.2f}")
    good = [all(rows[name][i][0] <= 1e-8 for name in CONTENDERS) for i in range(len(CASES))]
    totals = ", ".join(f"{name} {sum(c for (_, c, _), ok in zip(data, good, strict=True) if ok)}"
                       for name, data in rows.items())
    summary.notes += [
        f"evaluations on the {sum(good)} cases that every method gets within 1e-8 "
        f"(the traps left out): {totals}",
        "relative error |estimate - f'(x)| / |f'(x)| against the closed form; a NaN result "
        "counts as an infinite error",
        "bayescalc: finite_difference (adaptive Richardson, default rtol=1e-12); scipy: "
        "scipy.differentiate.derivative defaults; numdifftools: Derivative defaults",
    ]
    detail = Table("Scalar battery, case by case: relative error (evaluations)",
                   ["f", "x", "f'(x)", "bayescalc", "scipy", "numdifftools"])
    for i, (label, _f, df, x) in enumerate(CASES):
        cells = []
        for name in CONTENDERS:
            relative, count, covered = rows[name][i]
            mark = "" if covered else " *"
            cells.append(f"{_short(relative)} ({count}){mark}")
        detail.add(label, f"{x:g}", f"{df(x):.4g}", *cells)
    detail.notes.append("* : the reported error estimate is below the true error")
    return [summary, detail]


def _short(value):
    if not np.isfinite(value):
        return "nan"
    return "0" if value == 0 else f"{value:.1e}"


# -- 2. gradients and Hessians ------------------------------------------------------------------

def rosenbrock_first(x):          # variables first: x (d, ...) -> (...)
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2, axis=0)


def logistic_problem(d=10, n=500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    beta_true = rng.normal(size=d) * 0.5
    y = (rng.random(n) < sigmoid(X @ beta_true)).astype(float)
    point = beta_true + 0.1 * rng.normal(size=d)

    def loglik_first(b):          # b (d, ...) -> (...)
        eta = np.tensordot(X, b, axes=1)
        return np.sum(y.reshape((n,) + (1,) * (eta.ndim - 1)) * eta - np.logaddexp(0, eta),
                      axis=0)

    p = sigmoid(X @ point)
    return loglik_first, point, X.T @ (y - p), -(X.T * (p * (1 - p))) @ X


def problems(quick):
    rng = np.random.default_rng(1)
    out = []
    for d in (2, 10, 100):
        x = rng.uniform(-1.5, 1.5, d)
        out.append((f"Rosenbrock d={d}", rosenbrock_first, x, rosenbrock_gradient(x),
                    rosenbrock_hessian(x)))
    f, x, g, H = logistic_problem()
    out.append(("logistic log-likelihood d=10", f, x, g, H))
    return out


def multivariate(quick):
    table = Table("Gradients and Hessians",
                  ["problem", "what", "method", "max rel. error", "evaluations",
                   "error estimate covers", "wall time vs bayescalc"])
    for label, f_first, x, exact_gradient, exact_hessian in problems(quick):
        d = x.size
        for what, exact in (("gradient", exact_gradient), ("Hessian", exact_hessian)):
            contenders = _contenders(what, f_first, d)
            large = what == "Hessian" and d == 100
            if large and quick:
                # scipy evaluates 4.45e6 points (~15 s) and numdifftools makes 3e5 calls.
                contenders = {k: v for k, v in contenders.items() if k == "bayescalc"}
            repeats = 1 if quick or large else 7
            timings = {}
            results = {}
            for name, run in contenders.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    results[name] = run(x)
                    timings[name] = median_time(lambda r=run, x=x: r(x), repeats=repeats,
                                                min_seconds=0.0)
            for name, (value, error, count) in results.items():
                true_error = np.abs(value - exact)
                relative = float(np.max(true_error) / np.max(np.abs(exact)))
                covers = "-" if error is None else f"{100 * np.mean(error >= true_error):.0f}%"
                table.add(label, what, name, relative, int(count), covers,
                          f"{timings[name] / timings['bayescalc']:.2f}")
    table.notes += [
        "max rel. error: max |estimate - exact| / max |exact| over the entries",
        "error estimate covers: share of entries whose reported error >= the true error",
        "bayescalc: gradient_estimate / hessian_estimate with vectorized=True; scipy: "
        "scipy.differentiate.jacobian / hessian (defaults); numdifftools: Gradient / "
        "Hessian (defaults, full_output for the error estimate)",
        "the d = 100 Hessians are timed once (not 7 times); --quick runs bayescalc only "
        "there",
    ]
    return [table]


def _contenders(what, f_first, d):
    def batch(points):                   # bayescalc: (n, d) -> (n,)
        return f_first(points.T)

    def one(point):                      # numdifftools: (d,) -> scalar
        return f_first(point)

    def bayescalc(x):
        counted = Counted(batch, lambda p: p.shape[0])
        engine = gradient_estimate if what == "gradient" else hessian_estimate
        result = engine(counted, x, vectorized=True)
        return result.value, result.error, counted.count

    def scipy(x):
        counted = Counted(f_first, lambda p: int(np.prod(np.shape(p)[1:])))
        if what == "gradient":
            result = sd.jacobian(counted, x)
            return result.df, result.error, counted.count
        result = sd.hessian(counted, x)
        return result.ddf, result.error, counted.count

    def numdifftools(x):
        counted = Counted(one, lambda p: 1)
        engine = nd.Gradient if what == "gradient" else nd.Hessian
        out = engine(counted, full_output=True)(x)
        return out.estimate, out.error_estimate, counted.count

    return {"bayescalc": bayescalc, "scipy": scipy, "numdifftools": numdifftools}


def main(quick: bool) -> None:
    threads = set_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = battery(quick) + suite_tables() + multivariate(quick)
    write_results("derivatives", tables, threads=threads)


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
