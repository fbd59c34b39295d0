"""Quadrature side by side with scipy.integrate.quad, tanhsinh and cubature, one run.

Table 1: the 1-D battery (bench/_quadrature_problems.py) at rtol 1e-10: relative error,
evaluations, whether the reported error covers the true one, and the wall-time ratio
scipy quad / bayescalc quad (medians of repeats, the same vectorized numpy integrand;
scipy quad calls it with one float at a time, which is how it is used).
Table 2: the six Genz families on [0, 1]^d, d = 2, 3, 5: bayescalc Genz-Malik against
scipy cubature's Genz-Malik rule at EQUAL evaluation counts (ours gets scipy's count as
its budget), and each one's error coverage.
Table 3: sparse grids vs tensor Gauss rules vs Genz-Malik at equal budgets, d = 5, 8, 10.
"""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
from scipy import integrate

from bayescalc.integrate import cubature, quad
from bench._harness import Table, median_time, set_threads, write_results
from bench._quadrature_problems import (
    GENZ_FAMILIES,
    battery,
    genz,
    scipy_quadpack_suite,
    tanhsinh_battery,
)

RTOL = 1e-10


def _relative(value, exact, log):
    if log:
        return abs(value - exact) / max(1.0, abs(exact))
    return abs(value - exact) / abs(exact)


def _scipy_quad(problem):
    f = (lambda x: float(np.exp(problem.f(x)))) if problem.log else problem.f
    output = integrate.quad(f, problem.a, problem.b, epsabs=0.0, epsrel=RTOL, limit=200,
                            full_output=1)
    value, error, info = output[:3]
    claims = len(output) == 3  # a 4th item is scipy's warning message
    if problem.log:
        value = np.log(value) if value > 0 else -np.inf
    return value, error, int(info["neval"]), bool(claims)


def _scipy_tanhsinh(problem):
    result = integrate.tanhsinh(problem.f, problem.a, problem.b, rtol=RTOL, log=problem.log,
                                maxlevel=12)
    error = float(np.exp(result.error - result.integral)) if problem.log else float(result.error)
    return float(result.integral), error, int(result.nfev), bool(result.success)


def one_dimensional(quick):
    table = Table("1-D battery, rtol 1e-10 (scipy quad: epsabs=0, epsrel=1e-10, limit=200)",
                  ["integrand", "kind", "bc rel. error", "bc n_evals", "bc covers", "bc ok",
                   "quad rel. error", "quad n_evals", "quad claims ok", "tanhsinh rel. error",
                   "tanhsinh nfev", "tanhsinh claims ok", "time quad / bc"])
    repeats = 3 if quick else 7
    ours_n, quad_n, ratios, covered, met, quad_right = [], [], [], [], [], []
    quad_cost, ours_cost = [], []
    for problem in battery():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = quad(problem.f, problem.a, problem.b, rtol=RTOL, log=problem.log)
            q_value, _, q_n, q_ok = _scipy_quad(problem)
            t_value, _, t_n, t_ok = _scipy_tanhsinh(problem)
            ours_time = median_time(lambda p=problem: quad(p.f, p.a, p.b, rtol=RTOL, log=p.log),
                                    repeats=repeats)
            quad_time = median_time(lambda p=problem: _scipy_quad(p), repeats=repeats)
        true_error = abs(ours.value - problem.exact)
        ours_rel = _relative(ours.value, problem.exact, problem.log)
        ours_n.append(ours.n_evals)
        quad_n.append(q_n)
        ratios.append(quad_time / ours_time)
        quad_cost.append(quad_time / q_n)
        ours_cost.append(ours_time)
        covered.append(ours.error >= true_error)
        met.append(ours.success and ours_rel <= RTOL)
        quad_right.append(_relative(q_value, problem.exact, problem.log) <= 1e-8)
        table.add(problem.name, problem.kind, ours_rel, ours.n_evals, bool(covered[-1]),
                  ours.success, _relative(q_value, problem.exact, problem.log), q_n, q_ok,
                  _relative(t_value, problem.exact, problem.log), t_n, t_ok,
                  quad_time / ours_time)
    table.notes += [
        f"bayescalc meets rtol 1e-10 on {sum(met)}/{len(met)}; its error covers the true "
        f"error on {sum(covered)}/{len(covered)} ({100 * np.mean(covered):.0f}%).",
        f"median n_evals: bayescalc {statistics.median(ours_n):g}, scipy quad "
        f"{statistics.median(quad_n):g}; over the {sum(quad_right)} integrands scipy quad "
        f"gets right: bayescalc "
        f"{statistics.median(np.array(ours_n)[quad_right]):g}, scipy quad "
        f"{statistics.median(np.array(quad_n)[quad_right]):g}.",
        f"median wall-time ratio scipy quad / bayescalc: {statistics.median(ratios):.2f} "
        "(> 1: bayescalc faster; timed in the same run, medians of repeats).",
        f"per evaluation, scipy quad's compiled loop costs a median "
        f"{1e6 * statistics.median(quad_cost):.2f} µs here (f gets a Python float: scalar "
        f"arithmetic); bayescalc's whole call costs a median "
        f"{1e6 * statistics.median(ours_cost):.0f} µs, about 40 numpy calls per round on "
        "arrays of a few hundred numbers. Against 0.2-1 µs integrands no numpy loop is 3x "
        "faster; against ones that do real work it is (next table).",
        "(log) rows: bayescalc and tanhsinh integrate log f with log=True (errors of log I "
        "relative to max(1, |log I|)); scipy quad gets exp(log f), which underflows to 0.",
        "scipy quad's 'claims ok' is whether it returned without a warning message.",
    ]
    return table


