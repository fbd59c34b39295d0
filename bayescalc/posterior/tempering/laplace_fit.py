"""The Laplace fit of a model: its mode (L-BFGS with torch gradients) and the Hessian there.

The widened Laplace Gaussian and the Laplace Student-t references of tempering are built
on it. Only what the fit spends is counted (through the :class:`CountedModel` passed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch

from .._common import log_joint_hessian


@dataclass(frozen=True)
class LaplaceFit:
    """The mode of the log joint and the covariance ``(-Hessian)^-1`` there.

    Attributes
    ----------
    mode : numpy.ndarray, shape (d,)
        The maximizer of the log joint on the unconstrained space.
    cov : numpy.ndarray, shape (d, d)
        ``(-H)^-1``, with the eigenvalues of ``-H`` floored so that it is positive
        definite (``clipped`` says whether the floor was used).
    log_joint : float
        The log joint at the mode.
    clipped : bool
        True when ``-H`` was not positive definite and had to be repaired.
    converged : bool
        What L-BFGS-B reported.
    components : tuple of (log_mass, mode, cov)
        Every proper mode found (this one first), with its Laplace log mass.
    """

    mode: np.ndarray
    cov: np.ndarray
    log_joint: float
    clipped: bool
    converged: bool
    components: tuple = ()


def laplace_fit(counted, *, seed=None, n_starts: int = 64, max_iter: int = 500,
                hunt: int = 16) -> LaplaceFit:
    """Find the mode of ``counted.log_joint`` and the Laplace covariance there.

    The start is the best of ``n_starts`` prior draws where the prior can be sampled,
    else the origin of the unconstrained space. ``hunt > 0``: ``hunt`` dispersed points
    then climb together (:func:`bayescalc.posterior._mode_hunt.hunt_starts`, ``25 hunt``
    evaluations) and L-BFGS restarts from those that end outside the mode's basin; the
    proper modes found go into ``components`` (a mixture reference covers them all).

    Examples
    --------
    >>> import torch
    >>> from bayescalc.model import Model, CountedModel
    >>> m = Model(lambda t: -0.5 * (t**2).sum(-1), lambda t: -0.5 * ((t - 2)**2).sum(-1), 2)
    >>> fit = laplace_fit(CountedModel(m))
    >>> fit.mode.round(6).tolist(), fit.cov.round(6).tolist()
    ([1.0, 1.0], [[0.5, 0.0], [0.0, 0.5]])
    """
    from .._mode_hunt import hunt_starts

    d = counted.dim
    x0 = np.zeros(d)
    if getattr(counted, "can_sample_prior", False):
        draws = counted.sample_prior(n_starts, seed)
        with torch.no_grad():
            values = counted.log_joint(draws)
        values = torch.where(torch.isfinite(values), values, torch.tensor(-np.inf,
                                                                         dtype=values.dtype))
        x0 = draws[int(torch.argmax(values))].numpy().astype(np.float64)
    best = _climb(counted, x0, max_iter)
    found = [best]
    if hunt:
        for start in hunt_starts(counted, [_as_mode(best)], n=int(hunt), seed=seed):
            other = _climb(counted, start, max_iter)
            if other.clipped or other.log_mass < best.log_mass - 30.0:
                continue
            if all(np.abs(other.mode - m.mode).max() > 1e-3 * (1 + np.abs(m.mode).max())
                   for m in found):
                found.append(other)
    found.sort(key=lambda m: -m.log_mass)
    top = found[0]
    return LaplaceFit(mode=top.mode, cov=top.cov, log_joint=top.log_joint, clipped=top.clipped,
                      converged=top.converged,
                      components=tuple((m.log_mass, m.mode, m.cov) for m in found))


@dataclass(frozen=True)
class _Climbed:
    mode: np.ndarray
    cov: np.ndarray
    log_joint: float
    clipped: bool
    converged: bool

    @property
    def log_mass(self) -> float:
        """The Laplace log mass ``log_joint + log det(2 pi cov) / 2``."""
        sign, logdet = np.linalg.slogdet(2 * np.pi * self.cov)
        return self.log_joint + 0.5 * logdet if sign > 0 else -np.inf


def _as_mode(c):
    return SimpleNamespace(point=c.mode, cov=c.cov, log_joint=c.log_joint)


def _climb(counted, x0, max_iter) -> _Climbed:
    """L-BFGS from ``x0``, then the Hessian there (eigenvalues floored if need be)."""
    from scipy.optimize import minimize

    d = counted.dim

    def negative(x):
        values, grad = counted.log_joint_and_grad(torch.as_tensor(x).reshape(1, d))
        v = float(values[0])
        if not np.isfinite(v):
            return 1e300, np.zeros(d)
        return -v, -grad[0].numpy().astype(np.float64)

    opt = minimize(negative, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": 1e-9, "ftol": 1e-15})
    mode = np.asarray(opt.x, dtype=np.float64)
    # autodiff, or differences of the gradient where that is NaN (torch's logaddexp)
    hessian = log_joint_hessian(counted, mode)
    precision = -0.5 * (hessian + hessian.T)
    eigval, eigvec = np.linalg.eigh(precision)
    floor = 1e-10 * max(float(np.abs(eigval).max()), 1e-300)
    clipped = bool(eigval.min() <= floor) or not np.all(np.isfinite(eigval))
    if clipped:
        positive = eigval[eigval > floor]
        fill = float(np.median(positive)) if positive.size else 1.0
        eigval = np.where(eigval > floor, eigval, fill)
    cov = (eigvec / eigval) @ eigvec.T
    return _Climbed(mode, 0.5 * (cov + cov.T), -float(opt.fun), clipped, bool(opt.success))
