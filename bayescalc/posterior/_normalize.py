"""``normalize``: the evidence and a normalized :class:`Posterior` from one model."""

from __future__ import annotations

import math
import warnings

from .._core.random import spawn_seeds
from ._evidence import evidence
from .importance import importance_evidence
from .posterior_density import Posterior


def normalize(model, method="auto", *, seed=None, executor=None, progress=False,
              n_draws=4000, **options) -> Posterior:
    """The normalized posterior of ``model``: log Z by ``method``, then its density,
    moments, quantiles, marginals and draws in the constrained space.

    Parameters
    ----------
    model : bayescalc.Model
    method : str
        The evidence method (see :func:`evidence`); ``"auto"`` by default.
    seed : int, optional
        The only source of randomness.
    executor : optional
        Passed to the particle methods.
    progress : bool
    n_draws : int
        Weighted draws (importance sampling from the Laplace mixture) kept when the
        evidence method gives none.
    **options
        Passed to the evidence method.

    Returns
    -------
    Posterior

    Raises
    ------
    ValueError
        When log Z is not finite (an improper posterior, or a method that failed).

    Examples
    --------
    A beta-binomial posterior on (0, 1): Beta(1 + 7, 1 + 13), normalized by quadrature.

    >>> import math, torch
    >>> from torch.distributions import Beta, biject_to
    >>> from bayescalc import Model
    >>> m = Model(lambda t: torch.zeros(t.shape[0], dtype=torch.float64),
    ...           lambda t: 7 * torch.log(t[:, 0]) + 13 * torch.log1p(-t[:, 0]), dim=1,
    ...           transform=biject_to(Beta(1.0, 1.0).support))
    >>> post = normalize(m, method="quadrature", seed=0)
    >>> round(post.log_z - (math.lgamma(8) + math.lgamma(14) - math.lgamma(22)), 8)
    0.0
    >>> round(float(post.mean[0]), 4)   # 8 / 22
    0.3636
    """
    seeds = spawn_seeds(seed, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evidence(model, method=method, seed=seeds[0], executor=executor,
                          progress=progress, **options)
    if not math.isfinite(result.log_z):
        raise ValueError(f"cannot normalize: log Z is not finite ({result.message})")
    if not result.success:
        warnings.warn(f"normalize: the evidence is not reliable: {result.message}",
                      stacklevel=2)
    samples = result.diagnostics.get("samples")
    log_weights = result.diagnostics.get("log_weights")
    if samples is not None and log_weights is None:
        log_weights = [0.0] * len(samples)
    if samples is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            draws = importance_evidence(model, seed=seeds[1], n=n_draws, executor=executor)
        samples, log_weights = draws.diagnostics["samples"], draws.diagnostics["log_weights"]
    return Posterior(model, result, samples, log_weights)
