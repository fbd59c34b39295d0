"""A small batched, preconditioned MALA sampler (posterior draws for bridge sampling and the
harmonic mean). All chains move at once; the step size is adapted during warm-up towards
an acceptance rate of 0.57 and then frozen. (The tempering sub-package has the full HMC
kernel; this one is self-contained so the estimators here do not depend on it.)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._core.progress import progress_bar
from ._common import check_finite


def mala(cm, start: torch.Tensor, chol: np.ndarray, *, n_steps: int, n_warmup: int,
         generator, progress=False):
    """Run chains from ``start`` (c, d); returns draws (n_steps, c, d), log joint values
    (n_steps, c) and the final acceptance rate. ``chol``: preconditioner (Laplace)."""
    c, d = start.shape
    L = torch.as_tensor(chol, dtype=torch.float64)
    cov = L @ L.T
    z = start.clone()
    lp, g = cm.log_joint_and_grad(z)
    check_finite(lp, z)
    h = 1.0 / d ** (1 / 6)  # the MALA scaling in d
    draws, values = [], []
    accepted = 0.0
    bar = progress_bar(n_warmup + n_steps, enabled=progress, desc="mala")
    for step in range(n_warmup + n_steps):
        mean_fwd = z + 0.5 * h * h * g @ cov
        prop = mean_fwd + h * torch.randn(c, d, generator=generator, dtype=torch.float64) @ L.T
        lp_new, g_new = cm.log_joint_and_grad(prop)
        lp_new = torch.where(torch.isnan(lp_new), torch.full_like(lp_new, -math.inf), lp_new)
        mean_bwd = prop + 0.5 * h * h * g_new @ cov
        log_q_fwd = -0.5 * _maha(prop - mean_fwd, L) / (h * h)
        log_q_bwd = -0.5 * _maha(z - mean_bwd, L) / (h * h)
        log_alpha = lp_new - lp + log_q_bwd - log_q_fwd
        u = torch.rand(c, generator=generator, dtype=torch.float64)
        accept = torch.log(u) < log_alpha
        accept &= torch.isfinite(lp_new)
        z = torch.where(accept[:, None], prop, z)
        lp = torch.where(accept, lp_new, lp)
        g = torch.where(accept[:, None], g_new, g)
        rate = float(accept.double().mean())
        if step < n_warmup:
            h *= math.exp(0.5 * (rate - 0.57))
        else:
            accepted += rate
            draws.append(z.clone())
            values.append(lp.clone())
        bar.update()
    bar.close()
    return torch.stack(draws), torch.stack(values), accepted / max(n_steps, 1)


def _maha(x, L):
    y = torch.linalg.solve_triangular(L, x.T, upper=False)
    return (y**2).sum(0)


def integrated_time(values: np.ndarray) -> float:
    """Integrated autocorrelation time of ``values`` (n_steps, chains) by batch means
    across chains: n_steps * var(chain means) / var(all), at least 1."""
    n_steps = values.shape[0]
    total = values.var()
    if n_steps < 2 or total == 0 or not np.isfinite(total):
        return 1.0
    return float(max(1.0, n_steps * values.mean(0).var(ddof=1) / total))
