"""First-order update rules as compositions of small pure steps (the Optax design).

A :class:`Transform` is a pair of pure functions: ``init(x) -> state`` and
``update(gradient, state) -> (update, state)``. Rules are built by :func:`chain`-ing
small transforms, so each rule reads as its equations:

=========  ==========================================  ===========================================
rule       update ``u_k`` (``x_{k+1} = x_k + u_k``)     built as
=========  ==========================================  ===========================================
gd         ``-lr g_k``                                 ``chain(scale(-lr))``
momentum   ``m_k = β m_{k-1} + g_k``; ``-lr m_k``      ``chain(trace(β), scale(-lr))``
nesterov   ``-lr (β m_k + g_k)``                       ``chain(trace(β, True), scale(-lr))``
adam       ``-lr m̂_k / (√v̂_k + ε)``                   ``chain(scale_by_adam(), scale(-lr))``
=========  ==========================================  ===========================================

Nesterov's look-ahead gradient is taken in the equivalent form of Sutskever et al.
(2013, "On the importance of initialization and momentum in deep learning", eq. 3-4 as
rewritten by Bengio et al. 2013), which needs the gradient at ``x_k`` only. Adam is
Kingma & Ba (2015, "Adam: a method for stochastic optimization", Algorithm 1) with its
bias corrections.

The transforms work on numpy arrays and on torch tensors alike (the state takes the
kind, dtype and device of the ``x`` given to ``init``), so a loop over a flat vector of
torch parameters uses the same composed Adam as :func:`~bayescalc.optim.minimize`
(``docs/conventions.md`` states when a loop uses these and when ``torch.optim``).

Examples
--------
>>> import numpy as np
>>> rule = momentum(lr=0.1, beta=0.9)
>>> state = rule.init(np.zeros(2))
>>> update, state = rule.update(np.array([1.0, -2.0]), state)
>>> update
array([-0.1,  0.2])
>>> import torch
>>> rule = adam(lr=0.1)
>>> update, state = rule.update(torch.tensor([3.0, -0.5]), rule.init(torch.zeros(2)))
>>> update, state[0].mean
(tensor([-0.1000,  0.1000]), tensor([ 0.3000, -0.0500]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._core.arraykind import is_tensor


def _zeros_like(x):
    """Zeros of x's shape: a tensor of x's dtype and device, else a float64 array."""
    if is_tensor(x):
        import torch

        return torch.zeros_like(x if x.is_floating_point() else x.to(torch.float64))
    return np.zeros_like(np.asarray(x, dtype=np.float64))


def _sqrt(x):
    return x.sqrt() if is_tensor(x) else np.sqrt(x)


class Transform(NamedTuple):
    """A gradient transformation: ``init(x) -> state``, ``update(g, state) -> (u, state)``."""

    init: Callable
    update: Callable


def scale(factor: float) -> Transform:
    """Multiply the incoming update by ``factor`` (stateless)."""
    return Transform(lambda x: (), lambda g, state: (factor * g, state))


def trace(beta: float, *, nesterov: bool = False) -> Transform:
    """Heavy-ball momentum ``m_k = β m_{k-1} + g_k``; with ``nesterov``, emit ``β m_k + g_k``."""

    def init(x):
        return _zeros_like(x)

    def update(g, m):
        m = beta * m + g
        return (beta * m + g if nesterov else m), m

    return Transform(init, update)


class AdamState(NamedTuple):
    step: int
    mean: object  # first-moment estimate m_k (array or tensor)
    mean_square: object  # second-moment estimate v_k


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Transform:
    """Adam's direction ``m̂_k / (√v̂_k + ε)`` with bias-corrected moments."""

    def init(x):
        zeros = _zeros_like(x)
        return AdamState(0, zeros, zeros)

    def update(g, state):
        step = state.step + 1
        mean = b1 * state.mean + (1 - b1) * g
        mean_square = b2 * state.mean_square + (1 - b2) * g * g
        mean_hat = mean / (1 - b1**step)
        mean_square_hat = mean_square / (1 - b2**step)
        return mean_hat / (_sqrt(mean_square_hat) + eps), AdamState(step, mean, mean_square)

    return Transform(init, update)


def chain(*transforms: Transform) -> Transform:
    """Apply ``transforms`` in order; the state is the tuple of their states."""

    def init(x):
        return tuple(t.init(x) for t in transforms)

    def update(g, states):
        new_states = []
        for t, state in zip(transforms, states, strict=True):
            g, state = t.update(g, state)
            new_states.append(state)
        return g, tuple(new_states)

    return Transform(init, update)


def gd(lr: float) -> Transform:
    """Plain gradient descent, ``x_{k+1} = x_k - lr ∇f(x_k)``."""
    return chain(scale(-lr))


def momentum(lr: float, beta: float = 0.9) -> Transform:
    """Heavy-ball momentum (Polyak 1964)."""
    return chain(trace(beta), scale(-lr))


def nesterov(lr: float, beta: float = 0.9) -> Transform:
    """Nesterov's accelerated gradient (Nesterov 1983), in its momentum form."""
    return chain(trace(beta, nesterov=True), scale(-lr))


def adam(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Transform:
    """Adam (Kingma & Ba 2015)."""
    return chain(scale_by_adam(b1, b2, eps), scale(-lr))


FIRST_ORDER = {"gd": gd, "momentum": momentum, "nesterov": nesterov, "adam": adam}
