"""The Model: one unnormalized log posterior on an unconstrained space.

Every estimator of :mod:`bayescalc.posterior` and every fit of :mod:`bayescalc.vi` takes
a :class:`Model`. It keeps the log prior and the log likelihood apart (tempering walks
from one to the other), works on batches ``z`` of shape ``(n, d)`` on the unconstrained
space ``R^d`` and returns shape ``(n,)`` in torch float64, differentiable.
"""

from __future__ import annotations

import numpy as np
import torch

from .._core.random import torch_generator


def _identity_transform():
    return torch.distributions.transforms.identity_transform


class Model:
    """An unnormalized posterior ``p(theta) p(y | theta)`` on an unconstrained space.

    Parameters
    ----------
    log_prior : callable
        ``log_prior(theta) -> (n,)``: the log prior density at a batch of constrained
        parameters ``theta`` of shape ``(n, d)`` (a torch float64 tensor). It should be
        normalized where the evidence is wanted (log Z is only meaningful then).
    log_likelihood : callable
        ``log_likelihood(theta) -> (n,)``: the log likelihood of the data at a batch
        ``theta`` of shape ``(n, d)``.
    dim : int
        The number of parameters d.
    transform : torch.distributions.Transform, optional
        A bijection from ``R^d`` (the unconstrained space, where every method works) onto
        the parameters' support, acting on shape ``(n, d)``; for instance
        ``torch.distributions.biject_to(constraints.positive)``. Its log-det-Jacobian is
        added to the log prior, once, for every method. Default: the identity.
    names : sequence of str, optional
        One name per parameter (default ``theta[0]``, ``theta[1]``, ...).
    prior_sample : callable, optional
        ``prior_sample(n, generator) -> (n, d)`` constrained draws from the prior, given a
        ``torch.Generator``. When given, :meth:`sample_prior` works (tempering from the
        prior needs it).
    log_z_exact : float, optional
        The exact log evidence, where it is known (reference models set it).

    Notes
    -----
    ``log_prior(z)``, ``log_likelihood(z)`` and ``log_joint(z)`` of the model take the
    *unconstrained* ``z``; ``log_prior`` includes the log-det-Jacobian of ``transform``,
    so ``exp(log_joint)`` integrates over ``R^d`` to the evidence Z.

    Examples
    --------
    A normal mean with a standard normal prior and one observation y = 1 (unit noise):
    the evidence is N(1; 0, 2).

    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1,
    ...           log_z_exact=Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(1.0)).item())
    >>> m.log_joint(torch.zeros(3, 1)).shape
    torch.Size([3])
    >>> round(m.log_z_exact, 6)
    -1.515512
    """

    def __init__(self, log_prior, log_likelihood, dim, *, transform=None, names=None,
                 prior_sample=None, log_z_exact=None):
        if not callable(log_prior):
            raise TypeError(f"log_prior must be callable, got {type(log_prior).__name__}")
        if not callable(log_likelihood):
            raise TypeError(
                f"log_likelihood must be callable, got {type(log_likelihood).__name__}")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        self._log_prior = log_prior
        self._log_likelihood = log_likelihood
        self.dim = int(dim)
        self.transform = _identity_transform() if transform is None else transform
        if names is None:
            names = [f"theta[{i}]" for i in range(self.dim)]
        names = [str(n) for n in names]
        if len(names) != self.dim:
            raise ValueError(f"names has {len(names)} entries, expected dim = {self.dim}")
        self.names = tuple(names)
        self._prior_sample = prior_sample
        self.log_z_exact = None if log_z_exact is None else float(log_z_exact)

    # -- points -------------------------------------------------------------------------
    def as_batch(self, z) -> torch.Tensor:
        """``z`` as a float64 tensor of shape ``(n, d)`` (a single point becomes n = 1).

        Raises ``ValueError`` naming ``z`` on a wrong trailing dimension.
        """
        if not isinstance(z, torch.Tensor):
            z = torch.as_tensor(np.asarray(z, dtype=np.float64))
        if not z.is_floating_point() or z.dtype != torch.float64:
            z = z.to(torch.float64)
        if z.ndim == 1 and self.dim > 1 or z.ndim == 0:
            z = z.reshape(1, -1)
        elif z.ndim == 1:
            z = z.reshape(-1, 1)
        if z.ndim != 2 or z.shape[1] != self.dim:
            raise ValueError(
                f"z must have shape (n, {self.dim}) for this {self.dim}-parameter model, "
                f"got {tuple(z.shape)}")
        return z

    def constrain(self, z) -> torch.Tensor:
        """Map unconstrained points ``z`` (n, d) to the parameters' support."""
        return self.transform(self.as_batch(z))

    def unconstrain(self, theta) -> torch.Tensor:
        """Map parameters ``theta`` (n, d) on their support to the unconstrained space."""
        return self.transform.inv(self.as_batch(theta))

    def _log_det_jacobian(self, z, theta):
        ladj = self.transform.log_abs_det_jacobian(z, theta)
        if ladj.ndim == 2:  # an elementwise transform: sum over the coordinates
            ladj = ladj.sum(-1)
        return ladj.expand(z.shape[0])

    # -- densities ----------------------------------------------------------------------
    def log_prior(self, z) -> torch.Tensor:
        """Log prior density of the unconstrained ``z`` (log-det-Jacobian included)."""
        z = self.as_batch(z)
        theta = self.transform(z)
        return self._values(self._log_prior(theta), z, "log_prior") + \
            self._log_det_jacobian(z, theta)

    def log_likelihood(self, z) -> torch.Tensor:
        """Log likelihood at the unconstrained ``z``, shape ``(n,)``."""
        z = self.as_batch(z)
        return self._values(self._log_likelihood(self.transform(z)), z, "log_likelihood")

    def log_joint(self, z) -> torch.Tensor:
        """Unnormalized log posterior ``log_prior(z) + log_likelihood(z)``, shape ``(n,)``."""
        z = self.as_batch(z)
        return self.log_prior(z) + self.log_likelihood(z)

    def log_joint_and_grad(self, z):
        """``(log_joint(z), its gradient in z)``: shapes ``(n,)`` and ``(n, d)``, detached."""
        z = self.as_batch(z).detach().requires_grad_(True)
        with torch.enable_grad():
            values = self.log_joint(z)
            (grad,) = torch.autograd.grad(values.sum(), z)
        return values.detach(), grad

    def _values(self, values, z, what):
        values = torch.as_tensor(values, dtype=torch.float64)
        n = z.shape[0]
        if values.ndim == 0 and n == 1:
            values = values.reshape(1)
        if values.shape != (n,):
            raise ValueError(
                f"{what} must return shape (n,) = ({n},) for a batch theta of shape "
                f"{tuple(z.shape)}, got {tuple(values.shape)}: write it vectorized over "
                "the first axis of theta")
        return values

    # -- prior draws --------------------------------------------------------------------
    @property
    def can_sample_prior(self) -> bool:
        """True when the prior can be sampled (``prior_sample`` was given)."""
        return self._prior_sample is not None

    def sample_prior(self, n, seed=None) -> torch.Tensor:
        """``n`` draws from the prior, on the unconstrained space, shape ``(n, d)``."""
        if self._prior_sample is None:
            raise ValueError("this model has no prior sampler: build it with prior_sample= "
                             "(Model.from_torch and the reference models have one)")
        theta = self._prior_sample(int(n), torch_generator(seed))
        return self.unconstrain(torch.as_tensor(theta, dtype=torch.float64).reshape(n, -1))

    def __repr__(self) -> str:
        exact = "" if self.log_z_exact is None else f", log_z_exact={self.log_z_exact:.6g}"
        return f"Model(dim={self.dim}, names={list(self.names)[:6]}{exact})"

