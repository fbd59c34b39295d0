"""A batched, preconditioned Hamiltonian Monte Carlo kernel that moves all particles at once.

One :func:`hmc_move` is one Metropolis-adjusted HMC step for every particle of a
:class:`~.path.Particles` batch at a fixed inverse temperature: ``n_leapfrog`` leapfrog
steps (``n_leapfrog = 1`` is MALA) under the mass matrix ``M = Sigma^-1``, where
``Sigma = L L^T`` is the particle covariance (a whitening preconditioner: every
direction of the tempered density gets a step of its own scale). Each leapfrog step is
one batched model call for all particles. :class:`StepSize` adapts the step toward a
target mean acceptance rate, per temperature.
"""

from __future__ import annotations

import math

import torch


class StepSize:
    """A step size adapted toward ``target`` acceptance: ``eps *= exp(rate (acc - target))``.

    Examples
    --------
    >>> s = StepSize(0.5, target=0.65)
    >>> s.update(0.0); round(s.value, 4) < 0.5
    True
    """

    def __init__(self, initial: float, *, target: float = 0.65, rate: float = 1.5,
                 lower: float = 1e-6, upper: float = 10.0):
        self.value = float(initial)
        self.target, self.rate = float(target), float(rate)
        self.lower, self.upper = lower, upper

    def update(self, acceptance: float) -> None:
        """Move the step after one move whose mean acceptance probability was ``acceptance``."""
        self.value = min(self.upper, max(self.lower, self.value * math.exp(
            self.rate * (float(acceptance) - self.target))))


def preconditioner(z: torch.Tensor, log_weights: torch.Tensor | None = None) -> torch.Tensor:
    """The Cholesky factor ``L`` of the (weighted) particle covariance, shrunk toward its
    diagonal by ``d / (n + d)`` so that it stays well conditioned with few particles.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> z = torch.randn(4000, 2, generator=g, dtype=torch.float64) * torch.tensor([1.0, 3.0])
    >>> preconditioner(z).diagonal().round(decimals=1).tolist()
    [1.0, 3.0]
    """
    n, d = z.shape
    if log_weights is None:
        w = torch.full((n,), 1.0 / n, dtype=z.dtype)
    else:
        w = torch.softmax(log_weights, 0)
    finite = torch.isfinite(z).all(1)
    w = torch.where(finite, w, torch.zeros_like(w))
    w = w / w.sum()
    zf = torch.where(finite[:, None], z, torch.zeros_like(z))
    mean = (w[:, None] * zf).sum(0)
    x = zf - mean
    cov = (w[:, None] * x).T @ x
    ess = float(1.0 / (w * w).sum())
    shrink = d / (ess + d)
    diag = torch.diagonal(cov).clamp_min(1e-300)
    cov = (1 - shrink) * cov + shrink * torch.diag(diag)
    scale = diag.mean()
    for jitter in (1e-10, 1e-8, 1e-6, 1e-4):
        try:
            return torch.linalg.cholesky(cov + jitter * scale * torch.eye(d, dtype=z.dtype))
        except RuntimeError:
            continue
    return torch.diag(torch.sqrt(diag))


def split_preconditioners(z: torch.Tensor, log_weights: torch.Tensor | None = None):
    """Two preconditioners, from the even- and the odd-indexed particles: shape (2, d, d).

    A particle moved with a covariance it helped estimate sees a metric stretched along
    its own position (its leverage is about d / n), which biases the move toward where it
    is; in d = 32 with 256 particles that lag cost 0.1 nats of log Z. Each particle is
    therefore moved with the half that does not contain it (or its ancestor): the kernel
    is then exactly invariant given the other half.
    """
    chols = []
    for parity in (0, 1):
        keep = torch.arange(z.shape[0]) % 2 == parity
        chols.append(preconditioner(z[keep], None if log_weights is None else log_weights[keep]))
    return torch.stack(chols)


def _apply(v: torch.Tensor, chol, transpose: bool) -> torch.Tensor:
    # rows of v times L^T (transpose=True: L v) or L (transpose=False: L^T v); chol is
    # one (d, d) factor or a pair (factors (2, d, d), group (n,)) choosing one per row
    if isinstance(chol, torch.Tensor):
        return v @ (chol.T if transpose else chol)
    factors, group = chol
    a = v @ (factors[0].T if transpose else factors[0])
    b = v @ (factors[1].T if transpose else factors[1])
    return torch.where(group[:, None] == 0, a, b)


def leapfrog_plan(step: float, trajectory: float, max_leapfrog: int) -> int:
    """Leapfrog steps for a mean integration time ``trajectory`` at step size ``step``.

    Examples
    --------
    >>> leapfrog_plan(0.5, 1.5, 10), leapfrog_plan(2.0, 1.5, 10), leapfrog_plan(0.01, 1.5, 10)
    (3, 1, 10)
    """
    return int(min(max_leapfrog, max(1, math.ceil(trajectory / step - 1e-9))))


