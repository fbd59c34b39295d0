"""Reference distributions that tempering starts from: the prior, a widened Laplace
Gaussian, or a Laplace Student-t.

A reference is normalized and can be sampled; tempering then walks the path
``log r(z) + beta (log joint(z) - log r(z))`` from ``beta = 0`` (the reference) to
``beta = 1`` (the unnormalized posterior), and log Z is what the walk accumulates.
"""

from __future__ import annotations

import math

import numpy as np
import torch

REFERENCES = ("auto", "prior", "laplace", "student-t")


class PriorReference:
    """The model's own prior (``model.sample_prior``); the path is prior x likelihood^beta."""

    kind = "prior"

    def sample(self, model, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` prior draws on the unconstrained space."""
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        return model.sample_prior(n, seed)


class GaussianReference:
    """``N(mean, cov)`` on the unconstrained space (a widened Laplace fit by default).

    Examples
    --------
    >>> import numpy as np, torch
    >>> r = GaussianReference(np.zeros(2), np.eye(2))
    >>> round(float(r.log_prob(torch.zeros(1, 2))[0]), 6)
    -1.837877
    """

    kind = "laplace"

    def __init__(self, mean, cov):
        self.mean = torch.as_tensor(np.asarray(mean, dtype=np.float64))
        self.cov = torch.as_tensor(np.asarray(cov, dtype=np.float64))
        self.chol = torch.linalg.cholesky(self.cov)
        d = self.mean.shape[0]
        self._const = -0.5 * d * math.log(2 * math.pi) - torch.log(torch.diagonal(self.chol)).sum()

    def _white(self, z):
        return torch.linalg.solve_triangular(self.chol, (z - self.mean).T, upper=False).T

    def sample(self, model, n: int, generator: torch.Generator) -> torch.Tensor:
        eps = torch.randn(n, self.mean.shape[0], generator=generator, dtype=torch.float64)
        return self.mean + eps @ self.chol.T

    def log_prob(self, z):
        w = self._white(z)
        return self._const - 0.5 * (w * w).sum(-1)

    def log_prob_and_grad(self, z):
        w = self._white(z)
        grad = -torch.linalg.solve_triangular(self.chol.T, w.T, upper=True).T
        return self._const - 0.5 * (w * w).sum(-1), grad


class StudentTReference(GaussianReference):
    """A multivariate Student-t with ``df`` degrees of freedom, location and scale matrix.

    Heavier tails than the Gaussian: safer when the posterior has tails the Laplace fit
    does not see.

    Examples
    --------
    >>> import numpy as np, torch
    >>> r = StudentTReference(np.zeros(1), np.eye(1), df=1.0)   # the standard Cauchy
    >>> round(float(r.log_prob(torch.zeros(1, 1))[0]), 6) == round(-math.log(math.pi), 6)
    True
    """

    kind = "student-t"

    def __init__(self, mean, cov, df: float = 5.0):
        super().__init__(mean, cov)
        self.df = float(df)
        d = self.mean.shape[0]
        nu = self.df
        self._const = (math.lgamma(0.5 * (nu + d)) - math.lgamma(0.5 * nu)
                       - 0.5 * d * math.log(nu * math.pi)
                       - torch.log(torch.diagonal(self.chol)).sum())

    def sample(self, model, n: int, generator: torch.Generator) -> torch.Tensor:
        d = self.mean.shape[0]
        eps = torch.randn(n, d, generator=generator, dtype=torch.float64)
        # a chi-square draw from the generator's uniforms, by the inverse CDF
        u = torch.rand(n, generator=generator, dtype=torch.float64).clamp(1e-300, 1 - 1e-16)
        from scipy.stats import chi2 as chi2_dist

        g = torch.as_tensor(chi2_dist.ppf(u.numpy(), self.df))
        return self.mean + (eps @ self.chol.T) / torch.sqrt(g / self.df)[:, None]

    def log_prob(self, z):
        w = self._white(z)
        q = (w * w).sum(-1)
        d = self.mean.shape[0]
        return self._const - 0.5 * (self.df + d) * torch.log1p(q / self.df)

    def log_prob_and_grad(self, z):
        w = self._white(z)
        q = (w * w).sum(-1)
        d = self.mean.shape[0]
        prec_dz = torch.linalg.solve_triangular(self.chol.T, w.T, upper=True).T
        grad = -((self.df + d) / (self.df + q))[:, None] * prec_dz
        return self._const - 0.5 * (self.df + d) * torch.log1p(q / self.df), grad


class MixtureReference:
    """A mixture of references (one per mode of the Laplace fit), weights ``exp(log_weights)``
    normalized: tempering from one mode's Gaussian never reaches a mode it gives no mass
    (SMC from the Laplace reference on a 70/30 two-mode mixture: 0.34-0.39 nats low with
    bars of 0.01-0.02 and ``success=True``).

    Examples
    --------
    >>> import numpy as np, torch
    >>> two = MixtureReference([GaussianReference(np.zeros(1), np.eye(1)),
    ...                         GaussianReference(np.full(1, 5.0), np.eye(1))], [0.0, 0.0])
    >>> z = torch.tensor([[0.0], [5.0]], dtype=torch.float64)
    >>> v, g = two.log_prob_and_grad(z)
    >>> bool(torch.allclose(v, two.log_prob(z))), round(float(v[0]), 4)
    (True, -1.6121)
    """

    def __init__(self, components, log_weights):
        self.components = list(components)
        lw = torch.as_tensor(np.asarray(log_weights, dtype=np.float64))
        self.log_weights = lw - torch.logsumexp(lw, 0)
        self.kind = self.components[0].kind

    def sample(self, model, n: int, generator: torch.Generator) -> torch.Tensor:
        which = torch.multinomial(torch.exp(self.log_weights), n, replacement=True,
                                  generator=generator)
        out = None
        for j, c in enumerate(self.components):
            idx = torch.nonzero(which == j).flatten()
            if len(idx):
                draws = c.sample(model, len(idx), generator)
                if out is None:
                    out = torch.empty(n, draws.shape[1], dtype=draws.dtype)
                out[idx] = draws
        return out

    def log_prob(self, z):
        return torch.logsumexp(torch.stack([w + c.log_prob(z) for w, c in
                                            zip(self.log_weights, self.components,
                                                strict=True)]), 0)

    def log_prob_and_grad(self, z):
        parts = [c.log_prob_and_grad(z) for c in self.components]
        lp = torch.stack([w + p[0] for w, p in zip(self.log_weights, parts, strict=True)])
        share = torch.softmax(lp, 0)  # each component's responsibility, (K, n)
        grad = sum(share[k][:, None] * parts[k][1] for k in range(len(parts)))
        return torch.logsumexp(lp, 0), grad


def make_reference(model, counted, kind: str = "auto", *, widen: float = 1.5,
                   df: float = 5.0, seed=None):
    """The reference named ``kind``, and the Laplace fit when one was made (else None).

    ``"auto"`` is the prior where the model can sample it, else the widened Laplace
    Gaussian; ``widen`` multiplies the Laplace standard deviations. Where the Laplace fit
    found several modes, the reference is their mixture (:class:`MixtureReference`,
    weighted by their Laplace masses).
    """
    if kind not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {kind!r}")
    if not (isinstance(widen, (int, float)) and widen > 0):
        raise ValueError(f"widen must be a positive number, got {widen!r}")
    if kind == "auto":
        kind = "prior" if model.can_sample_prior else "laplace"
    if kind == "prior":
        if not model.can_sample_prior:
            raise ValueError("reference='prior' needs a model with a prior sampler "
                             "(prior_sample=); use reference='laplace' or 'student-t'")
        return PriorReference(), None
    from .laplace_fit import laplace_fit

    fit = laplace_fit(counted, seed=seed)
    components = fit.components or ((0.0, fit.mode, fit.cov),)
    scale = float(widen) ** 2
    refs = [GaussianReference(mode, cov * scale) if kind == "laplace"
            else StudentTReference(mode, cov * scale, df=df) for _, mode, cov in components]
    if len(refs) == 1:
        return refs[0], fit
    return MixtureReference(refs, [log_mass for log_mass, _, _ in components]), fit
