"""The normalized posterior: density, moments, quantiles, marginals, draws, figures.

A :class:`Posterior` holds ``log Z`` and a representation of the posterior on the
unconstrained space: for ``d <= 2`` a fine grid (the density ``exp(log_joint - log Z)``
on a box grown from the weighted draws until the grid's mass is 1; trapezoid sums give
moments and marginals, and draws come from it), for
larger ``d`` weighted draws (importance sampling or SMC). Everything the user sees is in
the CONSTRAINED space of the model's parameters (the transform's Jacobian handled).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .._core.random import as_generator
from .._core.warnings import ReliabilityWarning

GRID_MAX_DIM = 2
_GRID_POINTS = {1: 801, 2: 151}
#: finest grid per axis when the first one does not hold the mass to GRID_MASS_TOL
GRID_MAX_POINTS = {1: 6401, 2: 601}
GRID_MASS_TOL = 1e-3
GRID_ATTEMPTS = 12
# the density on the box's faces, relative to its peak, below which the box holds the
# mass (the 2-D funnel's x-tails beyond a box holding all but 2e-4 of the mass carried
# 5% of Var(x))
GRID_EDGE_SHARE = 1e-6


def _edge_share(density):
    """Largest density on the grid's faces over its largest value (0 where none)."""
    top = float(np.max(density))
    if not top > 0:
        return 0.0
    faces = [np.take(density, idx, axis=j) for j in range(density.ndim) for idx in (0, -1)]
    return max(float(np.max(f)) for f in faces) / top


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
    grid_mass : float
        For ``d <= 2``: the trapezoid mass of ``exp(log_joint - log_z)`` on the grid that
        carries the moments, marginals and draws (1 within ``GRID_MASS_TOL`` when the grid
        holds and resolves the posterior and log Z is right).

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
        self._theta = model.transform(z).detach().numpy().reshape(len(z), -1)
        if self._theta.shape[1] != self.dim:  # e.g. a simplex: d + 1 constrained coordinates
            self.names = tuple(f"theta[{i}]" for i in range(self._theta.shape[1]))
        self._w = np.exp(lw - np.max(lw))
        self._w /= self._w.sum()
        self._grid = None
        self.grid_mass = None
        if self.dim <= GRID_MAX_DIM and self._elementwise():
            self._grid = self._build_grid()

    # -- representation ----------------------------------------------------------------
    def _elementwise(self):
        z = self._z[:2]
        ladj = self.model.transform.log_abs_det_jacobian(z, self.model.transform(z))
        return ladj.ndim == 2 and self._theta.shape[1] == self.dim

    def _build_grid(self):
        """The density on a box grid, checked against log Z: its trapezoid mass must be
        1 within ``GRID_MASS_TOL``. The box starts at the weighted draws' 1e-4 quantiles
        (padded by half their range); where the density on its edges is not negligible
        it is widened, else the grid is refined, up to ``GRID_MAX_POINTS`` per axis. With
        importance draws from the Laplace mixture on two thin shells the first box held
        part of the rings: the means and covariances were off by a factor of 2.6,
        silently."""
        m = _GRID_POINTS[self.dim]
        zn = self._z.numpy()
        bounds = []
        for i in range(self.dim):
            lo, hi = _weighted_quantile(zn[:, i], self._w, [1e-4, 1 - 1e-4])
            pad = 0.5 * (hi - lo) + 1e-9
            bounds.append([lo - pad, hi + pad])
        for _ in range(GRID_ATTEMPTS):
            axes = [np.linspace(lo, hi, m) for lo, hi in bounds]
            mesh = np.meshgrid(*axes, indexing="ij")
            zg = torch.as_tensor(np.stack([g.ravel() for g in mesh], 1))
            with torch.no_grad():
                lj = self.model.log_joint(zg).numpy()
            dens_z = np.exp(lj - self.log_z).reshape([m] * self.dim)
            mass = dens_z
            for j in reversed(range(self.dim)):
                mass = np.trapezoid(mass, axes[j], axis=j)
            mass = float(mass)
            edges = _edge_share(dens_z)
            if abs(mass - 1.0) <= GRID_MASS_TOL and edges <= GRID_EDGE_SHARE:
                break
            if edges > GRID_EDGE_SHARE:  # mass beyond the box: widen it by half each side
                for b in bounds:
                    half = 0.5 * (b[1] - b[0])
                    b[0], b[1] = b[0] - half, b[1] + half
            elif m < GRID_MAX_POINTS[self.dim]:  # too coarse for its features: refine
                m = min(2 * m - 1, GRID_MAX_POINTS[self.dim])
            else:
                break
        self.grid_mass = mass
        if abs(mass - 1.0) > GRID_MASS_TOL:
            warnings.warn(
                f"the posterior's density integrates to {mass:.6g} on its grid, not 1: "
                "log Z is off, or the grid misses or under-resolves part of the mass; its "
                "moments, marginals and draws are renormalized to the grid",
                ReliabilityWarning, stacklevel=3)
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
        if not 0 <= int(i) < len(self.names):
            raise ValueError(f"i must be in [0, {len(self.names)}), got {i}")
        return int(i)

    def _cell_masses(self):
        """The grid's nodes weighted by density times cell size (z space), summing to 1."""
        g = self._grid
        w = g["density_z"].copy()
        for j in range(self.dim):
            shape = [1] * self.dim
            shape[j] = -1
            w = w * np.gradient(g["z_axes"][j]).reshape(shape)
        return w / w.sum()

    @property
    def mean(self):
        """Posterior mean of the constrained parameters, shape (d,)."""
        if self._grid is not None:
            return np.array([np.trapezoid(x * p, x) for x, p in
                             (self.marginal(i) for i in range(self.dim))])
        # (the grid exists only for elementwise transforms: one column per parameter)
        return self._w @ self._theta

    @property
    def cov(self):
        """Posterior covariance of the constrained parameters, shape (d, d)."""
        if self._grid is not None:
            g = self._grid
            th = np.meshgrid(*g["theta_axes"], indexing="ij")
            w = self._cell_masses()
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
        out = np.empty((q.size, len(self.names)))
        for i in range(len(self.names)):
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
        """``n`` approximate posterior draws of the constrained parameters, shape (n, d):
        for ``d <= 2`` from the grid (a node by its density times its cell, then uniform
        within the cell), above resampled from the weighted draws."""
        rng = as_generator(seed)
        if self._grid is not None:
            g = self._grid
            w = self._cell_masses().ravel()
            cells = np.unravel_index(rng.choice(w.size, size=int(n), p=w), g["density_z"].shape)
            z = np.empty((int(n), self.dim))
            for j in range(self.dim):
                axis = g["z_axes"][j]
                step = np.gradient(axis)[cells[j]]
                z[:, j] = axis[cells[j]] + step * (rng.random(int(n)) - 0.5)
            with torch.no_grad():
                theta = self.model.transform(torch.as_tensor(z))
            return theta.detach().numpy().reshape(int(n), -1)
        idx = rng.choice(len(self._w), size=int(n), p=self._w)
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