def hmc_move(path, particles, beta: float, chol: torch.Tensor, step: float,
             n_leapfrog: int, generator: torch.Generator, trajectory: float | None = None,
             spread: float = 0.0, decades: float = 0.0, max_leapfrog: int | None = None):
    """One preconditioned HMC step (MALA when ``n_leapfrog == 1``) for every particle.

    Each particle's integration time is random, ``U(0.5, 1.5) * trajectory`` (in units
    of the preconditioner; about pi/2 decorrelates a Gaussian) split into ``n_leapfrog``
    steps of at most ``1.5 * step``, so that no fixed trajectory length brings
    particles back to where they started (for a Gaussian, a time pi maps ``z - mean`` to
    ``-(z - mean)`` and leaves the likelihood unchanged). With ``trajectory=None`` the
    step is ``step * U(0.5, 1.5)``. With ``spread > 0`` half the particles (at random)
    shrink their step by ``exp(-spread * U(0, 1))``: a state-independent mixture of
    scales, so that particles can enter regions much narrower than the particle
    covariance says (the neck of a funnel) without breaking detailed balance.

    With ``decades > 0`` half the particles (at random, independently of their state)
    take a step ``10^(-decades U(0, 1))`` times the adapted one and correspondingly more
    leapfrog steps, up to ``max_leapfrog``, so that their integration time is kept
    where the cap allows: a mixture of HMC kernels, each reversible, chosen without
    looking at the state, so the mixture leaves the target invariant. The third value
    returned is then the mask of the particles whose step was shrunk (the adaptation
    should look at the others).

    ``chol`` is one Cholesky factor of the inverse mass matrix (d, d), or a pair
    ``(factors (2, d, d), group (n,))`` giving particle i the factor ``group[i]``.

    Returns ``(particles, acceptance)``: the new batch and each particle's acceptance
    probability ``min(1, exp(-dH))`` (n,).

    Examples
    --------
    Three MALA-free HMC steps at beta = 1 on a 2-D Gaussian posterior keep its variance:

    >>> import torch
    >>> from bayescalc.model import Model, CountedModel
    >>> from bayescalc.posterior.tempering.path import TemperedPath
    >>> from bayescalc.posterior.tempering.reference import GaussianReference
    >>> m = Model(lambda t: -0.5 * (t**2).sum(-1) - 1.8378770664093453,
    ...           lambda t: -0.5 * (t**2).sum(-1), 2)          # posterior N(0, I/2)
    >>> path = TemperedPath(CountedModel(m), GaussianReference([0.0, 0.0], [[1, 0], [0, 1]]))
    >>> g = torch.Generator().manual_seed(0)
    >>> p = path.evaluate(torch.randn(4000, 2, generator=g, dtype=torch.float64) * 0.5**0.5)
    >>> for _ in range(3):
    ...     p, acc = hmc_move(path, p, 1.0, preconditioner(p.z), 0.8, 2, g, 1.5)
    >>> round(float(p.z.var(0).mean()), 1)
    0.5
    """
    n, d = particles.z.shape
    xi = torch.randn(n, d, generator=generator, dtype=torch.float64)
    jitter = 0.5 + torch.rand(n, 1, generator=generator, dtype=torch.float64)
    if trajectory is None:
        eps = step * jitter
    else:
        eps = torch.minimum(trajectory * jitter / n_leapfrog, 1.5 * step * torch.ones_like(jitter))
    if spread > 0:  # half the particles take steps up to e^spread times smaller
        small = torch.rand(n, 1, generator=generator, dtype=torch.float64)
        shrink = torch.exp(-spread * torch.rand(n, 1, generator=generator, dtype=torch.float64))
        eps = torch.where(small < 0.5, eps * shrink, eps)
    n_leap = torch.full((n,), int(n_leapfrog), dtype=torch.long)
    scaled = torch.zeros(n, dtype=torch.bool)
    if decades > 0:  # half the particles: a log-uniform step over `decades` decades down
        scaled = torch.rand(n, generator=generator, dtype=torch.float64) < 0.5
        shrink = 10.0 ** (-decades * torch.rand(n, generator=generator, dtype=torch.float64))
        shrink = torch.where(scaled, shrink, torch.ones_like(shrink))
        eps = eps * shrink[:, None]
        cap = int(max_leapfrog or n_leapfrog)
        more = torch.ceil(n_leapfrog / shrink - 1e-9).long()
        n_leap = torch.where(scaled, more.clamp(max=max(cap, n_leapfrog)), n_leap)
    h0 = particles.log_density(beta) - 0.5 * (xi * xi).sum(1)
    z = particles.z
    alive = torch.isfinite(h0)
    xi = xi + 0.5 * eps * _apply(particles.grad(beta), chol, False)
    current = particles
    for k in range(int(n_leap.max())):
        active = k < n_leap
        z_new = z + eps * _apply(xi, chol, True)
        z_new = torch.where(alive[:, None] & active[:, None]
                            & torch.isfinite(z_new).all(1, keepdim=True), z_new, z)
        if bool(active.all()):
            current = path.evaluate(z_new)
        else:  # only the particles still integrating are evaluated
            idx = torch.nonzero(active)[:, 0]
            current = current.put(idx, path.evaluate(z_new[idx]))
        alive = alive & torch.isfinite(current.log_density(beta))
        z = z_new
        half = torch.where(k == n_leap - 1, 0.5, 1.0).to(torch.float64)
        half = torch.where(active, half, torch.zeros_like(half))[:, None]
        xi = xi + half * eps * _apply(current.grad(beta), chol, False)
    h1 = current.log_density(beta) - 0.5 * (xi * xi).sum(1)
    log_accept = torch.where(alive, h1 - h0, torch.full_like(h0, -torch.inf))
    log_accept = torch.nan_to_num(log_accept, nan=-torch.inf).clamp(max=0.0)
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    accept = torch.log(u) < log_accept
    if decades > 0:
        return particles.where(accept, current), torch.exp(log_accept), scaled
    return particles.where(accept, current), torch.exp(log_accept)
