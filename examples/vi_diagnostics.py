"""
When VI fails, k-hat says so: Neal's funnel against a Gaussian
==============================================================


Neal's funnel in 10 dimensions (v ~ N(0, 3^2), x_i | v ~ N(0, e^v)) has scales that
change by orders of magnitude along v. A mean-field (or full-rank) Gaussian cannot
follow it: its ELBO looks unremarkable, but the PSIS k-hat of log p - log q is far above
0.7, flagging the fit as unreliable (Yao et al. 2018). On a correlated Gaussian target
the full-rank fit is exact and k-hat is below 0.5. The figure shows draws of q over the
funnel's (v, x_1) neck and the log-weight tails of both fits.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.distributions import MultivariateNormal, Normal

import bayescalc as bc
from bayescalc.plot import new_figure, save_figure


def funnel(d=10):
    def log_p(t):
        v, x = t[:, 0], t[:, 1:]
        return (Normal(0.0, 3.0).log_prob(v) +
                Normal(torch.zeros_like(x), torch.exp(v / 2)[:, None]).log_prob(x).sum(-1))
    zero = torch.zeros((), dtype=torch.float64)
    return bc.Model(log_p, lambda t: zero.expand(t.shape[0]), d, log_z_exact=0.0)


def gaussian(d=10):
    cov = 0.5 * torch.eye(d, dtype=torch.float64) + 0.5
    target = MultivariateNormal(torch.zeros(d, dtype=torch.float64), cov)
    zero = torch.zeros((), dtype=torch.float64)
    return bc.Model(target.log_prob, lambda t: zero.expand(t.shape[0]), d, log_z_exact=0.0)


def main(out_dir, quick=False) -> dict:
    out_dir = Path(out_dir)
    fm, gm = funnel(), gaussian()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f_mf = bc.vi.fit(fm, "meanfield", seed=0, progress=False, steps=1000 if quick else 5000)
        f_fr = bc.vi.fit(fm, "fullrank", seed=0, progress=False, steps=1000 if quick else 5000)
        g_fr = bc.vi.fit(gm, "fullrank", seed=0, progress=False)
    fig, axes = new_figure(2, size=(5.0, 4.0))
    g = torch.Generator().manual_seed(0)
    v = 3 * torch.randn(3000, generator=g, dtype=torch.float64)
    x = torch.exp(v / 2) * torch.randn(3000, generator=g, dtype=torch.float64)
    axes[0].scatter(v, x, s=2, c="k", alpha=0.3, label="funnel draws")
    z = f_mf.sample(3000, seed=1)
    axes[0].scatter(z[:, 0], z[:, 1], s=2, c="C3", alpha=0.4,
                    label=f"mean-field q (k-hat {f_mf.khat:.2f})")
    axes[0].set(xlim=(-9, 9), ylim=(-20, 20), xlabel="v", ylabel="x_1", title="Neal's funnel")
    axes[0].legend(fontsize=7, markerscale=4)
    for r, label, col in [(f_mf, "funnel, mean-field", "C3"), (f_fr, "funnel, full-rank", "C1"),
                          (g_fr, "Gaussian, full-rank", "C0")]:
        model = r.diagnostics["model"]
        with torch.no_grad():
            zz = r.sample(4000, seed=2)
            lw = (model.log_joint(zz) - r.approx.log_prob(zz)).numpy()
        lw = np.sort(lw - lw.max())[::-1][:200]
        axes[1].plot(np.arange(1, 201), lw, color=col, label=f"{label}: k-hat {r.khat:.2f}")
    axes[1].set(xscale="log", xlabel="rank of the weight", ylabel="log w - max log w",
                title="largest importance weights")
    axes[1].legend(fontsize=7)
    save_figure(fig, out_dir, "vi_diagnostics")
    summary = {"funnel_meanfield_khat": f_mf.khat, "funnel_fullrank_khat": f_fr.khat,
               "gaussian_fullrank_khat": g_fr.khat, "funnel_meanfield_gap": f_mf.gap,
               "gaussian_fullrank_gap": g_fr.gap}
    for k, v in summary.items():
        print(f"{k:>24}: {v:.4g}")
    return summary


if __name__ == "__main__":
    main(out_dir=Path("out/examples") / "vi_diagnostics", quick="--quick" in sys.argv)
