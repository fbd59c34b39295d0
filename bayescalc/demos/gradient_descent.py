"""Minima and maxima depend on the start: gradient descent on a surface with many of each.

The notes: "we can have multiple local maxima and minima, but only one global minimum
and one global maximum; the slope at a maximum or minimum is zero; based on the
initialization, [descent] takes a minimum or a maximum."

1. Gradient descent on the hills surface f(x, y) = P(x) + Q(y) (six minima, two maxima,
   seven saddles, all known in closed form) from five starts: each path ends in the
   minimum whose basin it started in; the start decides. Gradient ascent (``maximize``)
   from two starts climbs to one maximum or the other.
2. ``critical_points`` finds every stationary point (∇f = 0) from seeded starts and
   classifies each by its Hessian eigenvalues; checked against the analytic list, with
   the global minimum and maximum named.
3. The six update rules (gd, momentum, nesterov, adam, newton, lbfgs) on Rosenbrock's
   valley from (-1.2, 1): the steps each needs to reach |∇f| <= 1e-6.

Derivatives come from ``bayescalc.diff`` (autodiff: the surfaces are plain arithmetic)
except in part 3, where Rosenbrock's closed-form gradient keeps 17,000 gd steps quick,
and in the quick run (the tour), which uses the closed-form derivatives of hills too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm

from bayescalc.optim import critical_points, maximize, minimize
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
from bayescalc.plot import save_figure
from bayescalc.plot.optim import plot_convergence, plot_optimization_paths

TITLE = "Gradient descent and critical points: the start decides which minimum"
FIGURES = {
    "hills_paths_and_critical_points": (
        "Contours of the hills surface with every stationary point that critical_points "
        "found, marked by kind (minimum, maximum, saddle), and the paths of gradient "
        "descent from five starts and gradient ascent from two. Each descent path ends in "
        "the minimum of the basin it started in: five starts, five different minima. "
        "Only one of them is the global minimum."),
    "rosenbrock_paths": (
        "The update rules on Rosenbrock's curved valley from (-1.2, 1) to the minimum at "
        "(1, 1), on log-spaced contours: first-order rules (gradient descent, momentum, "
        "Nesterov, Adam) crawl along the valley floor; Newton and L-BFGS use curvature and "
        "cut across it."),
    "rosenbrock_convergence": (
        "f(x_k) - f* against the step k (log scale) for each rule: the curvature-aware "
        "rules (Newton, L-BFGS) reach 1e-10 in tens of steps; the first-order ones need "
        "thousands."),
}

STARTS = [(1.6, 1.0), (-0.5, -0.5), (-2.9, 1.9), (0.6, 1.9), (-1.9, -1.4)]
ASCENT_STARTS = [(-1.0, 0.3), (0.7, -0.2)]
# (lr, max_steps) on Rosenbrock: the budgets tests/test_optim_minimize.py holds them to.
ROSENBROCK_RUNS = {"gd": (1.9e-3, 20_000), "momentum": (1e-3, 4_000),
                   "nesterov": (1e-3, 4_000), "adam": (None, 7_000), "newton": (None, 30),
                   "lbfgs": (None, 80)}


def _clean(value, digits=6):
    """Rounded, without the sign of a rounded-away tiny negative (-0.0 -> 0.0)."""
    return round(float(value), digits) + 0.0


def _nearest(x, points):
    distances = [np.max(np.abs(np.asarray(x) - p)) for p, _ in points]
    i = int(np.argmin(distances))
    return points[i], distances[i]


def descents(out_dir, derivatives) -> tuple[dict, list]:
    """Part 1: gd from five starts on hills; where each ends."""
    exact = hills_stationary_points()
    print("1. gradient descent (lr = 0.02) on the hills surface from five starts")
    runs, summary = [], {}
    for index, start in enumerate(STARTS):
        run = minimize(hills, np.array(start), method="gd", lr=0.02, max_steps=5_000,
                       grad=derivatives.get("grad"))
        (point, kind), distance = _nearest(run.x, exact)
        print(f"   start ({start[0]:5.2f}, {start[1]:5.2f}) -> ({_clean(run.x[0]):.6f}, "
              f"{_clean(run.x[1]):.6f})  f = {run.fun:9.6f}  {kind} at ({point[0]:g}, {point[1]:g})"
              f"  in {run.n_steps} steps")
        runs.append(run)
        summary[f"descent_{index + 1}_end"] = [_clean(v) for v in run.x]
    ends = {tuple(np.round(r.x, 4)) for r in runs}
    print(f"   {len(STARTS)} starts reached {len(ends)} different minima: the start decides")
    summary["distinct_minima_reached"] = len(ends)
    print("   gradient ascent (maximize, gd, lr = 0.02) from two starts:")
    for index, start in enumerate(ASCENT_STARTS):
        run = maximize(hills, np.array(start), method="gd", lr=0.02, max_steps=5_000,
                       grad=derivatives.get("grad"))
        (point, kind), _ = _nearest(run.x, exact)
        print(f"   start ({start[0]:5.2f}, {start[1]:5.2f}) -> ({_clean(run.x[0]):.6f}, "
              f"{_clean(run.x[1]):.6f})  f = {run.fun:9.6f}  {kind} at ({point[0]:g}, "
              f"{point[1]:g})  in {run.n_steps} steps")
        runs.append(run)
        summary[f"ascent_{index + 1}_end"] = [_clean(v) for v in run.x]
    return summary, runs


def stationary_points(out_dir, runs, derivatives, seed=0) -> dict:
    """Part 2: every stationary point found, classified, checked, the global ones named."""
    points = critical_points(hills, HILLS_BOUNDS, seed=seed, progress=False, **derivatives)
    exact = hills_stationary_points()
    print(f"2. critical_points(hills, bounds, seed={seed}): {len(points)} stationary points "
          f"(the analytic list has {len(exact)})")
    correct = 0
    for p in points:
        (point, kind), distance = _nearest(p.x, exact)
        correct += kind == p.kind and distance < 1e-8
        flag = ("  <- global minimum" if p.is_global_minimum else
                "  <- global maximum" if p.is_global_maximum else "")
        eigenvalues = ", ".join(f"{_clean(v, 4):8.4f}" for v in p.hessian_eigenvalues)
        print(f"   ({_clean(p.x[0], 2):5.2f}, {_clean(p.x[1], 2):5.2f})  "
              f"f = {_clean(p.value):9.6f}  {p.kind:8s} "
              f"eigenvalues [{eigenvalues}]{flag}")
    counts = {kind: sum(p.kind == kind for p in points)
              for kind in ("minimum", "maximum", "saddle", "degenerate")}
    (global_min,) = [p for p in points if p.is_global_minimum]
    (global_max,) = [p for p in points if p.is_global_maximum]
    print(f"   {counts['minimum']} minima, {counts['maximum']} maxima, {counts['saddle']} "
          f"saddles; {correct} of {len(exact)} match the analytic list in place and kind")
    print(f"   global minimum f({_clean(global_min.x[0]):g}, {_clean(global_min.x[1]):g}) = "
          f"{global_min.value:.6f}; global maximum f({_clean(global_max.x[0]):g}, "
          f"{_clean(global_max.x[1]):g}) = {global_max.value:.6f} "
          "(among the stationary points)")
    fig = plot_optimization_paths(
        hills, HILLS_BOUNDS, results=runs, points=points,
        labels=[f"descent from ({s[0]:g}, {s[1]:g})" for s in STARTS]
        + [f"ascent from ({s[0]:g}, {s[1]:g})" for s in ASCENT_STARTS],
        title="hills: descent and ascent paths, every stationary point")
    save_figure(fig, out_dir, "hills_paths_and_critical_points")
    return {"n_critical_points": len(points), "n_correct": int(correct), **counts,
            "global_minimum": [_clean(v) for v in global_min.x],
            "global_minimum_value": _clean(global_min.value),
            "global_maximum": [_clean(v) for v in global_max.x]}


def update_rules(out_dir, quick: bool) -> dict:
    """Part 3: the six rules on Rosenbrock from (-1.2, 1) (five in the quick run)."""
    if quick:
        print("3. five of the six update rules on Rosenbrock from (-1.2, 1), to "
              "|grad f| <= 1e-6 (gd's 17,000 steps are in the full run)")
    else:
        print("3. the six update rules on Rosenbrock from (-1.2, 1), to |grad f| <= 1e-6")
    runs, summary = [], {}
    for method, (lr, budget) in ROSENBROCK_RUNS.items():
        if quick and method == "gd":
            continue  # 17,000 steps: the full run shows it
        run = minimize(rosenbrock, np.array([-1.2, 1.0]), method=method, lr=lr,
                       max_steps=budget, grad=rosenbrock_gradient, hess=rosenbrock_hessian)
        lr_text = f"{lr:g}" if lr is not None else "default"
        print(f"   {method:9s} lr = {lr_text:8s} {run.n_steps:6d} steps  "
              f"|x - (1, 1)| = {np.linalg.norm(run.x - 1.0):.1e}  success {run.success}")
        runs.append(run)
        summary[f"rosenbrock_steps_{method}"] = run.n_steps
    fig = plot_optimization_paths(rosenbrock, [(-1.5, 1.5), (-0.6, 1.6)], results=runs,
                                  labels=[r.method for r in runs], levels=np.logspace(-2, 3, 21),
                                  norm=LogNorm(1e-2, 1e3),
                                  title=f"Rosenbrock: {len(runs)} update rules from (-1.2, 1)")
    save_figure(fig, out_dir, "rosenbrock_paths")
    fig = plot_convergence(runs, optimum=0.0, title="Rosenbrock: f(x_k) - f* against step")
    save_figure(fig, out_dir, "rosenbrock_convergence")
    return summary


def main(out_dir, quick: bool = False, seed: int = 0) -> dict:
    """Run the three parts, save the figures under ``out_dir``; return the numbers.

    ``seed`` seeds the random starts of ``critical_points``.
    """
    out_dir = Path(out_dir)
    # The quick run uses hills' closed-form derivatives: same points, faster.
    derivatives = {"grad": hills_gradient, "hess": hills_hessian} if quick else {}
    summary, runs = descents(out_dir, derivatives)
    summary.update(stationary_points(out_dir, runs, derivatives, seed=seed))
    summary.update(update_rules(out_dir, quick))
    return summary


