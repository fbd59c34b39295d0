"""
Reference models and Model constructors: exact evidences, shapes, and Pyro vectorized
=====================================================================================


1. Every model of ``bayescalc.models``: its dimension and ``log_z_exact``; for the 2-D
   ones, log Z again by a brute-force grid over the unconstrained plane (the model's own
   ``log_joint``, log-sum-exp), which should agree to ~1e-6.
2. The posterior densities of the banana, the bimodal mixture, the 2-D Gaussian shells
   and the 2-D funnel (contours, in the constrained space).
3. ``Model.from_pyro`` on a Pyro linear regression: the largest difference of its
   ``log_joint`` from the hand-written model's, and the speed-up of the vectorized
   evaluation over the per-particle loop.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bayescalc import Model, models
from bayescalc.plot import new_figure, save_figure


def grid_log_z(model, box, m=801):
    """log Z by a trapezoid grid over a box of the unconstrained plane (2-D models)."""
    axes = [np.linspace(lo, hi, m) for lo, hi in box]
    xx, yy = np.meshgrid(*axes, indexing="ij")
    z = torch.as_tensor(np.column_stack([xx.ravel(), yy.ravel()]))
    with torch.no_grad():
        lj = model.log_joint(z).numpy().reshape(m, m)
    h = [(hi - lo) / (m - 1) for lo, hi in box]
    w = np.ones(m)
    w[[0, -1]] = 0.5
    top = lj.max()
    return float(top + math.log((np.exp(lj - top) * np.outer(w, w)).sum() * h[0] * h[1]))


def part_catalogue(out_dir, quick) -> dict:
    catalogue = [
        ("conjugate_normal_mean()", models.conjugate_normal_mean(), None),
        ("beta_binomial()", models.beta_binomial(), None),
        ("linear_regression(5)", models.linear_regression(5), None),
        ("linear_regression(5, noise='unknown')", models.linear_regression(5, noise="unknown"),
         None),
        ("logistic_regression(100, 2)", models.logistic_regression(100, 2), [(-2, 3), (-2, 3)]),
        ("eight_schools()", models.eight_schools(), None),
        ("funnel(10)", models.funnel(10), None),
        ("banana()", models.banana(), [(-4, 2), (-3, 3)]),
        ("bimodal_mixture()", models.bimodal_mixture(), [(-7, 7), (-7, 7)]),
        ("gaussian_shells(2)", models.gaussian_shells(2), [(-4, 4), (-2, 2)]),
        ("gaussian_shells(10)", models.gaussian_shells(10), None),
        ("correlated_gaussian(32)", models.correlated_gaussian(32), None),
    ]
    print("1. reference models: log_z_exact (and a brute-force grid for the 2-D ones)")
    worst = 0.0
    for name, model, box in catalogue:
        line = f"   {name:40s} d = {model.dim:2d}  log Z = {model.log_z_exact:14.6f}"
        if box is not None:
            grid = grid_log_z(model, box, m=401 if quick else 1201)
            worst = max(worst, abs(grid - model.log_z_exact))
            line += f"   grid {grid:14.6f}"
        print(line)
    return {"grid_max_abs_diff": worst}


def part_figures(out_dir) -> None:
    panels = [("banana", models.banana(), (-3.5, 1.8), (-2.5, 2.5)),
              ("bimodal mixture", models.bimodal_mixture(), (-5, 4.5), (-4, 3.5)),
              ("Gaussian shells (d = 2)", models.gaussian_shells(2), (-6, 6), (-3, 3)),
              ("funnel (d = 2)", models.funnel(2), (-8, 8), (-4, 4))]
    fig, axes = new_figure(4, size=(3.6, 3.4))
    for ax, (title, model, (x0, x1), (y0, y1)) in zip(axes, panels, strict=False):
        x, y = np.linspace(x0, x1, 300), np.linspace(y0, y1, 300)
        xx, yy = np.meshgrid(x, y, indexing="ij")
        theta = torch.as_tensor(np.column_stack([xx.ravel(), yy.ravel()]))
        if title.startswith("funnel"):        # axes: x horizontal, v vertical
            theta = theta[:, [1, 0]]
        with torch.no_grad():
            lp = (model._log_prior(theta) + model._log_likelihood(theta)).numpy()
        dens = np.exp(lp - lp.max()).reshape(xx.shape)
        ax.contourf(xx, yy, dens, levels=12, cmap="viridis")
        ax.set_title(title)
        ax.set_xlabel("x" if title.startswith("funnel") else "theta[0]")
        ax.set_ylabel("v" if title.startswith("funnel") else "theta[1]")
    save_figure(fig, out_dir, "reference_models")


def _pyro_linreg(X, y):
    import pyro
    import pyro.distributions as dist

    beta = pyro.sample("beta", dist.Normal(torch.zeros(X.shape[1], dtype=torch.float64), 1.0)
                       .to_event(1))
    with pyro.plate("data", X.shape[0]):
        pyro.sample("y", dist.Normal((X * beta).sum(-1), 1.0), obs=y)


def part_pyro(quick) -> dict:
    ref = models.linear_regression(d=5, n=100, seed=0)
    m = Model.from_pyro(_pyro_linreg, ref.X, ref.y)
    n = 200 if quick else 1000
    z = ref.sample_prior(n, seed=1)
    diff = float((m.log_joint(z) - ref.log_joint(z)).abs().max())
    start = time.perf_counter()
    m.log_joint(z)
    vec = time.perf_counter() - start
    density = m._log_prior_and_likelihood
    density.vectorized = False
    start = time.perf_counter()
    m.log_joint(z[:100])
    loop = (time.perf_counter() - start) * n / 100
    density.vectorized = True
    print(f"3. Model.from_pyro, linear regression d = 5, N = 100, {n} particles:")
    print(f"   max |log_joint(pyro) - log_joint(hand-written)| = {diff:.1e}")
    print(f"   vectorized {vec:.3f} s, per-particle loop {loop:.3f} s: {loop / vec:.0f}x")
    return {"pyro_max_abs_diff": diff, "pyro_speedup": loop / vec}


def main(out_dir, quick=False) -> dict:
    out_dir = Path(out_dir)
    torch.set_num_threads(1)
    summary = part_catalogue(out_dir, quick)
    part_figures(out_dir)
    print("2. figure: reference_models.png")
    summary.update(part_pyro(quick))
    return summary


if __name__ == "__main__":
    main(out_dir=Path("out/examples") / "reference_models", quick="--quick" in sys.argv)
