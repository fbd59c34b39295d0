"""Batch-and-Match (Cai, Modi, Pillaud-Vivien, Margossian, Gower, Blei, Saul; ICML 2024).

Each iteration draws a batch ``z_b ~ N(mu, Sigma)`` with scores ``g_b = grad log p(z_b)``
and solves, in closed form, a proximal problem that matches the scores (a score-based
divergence) while staying close to the current Gaussian (KL, step size ``lambda``):

    U = lambda Gamma + lambda / (1 + lambda) gbar gbar^T
    V = Sigma + lambda C + lambda / (1 + lambda) (mu - zbar)(mu - zbar)^T
    Sigma' = 2 V [I + (I + 4 U V)^(1/2)]^-1
    mu'    = mu / (1 + lambda) + lambda / (1 + lambda) (Sigma' gbar + zbar)

with ``zbar, C`` the batch mean and covariance of the draws and ``gbar, Gamma`` those of
the scores. ``(I + 4UV)^(1/2)`` is computed in the symmetric form
``Sigma' = 2 V^(1/2) [I + (I + 4 V^(1/2) U V^(1/2))^(1/2)]^-1 V^(1/2)``. For a Gaussian
target and ``lambda -> inf`` one step with ``B > d`` draws is exact; the step sizes
``lambda_t = lambda_0 / (t + 1)`` average out the batch noise on other targets.
"""

from __future__ import annotations

import math

import torch

from .._core.progress import progress_bar
from .families import FullRankNormal


def _sym_sqrt(M):
    evals, evecs = torch.linalg.eigh(0.5 * (M + M.T))
    return (evecs * evals.clamp_min(0).sqrt()) @ evecs.T


def bam_update(mu, Sigma, z, g, lam):
    """One Batch-and-Match update of ``(mu, Sigma)`` from draws ``z`` and scores ``g``."""
    B, d = z.shape
    zbar, gbar = z.mean(0), g.mean(0)
    zc, gc = z - zbar, g - gbar
    C, Gam = zc.T @ zc / B, gc.T @ gc / B
    r = lam / (1.0 + lam)
    U = lam * Gam + r * torch.outer(gbar, gbar)
    dm = mu - zbar
    V = Sigma + lam * C + r * torch.outer(dm, dm)
    Vh = _sym_sqrt(V)
    eye = torch.eye(d, dtype=z.dtype, device=z.device)
    S = _sym_sqrt(eye + 4.0 * Vh @ U @ Vh)
    Sigma_new = 2.0 * Vh @ torch.linalg.solve(eye + S, Vh)
    Sigma_new = 0.5 * (Sigma_new + Sigma_new.T)
    mu_new = mu / (1.0 + lam) + r * (Sigma_new @ gbar + zbar)
    return mu_new, Sigma_new


def batch_and_match(cm, dim, start, approx, *, steps, lam0, batch, generator, progress,
                    callback, tol, device):
    """The BaM loop. Returns ``(q, history, n_steps, converged, message, diagnostics)``."""
    if start is not None:
        mu, Sigma = start.mode.clone(), start.cov.clone()
    elif approx is not None:
        mu, Sigma = approx.mean.detach().clone(), approx.covariance.detach().clone()
    else:
        mu = torch.zeros(dim, dtype=torch.float64, device=device)
        Sigma = torch.eye(dim, dtype=torch.float64, device=device)
    B = int(batch) if batch is not None else max(16, 2 * dim)
    lam0 = float(lam0) if lam0 is not None else float(B * dim)
    history = []
    converged, message = False, f"the budget of {steps} BaM iterations ran out"
    bar = progress_bar(steps, enabled=progress, desc="vi.fit (bam)")
    good = (mu.clone(), Sigma.clone())
    t = 0
    small = 0
    const = 0.5 * dim * (1.0 + math.log(2 * math.pi))
    try:
        while t < steps:
            L = torch.linalg.cholesky(Sigma)
            eps = torch.randn((B, dim), dtype=torch.float64, device=device,
                              generator=generator)
            z = mu + eps @ L.T
            lp, g = cm.log_joint_and_grad(z)
            if not (bool(torch.isfinite(lp).all()) and bool(torch.isfinite(g).all())):
                keep = torch.isfinite(lp) & torch.isfinite(g).all(-1)
                if int(keep.sum()) < 2:
                    mu, Sigma = good
                    message = f"non-finite log density at BaM iteration {t}: stopped"
                    break
                z, lp, g = z[keep], lp[keep], g[keep]
            history.append(float(lp.mean() + torch.log(torch.diagonal(L)).sum() + const))
            lam = lam0 / (t + 1.0)
            mu_new, Sigma_new = bam_update(mu, Sigma, z, g, lam)
            t += 1
            bar.update(1)
            try:
                L_new = torch.linalg.cholesky(Sigma_new)
            except RuntimeError:
                message = f"BaM covariance lost positive definiteness at iteration {t}"
                break
            # relative change, in the current posterior-sd units
            dmu = torch.linalg.solve_triangular(L_new, (mu_new - mu)[:, None],
                                                upper=False).norm() / math.sqrt(dim)
            dlog = (torch.log(torch.diagonal(L_new)) - torch.log(torch.diagonal(L))).abs().max()
            good = (mu, Sigma)
            mu, Sigma = mu_new, Sigma_new
            if callback is not None:
                from ._fit import _Info

                info = _Info()
                info.step, info.elbo, info.lr, info.n_grad_evals = t, history[-1], lam, \
                    cm.n_grad_evals
                info.approx = (lambda m=mu, S=Sigma: FullRankNormal(
                    dim, loc=m.cpu(), covariance_matrix=S.cpu()))
                if callback(info):
                    message = f"stopped by the callback at iteration {t}"
                    break
            small = small + 1 if max(float(dmu), float(dlog)) < tol else 0
            if small >= 3:
                converged = True
                message = (f"converged at iteration {t}: mean and scales moved < {tol} "
                           "posterior sd (relative) for 3 iterations")
                break
    except KeyboardInterrupt:
        message = f"interrupted (KeyboardInterrupt) at BaM iteration {t}: partial result"
    finally:
        bar.close()
    q = FullRankNormal(dim, loc=mu.cpu(), covariance_matrix=Sigma.cpu()).to(device)
    return q, history, t, converged, message, {"batch": B, "lambda0": lam0}
