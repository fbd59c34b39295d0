"""Optimization: bayescalc.optim against scipy.optimize on the same problems, same run.

1. ``minimize``: our lbfgs and newton against scipy's L-BFGS-B and Newton-CG, both given
   the exact gradient (and Hessian), on Rosenbrock (d = 2, 10), an ill-conditioned
   quadratic (d = 20, condition number 1e3) and the hills surface: iterations, f and
   gradient evaluations, distance to the exact minimizer, and wall time as a ratio to
   scipy's. The first-order rules (gd, momentum, nesterov, adam) are listed with their
   steps on the same problems (no scipy peer: scipy has none).
2. ``critical_points`` on hills (15 stationary points known in closed form) against a
   scipy multistart baseline: ``scipy.optimize.root(∇f, start, jac=H)`` (MINPACK hybrd)
   from the same 64 scrambled Halton starts, then the same merging and classification:
   points found, points correctly classified, gradient evaluations, wall-time ratio.

Run: ``OMP_NUM_THREADS=1 python -m bench optim [--quick]``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize as so
from scipy.stats import ortho_group, qmc

from bayescalc.optim import critical_points, kind_from_eigenvalues, minimize
from bayescalc.optim.surfaces import (
    HILLS_BOUNDS,
    hills,
    hills_gradient,
    hills_hessian,
    hills_stationary_points,
    rosenbrock,
    rosenbrock_gradient,
    rosenbrock_hessian,
)
from bench._harness import Table, median_time, set_threads, write_results


class Counted:
    """A function with a call counter."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def _quadratic(d=20, condition=1e3):
    rng = np.random.default_rng(0)
    q = ortho_group.rvs(d, random_state=rng)
    a = q @ np.diag(np.geomspace(1.0, condition, d)) @ q.T
    b = rng.normal(size=d)
    return (lambda x: 0.5 * x @ a @ x - b @ x, lambda x: a @ x - b, lambda x: a,
            rng.normal(size=d), np.linalg.solve(a, b))


def problems():
    """(name, f, grad, hess, x0, exact minimizer)."""
    quadratic = _quadratic()
    return [
        ("Rosenbrock d=2", rosenbrock, rosenbrock_gradient, rosenbrock_hessian,
         np.array([-1.2, 1.0]), np.ones(2)),
        ("Rosenbrock d=10", rosenbrock, rosenbrock_gradient, rosenbrock_hessian,
         np.tile([-1.2, 1.0], 5), np.ones(10)),
        ("quadratic d=20, cond 1e3", *quadratic[:3], quadratic[3], quadratic[4]),
        ("hills from (1.6, 1)", hills, hills_gradient, hills_hessian,
         np.array([1.6, 1.0]), np.array([2.0, 1.5])),
    ]


def _ours(method, f, grad, hess, x0):
    counted = [Counted(f), Counted(grad), Counted(hess)]
    result = minimize(counted[0], x0, method=method, grad=counted[1], hess=counted[2],
                      tol=1e-6, max_steps=50_000)
    return result, [c.calls for c in counted]


def _scipy(method, f, grad, hess, x0):
    counted = [Counted(f), Counted(grad), Counted(hess)]
    options = {"gtol": 1e-6 / np.sqrt(x0.size)} if method == "L-BFGS-B" else {}
    result = so.minimize(counted[0], x0, method=method, jac=counted[1],
                         hess=counted[2] if method == "Newton-CG" else None,
                         tol=1e-10 if method == "Newton-CG" else None, options=options)
    return result, [c.calls for c in counted]


def minimize_table(quick: bool) -> Table:
    table = Table(
        "minimize against scipy.optimize.minimize (exact derivatives for both)",
        ["problem", "ours", "steps", "f / grad / hess evals", "distance to x*", "scipy",
         "nit", "f / grad / hess evals", "distance to x*", "time ours / scipy"])
    repeats = 3 if quick else 7
    for name, f, grad, hess, x0, exact in problems():
        for ours_method, peer_method in (("lbfgs", "L-BFGS-B"), ("newton", "Newton-CG")):
            ours, ours_calls = _ours(ours_method, f, grad, hess, x0)
            peer, peer_calls = _scipy(peer_method, f, grad, hess, x0)
            t_ours = median_time(lambda: _ours(ours_method, f, grad, hess, x0),  # noqa: B023
                                 repeats=repeats)
            t_peer = median_time(lambda: _scipy(peer_method, f, grad, hess, x0),  # noqa: B023
                                 repeats=repeats)
            table.add(name, ours_method, ours.n_steps, "/".join(map(str, ours_calls)),
                      float(np.linalg.norm(ours.x - exact)), peer_method, int(peer.nit),
                      "/".join(map(str, peer_calls)), float(np.linalg.norm(peer.x - exact)),
                      t_ours / t_peer)
    table.notes.append("both stop at a gradient norm of about 1e-6 (scipy's L-BFGS-B at "
                       "max|g_i| <= 1e-6/sqrt(d), Newton-CG at xtol 1e-10); evaluations "
                       "counted by wrapping f, grad and hess")
    table.notes.append("distance to x*: to the global minimizer; Rosenbrock in "
                       "d = 10 also has a local minimum near (-1, 1, ..., 1) (f ≈ 3.99), "
                       "which a method may legitimately reach from (-1.2, 1, -1.2, 1, ...)")
    table.notes.append("ours is a Python loop with an Armijo backtracking line search; "
                       "scipy's L-BFGS-B is compiled code with a Wolfe line search (fewer "
                       "steps on the ill-conditioned quadratic)")
    return table