def _scipy_cubature(problem, rtol, max_subdivisions):
    count = [0]

    def counted(x):
        count[0] += x.shape[0]
        return problem.f(x)

    d = problem.d
    result = integrate.cubature(counted, np.zeros(d), np.ones(d), rule="genz-malik",
                                rtol=rtol, max_subdivisions=max_subdivisions)
    return float(result.estimate), float(result.error), count[0]


def genz_table(quick):
    table = Table("Genz families on [0,1]^d: Genz-Malik, bayescalc vs scipy cubature at equal "
                  "n_evals", ["family", "d", "n_evals (scipy's)", "scipy rel. error",
                              "scipy covers", "bc rel. error", "bc covers", "bc at rtol 1e-6",
                              "bc n_evals", "bc covers (1e-6)"])
    seeds = [0] if quick else [0, 1]
    wins, covered_scipy, covered_ours = [], [], []
    for d in (2, 3, 5):
        for family in GENZ_FAMILIES:
            for seed in seeds:
                problem = genz(family, d, seed)
                s_value, s_error, s_n = _scipy_cubature(problem, 1e-4, 30 if d == 5 else 60)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    equal = cubature(problem.f, np.zeros(d), np.ones(d), method="genz-malik",
                                     rtol=1e-15, max_evals=s_n)
                    tight = cubature(problem.f, np.zeros(d), np.ones(d), method="genz-malik",
                                     rtol=1e-6, max_evals=300_000)
                exact = problem.exact
                s_rel = abs(s_value - exact) / abs(exact)
                e_rel = abs(equal.value - exact) / abs(exact)
                wins.append(e_rel <= s_rel)
                covered_scipy.append(bool(s_error >= abs(s_value - exact)))
                covered_ours += [bool(equal.error >= abs(equal.value - exact)),
                                 bool(tight.error >= abs(tight.value - exact))]
                table.add(family if not seed else f"{family} (seed {seed})", d, s_n, s_rel,
                          covered_scipy[-1], e_rel, covered_ours[-2],
                          abs(tight.value - exact) / abs(exact), tight.n_evals, covered_ours[-1])
    table.notes += [
        f"bayescalc at least as accurate as scipy at equal n_evals on {sum(wins)}/{len(wins)}.",
        f"error covers the truth: bayescalc {sum(covered_ours)}/{len(covered_ours)} "
        f"({100 * np.mean(covered_ours):.0f}%), scipy {sum(covered_scipy)}/{len(covered_scipy)}.",
        "scipy cubature ran with rtol 1e-4 and max_subdivisions 60 (30 in d = 5); it halves "
        "every axis of a region at once (2^d children), bayescalc halves one axis.",
    ]
    return table


