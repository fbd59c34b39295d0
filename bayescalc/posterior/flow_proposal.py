"""A mass-covering importance proposal: a normalizing flow fitted to weighted draws.

:func:`fit_flow_proposal` fits a masked autoregressive flow (zuko, optional) by weighted
maximum likelihood to weighted posterior draws (SMC's particles, or importance draws),
in coordinates whitened by their weighted mean and covariance, and mixes it with a
Student-t of the same location and scale (the defensive share) so that the weights
stay bounded where the flow's tails are too light. Maximum likelihood (forward KL) is
mass covering: the flow spreads over every region the draws visit, and an affine
autoregressive layer whose log-scale is a smooth function of the earlier coordinates
extrapolates position-dependent scales (the neck of a funnel) beyond the draws.
``auto_evidence`` finishes its tempering branch with importance sampling from it, whose
Pareto k-hat says whether the estimate can be trusted.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def flows_available() -> bool:
    """Whether zuko (the ``flows`` extra) can be imported."""
    try:
        import zuko  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


class FlowProposal:
    """``(1 - defensive)`` flow + ``defensive`` Student-t (``df``) on whitened coordinates.

    ``sample(n, generator)`` and ``log_prob(z)`` on the unconstrained space (z = mean +
    L u); the flow's own randomness is seeded from ``generator``.
    """

    def __init__(self, net, mean, chol, defensive=0.1, df=4.0):
        self.net, self.mean, self.chol = net, mean, chol
        self.dim = mean.shape[0]
        self.defensive, self.df = float(defensive), float(df)
        self._logdet = float(torch.log(torch.diagonal(chol)).sum())

    def _t_log_prob(self, u):
        nu, d = self.df, self.dim
        return (math.lgamma((nu + d) / 2) - math.lgamma(nu / 2) - 0.5 * d * math.log(nu * math.pi)
                - 0.5 * (nu + d) * torch.log1p((u * u).sum(1) / nu))

    def log_prob(self, z):
        u = torch.linalg.solve_triangular(self.chol, (z - self.mean).T, upper=False).T
        with torch.no_grad():
            lf = self.net().log_prob(u)
        lt = self._t_log_prob(u)
        parts = torch.stack([math.log1p(-self.defensive) + lf, math.log(self.defensive) + lt])
        return torch.logsumexp(parts, 0) - self._logdet

    def walk(self, log_density, z, n_moves, generator, *, step=0.5, target=0.25,
             climb=10.0, reach=10.0):
        """``n_moves`` random-walk Metropolis moves of the draws ``z`` (n, d) in the flow's
        latent space, where the flow has straightened what it learned of the target's
        geometry (position-dependent scales become roughly constant ones), so that one
        step size fits the neck and the mouth of a funnel alike (NeuTra, Hoffman et al.
        2019; pocoMC's preconditioned moves). The latent target is
        ``log_density(z(y)) - log|dy/du|`` (u the whitened coordinates); the walk is
        exact for it whatever the flow, the step adapted toward ``target`` acceptance.
        ``log_density`` maps (n, d) to (n,) (one batched call per move). Moves to a
        log density more than ``climb`` above the highest of the starting draws are
        rejected: where the flow extrapolates a funnel's neck too wide, the latent
        target climbs down the neck toward the funnel's spike (log density +90 at
        v = -40.5 on the 10-d funnel, with no mass there), and a flow refitted to such
        draws gives importance weights of e^300 (measured); the bound keeps the walk
        in the region the draws know (the target there unchanged). Moves farther from
        the draws' mean than ``reach`` times the farthest starting draw (in whitened
        units) are rejected too: a flow's inverse can send a latent step to 1e11 (the
        10-d funnel, measured), where a log density summed from large cancelling terms
        (prior and likelihood apart) reads about 0 instead of -1e20.

        Returns ``(z, n_evals, acceptance)``: the moved draws, the points evaluated (the
        starting draws and one batch per move) and the mean acceptance probability of
        the moves.
        """
        n, d = z.shape
        with torch.no_grad():
            flow = self.net()
            u = torch.linalg.solve_triangular(self.chol, (z - self.mean).T, upper=False).T
            y, ladj = flow.transform.call_and_ladj(u)
            lp = log_density(z)
            finite = lp[torch.isfinite(lp)]
            ceiling = (float(finite.max()) if finite.numel() else math.inf) + float(climb)
            radius = float(reach) * float(u.norm(dim=1).max())
            current = lp - ladj
            rates = []
            for _ in range(int(n_moves)):
                y2 = y + step * torch.randn(n, d, generator=generator, dtype=torch.float64)
                u2 = flow.transform.inv(y2)
                _, ladj2 = flow.transform.call_and_ladj(u2)
                z2 = self.mean + u2 @ self.chol.T
                ok = (torch.isfinite(z2).all(1) & torch.isfinite(ladj2)
                      & (u2.norm(dim=1) <= radius))
                z2 = torch.where(ok[:, None], z2, z)
                lp2 = log_density(z2)
                new = lp2 - ladj2
                ok = ok & (lp2 <= ceiling)
                log_a = torch.where(ok & ~torch.isnan(new), new - current,
                                    torch.full_like(new, -math.inf)).clamp(max=0.0)
                log_a = torch.nan_to_num(log_a, nan=-math.inf)
                accept = torch.log(torch.rand(n, generator=generator, dtype=torch.float64)) < log_a
                y = torch.where(accept[:, None], y2, y)
                z = torch.where(accept[:, None], z2, z)
                current = torch.where(accept, new, current)
                rate = float(torch.exp(log_a).mean())
                rates.append(rate)
                step = min(5.0, max(1e-3, step * math.exp(rate - target)))
        return z, n * (int(n_moves) + 1), float(np.mean(rates)) if rates else math.nan

    def sample(self, n, generator):
        n_t = int(torch.binomial(torch.tensor(float(n)), torch.tensor(self.defensive),
                                 generator=generator))
        eps = torch.randn(n_t, self.dim, generator=generator, dtype=torch.float64)
        chi2 = (torch.randn(n_t, int(self.df), generator=generator,
                            dtype=torch.float64) ** 2).sum(1)
        u_t = eps / torch.sqrt(chi2 / self.df)[:, None]
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            u_f = self.net().sample((n - n_t,))
        u = torch.cat([u_f.to(torch.float64), u_t])
        u = u[torch.randperm(n, generator=generator)]
        return self.mean + u @ self.chol.T


def fit_flow_proposal(z, log_weights, *, seed=0, transforms=3, hidden=32, max_iter=400,
                      batch=2048, lr=3e-3, defensive=0.1, net=None):
    """A :class:`FlowProposal` fitted to the weighted draws ``z`` (n, d), ``log_weights``
    (n,); None where zuko is missing or the draws are too few (ESS < 4 d + 10).

    Weighted maximum likelihood with Adam (mini-batches of ``batch``), 20% of the draws
    held out: the weights of the best held-out log likelihood (checked every 10 steps)
    are kept. ``net`` warm-starts from an earlier fit's flow.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> z = torch.randn(1000, 2, generator=g, dtype=torch.float64) * torch.tensor([1.0, 3.0])
    >>> q = fit_flow_proposal(z, torch.zeros(1000), seed=0, max_iter=50)
    >>> q.sample(5, g).shape
    torch.Size([5, 2])
    """
    if not flows_available():  # pragma: no cover - depends on the environment
        return None
    import zuko

    z = torch.as_tensor(np.asarray(z, dtype=float))
    lw = torch.as_tensor(np.asarray(log_weights, dtype=float))
    keep = torch.isfinite(lw) & torch.isfinite(z).all(1)
    z, lw = z[keep], lw[keep]
    n, d = z.shape
    w = torch.softmax(lw, 0)
    if n == 0 or float(1.0 / (w * w).sum()) < 4 * d + 10:
        return None
    mean = (w[:, None] * z).sum(0)
    x = z - mean
    cov = (w[:, None] * x).T @ x
    cov = 0.5 * (cov + cov.T) + 1e-10 * torch.diagonal(cov).mean() * torch.eye(d, dtype=z.dtype)
    try:
        chol = torch.linalg.cholesky(cov)
    except RuntimeError:
        return None
    u = torch.linalg.solve_triangular(chol, x.T, upper=False).T
    generator = torch.Generator().manual_seed(int(seed) % 2**62)
    perm = torch.randperm(n, generator=generator)
    n_val = max(1, n // 5)
    val, train = perm[:n_val], perm[n_val:]
    w_val = w[val] / w[val].sum()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) % 2**62)
        if net is None:
            net = zuko.flows.MAF(d, transforms=transforms,
                                 hidden_features=(hidden, hidden)).double()
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        w_train = w[train] / w[train].sum()
        best, best_state = math.inf, None
        for it in range(int(max_iter)):
            if len(train) > batch:  # weighted mini-batch: draws by their weights
                idx = train[torch.multinomial(w_train, batch, replacement=True)]
                loss = -net().log_prob(u[idx]).mean()
            else:
                loss = -(w_train * net().log_prob(u[train])).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 10 == 9 or it == int(max_iter) - 1:
                with torch.no_grad():
                    held = float(-(w_val * net().log_prob(u[val])).sum())
                if held < best:
                    best = held
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if best_state is None:
            return None
        net.load_state_dict(best_state)
    return FlowProposal(net, mean, chol, defensive=defensive)
