"""The ELBO and its gradient estimators."""

from __future__ import annotations

import math

import torch

from .._core.random import torch_generator

ESTIMATORS = ("reparam", "stl", "score", "analytic-kl")


def _check_estimator(estimator, valid=ESTIMATORS):
    if estimator not in valid:
        raise ValueError(f"unknown estimator {estimator!r}; valid: {', '.join(valid)}")


def _check_dim(model, approx):
    if approx.dim != model.dim:
        raise ValueError(f"approx has dim {approx.dim} but the model has dim {model.dim}: "
                         "build the family with the model's dim")


def _generator(seed, approx):
    if isinstance(seed, torch.Generator):
        return seed
    return torch_generator(seed, device=approx.device)


def _closed_entropy(approx):
    from .families import Flow

    return None if isinstance(approx, Flow) else approx.entropy()


def elbo_terms(log_joint, approx, z, estimator, *, prior=None, log_likelihood=None,
               weights=True, score_baseline=True):
    """The surrogate whose value is the ELBO estimate and whose gradient is the
    ``estimator``'s, given draws ``z`` (already ``rsample``-d, or ``sample``-d for score).
    Returns ``(surrogate, log_weights)`` where ``log_weights = log p(z) - log q(z)``
    (detached), per draw."""
    if estimator == "reparam":
        lp = log_joint(z)
        ent = _closed_entropy(approx)
        if ent is None:
            lq = approx.log_prob(z)
            value = (lp - lq).mean()
            return value, (lp - lq).detach()
        value = lp.mean() + ent
        if not weights:
            return value, None
        with torch.no_grad():
            lw = lp - approx.log_prob(z)
        return value, lw
    if estimator == "stl":
        lp = log_joint(z)
        lw = lp - approx.detached().log_prob(z)
        return lw.mean(), lw.detach()
    if estimator == "score":
        z = z.detach()
        lq = approx.log_prob(z)
        with torch.no_grad():
            f = log_joint(z) - lq
        n = f.shape[0]
        # leave-one-out mean as the baseline: unbiased, and it removes the constant part
        baseline = (f.sum() - f) / (n - 1) if n > 1 and score_baseline else \
            torch.zeros_like(f)
        surrogate = ((f - baseline) * lq).mean()
        value = f.mean() + surrogate - surrogate.detach()
        return value, f
    # analytic-kl
    lik = log_likelihood(z)
    kl = gaussian_kl_to_prior(approx, prior)
    value = lik.mean() - kl
    if not weights:
        return value, None
    with torch.no_grad():
        lw = lik + prior.log_prob(z) - approx.log_prob(z)
    return value, lw


def gaussian_kl_to_prior(q, prior):
    """KL(q || prior) in closed form for a Gaussian family ``q`` and a Gaussian prior
    (``Normal``/``Independent(Normal)``: O(d), never a dense matrix; or
    ``MultivariateNormal``)."""
    d = q.dim
    logdet_q = 2.0 * q.entropy() - d * (1.0 + math.log(2 * math.pi))
    base = prior.base_dist if isinstance(prior, torch.distributions.Independent) else prior
    if isinstance(base, torch.distributions.Normal):
        m = base.loc.expand(d)
        s2 = base.scale.expand(d) ** 2
        return 0.5 * ((q.variance / s2).sum() + ((q.mean - m) ** 2 / s2).sum() - d +
                      torch.log(s2).sum() - logdet_q)
    if isinstance(base, torch.distributions.MultivariateNormal):
        L = base.scale_tril
        diff = (q.mean - base.loc)[:, None]
        cov_q = q.covariance
        A = torch.cholesky_solve(cov_q, L)
        maha = (diff * torch.cholesky_solve(diff, L)).sum()
        return 0.5 * (torch.trace(A) + maha - d + 2 * torch.log(torch.diagonal(L)).sum() -
                      logdet_q)
    raise TypeError("analytic-kl needs a Normal, Independent(Normal) or MultivariateNormal "
                    f"prior, got {type(prior).__name__}")


def _gaussian_prior(model, prior):
    prior = prior if prior is not None else getattr(model, "gaussian_prior", None)
    if prior is None:
        raise ValueError("estimator='analytic-kl' needs the Gaussian prior on the "
                         "unconstrained space: pass prior= (a torch Normal/Independent/"
                         "MultivariateNormal) or give the model a gaussian_prior attribute")
    return prior


