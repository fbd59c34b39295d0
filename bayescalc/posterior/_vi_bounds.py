"""Variational lower bounds on log Z as rows of :func:`bayescalc.posterior.compare`.

A fitted approximation ``q`` gives two lower bounds on log Z: the ELBO,
``E_q[log p - log q] = log Z - KL(q || p)``, and the importance-weighted bound
``IWAE_k = E[log (1/k) sum_i p(z_i) / q(z_i)]`` (Burda et al. 2016), which rises with
``k`` from the ELBO toward log Z. They are bounds, not estimates: in the table they
disagree with an estimate only when they lie above it beyond the combined error.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._core.random import torch_generator
from .result import EvidenceResult

#: ``diagnostics["bound"]`` of a row that is a lower bound on log Z.
LOWER = "lower"


def vi_bound_rows(model, vi, *, seed=None, k=64, n_groups=128):
    """The ELBO and IWAE_k rows of a VI fit of ``model``.

    Parameters
    ----------
    model : bayescalc.Model
    vi : bayescalc.vi.VIResult or True
        A fit already made, or True to fit the default full-rank Gaussian
        (``bayescalc.vi.fit(model, seed=seed, progress=False)``).
    seed : int, optional
        Seeds the fit (when made here) and the IWAE draws.
    k, n_groups : int
        Draws per importance-weighted group, and groups averaged (``k * n_groups``
        evaluations); the IWAE error is the groups' standard error.

    Returns
    -------
    list of EvidenceResult
        ``"vi-elbo"`` (the fit's final many-draw ELBO and its standard error) and
        ``"vi-iwae"``; ``diagnostics["bound"] == "lower"``. ``success`` is the fit's.

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1)
    >>> elbo, iw = vi_bound_rows(m, True, seed=0)
    >>> exact = Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(1.0)).item()
    >>> elbo.log_z <= iw.log_z + 3 * iw.error and iw.log_z <= exact + 3 * iw.error
    True
    """
    from ..vi import fit

    if vi is True:
        vi = fit(model, seed=seed, progress=False)
    approx = vi.approx
    generator = torch_generator(seed)
    k, n_groups = int(k), int(n_groups)
    with torch.no_grad():
        z = approx.sample((n_groups * k,), generator=generator)
        log_w = (model.log_joint(z) - approx.log_prob(z)).reshape(n_groups, k)
    groups = (torch.logsumexp(log_w, -1) - math.log(k)).numpy()
    finite = np.isfinite(groups)
    value = float(np.mean(groups)) if finite.all() else -math.inf
    error = float(np.std(groups, ddof=1) / math.sqrt(n_groups)) if finite.all() else math.inf
    family = getattr(vi, "family", "")
    common = {"bound": LOWER, "family": family, "khat": getattr(vi, "khat", float("nan"))}
    elbo = EvidenceResult(float(vi.elbo), float(vi.elbo_error), int(vi.n_evals),
                          int(vi.n_grad_evals), "vi-elbo", bool(vi.success),
                          f"a lower bound on log Z: the ELBO of the fitted {family} "
                          f"approximation ({vi.message})", dict(common))
    iwae = EvidenceResult(value, error, n_groups * k, 0, "vi-iwae", bool(vi.success),
                          f"a lower bound on log Z: IWAE with k = {k} importance draws per "
                          f"group from the fitted approximation, {n_groups} groups",
                          dict(common, k=k))
    return [elbo, iwae]


def is_lower_bound(result) -> bool:
    """Whether a row of the table is a lower bound on log Z (not an estimate)."""
    return result.diagnostics.get("bound") == LOWER
