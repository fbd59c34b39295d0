"""Expectations under torch distributions, differentiable in the distribution's parameters.

``expectation(f, dist)`` estimates ``E_dist[f(X)]``. With ``"mc"`` and ``"qmc"`` the
draws are reparameterized, ``x = g(eps; theta)`` with noise ``eps`` that does not depend
on the parameters ``theta`` (Kingma & Welling 2014; for QMC, ``eps = Phi^-1(u)`` on
scrambled Sobol' points ``u``, or ``x = F^-1(u; theta)`` for a univariate distribution
with an inverse CDF), so ``value.backward()`` gives an unbiased (MC) or randomized-QMC
estimate of ``grad_theta E[f]``: this is what variational inference uses.

What it returns, always: an :class:`IntegrationResult` whose ``value`` is a 0-d torch
tensor (the distribution's dtype and device), carrying the autograd graph when the
distribution's parameters require grad and the method is reparameterized, and whose
``error`` is a float standard error (Gauss-Hermite: its rule-difference estimate).
"""

from __future__ import annotations

import math

import numpy as np

from .._core.validation import check_callable, check_choice, check_int
from ._result import IntegrationResult
from .sampling import point_sets as samplers
from .sampling.draws import gaussian_parts, standard_normal_to, torch_sample

METHODS = ("auto", "mc", "qmc", "gauss-hermite")


def expectation(f, dist, *, method: str = "auto", n: int = 4096, seed=None,
                n_replicates: int = 16, order: int | None = None) -> IntegrationResult:
    r"""``E_dist[f(X)]`` for a torch distribution, with gradients to its parameters.

    .. math::

        E[f(X)] \approx \frac1n \sum_{i=1}^n f(g(\varepsilon_i; \theta)),
        \qquad \nabla_\theta E[f(X)] \approx
        \frac1n \sum_{i=1}^n \nabla_\theta f(g(\varepsilon_i; \theta)).

    Parameters
    ----------
    f : callable
        Takes a torch tensor of draws of shape ``(n,) + dist.event_shape`` and returns
        shape ``(n,)`` (torch operations keep the gradient).
    dist : torch.distributions.Distribution
        With an empty ``batch_shape`` (wrap a vector of Normals in ``Independent``).
    method : {"auto", "mc", "qmc", "gauss-hermite"}
        ``"mc"``: ``dist.rsample`` (``sample`` when not reparameterizable: then no
        gradient flows). ``"qmc"``: ``n_replicates`` scrambled Sobol' sets through the
        Gaussian reparameterization (Normal, MultivariateNormal, Independent Normal,
        LowRankMultivariateNormal, and transformed ones like LogNormal) or a univariate
        inverse CDF. ``"gauss-hermite"``: :func:`gauss_hermite_expectation` for a
        Normal/MultivariateNormal (no gradient: its value is a constant tensor).
        ``"auto"``: ``"qmc"`` where it applies, else ``"mc"`` (Gauss-Hermite is only
        taken on request, because it is exact for smooth f but silently poor for a
        kinked one, and its error estimate is not a standard error).
    n : int
        Draws (at least 2; for QMC, ``n_replicates`` sets of ``n // n_replicates``).
    seed : None, int or Generator
    n_replicates : int
        Scrambled replicates behind the QMC error bar.
    order : int, optional
        Gauss-Hermite order (default adaptive).

    Returns
    -------
    IntegrationResult
        ``value`` a 0-d tensor (differentiable as above), ``error`` a float.

    Examples
    --------
    >>> import torch
    >>> mu = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    >>> dist = torch.distributions.Normal(mu, torch.tensor(2.0, dtype=torch.float64))
    >>> r = expectation(lambda x: x**2, dist, seed=0)        # E x^2 = mu^2 + sigma^2
    >>> r.value.backward()
    >>> round(r.value.item(), 3), round(mu.grad.item(), 3)   # d/dmu = 2 mu
    (6.25, 3.0)
    >>> r.method, r.error < 1e-2
    ('qmc', True)
    """
    _expectation_iv(f, dist, method, n, n_replicates)
    if method == "auto":
        qmc_applies = _qmc_transform(dist) is not None and n >= 2 * n_replicates
        method = "qmc" if qmc_applies else "mc"
    if method == "gauss-hermite":
        return _gauss_hermite(f, dist, order)
    if method == "qmc":
        return _qmc(f, dist, n, seed, n_replicates)
    return _mc(f, dist, n, seed)