def first_order_table(quick: bool) -> Table:
    table = Table("first-order rules: steps to |grad f| <= 1e-6 (exact gradients)",
                  ["problem", "gd", "momentum", "nesterov", "adam"])
    # Per problem, learning rates just inside the stable range: gd needs lr < 2/L (L the
    # largest Hessian eigenvalue at the minimum: 1001.6 for Rosenbrock d = 2, 1762.8 for
    # d = 10), Nesterov about lr < 2(1 + β)/((1 + 2β) L).
    lrs = {
        "Rosenbrock d=2": (1.9e-3, 1e-3, 1e-3, 1e-2),
        "Rosenbrock d=10": (1.1e-3, 1e-3, 6e-4, 1e-2),
        "quadratic d=20, cond 1e3": (1.9e-3, 1e-3, 1e-3, 1e-2),
        "hills from (1.6, 1)": (0.05, 0.01, 0.01, 0.01),
    }
    for name, f, grad, _hess, x0, _exact in problems():
        if quick and name == "Rosenbrock d=10":
            continue
        cells = []
        for method, lr in zip(("gd", "momentum", "nesterov", "adam"), lrs[name], strict=True):
            result = minimize(f, x0, method=method, lr=lr, grad=grad, tol=1e-6,
                              max_steps=100_000)
            cells.append(f"{result.n_steps} (lr {lr:g})" if result.success else
                         f"not converged in 100,000 (lr {lr:g})")
        table.add(name, *cells)
    table.notes.append("scipy.optimize has no fixed-step first-order methods to compare with")
    return table


def _scipy_multistart(starts, counters):
    grad, hess = counters
    found = []
    for start in starts:
        solution = so.root(grad, start, jac=hess, method="hybr", options={"xtol": 1e-12})
        z = solution.x
        low, high = np.array(HILLS_BOUNDS).T
        if solution.success and np.all((z >= low) & (z <= high)):
            found.append(z)
    unique = []
    for z in found:
        if all(np.max(np.abs((z - u) / (high - low))) > 1e-4 for u in unique):
            unique.append(z)
    return [(z, kind_from_eigenvalues(np.linalg.eigvalsh(hess.f(z)))) for z in unique]


def _score(points):
    exact = hills_stationary_points()
    correct = 0
    for x, kind in exact:
        distances = [np.max(np.abs(np.asarray(z) - x)) for z, _ in points]
        i = int(np.argmin(distances))
        correct += distances[i] < 1e-7 and points[i][1] == kind
    return correct


def critical_points_table(quick: bool) -> Table:
    table = Table("critical_points on hills (15 stationary points) against scipy.optimize.root "
                  "multistart, same 64 starts",
                  ["contender", "points found", "found and classified correctly",
                   "grad / hess evals", "time / ours (exact derivatives)"])
    repeats = 3 if quick else 5
    low, high = np.array(HILLS_BOUNDS).T
    starts = low + (high - low) * qmc.Halton(2, scramble=True, seed=0).random(64)

    def ours_exact():
        counters = [Counted(hills_gradient), Counted(hills_hessian)]
        points = critical_points(hills, HILLS_BOUNDS, seed=0, progress=False, n_starts=64,
                                 grad=counters[0], hess=counters[1])
        return [(p.x, p.kind) for p in points], counters

    def ours_diff():
        return [(p.x, p.kind) for p in critical_points(hills, HILLS_BOUNDS, seed=0, progress=False,
                                                       n_starts=64)], None

    def scipy_root():
        counters = [Counted(hills_gradient), Counted(hills_hessian)]
        return _scipy_multistart(starts, counters), counters

    t_ours = median_time(ours_exact, repeats=repeats)
    for label, run in (("bayescalc critical_points, exact grad/hess", ours_exact),
                       ("bayescalc critical_points, bayescalc.diff (autodiff)", ours_diff),
                       ("scipy.optimize.root (hybr) multistart, exact grad/hess",
                        scipy_root)):
        points, counters = run()
        evals = "/".join(str(c.calls) for c in counters) if counters else "(diff)"
        elapsed = t_ours if run is ours_exact else median_time(run, repeats=1 if run is
                                                                ours_diff else repeats)
        table.add(label, len(points), _score(points), evals, elapsed / t_ours)
    table.notes.append("scipy's starts are the same scrambled Halton points (seed 0) ours "
                       "draws; its roots are merged and classified by the same rules")
    return table


def main(quick: bool) -> None:
    threads = set_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = [minimize_table(quick), first_order_table(quick),
                  critical_points_table(quick)]
    write_results("optim", tables, threads=threads)


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
