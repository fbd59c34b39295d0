"""
The evidence of hierarchical posteriors: one coordinate by quadrature, the rest by Laplace
==========================================================================================


Neal's funnel and the centred eight schools defeat every joint approximation: the
scale of the group parameters changes by orders of magnitude with one hyperparameter
(v, or tau). Given that hyperparameter they are Gaussian, so
``evidence(method="conditional")`` integrates it by the trapezoid rule and the others by
the Laplace approximation at the conditional mode, corrected by importance sampling.

1. The 10-d funnel (log Z = 0 exactly) and both parameterizations of the eight schools
   (log Z by 30-digit quadrature): ``conditional`` against ``laplace`` and
   ``importance`` from the joint mode, with evaluations.
2. The funnel's profile ``log Z(v)`` from the grid: it is ``log N(v; 0, 3^2)`` exactly,
   the marginal of v; and the eight schools' ``log Z(log tau)``.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np

from bayescalc import models
from bayescalc.plot import new_figure, save_figure
from bayescalc.posterior import evidence


def main(out_dir, quick=False) -> dict:
    out_dir = Path(out_dir)
    problems = [("funnel(10)", models.funnel(10)),
                ("eight_schools(centered=True)", models.eight_schools(centered=True)),
                ("eight_schools(centered=False)", models.eight_schools(centered=False))]
    print(f"{'model':<30} {'method':<12} {'log Z - exact':>14} {'error':>9} {'evals':>7}  ok")
    grids, summary = {}, {}
    for name, model in problems:
        for method in ("laplace", "importance", "conditional"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = evidence(model, method=method, seed=0)
            print(f"{name:<30} {method:<12} {r.log_z - model.log_z_exact:>+14.2e} "
                  f"{r.error:>9.1e} {r.n_evals:>7}  {'yes' if r.success else 'no'}")
            if method == "conditional":
                grids[name] = (model, r)
                summary[f"{name} conditional error"] = abs(r.log_z - model.log_z_exact)
    fig, axes = new_figure(2, size=(5.0, 4.0))
    model, r = grids["funnel(10)"]
    h, log_zh = np.array(r.diagnostics["grid"]).T
    keep = log_zh > log_zh.max() - 20
    axes[0].plot(h[keep], log_zh[keep] - r.log_z, "o", ms=3, color="C0",
                 label="grid nodes: log Z(v) - log Z")
    v = np.linspace(h[keep].min(), h[keep].max(), 400)
    axes[0].plot(v, -0.5 * (v / 3) ** 2 - math.log(3 * math.sqrt(2 * math.pi)), "k--", lw=1,
                 label="log N(v; 0, 3^2)")
    axes[0].set(xlabel="v", ylabel="log density", title="funnel(10): the profile along v")
    axes[0].legend(fontsize=7)
    for name, color in [("eight_schools(centered=True)", "C3"),
                        ("eight_schools(centered=False)", "C2")]:
        model, r = grids[name]
        h, log_zh = np.array(r.diagnostics["grid"]).T
        keep = log_zh > log_zh.max() - 20
        axes[1].plot(h[keep], log_zh[keep] - r.log_z, ".-", ms=3, lw=0.8, color=color,
                     label=name.replace("eight_schools", "schools"))
    axes[1].set(xlabel="log tau (unconstrained)", ylabel="log Z(h) - log Z",
                title="eight schools: the profile along log tau")
    axes[1].legend(fontsize=7)
    save_figure(fig, out_dir, "hierarchical_evidence")
    return summary


FIGURES = {"hierarchical_evidence": "The profiles log Z(h) that the conditional method "
           "integrates: along v the funnel's profile is the N(0, 3^2) marginal itself, and "
           "along log tau the two eight-schools parameterizations give the same curve."}


if __name__ == "__main__":
    main(out_dir=Path("out/examples") / "hierarchical_evidence", quick="--quick" in sys.argv)
