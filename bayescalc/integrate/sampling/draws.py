"""Seeded draws from torch distributions (and scipy frozen ones), reparameterized.

torch distributions draw from torch's global generator and take no ``generator=``
argument. Gaussian families (Normal, MultivariateNormal, LowRankMultivariateNormal,
Independent Normal, and TransformedDistributions built on them) are drawn here from
standard normal noise of a seeded ``torch.Generator``: ``x = loc + L eps``, then the
transforms, so the sample is a differentiable function of the parameters. Any other
distribution is drawn inside ``torch.random.fork_rng`` seeded from ``seed``: the global
generator is restored on exit, so no global state changes.
"""

from __future__ import annotations

import numpy as np

from ..._core.random import as_generator, torch_generator


def gaussian_parts(dist):
    """``(loc, scale_tril, transforms, scalar)`` if ``dist`` is a Gaussian (or a transform
    of one) with an event of shape ``()`` (``scalar``) or ``(d,)`` and no batch shape;
    else None. ``loc`` has shape ``(d,)`` and ``scale_tril`` ``(d, d)``."""
    import torch.distributions as D

    transforms = []
    while isinstance(dist, D.TransformedDistribution):
        transforms = list(dist.transforms) + transforms
        dist = dist.base_dist
    if dist.batch_shape != ():
        return None
    if isinstance(dist, D.Normal):
        return dist.loc.reshape(1), dist.scale.reshape(1, 1), transforms, True
    if isinstance(dist, (D.MultivariateNormal, D.LowRankMultivariateNormal)):
        return dist.loc, dist.scale_tril, transforms, False
    if isinstance(dist, D.Independent) and isinstance(dist.base_dist, D.Normal):
        base = dist.base_dist
        if dist.reinterpreted_batch_ndims != 1 or base.loc.dim() != 1:
            return None
        return base.loc, base.scale.diag_embed(), transforms, False
    return None


def standard_normal_to(parts, eps):
    """Points ``loc + eps L^T`` through the transforms; ``eps`` of shape ``(n, d)``."""
    loc, scale_tril, transforms, scalar = parts
    x = loc + eps @ scale_tril.transpose(-1, -2)
    if scalar:
        x = x[:, 0]
    for transform in transforms:
        x = transform(x)
    return x


def torch_sample(dist, n: int, seed):
    """``n`` draws (reparameterized where the distribution allows), seeded."""
    import torch

    parts = gaussian_parts(dist)
    if parts is not None:
        loc = parts[0]
        generator = torch_generator(as_generator(seed), device=loc.device)
        eps = torch.randn((n, loc.shape[-1]), generator=generator, dtype=loc.dtype,
                          device=loc.device)
        return standard_normal_to(parts, eps)
    draw = dist.rsample if dist.has_rsample else dist.sample
    device = _device_of(dist)
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(as_generator(seed).integers(2**62)))
        return draw((n,))


def sample_and_log_prob(proposal, n: int, seed):
    """numpy ``(x, log q(x))`` from a torch distribution, a scipy frozen distribution, or
    any object with ``sample(n, rng)`` and ``log_prob(x)``."""
    from ..._core.arraykind import is_tensor, to_numpy

    if _is_torch_distribution(proposal):
        import torch

        with torch.no_grad():
            x = torch_sample(proposal, n, seed)
            log_q = proposal.log_prob(x)
        return to_numpy(x), to_numpy(log_q)
    rng = as_generator(seed)
    if hasattr(proposal, "rvs") and hasattr(proposal, "logpdf"):
        x = np.asarray(proposal.rvs(size=n, random_state=rng), dtype=np.float64)
        return x, np.asarray(proposal.logpdf(x), dtype=np.float64)
    x = proposal.sample(n, rng)
    log_q = proposal.log_prob(x)
    return to_numpy(x) if is_tensor(x) else np.asarray(x, float), to_numpy(log_q)


def check_proposal(proposal, name="proposal"):
    ok = _is_torch_distribution(proposal) or (
        hasattr(proposal, "rvs") and hasattr(proposal, "logpdf")) or (
        callable(getattr(proposal, "sample", None)) and callable(getattr(proposal, "log_prob",
                                                                         None)))
    if not ok:
        raise TypeError(f"{name} must be a torch Distribution, a scipy.stats frozen "
                        "distribution, or have sample(n, rng) and log_prob(x); got "
                        f"{type(proposal).__name__}")
    return proposal


def _is_torch_distribution(obj) -> bool:
    try:
        import torch.distributions as D
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(obj, D.Distribution)


def _device_of(dist):
    for value in vars(dist).values():
        if hasattr(value, "device") and hasattr(value, "dtype"):
            return value.device
    return None
