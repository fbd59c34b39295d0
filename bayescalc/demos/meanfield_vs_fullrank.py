"""Mean-field against full-rank Gaussian VI on a correlated 2-D Gaussian (rho = 0.9).

For a Gaussian target N(0, S) the best mean-field q has precisions equal to the
diagonal of the target's precision P = S^-1: variances 1 / P_ii = 1 - rho^2 = 0.19
instead of the true 1. Mean-field VI underestimates the marginal variances (by 81 %
here); full-rank VI is exact. Contours of the target and both fits are drawn.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

import bayescalc as bc
from bayescalc.plot import new_figure, save_figure

RHO = 0.9
TITLE = "Variational inference: mean-field against full-rank on a correlated Gaussian"
FIGURES = {
    "meanfield_vs_fullrank": (
        "Contours (1 and 2 sd) of a correlated 2-D Gaussian target (thick grey, rho = 0.9), "
        "the best mean-field Gaussian (red) and the full-rank fit (dashed blue). Full-rank "
        "VI lies on the target; mean-field VI is too narrow along each axis: its variance is the "
        "closed form 1 - rho^2 = 0.19 instead of 1 (KL(q || p) punishes mass where p has "
        "none, so q hides inside p)."),
}


def make_model():
    cov = torch.tensor([[1.0, RHO], [RHO, 1.0]], dtype=torch.float64)
    target = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov)
    zero = torch.zeros((), dtype=torch.float64)
    return bc.Model(target.log_prob, lambda t: zero.expand(t.shape[0]), 2,
                    log_z_exact=0.0), cov


def _contour(ax, mean, cov, color, label, **style):
    xs = np.linspace(-3, 3, 200)
    X, Y = np.meshgrid(xs, xs)
    pts = np.stack([X - mean[0], Y - mean[1]], -1)
    P = np.linalg.inv(cov)
    m = np.einsum("...i,ij,...j->...", pts, P, pts)
    ax.contour(X, Y, m, levels=[1.0, 4.0], colors=color, linewidths=style.get("lw", 1.5),
               linestyles=style.get("ls", "solid"), alpha=style.get("alpha", 1.0))
    ax.plot([], [], color=color, label=label, lw=style.get("lw", 1.5),
            ls=style.get("ls", "solid"), alpha=style.get("alpha", 1.0))


def main(out_dir, quick=False, seed=0) -> dict:
    out_dir = Path(out_dir)
    model, cov = make_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = bc.vi.fit(model, "meanfield", seed=seed, progress=False)
        fr = bc.vi.fit(model, "fullrank", seed=seed, progress=False)
    fig, ax = new_figure(size=(5.0, 5.0))
    # the full-rank fit lies on the target: a thick grey target under a dashed fit
    _contour(ax, np.zeros(2), cov.numpy(), "0.25", "target p (1 and 2 sd)", lw=4.0, alpha=0.45)
    _contour(ax, mf.mean.numpy(), mf.cov.numpy(), "C3", "mean-field q")
    _contour(ax, fr.mean.numpy(), fr.cov.numpy(), "C0", "full-rank q (on the target)",
             ls="dashed")
    ax.set(aspect="equal", xlabel="z1", ylabel="z2",
           title=f"rho = {RHO}: mean-field variance {float(mf.cov[0, 0]):.3f} vs true 1")
    ax.legend(fontsize=8, loc="upper left")
    save_figure(fig, out_dir, "meanfield_vs_fullrank")
    summary = {"meanfield_var": float(mf.cov[0, 0]), "closed_form_var": 1 - RHO**2,
               "fullrank_var": float(fr.cov[0, 0]), "fullrank_cov": float(fr.cov[0, 1]),
               "meanfield_gap": mf.gap, "fullrank_gap": fr.gap,
               "meanfield_khat": mf.khat, "fullrank_khat": fr.khat}
    for k, v in summary.items():
        print(f"{k:>16}: {v:.4g}")
    return summary

