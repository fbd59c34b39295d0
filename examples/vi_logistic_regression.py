"""
Variational inference for Bayesian logistic regression: ELBO curve and marginals
================================================================================


A seeded logistic regression (N = 10,000 rows, D = 20; 2,000 rows with --quick) with a
N(0, 1) prior. ``bc.vi.fit`` starts from the Laplace approximation, whitens by it and
runs ADVI (full rank); Batch-and-Match reaches the same Gaussian in a few hundred
gradient evaluations; Pyro's SVI (Trace_ELBO + AutoMultivariateNormal, same Adam budget)
runs beside them. The reference marginals come from self-normalized importance sampling
with a Student-t proposal around the mode (exact as the draws grow; its PSIS k-hat is
printed).
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

import bayescalc as bc
from bayescalc.integrate import psis_khat
from bayescalc.plot import new_figure, save_figure


def make_model(n, d=20, seed=0):
    g = np.random.default_rng(seed)
    X = torch.as_tensor(g.standard_normal((n, d)))
    beta = 0.5 * g.standard_normal(d)
    y = torch.as_tensor((g.random(n) < 1 / (1 + np.exp(-X.numpy() @ beta))).astype(float))

    def log_lik(t):
        eta = t @ X.T
        return (y * eta - torch.nn.functional.softplus(eta)).sum(-1)

    def log_prior(t):
        return -0.5 * (t**2).sum(-1) - 0.5 * d * math.log(2 * math.pi)

    return bc.Model(log_prior, log_lik, d), X, y


def reference_draws(model, center, cov, n, seed=1):
    """Importance resampling from a multivariate t (3 dof) around the mode."""
    t = torch.distributions.MultivariateNormal(center, 1.5 * cov)
    g = torch.Generator().manual_seed(seed)
    chi = torch.distributions.Chi2(torch.tensor(3.0, dtype=torch.float64))
    torch.manual_seed(seed)
    w = chi.sample((n,)) / 3.0
    z = center + (t.sample((n,)) - center) / w.sqrt()[:, None]
    d = center.shape[0]
    diff = z - center
    L = torch.linalg.cholesky(1.5 * cov)
    m = torch.cholesky_solve(diff.T, L).T.mul(diff).sum(-1)
    log_q = -0.5 * (3 + d) * torch.log1p(m / 3)              # up to a constant
    with torch.no_grad():
        lw = model.log_joint(z) - log_q
    p = torch.softmax(lw, 0)
    idx = torch.multinomial(p, n, replacement=True, generator=g)
    return z[idx], psis_khat(lw.numpy())


def pyro_fit(X, y, steps):
    import pyro
    import pyro.distributions as dist
    from pyro.infer import SVI, Trace_ELBO
    from pyro.infer.autoguide import AutoMultivariateNormal

    d = X.shape[1]

    def model():
        beta = pyro.sample("beta", dist.Normal(torch.zeros(d, dtype=torch.float64), 1.0)
                           .to_event(1))
        with pyro.plate("data", X.shape[0]):
            pyro.sample("y", dist.Bernoulli(logits=X @ beta), obs=y)

    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    guide = AutoMultivariateNormal(model)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.01}), Trace_ELBO())
    history = [-svi.step() for _ in range(steps)]
    L = (guide.scale[:, None] * guide.scale_tril).detach()
    return guide.loc.detach(), L @ L.T, history


def main(out_dir, quick=False) -> dict:
    out_dir = Path(out_dir)
    torch.set_num_threads(1)
    model, X, y = make_model(2000 if quick else 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        advi = bc.vi.fit(model, "fullrank", seed=0, progress=False)
        bam = bc.vi.fit(model, "fullrank", method="bam", seed=0, progress=False)
    ref, ref_khat = reference_draws(model, advi.mean, advi.cov, 20_000 if quick else 100_000)
    pyro_steps = 300 if quick else 3000
    p_loc, p_cov, p_hist = pyro_fit(X, y, pyro_steps)

    fig, axes = new_figure(2, size=(5.0, 3.6))
    axes[0].plot(advi.elbo_history, lw=0.6, label=f"bayescalc ADVI ({advi.n_steps} steps)")
    axes[0].plot(p_hist, lw=0.6, alpha=0.7, label=f"Pyro SVI ({pyro_steps} steps)")
    axes[0].axhline(advi.elbo, color="k", ls="--", lw=0.8, label="final ELBO")
    axes[0].set_ylim(advi.elbo - 60, advi.elbo + 5)
    axes[0].set(xlabel="step", ylabel="ELBO estimate", title="ELBO per step")
    axes[0].legend(fontsize=7)
    for j, col in enumerate(["C0", "C1", "C2"]):
        r = ref[:, j].numpy()
        axes[1].hist(r, bins=60, density=True, color=col, alpha=0.3)
        grid = np.linspace(r.min(), r.max(), 200)
        fits = [(advi.mean[j], advi.cov[j, j], "-"), (bam.mean[j], bam.cov[j, j], ":"),
                (p_loc[j], p_cov[j, j], "--")]
        for mean, var, ls in fits:
            dens = np.exp(-0.5 * (grid - float(mean))**2 / float(var)) / math.sqrt(
                2 * math.pi * float(var))
            axes[1].plot(grid, dens, ls, color=col, lw=1)
    axes[1].set(title="marginals: reference (hist), ADVI (-), BaM (:), Pyro (--)",
                xlabel="beta_j")
    axes[1].title.set_fontsize(7)
    save_figure(fig, out_dir, "vi_logistic_regression")
    sd = ref.std(0)
    summary = {
        "advi_elbo": advi.elbo, "bam_elbo": bam.elbo,
        "advi_grad_evals": advi.n_grad_evals, "bam_grad_evals": bam.n_grad_evals,
        "advi_khat": advi.khat, "reference_khat": float(ref_khat),
        "advi_max_mean_error_sd": float(((advi.mean - ref.mean(0)).abs() / sd).max()),
        "pyro_max_mean_error_sd": float(((p_loc - ref.mean(0)).abs() / sd).max()),
    }
    for k, v in summary.items():
        print(f"{k:>24}: {v:.4g}")
    return summary


if __name__ == "__main__":
    main(out_dir=Path("out/examples") / "vi_logistic_regression", quick="--quick" in sys.argv)
