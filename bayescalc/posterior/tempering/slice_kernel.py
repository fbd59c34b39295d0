"""A batched slice-sampling kernel: every particle takes one slice-sampling step along
each preconditioner axis in turn (Neal 2003, stepping out and shrinkage).

Slice sampling chooses its step size per particle and per move: in the neck of a funnel,
where the density is many orders of magnitude narrower than the particle covariance,
the shrinkage procedure reaches the slice's width in a few halvings, where a fixed HMC
step is rejected every time (Neal 2003 introduced the funnel to show exactly this). The
axes are the columns of the particle-covariance Cholesky factor (whitened coordinates),
one factor per half of the particles as in :func:`.kernel.split_preconditioners`, so
that the move of a particle does not depend on its own position through the metric.
Only the particles still searching are evaluated; no gradients are used.
"""

from __future__ import annotations

import torch

from .path import Particles


def _columns(chol, k: int, n: int) -> torch.Tensor:
    """Axis ``k`` of every particle's preconditioner, shape (n, d)."""
    if isinstance(chol, torch.Tensor):
        return chol[:, k].expand(n, -1)
    factors, group = chol
    return torch.where(group[:, None] == 0, factors[0][:, k], factors[1][:, k])


def slice_sweep(path, particles: Particles, beta: float, chol, generator: torch.Generator,
                width: float = 2.0, max_out: int = 8, max_shrink: int = 40) -> Particles:
    """One slice-sampling update along each of the d preconditioner axes (random order).

    ``width``: the initial interval in units of the axis (about the slice's width in the
    bulk); ``max_out``: stepping-out steps per side; ``max_shrink``: shrinkage steps (a
    particle that has not found a point by then stays where it is, which keeps the
    kernel invariant). Returns the moved particles (gradients zero: not needed here).

    Examples
    --------
    Five sweeps at beta = 1 on a 2-D Gaussian posterior keep its variance:

    >>> import torch
    >>> from bayescalc.model import Model, CountedModel
    >>> from bayescalc.posterior.tempering.path import TemperedPath
    >>> from bayescalc.posterior.tempering.reference import GaussianReference
    >>> from bayescalc.posterior.tempering.kernel import preconditioner
    >>> m = Model(lambda t: -0.5 * (t**2).sum(-1) - 1.8378770664093453,
    ...           lambda t: -0.5 * (t**2).sum(-1), 2)          # posterior N(0, I/2)
    >>> path = TemperedPath(CountedModel(m), GaussianReference([0.0, 0.0], [[1, 0], [0, 1]]))
    >>> g = torch.Generator().manual_seed(0)
    >>> p = path.evaluate(torch.randn(4000, 2, generator=g, dtype=torch.float64))
    >>> for _ in range(5):
    ...     p = slice_sweep(path, p, 1.0, preconditioner(p.z), g)
    >>> round(float(p.z.var(0).mean()), 1)
    0.5
    """
    n, d = particles.z.shape
    z = particles.z.clone()
    log_ref, u = particles.log_ref.clone(), particles.u.clone()
    f0 = log_ref + beta * u
    f0 = torch.where(torch.isnan(f0), torch.full_like(f0, -torch.inf), f0)
    alive = torch.isfinite(f0)

    def density(points):
        lr, uu = path.values(points)
        f = lr + beta * uu
        return torch.where(torch.isnan(f), torch.full_like(f, -torch.inf), f), lr, uu

    order = torch.randperm(d, generator=generator)
    for k in order.tolist():
        axis = _columns(chol, k, n)
        level = f0 - torch.empty(n, dtype=torch.float64).exponential_(generator=generator)
        left = -width * torch.rand(n, generator=generator, dtype=torch.float64)
        right = left + width
        # stepping out, each side at most max_out steps, only where still inside the slice
        for side in (left, right):
            sign = -1.0 if side is left else 1.0
            active = alive.clone()
            for _ in range(max_out):
                idx = torch.nonzero(active).flatten()
                if idx.numel() == 0:
                    break
                f, _, _ = density(z[idx] + side[idx, None] * axis[idx])
                inside = f > level[idx]
                side[idx[inside]] += sign * width
                active[idx[~inside]] = False
        # shrinkage
        searching = alive.clone()
        for _ in range(max_shrink):
            idx = torch.nonzero(searching).flatten()
            if idx.numel() == 0:
                break
            t = left[idx] + (right[idx] - left[idx]) * torch.rand(
                idx.numel(), generator=generator, dtype=torch.float64)
            new = z[idx] + t[:, None] * axis[idx]
            f, lr, uu = density(new)
            ok = f > level[idx]
            hit = idx[ok]
            z[hit], f0[hit], log_ref[hit], u[hit] = new[ok], f[ok], lr[ok], uu[ok]
            searching[hit] = False
            miss, tm = idx[~ok], t[~ok]
            neg = tm < 0
            left[miss[neg]] = tm[neg]
            right[miss[~neg]] = tm[~neg]
    zeros = torch.zeros_like(z)
    return Particles(z, log_ref, u, zeros, zeros.clone())
