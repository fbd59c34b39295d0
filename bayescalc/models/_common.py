"""Small helpers shared by the reference models (private)."""

from __future__ import annotations

import math

import numpy as np
import torch

LOG_2PI = math.log(2.0 * math.pi)


def t64(x) -> torch.Tensor:
    """A float64 torch tensor (copied from numpy)."""
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def normal_logpdf(x, mean, sd):
    """Elementwise log N(x; mean, sd^2), torch, broadcasting."""
    return -0.5 * ((x - mean) / sd) ** 2 - torch.log(torch.as_tensor(sd, dtype=torch.float64)) \
        - 0.5 * LOG_2PI


def mvn_logpdf(y, cov) -> float:
    """log N(y; 0, cov) by Cholesky, numpy float64."""
    y = np.asarray(y, dtype=np.float64)
    chol = np.linalg.cholesky(np.asarray(cov, dtype=np.float64))
    alpha = np.linalg.solve(chol, y)
    return float(-0.5 * alpha @ alpha - np.log(np.diag(chol)).sum() - 0.5 * len(y) * LOG_2PI)


def gaussian_posterior(prior_cov, lik_precision, lik_shift):
    """Posterior of theta ~ N(0, prior_cov) with log-likelihood quadratic
    -0.5 theta' P theta + theta' b + c: returns (mean, cov) as float64 tensors."""
    prec = np.linalg.inv(prior_cov) + lik_precision
    cov = np.linalg.inv(prec)
    cov = 0.5 * (cov + cov.T)
    return t64(cov @ lik_shift), t64(cov)


def numpy_rng(generator) -> np.random.Generator:
    """A numpy Generator seeded from a torch.Generator (prior samplers needing numpy)."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return np.random.default_rng(seed)
