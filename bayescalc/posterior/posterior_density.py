"""The normalized posterior: density, moments, quantiles, marginals, draws, figures.

A :class:`Posterior` holds ``log Z`` and a representation of the posterior on the
unconstrained space: for ``d <= 2`` a fine grid (the density ``exp(log_joint - log Z)``
on a box covering the weighted draws; trapezoid sums give moments and marginals), for
larger ``d`` weighted draws (importance sampling or SMC). Everything the user sees is in
the CONSTRAINED space of the model's parameters (the transform's Jacobian handled).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._core.random import as_generator

GRID_MAX_DIM = 2
_GRID_POINTS = {1: 801, 2: 151}


def _weighted_quantile(x, w, q):
    order = np.argsort(x)
    x, w = x[order], w[order]
    c = np.cumsum(w) - 0.5 * w
    c /= w.sum()
    return np.interp(q, c, x)


class Posterior:
    """A normalized posterior (built by :func:`bayescalc.posterior.normalize`).

    Attributes
    ----------
    log_z : float
        The log evidence used to normalize.
    evidence : EvidenceResult
        The full evidence result (its error, cost, method).
    model : bayescalc.Model
    names : tuple of str

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> from bayescalc.posterior import normalize
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1)
    >>> post = normalize(m, seed=0)
    >>> round(float(post.mean[0]), 6), round(float(post.cov[0, 0]), 6)   # N(1/2, 1/2)
    (0.5, 0.5)
    """

    def __init__(self, model, evidence, samples, log_weights, seed=None):
        self.model = model
        self.evidence = evidence
        self.log_z = float(evidence.log_z)
        self.names = tuple(model.names)
        self.dim = model.dim
        z = torch.as_tensor(samples, dtype=torch.float64).reshape(-1, self.dim)
        lw = np.asarray(log_weights, dtype=float).reshape(-1)
        self._z = z
        self._theta = model.constrain(z).detach().numpy().reshape(len(z), -1)
        self._w = np.exp(lw - np.max(lw))
        self._w /= self._w.sum()
        self._grid = None
        if self.dim <= GRID_MAX_DIM and self._elementwise():
            self._grid = self._build_grid()

    # -- representation ----------------------------------------------------------------
    def _elementwise(self):
        z = self._z[:2]
        ladj = self.model.transform.log_abs_det_jacobian(z, self.model.transform(z))
        return ladj.ndim == 2 and self.model.constrain(z).shape[1] == self.dim

    def _build_grid(self):
        m = _GRID_POINTS[self.dim]
        zn = self._z.numpy()
        axes = []
        for i in range(self.dim):
            lo, hi = _weighted_quantile(zn[:, i], self._w, [1e-4, 1 - 1e-4])
            pad = 0.5 * (hi - lo) + 1e-9
            axes.append(np.linspace(lo - pad, hi + pad, m))
        mesh = np.meshgrid(*axes, indexing="ij")
        zg = torch.as_tensor(np.stack([g.ravel() for g in mesh], 1))
        with torch.no_grad():
            lj = self.model.log_joint(zg).numpy()
        dens_z = np.exp(lj - self.log_z).reshape([m] * self.dim)
        theta_axes, log_jac = [], []
        for i in range(self.dim):
            zz = torch.as_tensor(np.tile(zn[:1], (m, 1)))
            zz[:, i] = torch.as_tensor(axes[i])
            th = self.model.transform(zz)
            ladj = self.model.transform.log_abs_det_jacobian(zz, th)[:, i]
            theta_axes.append(th[:, i].detach().numpy())
            log_jac.append(ladj.detach().numpy())
        return {"z_axes": axes, "density_z": dens_z, "theta_axes": theta_axes,
                "log_jac": log_jac}

    # -- density -----------------------------------------------------------------------
    def log_pdf(self, theta):
        """Log posterior density at constrained parameters ``theta`` (n, d) -> (n,)."""
        theta = self.model.as_batch(theta)
        z = self.model.unconstrain(theta)
        with torch.no_grad():
            lj = self.model.log_joint(z)
            ladj = self.model.transform.log_abs_det_jacobian(z, self.model.transform(z))
        if ladj.ndim == 2:
            ladj = ladj.sum(-1)
        return (lj - ladj - self.log_z).numpy()

    def pdf(self, theta):
        """Posterior density at constrained ``theta`` (n, d) -> (n,)."""
        return np.exp(self.log_pdf(theta))

    # -- marginals and moments ---------------------------------------------------------
    def marginal(self, i):
        """``(theta_i grid, density)``: the 1-D marginal density of parameter ``i`` (by
        quadrature on the grid for d <= 2, a weighted kernel density estimate above)."""
        i = self._index(i)
        if self._grid is not None:
            g = self._grid
            dens = g["density_z"]
            for j in reversed(range(self.dim)):
                if j != i:
                    dens = np.trapezoid(dens, g["z_axes"][j], axis=j)
            theta = g["theta_axes"][i]
            density = dens * np.exp(-g["log_jac"][i])
            order = np.argsort(theta)
            return theta[order], density[order]
        from scipy.stats import gaussian_kde

        x = self._theta[:, i]
        kde = gaussian_kde(x, weights=self._w)
        lo, hi = _weighted_quantile(x, self._w, [1e-3, 1 - 1e-3])
        pad = 0.2 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 400)
        return grid, kde(grid)

    def _index(self, i):
        if isinstance(i, str):
            if i not in self.names:
                raise ValueError(f"i must be a parameter index or one of {self.names}, got {i!r}")
            return self.names.index(i)
        if not 0 <= int(i) < self.dim:
            raise ValueError(f"i must be in [0, {self.dim}), got {i}")
        return int(i)

    @property
    def mean(self):
        """Posterior mean of the constrained parameters, shape (d,)."""
        if self._grid is not None:
            return np.array([np.trapezoid(x * p, x) for x, p in
                             (self.marginal(i) for i in range(self.dim))])
        return self._w @ self._theta

    @property
    def cov(self):
        """Posterior covariance of the constrained parameters, shape (d, d)."""
        if self._grid is not None:
            g = self._grid
            th = np.meshgrid(*g["theta_axes"], indexing="ij")
            w = g["density_z"].copy()
            for j in range(self.dim):  # integrate over z: weights of the z grid
                shape = [1] * self.dim
                shape[j] = -1
                w = w * np.gradient(g["z_axes"][j]).reshape(shape)
            w = w / w.sum()
            flat = np.stack([t.ravel() for t in th], 1)
            mu = w.ravel() @ flat
            c = flat - mu
            return (c * w.ravel()[:, None]).T @ c
        c = self._theta - self.mean
        return (c * self._w[:, None]).T @ c

    def quantiles(self, q):
        """Marginal quantiles: array of shape (len(q), d) for probabilities ``q``."""
        q = np.atleast_1d(np.asarray(q, dtype=float))
        if np.any((q < 0) | (q > 1)):
            raise ValueError(f"q must be probabilities in [0, 1], got {q}")
        out = np.empty((q.size, self.dim))
        for i in range(self.dim):
            if self._grid is not None:
                x, p = self.marginal(i)
                cdf = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(x))])
                cdf /= cdf[-1]
                out[:, i] = np.interp(q, cdf, x)
            else:
                out[:, i] = _weighted_quantile(self._theta[:, i], self._w, q)
        return out

    def credible_interval(self, level=0.9):
        """Equal-tailed marginal credible intervals, shape (d, 2)."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        return self.quantiles([(1 - level) / 2, (1 + level) / 2]).T

    # -- draws ---------------------------------------------------------------------------
    def sample(self, n, seed=None):
        """``n`` approximate posterior draws of the constrained parameters (resampled from
        the weighted draws), shape (n, d)."""
        idx = as_generator(seed).choice(len(self._w), size=int(n), p=self._w)
        return self._theta[idx]

    def plot(self, **kwargs):
        """A figure: 1-D density with its 90% interval shaded; 2-D contours with the 90%
        region; pair marginals above (see :func:`bayescalc.plot.plot_posterior`)."""
        from ..plot.posterior import plot_posterior

        return plot_posterior(self, **kwargs)

    def to_arviz(self, n=4000, seed=None):
        """The draws as an ``arviz.InferenceData`` (one chain of ``n`` resampled draws)."""
        import arviz

        draws = self.sample(n, seed)
        return arviz.from_dict(posterior={name: draws[None, :, i]
                                          for i, name in enumerate(self.names)})

    def __repr__(self):
        return (f"Posterior(dim={self.dim}, log_z={self.log_z:.6g} +- "
                f"{self.evidence.error:.2g} by {self.evidence.method})")
