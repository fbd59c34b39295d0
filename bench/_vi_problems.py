"""Test and benchmark models for bayescalc.vi, with exact posteriors where they exist.

- ``linear_regression``: y = X beta + N(0, sigma^2), beta ~ N(0, tau^2 I): the posterior is
  Gaussian and log Z is known (Woodbury), so KL(q || p) = log Z - ELBO is exact.
- ``logistic_regression``: N = 10,000, D = 20 by default (seeded).
- three real-data shapes (all linear-Gaussian, so exact): ``scale_mismatch`` (one
  coefficient's posterior sd ~0.001, the rest ~1), ``correlated_uncentred`` (a narrow
  ridge), ``collinear`` (24 predictors from one factor).
- ``funnel``: Neal's funnel (log Z = 0).
- ``gaussian``: N(mean, cov) itself (log Z = 0).

Each data model exposes the optional subsampling protocol of :func:`bayescalc.vi.fit`
(``n_data`` and ``log_likelihood_subset(z, idx)``) and, for a Gaussian prior,
``gaussian_prior``; Gaussian posteriors carry ``posterior_mean`` / ``posterior_cov``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.distributions import MultivariateNormal, Normal

from bayescalc.model import Model

_LOG_2PI = math.log(2 * math.pi)


class DataModel(Model):
    """A Model with per-datum likelihood terms (the subsampling protocol)."""

    def __init__(self, X, y, row_log_lik, prior_sd, row_y=None, **kwargs):
        self.X, self.y, self.prior_sd = X, y, prior_sd
        self._row = row_log_lik
        # what the row function sees as y (the logistic rows take the signs 2 y - 1)
        self._row_y = y if row_y is None else row_y
        row_y = self._row_y
        d = X.shape[1]
        const = -d * (math.log(prior_sd) + 0.5 * _LOG_2PI)
        coef = -0.5 / prior_sd**2
        super().__init__(lambda t: torch.linalg.vecdot(t, t).mul(coef).add(const),
                         lambda t: row_log_lik(t, X, row_y).sum(-1), d, **kwargs)
        self.n_data = X.shape[0]
        self.gaussian_prior = torch.distributions.Independent(
            Normal(torch.zeros(d, dtype=torch.float64),
                   torch.full((d,), prior_sd, dtype=torch.float64)), 1)

    def log_likelihood_subset(self, z, idx):
        return self._row(self.as_batch(z), self.X[idx], self._row_y[idx]).sum(-1)


def _gauss_rows(sigma):
    def rows(t, X, y):
        mu = t @ X.T                                                     # (n, N)
        return -0.5 * ((y - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * _LOG_2PI
    return rows


def _logistic_rows(t, X, sign):
    """Bernoulli log likelihood per row, ``y eta - softplus(eta) = log sigmoid(s eta)``
    with the signs ``s = 2 y - 1`` (one fused kernel each way)."""
    return torch.nn.functional.logsigmoid((t @ X.T) * sign)


def linear_from_design(X, beta, sigma, tau, seed):
    """Linear-Gaussian model with its exact posterior and log Z."""
    g = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    N, D = X.shape
    y = X @ beta + sigma * g.standard_normal(N)
    P = np.eye(D) / tau**2 + X.T @ X / sigma**2
    b = X.T @ y / sigma**2
    cov = np.linalg.inv(P)
    cov = 0.5 * (cov + cov.T)
    mean = np.linalg.solve(P, b)
    _, logdet_small = np.linalg.slogdet(np.eye(D) + tau**2 / sigma**2 * X.T @ X)
    logdet = N * math.log(sigma**2) + logdet_small
    quad = y @ y / sigma**2 - b @ mean
    log_z = -0.5 * N * _LOG_2PI - 0.5 * logdet - 0.5 * quad
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    m = DataModel(Xt, yt, _gauss_rows(sigma), tau, log_z_exact=log_z)
    m.posterior_mean, m.posterior_cov = torch.as_tensor(mean), torch.as_tensor(cov)
    m.posterior_precision = torch.as_tensor(P)
    return m


def linear_regression(n=10_000, d=20, *, sigma=1.0, tau=1.0, seed=0):
    """Posterior sds ~ sigma / sqrt(n) = 0.01 at the defaults."""
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, d))
    beta = g.standard_normal(d)
    return linear_from_design(X, beta, sigma, tau, seed + 1)


def logistic_regression(n=10_000, d=20, *, prior_sd=1.0, seed=0):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, d))
    beta = 0.5 * g.standard_normal(d)
    p = 1 / (1 + np.exp(-X @ beta))
    y = (g.random(n) < p).astype(float)
    y = torch.as_tensor(y)
    return DataModel(torch.as_tensor(X), y, _logistic_rows, prior_sd, row_y=2.0 * y - 1.0)


def scale_mismatch(seed=0):
    """D = 5, N = 100: predictor 0 has a scale 1000x the others: its posterior sd is
    ~0.001 while the others are ~1."""
    g = np.random.default_rng(seed)
    X = g.standard_normal((100, 5))
    X[:, 0] *= 1000.0
    return linear_from_design(X, g.standard_normal(5), 10.0, 3.0, seed + 1)


def correlated_uncentred(seed=0):
    """D = 6: predictors = 10 + a shared factor + small noise (corr ~0.99, not centred):
    the posterior is a narrow ridge with correlations near -1 to the intercept."""
    g = np.random.default_rng(seed)
    n = 200
    f = g.standard_normal((n, 1))
    X = 10.0 + f + 0.1 * g.standard_normal((n, 6))
    X[:, 0] = 1.0                                           # an intercept
    return linear_from_design(X, g.standard_normal(6), 1.0, 10.0, seed + 1)


def collinear(seed=0):
    """24 predictors built from 3 factors plus 1 % noise."""
    g = np.random.default_rng(seed)
    n = 300
    F = g.standard_normal((n, 3))
    X = F @ g.standard_normal((3, 24)) + 0.01 * g.standard_normal((n, 24))
    return linear_from_design(X, 0.3 * g.standard_normal(24), 1.0, 1.0, seed + 1)


def gaussian(mean, cov):
    """The target N(mean, cov) itself as a model (log Z = 0)."""
    mean = torch.as_tensor(mean, dtype=torch.float64)
    cov = torch.as_tensor(cov, dtype=torch.float64)
    dist = MultivariateNormal(mean, cov)
    zero = torch.zeros((), dtype=torch.float64)
    m = Model(lambda t: dist.log_prob(t), lambda t: zero.expand(t.shape[0]), mean.shape[0],
              log_z_exact=0.0)
    m.posterior_mean, m.posterior_cov = mean, cov
    m.posterior_precision = torch.linalg.inv(cov)
    return m


def funnel(d=10):
    """Neal's funnel: v ~ N(0, 3^2), x_i | v ~ N(0, e^v), i < d (log Z = 0)."""
    def log_p(t):
        v, x = t[:, 0], t[:, 1:]
        return (Normal(0.0, 3.0).log_prob(v) +
                Normal(torch.zeros_like(x), torch.exp(v / 2)[:, None]).log_prob(x).sum(-1))
    zero = torch.zeros((), dtype=torch.float64)
    return Model(log_p, lambda t: zero.expand(t.shape[0]), d, log_z_exact=0.0)


def gaussian_kl(mean_q, cov_q, mean_p, cov_p):
    """KL(N(mean_q, cov_q) || N(mean_p, cov_p)) in closed form."""
    d = mean_q.shape[0]
    Lp = torch.linalg.cholesky(cov_p)
    Lq = torch.linalg.cholesky(cov_q)
    M = torch.cholesky_solve(cov_q, Lp)
    diff = (mean_p - mean_q)[:, None]
    maha = (diff * torch.cholesky_solve(diff, Lp)).sum()
    logdet = 2 * (torch.log(torch.diagonal(Lp)).sum() - torch.log(torch.diagonal(Lq)).sum())
    return 0.5 * (torch.trace(M) + maha - d + logdet)


def meanfield_optimum_kl(model):
    """KL of the best mean-field Gaussian to a Gaussian posterior (precision diag rule)."""
    P = model.posterior_precision
    cov_q = torch.diag(1.0 / torch.diagonal(P))
    return float(gaussian_kl(model.posterior_mean, cov_q, model.posterior_mean,
                             model.posterior_cov))