def sparse_table(quick):
    table = Table("Smooth Genz families: sparse grid vs tensor Gauss vs Genz-Malik, equal budget",
                  ["family", "d", "budget", "sparse rel. error", "sparse n_evals",
                   "tensor rel. error", "tensor n_evals", "genz-malik rel. error"])
    wins = {}
    cases = [(5, 5_000), (5, 50_000), (8, 50_000), (10, 50_000)]
    for d, budget in cases[1:3] if quick else cases:
        for family in ("oscillatory", "product peak", "corner peak", "gaussian"):
            problem = genz(family, d)
            row = []
            for method in ("sparse-grid", "tensor", "genz-malik"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = cubature(problem.f, np.zeros(d), np.ones(d), method=method,
                                      rtol=1e-15, max_evals=budget)
                row.append((abs(result.value - problem.exact) / abs(problem.exact),
                            result.n_evals))
            wins.setdefault(family, []).append(row[0][0] < row[1][0])
            table.add(family, d, budget, row[0][0], row[0][1], row[1][0], row[1][1], row[2][0])
    table.notes += [
        f"sparse grid more accurate than the tensor rule: {family} "
        f"{sum(won)}/{len(won)}" for family, won in wins.items()]
    table.notes.append(
        "the oscillatory family cos(2 pi u1 + a.x) is a sum of two products of 1-D "
        "cosines, the case a tensor Gauss rule is best at: in d = 5 it beats every sparse "
        "grid we tried (Clenshaw-Curtis, and Smolyak on Gauss-Legendre: 3.4e-8 at 4,543 "
        "points against the tensor rule's 1.0e-8 at 3,125); sparse grids win from d = 8.")
    return table


def infinite_box_table():
    """scipy's test_cubature.py Gaussians over boxes with infinite sides (issue 8, item
    11), and a few more of the class, through both cubatures; scipy at its test's
    tolerances (rtol 1e-4, atol 1e-5), ours at those and at rtol 1e-8."""
    from scipy.special import ndtr

    inf = np.inf
    alphas4 = np.random.default_rng(1).random(4)   # as scipy's test draws them
    alphas2 = np.random.default_rng(1).random(2)

    def gaussian(alphas):
        return lambda x: np.exp(-np.sum((alphas * x) ** 2, axis=1))

    def gaussian_exact(lower, upper, alphas):
        semi = sum(np.isinf(a) != np.isinf(b) for a, b in zip(lower, upper, strict=True))
        return math.sqrt(math.pi) ** len(lower) / (2**semi * np.prod(alphas))

    centre, scale = np.array([2.0, 3.0, -1.0, 4.0]), np.array([0.3, 5.0, 2.0, 0.5])
    precision = np.array([[2.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 1.5]])
    cases = [
        ("scipy f_gaussian, [0,inf)^2 x R^2", gaussian(alphas4), [0, 0, -inf, -inf],
         [inf] * 4, gaussian_exact([0, 0, -inf, -inf], [inf] * 4, alphas4)),
        ("scipy f_gaussian, (-inf,0]^2 x R^2", gaussian(alphas4), [-inf] * 4,
         [0, 0, inf, inf], gaussian_exact([-inf] * 4, [0, 0, inf, inf], alphas4)),
        ("scipy f_gaussian, [0,inf) x R", gaussian(alphas2), [0, -inf], [inf, inf],
         gaussian_exact([0, -inf], [inf, inf], alphas2)),
        ("off-centre, unequal scales, [0,inf)^2 x R^2",
         lambda x: np.exp(-0.5 * np.sum(((x - centre) / scale) ** 2, axis=1)),
         [0, 0, -inf, -inf], [inf] * 4,
         float(np.prod(np.sqrt(2 * np.pi) * scale) * np.prod(ndtr(centre[:2] / scale[:2])))),
        ("correlated Gaussian, [0,inf) x R^2",
         lambda x: np.exp(-0.5 * np.einsum("ni,ij,nj->n", x, precision, x)),
         [0, -inf, -inf], [inf] * 3,
         0.5 * (2 * np.pi) ** 1.5 / math.sqrt(np.linalg.det(precision))),
    ]
    table = Table("Cubature over boxes with infinite sides (scipy test_cubature.py's "
                  "Gaussians and more)",
                  ["case", "bc rel. error (rtol 1e-4)", "bc n_evals", "bc ok",
                   "bc rel. error (rtol 1e-8)", "bc n_evals ", "bc ok ",
                   "scipy rel. error (rtol 1e-4)", "scipy n_evals", "scipy status"])
    for name, f, lower, upper, exact in cases:
        row = [name]
        for rtol, atol in ((1e-4, 1e-5), (1e-8, 0.0)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = cubature(f, lower, upper, rtol=rtol, atol=atol)
            covers = abs(r.value - exact) <= r.error
            row += [abs(r.value - exact) / exact, r.n_evals,
                    "met, covers" if r.success and covers else
                    ("silently wrong" if r.success else "honestly failed")]
        count = [0]

        def counted(x, f=f):
            count[0] += x.shape[0]
            return f(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = integrate.cubature(counted, np.asarray(lower, float), np.asarray(upper, float),
                                   rtol=1e-4, atol=1e-5, max_subdivisions=20_000)
        row += [abs(float(s.estimate) - exact) / exact, count[0], s.status]
        table.add(*row)
    table.notes.append("bc: cubature(method='auto'): on boxes with infinite sides it first "
                       "maps them through the Gaussian quantile (Rosenblatt) transform at "
                       "the Laplace centre of f and keeps the answer when it converges; "
                       "'covers': |error| <= the reported error; scipy's cubature: its "
                       "default Genz-Malik rule, max_subdivisions 20,000 (not reached)")
    return table


def _costly_integrands():
    """Integrands that do real work per call: where one vectorized call per round pays."""
    import torch

    rng = np.random.default_rng(7)
    y = rng.normal(0.3, 1.0, 200)
    x_data = rng.normal(size=100)
    labels = (rng.uniform(size=100) < 1 / (1 + np.exp(-1.5 * x_data))).astype(float)

    def normal_posterior(mu):
        mu = np.atleast_1d(mu)
        residual = mu[:, None] - y[None, :]
        return np.exp(-0.5 * np.sum(residual**2, axis=1) + 0.5 * np.sum((y - y.mean()) ** 2))

    def logistic_posterior(beta):
        beta = np.atleast_1d(beta)
        eta = beta[:, None] * x_data[None, :]
        log_lik = np.sum(labels * eta - np.logaddexp(0.0, eta), axis=1)
        return np.exp(log_lik - 0.5 * beta**2 + 50.0)

    def torch_integrand(x):
        t = torch.as_tensor(x, dtype=torch.float64)
        return torch.exp(-t * t) * torch.cos(3 * t)

    return [("normal-mean posterior, 200 obs.", normal_posterior, -3.0, 3.0),
            ("logistic-slope posterior, 100 obs.", logistic_posterior, -5.0, 8.0),
            ("torch exp(-x^2) cos(3x)", torch_integrand, -np.inf, np.inf)]


def costly_table(quick):
    table = Table("Wall time when the integrand does real work per call (rtol 1e-10)",
                  ["integrand", "bc n_evals", "quad n_evals", "bc vs quad rel. diff.",
                   "time quad / bc"])
    repeats = 3 if quick else 5
    for name, f, a, b in _costly_integrands():
        def scalar(x, f=f):
            return float(np.asarray(f(np.array([x])))[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = quad(f, a, b, rtol=RTOL)
            reference = integrate.quad(scalar, a, b, epsabs=0.0, epsrel=RTOL, limit=200,
                                       full_output=1)
            ours_time = median_time(lambda f=f, a=a, b=b: quad(f, a, b, rtol=RTOL),
                                    repeats=repeats)
            quad_time = median_time(
                lambda s=scalar, a=a, b=b: integrate.quad(s, a, b, epsabs=0.0, epsrel=RTOL,
                                                          limit=200), repeats=repeats)
        table.add(name, ours.n_evals, int(reference[2]["neval"]),
                  abs(ours.value - reference[0]) / abs(reference[0]), quad_time / ours_time)
    table.notes.append("scipy quad calls f with one float at a time (wrapped as a length-1 "
                       "batch); bayescalc evaluates every subinterval of a round in one call.")
    return table


# "met": success claimed and relative error <= 1e-9 (10x the requested 1e-10);
# "silently wrong": success claimed, error larger; "honestly failed": no success claimed.
_MET = 1e-9


def _verdict(claims_ok, relative):
    if claims_ok:
        return "met" if relative <= _MET else "silently wrong"
    return "honestly failed"


def _scipy_quad_peer(problem):
    kwargs = dict(epsabs=0.0, epsrel=RTOL, limit=200, full_output=1)
    if problem.weight:
        kwargs.update(weight=problem.weight, wvar=problem.wvar)
        if problem.weight in ("cos", "sin") and np.isinf([problem.a, problem.b]).any():
            kwargs.update(epsabs=RTOL * abs(problem.exact))  # QAWF takes epsabs only
    if problem.points:
        kwargs.update(points=problem.points)

    def scalar(x):
        return float(np.asarray(problem.f(np.asarray([x], dtype=float)))[0])
    try:
        output = integrate.quad(scalar, problem.a, problem.b, **kwargs)
    except Exception as error:  # scipy's own QAWF evaluates f at a (1/x at 0)
        return np.nan, False, f"raised {type(error).__name__}"
    # a 4th item is scipy's warning message (3 with weight= on an infinite range: qawf)
    claims = len(output) == 3
    return float(output[0]), claims, ""


def peer_suites(quick):
    """scipy's own test_quadpack.py cases and test_tanhsinh.py's literature battery."""
    table = Table("Peers' own suites at rtol 1e-10: bayescalc quad and scipy.integrate.quad",
                  ["suite", "case", "bc rel. error", "bc n_evals", "bc covers", "bc verdict",
                   "quad rel. error", "quad verdict"])
    counts = {}
    for suite, problems in (("test_quadpack", scipy_quadpack_suite()),
                            ("test_tanhsinh", tanhsinh_battery())):
        for problem in problems:
            kwargs = {}
            if problem.weight:
                kwargs.update(weight=problem.weight, wvar=problem.wvar)
            if problem.points:
                kwargs.update(points=list(problem.points))
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                ours = quad(problem.f, problem.a, problem.b, rtol=RTOL, **kwargs)
                q_value, q_ok, note = _scipy_quad_peer(problem)
            ours_rel = abs(ours.value - problem.exact) / abs(problem.exact)
            quad_rel = abs(q_value - problem.exact) / abs(problem.exact)
            ours_verdict, quad_verdict = _verdict(ours.success, ours_rel), _verdict(q_ok, quad_rel)
            covers = bool(abs(ours.value - problem.exact) <= ours.error)
            for who, verdict in (("bc", ours_verdict), ("quad", quad_verdict)):
                key = (suite, who, verdict)
                counts[key] = counts.get(key, 0) + 1
            table.add(suite, problem.name, ours_rel, ours.n_evals, covers, ours_verdict,
                      quad_rel, quad_verdict + (f" ({note})" if note else ""))
    for suite in ("test_quadpack", "test_tanhsinh"):
        line = []
        for who, label in (("bc", "bayescalc"), ("quad", "scipy quad")):
            parts = [f"{counts.get((suite, who, v), 0)} {v}"
                     for v in ("met", "silently wrong", "honestly failed")]
            line.append(f"{label}: " + ", ".join(parts))
        table.notes.append(f"{suite}: " + "; ".join(line) + ".")
    table.notes.append("met: success claimed and relative error <= 1e-9; silently wrong: "
                       "success claimed, larger error; honestly failed: a warning / "
                       "success=False. f15 = sin(t)/t without a weight: bayescalc's tail "
                       "measurement says 'divergent?' (not absolutely integrable; "
                       "weight='sin' gets it).")
    return table


def main(quick: bool) -> None:
    threads = set_threads(1)
    tables = [one_dimensional(quick), peer_suites(quick), costly_table(quick),
              genz_table(quick), sparse_table(quick), infinite_box_table()]
    write_results("quadrature", tables, threads=threads)
