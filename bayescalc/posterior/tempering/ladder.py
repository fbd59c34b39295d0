"""The adaptive temperature ladder: the next beta by bisection on the conditional ESS.

Given normalized particle weights ``W`` at ``beta`` and ``u = log joint - log reference``,
moving to ``beta + delta`` multiplies the weights by ``exp(delta u)``. The conditional
effective sample size (Zhou, Johansen & Aston 2016)

    CESS(delta) = n (sum_i W_i w_i)^2 / sum_i W_i w_i^2,   w_i = exp(delta u_i),

falls from n as delta grows; the next temperature is the one where it equals
``rho * n`` (as pocoMC and BlackJAX's adaptive tempering choose it), or 1 if the whole
remaining step keeps it above.
"""

from __future__ import annotations

import math

import torch


def cess(log_weights: torch.Tensor, u: torch.Tensor, delta: float) -> float:
    """The conditional ESS fraction ``CESS / n`` in (0, 1] of a step ``delta`` in beta.

    Examples
    --------
    >>> import torch
    >>> cess(torch.zeros(4), torch.tensor([0.0, 1.0, 2.0, 3.0]), 0.0)
    1.0
    """
    log_w = torch.log_softmax(log_weights, 0)
    inc = delta * u
    inc = torch.where(torch.isnan(inc), torch.full_like(inc, -torch.inf), inc)
    if delta == 0.0:
        inc = torch.zeros_like(inc)
    a = torch.logsumexp(log_w + inc, 0)
    b = torch.logsumexp(log_w + 2 * inc, 0)
    if not torch.isfinite(a):
        return 0.0
    return float(torch.exp(2 * a - b))


def next_beta(log_weights: torch.Tensor, u: torch.Tensor, beta: float, rho: float, *,
              min_step: float = 1e-12, iterations: int = 60) -> float:
    """The next inverse temperature after ``beta``: CESS fraction = ``rho`` by bisection.

    Examples
    --------
    >>> import torch
    >>> u = torch.linspace(-3, 3, 101, dtype=torch.float64)
    >>> b = next_beta(torch.zeros(101), u, 0.0, 0.9)
    >>> 0 < b < 1 and abs(cess(torch.zeros(101), u, b) - 0.9) < 1e-6
    True
    """
    remaining = 1.0 - beta
    if cess(log_weights, u, remaining) >= rho:
        return 1.0
    # bisection on log delta, between min_step and the whole remaining step
    lo, hi = math.log(min(min_step, remaining)), math.log(remaining)
    if cess(log_weights, u, math.exp(lo)) < rho:
        return beta + math.exp(lo)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if cess(log_weights, u, math.exp(mid)) >= rho:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-10:
            break
    return min(1.0, beta + math.exp(lo))
