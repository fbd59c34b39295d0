"""Count what an estimator spends: log-density points and gradient points, separately.

Every estimator in :mod:`bayescalc.posterior` and :mod:`bayescalc.vi` reports
``n_evals`` (points at which the log likelihood was evaluated) and ``n_grad_evals``
(points at which its gradient was taken). They call the model through a
:class:`CountedModel`, a thin view that counts, so the counting is written once.
"""

from __future__ import annotations

import torch


class CountedModel:
    """A view of ``model`` that counts evaluations (the estimator's own, not global).

    Examples
    --------
    >>> import torch
    >>> from bayescalc.model import Model
    >>> m = Model(lambda t: -0.5 * (t**2).sum(-1), lambda t: -0.5 * ((t - 1)**2).sum(-1), 2)
    >>> c = CountedModel(m)
    >>> _ = c.log_joint(torch.zeros(5, 2)); _ = c.log_joint_and_grad(torch.zeros(3, 2))
    >>> c.n_evals, c.n_grad_evals
    (8, 3)
    """

    def __init__(self, model):
        self.model = model
        self.n_evals = 0
        self.n_grad_evals = 0

    def __getattr__(self, name):  # dim, names, constrain, sample_prior, ...
        return getattr(self.model, name)

    def log_joint(self, z) -> torch.Tensor:
        """``model.log_joint(z)``, counting ``len(z)`` evaluations."""
        values = self.model.log_joint(z)
        self.n_evals += values.shape[0]
        if values.requires_grad:
            self.n_grad_evals += values.shape[0]
        return values

    def log_likelihood(self, z) -> torch.Tensor:
        """``model.log_likelihood(z)``, counting ``len(z)`` evaluations."""
        values = self.model.log_likelihood(z)
        self.n_evals += values.shape[0]
        if values.requires_grad:
            self.n_grad_evals += values.shape[0]
        return values

    def log_joint_and_grad(self, z):
        """``model.log_joint_and_grad(z)``, counting evaluations and gradients."""
        values, grad = self.model.log_joint_and_grad(z)
        self.n_evals += values.shape[0]
        self.n_grad_evals += values.shape[0]
        return values, grad