def _mc(f, dist, n, seed):
    x = torch_sample(dist, n, seed)
    values = _call(f, x, n)
    value = values.mean()
    error = float(values.detach().std() / math.sqrt(n)) if n > 1 else math.inf
    reparameterized = dist.has_rsample or gaussian_parts(dist) is not None
    note = "" if reparameterized else " (sample: not reparameterizable, no gradient)"
    return IntegrationResult(value, error, n, True, f"{n} draws{note}", "mc")


def _qmc(f, dist, n, seed, n_replicates):
    import torch

    transform = _qmc_transform(dist)
    if transform is None:
        raise ValueError("method='qmc' needs a Gaussian-based distribution (Normal, "
                         "MultivariateNormal, Independent Normal, a transform of one) or a "
                         f"univariate one with an inverse CDF; got {type(dist).__name__}")
    d, to_sample = transform
    layout = samplers.plan("qmc", n, d, seed, n_replicates=n_replicates, batch_size=n)
    per_replicate = layout.per_group
    means = []
    for batch in layout.batches:  # one batch per replicate: batch_size >= its size
        u = samplers.points(layout, batch)
        x = to_sample(np.clip(u, 1e-16, 1 - 1e-16))
        means.append(_call(f, x, per_replicate).mean())
    means = torch.stack(means)
    value = means.mean()
    error = float(means.detach().std() / math.sqrt(n_replicates))
    message = f"{n_replicates} scrambled Sobol' replicates of {per_replicate} points"
    return IntegrationResult(value, error, n_replicates * per_replicate, True, message, "qmc")


def _qmc_transform(dist):
    """``(d, u -> x)`` mapping uniform points to draws, differentiably; else None."""
    import torch

    parts = gaussian_parts(dist)
    if parts is not None:
        loc = parts[0]

        def gaussian(u):
            eps = torch.special.ndtri(torch.as_tensor(u, dtype=loc.dtype, device=loc.device))
            return standard_normal_to(parts, eps)

        return loc.shape[-1], gaussian
    if dist.event_shape == () and dist.batch_shape == ():
        try:
            dist.icdf(torch.tensor(0.5, dtype=dist.mean.dtype, device=dist.mean.device))
        except (NotImplementedError, AttributeError, TypeError, ValueError):
            return None
        dtype, device = dist.mean.dtype, dist.mean.device
        return 1, lambda u: dist.icdf(torch.as_tensor(u[:, 0], dtype=dtype, device=device))
    return None


def _gauss_hermite(f, dist, order):
    import torch
    import torch.distributions as D

    from .gauss_hermite import gauss_hermite_expectation  # lazy: the quadrature module

    if isinstance(dist, D.Normal) and dist.batch_shape == ():
        mean, cov = dist.loc.detach(), dist.scale.detach() ** 2
    elif isinstance(dist, D.MultivariateNormal) and dist.batch_shape == ():
        mean, cov = dist.loc.detach(), dist.covariance_matrix.detach()
    else:
        raise ValueError("method='gauss-hermite' needs a Normal or MultivariateNormal, got "
                         f"{type(dist).__name__}")
    dtype, device = mean.dtype, mean.device

    def numpy_f(x):
        return f(torch.as_tensor(x, dtype=dtype, device=device)).detach()

    result = gauss_hermite_expectation(numpy_f, mean.cpu().numpy(), cov.cpu().numpy(),
                                       order=order)
    return result._replace(value=torch.tensor(result.value, dtype=dtype, device=device))


def _call(f, x, n):
    import torch

    values = f(x)
    if not isinstance(values, torch.Tensor):
        values = torch.as_tensor(np.asarray(values, dtype=np.float64))
    if values.shape != (n,):
        raise ValueError(f"f must return shape ({n},) for {n} draws, got {tuple(values.shape)}")
    if not torch.isfinite(values.detach()).all():
        i = int(torch.nonzero(~torch.isfinite(values.detach()))[0, 0])
        raise ValueError(f"f returned a non-finite value {values[i].item()} at x = "
                         f"{x[i].detach().cpu().numpy()}")
    return values


def _expectation_iv(f, dist, method, n, n_replicates):
    import torch.distributions as D

    check_callable(f, "f")
    if not isinstance(dist, D.Distribution):
        raise TypeError(f"dist must be a torch.distributions.Distribution, got "
                        f"{type(dist).__name__}")
    if dist.batch_shape != ():
        raise ValueError(f"dist must have an empty batch_shape, got {tuple(dist.batch_shape)}; "
                         "wrap independent components in torch.distributions.Independent")
    check_choice(method, "method", METHODS)
    check_int(n, "n", minimum=2)
    check_int(n_replicates, "n_replicates", minimum=2)
    if method == "qmc" and n < 2 * n_replicates:
        raise ValueError(f"n must be >= 2 * n_replicates = {2 * n_replicates} for qmc, got {n}")
