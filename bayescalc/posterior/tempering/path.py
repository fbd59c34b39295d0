"""The tempered path between a reference and the posterior, evaluated on particles.

At inverse temperature ``beta`` the density is
``log pi_beta(z) = log r(z) + beta * u(z)`` with ``u = log joint - log r``: from the
reference (``beta = 0``) to the unnormalized posterior (``beta = 1``). With the prior as
reference ``u`` is the log likelihood. :class:`Particles` holds, per particle, ``log r``,
``u`` and both gradients, so that a change of ``beta`` costs no new evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .reference import PriorReference


@dataclass
class Particles:
    """Positions ``z`` (n, d) with ``log_ref``, ``u`` (n,) and their gradients (n, d)."""

    z: torch.Tensor
    log_ref: torch.Tensor
    u: torch.Tensor
    g_ref: torch.Tensor
    g_u: torch.Tensor

    def log_density(self, beta: float) -> torch.Tensor:
        """``log r + beta u`` (non-finite values become -inf)."""
        v = self.log_ref + beta * self.u
        return torch.where(torch.isnan(v), torch.full_like(v, -torch.inf), v)

    def grad(self, beta: float) -> torch.Tensor:
        """The gradient of ``log r + beta u``."""
        return self.g_ref + beta * self.g_u

    def take(self, index: torch.Tensor) -> Particles:
        """The particles at ``index`` (resampling)."""
        return Particles(self.z[index], self.log_ref[index], self.u[index],
                         self.g_ref[index], self.g_u[index])

    def put(self, index: torch.Tensor, other: Particles) -> Particles:
        """A copy with the rows ``index`` replaced by ``other`` (len(index) rows)."""
        out = []
        for mine, theirs in ((self.z, other.z), (self.log_ref, other.log_ref),
                             (self.u, other.u), (self.g_ref, other.g_ref),
                             (self.g_u, other.g_u)):
            mine = mine.clone()
            mine[index] = theirs
            out.append(mine)
        return Particles(*out)

    def where(self, mask: torch.Tensor, other: Particles) -> Particles:
        """``other`` where ``mask`` (n,) is True, else ``self``."""
        m = mask[:, None]
        return Particles(torch.where(m, other.z, self.z),
                         torch.where(mask, other.log_ref, self.log_ref),
                         torch.where(mask, other.u, self.u),
                         torch.where(m, other.g_ref, self.g_ref),
                         torch.where(m, other.g_u, self.g_u))


class TemperedPath:
    """Evaluates :class:`Particles` for ``counted`` (a CountedModel) and a reference."""

    def __init__(self, counted, reference):
        self.counted = counted
        self.reference = reference
        self.dim = counted.dim

    def sample_reference(self, n: int, generator: torch.Generator) -> Particles:
        """``n`` reference draws, evaluated."""
        z = self.reference.sample(self.counted.model, n, generator)
        return self.evaluate(torch.as_tensor(z, dtype=torch.float64).reshape(n, self.dim))

    def values(self, z: torch.Tensor):
        """``(log r, u)`` at ``z`` (n, d) without gradients: n model evaluations."""
        z = z.detach()
        with torch.no_grad():
            if isinstance(self.reference, PriorReference):
                log_ref = self.counted.model.log_prior(z)
                u = self.counted.log_likelihood(z)
            else:
                log_ref = self.reference.log_prob(z)
                u = self.counted.log_joint(z) - log_ref
        bad = ~(torch.isfinite(log_ref) & torch.isfinite(u))
        if bool(bad.any()):
            u = torch.where(bad, torch.full_like(u, -torch.inf), u)
            log_ref = torch.where(torch.isnan(log_ref), torch.full_like(log_ref, -torch.inf),
                                  log_ref)
        return log_ref.detach(), u.detach()

    def evaluate(self, z: torch.Tensor) -> Particles:
        """Log reference, ``u`` and both gradients at ``z`` (n, d): n evaluations and
        n gradient evaluations of the model."""
        z = z.detach()
        if isinstance(self.reference, PriorReference):
            with torch.enable_grad():
                x = z.clone().requires_grad_(True)
                log_prior = self.counted.model.log_prior(x)
                log_lik = self.counted.log_likelihood(x)
                g_ref = _grad(log_prior, x, retain=True)
                g_u = _grad(log_lik, x, retain=False)
            log_ref, u = log_prior.detach(), log_lik.detach()
        else:
            log_joint, g_joint = self.counted.log_joint_and_grad(z)
            log_ref, g_ref = self.reference.log_prob_and_grad(z)
            u, g_u = log_joint - log_ref, g_joint - g_ref
        bad = ~(torch.isfinite(log_ref) & torch.isfinite(u))
        if bool(bad.any()):  # outside the support: a density of zero, never accepted
            u = torch.where(bad, torch.full_like(u, -torch.inf), u)
            log_ref = torch.where(torch.isnan(log_ref), torch.full_like(log_ref, -torch.inf),
                                  log_ref)
            g_ref = torch.where(bad[:, None], torch.zeros_like(g_ref), g_ref)
            g_u = torch.where(bad[:, None], torch.zeros_like(g_u), g_u)
        g_ref = torch.nan_to_num(g_ref, nan=0.0, posinf=0.0, neginf=0.0)
        g_u = torch.nan_to_num(g_u, nan=0.0, posinf=0.0, neginf=0.0)
        return Particles(z, log_ref, u, g_ref, g_u)


def _grad(values, x, *, retain):
    if not values.requires_grad:  # a term that does not depend on z
        return torch.zeros_like(x)
    g, = torch.autograd.grad(values.sum(), x, retain_graph=retain, allow_unused=True)
    return torch.zeros_like(x) if g is None else g
