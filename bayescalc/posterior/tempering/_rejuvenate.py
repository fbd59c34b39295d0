"""``rejuvenate``: more MCMC moves for weighted posterior draws at beta = 1.

SMC's particles can lag the posterior where the kernel mixes slowly (the neck of a
funnel): the evidence estimate is what it is, but the draws can still be moved further
toward the posterior before a proposal is fitted to them. The moves are the tempering
kernel's (:func:`.kernel.hmc_move`, split preconditioners from the particle covariance,
step adapted toward 0.65 acceptance) with the step-size mixture on (half the particles
take a log-uniformly shrunk step with more leapfrog steps), which lets particles into
regions far narrower than the particle covariance says.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._core.random import torch_generator
from ...model.counting import CountedModel
from .kernel import StepSize, hmc_move, leapfrog_plan, split_preconditioners
from .path import TemperedPath
from .reference import GaussianReference, PriorReference


def rejuvenate(model, z, log_weights, *, seed=None, n_moves=40, step_decades=2.5,
               max_leapfrog_scaled=32, trajectory=1.5, max_leapfrog=8, n_particles=2048):
    """Resample ``min(n, n_particles)`` of the weighted draws ``z`` (n, d) by
    ``log_weights`` and move them ``n_moves`` times with the HMC kernel at beta = 1 (the
    posterior).

    Returns ``(z, n_evals, n_grad_evals)``: the moved, equally weighted draws and what
    the moves cost.

    Examples
    --------
    >>> import torch
    >>> from bayescalc.model import Model
    >>> m = Model(lambda t: -0.5 * (t**2).sum(-1) - 1.8378770664093453,
    ...           lambda t: -0.5 * (t**2).sum(-1), 2)          # posterior N(0, I/2)
    >>> z0 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0),
    ...                  dtype=torch.float64) * 3.0             # far too wide
    >>> z, n, ng = rejuvenate(m, z0, torch.zeros(2000), seed=0, n_moves=20)
    >>> round(float(z.var(0).mean()), 1)
    0.5
    """
    counted = CountedModel(model)
    ref = PriorReference() if getattr(model, "can_sample_prior", False) else \
        GaussianReference(np.zeros(model.dim), np.eye(model.dim))  # any: beta = 1
    path = TemperedPath(counted, ref)
    generator = torch_generator(seed)
    z = torch.as_tensor(np.asarray(z, dtype=float))
    w = torch.softmax(torch.as_tensor(np.asarray(log_weights, dtype=float)), 0)
    n = min(z.shape[0], int(n_particles))
    idx = torch.multinomial(w, n, replacement=True, generator=generator)
    particles = path.evaluate(z[idx])
    step = StepSize(1.2 * model.dim ** -0.25)
    group = 1 - torch.arange(n) % 2
    for _ in range(int(n_moves)):
        chol = (split_preconditioners(particles.z), group)
        n_leap = leapfrog_plan(step.value, trajectory, max_leapfrog)
        out = hmc_move(path, particles, 1.0, chol, step.value, n_leap, generator,
                       trajectory, 0.0, step_decades, max_leapfrog_scaled)
        particles, accept = out[0], out[1]
        shrunk = out[2] if len(out) > 2 else torch.zeros(n, dtype=torch.bool)
        if bool((~shrunk).any()):
            step.update(float(accept[~shrunk].mean()))
    return particles.z, counted.n_evals, counted.n_grad_evals