def elbo(model, approx, *, n_samples=16, estimator="reparam", seed=None, prior=None,
         score_baseline=True):
    """Monte Carlo estimate of the ELBO ``E_q[log p(z, y) - log q(z)]``, differentiable.

    Parameters
    ----------
    model : Model
        The target (its ``log_joint`` on the unconstrained space).
    approx : a family of :mod:`bayescalc.vi` (MeanFieldNormal, FullRankNormal, ...)
    n_samples : int
        Number of draws ``z ~ q``.
    estimator : str
        How the returned tensor's gradient (with respect to ``approx.parameters()``) is
        estimated; its value is always an unbiased ELBO estimate.

        - ``"reparam"``: pathwise gradient of ``mean log p(z) + H[q]`` (closed-form
          entropy for the Gaussian families).
        - ``"stl"``: sticking the landing (Roeder et al. 2017): ``log q`` with its
          parameters stopped; the gradient is exactly zero when ``q`` equals the
          posterior.
        - ``"score"``: score function (REINFORCE), ``mean((f - b) grad log q)`` with
          ``f = log p - log q`` and the leave-one-out mean as baseline ``b``; needs no
          gradient of the model. ``n_samples >= 2``.
        - ``"analytic-kl"``: ``mean log p(y | z) - KL(q || prior)`` in closed form, for a
          Gaussian prior on the unconstrained space (``prior=`` or the model's
          ``gaussian_prior``; the model's transform must be the identity).
    seed : int or torch.Generator, optional
    prior : torch Distribution, optional
        The Gaussian prior for ``"analytic-kl"``.
    score_baseline : bool
        Use the leave-one-out baseline with ``"score"`` (False: plain REINFORCE, kept to
        measure the variance the baseline removes).

    Returns
    -------
    torch.Tensor
        A scalar: ``.item()`` is the estimate, ``.backward()`` gives the gradient.

    Examples
    --------
    A Gaussian target ``N(1, 0.5^2)`` with log Z = 0: the ELBO of ``q = p`` is 0 for every
    draw (and the STL gradient is exactly zero).

    >>> import torch
    >>> from bayescalc.model import Model
    >>> from bayescalc.vi import MeanFieldNormal
    >>> m = Model(lambda t: torch.zeros(len(t), dtype=torch.float64),
    ...           lambda t: torch.distributions.Normal(1.0, 0.5).log_prob(t[:, 0]), dim=1)
    >>> q = MeanFieldNormal(1, loc=[1.0], scale=[0.5])
    >>> value = elbo(m, q, n_samples=8, estimator="stl", seed=0)
    >>> abs(value.item()) < 1e-12
    True
    >>> value.backward(); float(q.loc.grad.abs().max()) < 1e-12
    True
    """
    _check_estimator(estimator)
    _check_dim(model, approx)
    n_samples = int(n_samples)
    if n_samples < 1 or (estimator == "score" and n_samples < 2):
        raise ValueError(f"n_samples must be >= {2 if estimator == 'score' else 1}, "
                         f"got {n_samples}")
    if estimator == "analytic-kl":
        prior = _gaussian_prior(model, prior)
    g = _generator(seed, approx)
    z = approx.rsample((n_samples,), generator=g)
    value, _ = elbo_terms(model.log_joint, approx, z, estimator, prior=prior,
                          log_likelihood=model.log_likelihood, score_baseline=score_baseline)
    return value


def iwae(model, approx, *, n_samples=1, k=16, estimator="dreg", seed=None):
    """The importance-weighted bound ``E[log (1/k) sum_i p(z_i, y) / q(z_i)]``.

    ``IWAE_k`` rises with ``k`` from the ELBO (``k = 1``) towards log Z.

    Parameters
    ----------
    model : Model
    approx : a family of :mod:`bayescalc.vi`
    n_samples : int
        Number of independent groups of ``k`` draws averaged.
    k : int
        Draws per importance-weighted group.
    estimator : str
        ``"dreg"`` (doubly reparameterized, Tucker et al. 2019: ``sum_i w~_i^2
        d log w_i / dz_i dz_i/dphi``, lower variance, no vanishing signal-to-noise as
        ``k`` grows) or ``"reparam"`` (the plain IWAE pathwise gradient).
    seed : int or torch.Generator, optional

    Returns
    -------
    torch.Tensor
        Scalar estimate of the bound with the estimator's gradient.

    Examples
    --------
    >>> import torch
    >>> from bayescalc.model import Model
    >>> from bayescalc.vi import MeanFieldNormal
    >>> m = Model(lambda t: torch.zeros(len(t), dtype=torch.float64),
    ...           lambda t: torch.distributions.Normal(1.0, 0.5).log_prob(t[:, 0]), dim=1)
    >>> q = MeanFieldNormal(1, loc=[0.8], scale=[0.7])
    >>> b1 = iwae(m, q, n_samples=4000, k=1, seed=0).item()
    >>> b16 = iwae(m, q, n_samples=500, k=16, seed=0).item()
    >>> b1 < b16 < 0.0                              # log Z = 0
    True
    """
    _check_estimator(estimator, ("dreg", "reparam"))
    _check_dim(model, approx)
    if int(k) < 1 or int(n_samples) < 1:
        raise ValueError(f"k and n_samples must be >= 1, got k={k}, n_samples={n_samples}")
    k, n_samples = int(k), int(n_samples)
    g = _generator(seed, approx)
    z = approx.rsample((n_samples, k), generator=g)
    lp = model.log_joint(z.reshape(-1, approx.dim)).reshape(n_samples, k)
    if estimator == "reparam":
        lw = lp - approx.log_prob(z)
        return (torch.logsumexp(lw, -1) - math.log(k)).mean()
    lw = lp - approx.detached().log_prob(z)                  # only the path through z
    with torch.no_grad():
        wt = torch.softmax(lw, -1)
        value = (torch.logsumexp(lw, -1) - math.log(k)).mean()
    surrogate = ((wt**2) * lw).sum(-1).mean()
    return value + surrogate - surrogate.detach()
