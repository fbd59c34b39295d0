"""Optimizers for min-max training of networks: ExtraAdam and OptimisticAdam.

PyTorch ships no extragradient or optimistic optimizer. Both classes below keep Adam's
moment estimates (m, v, bias corrections as in ``torch.optim.Adam``) and change which
gradient moves the weights:

* ExtraAdam (Gidel, Berard, Vignoud, Vincent and Lacoste-Julien 2019, "A Variational
  Inequality Perspective on Generative Adversarial Networks", Alg. 4): an extrapolation
  step w' = w - η d(g(w)) to a look-ahead point, then the real step from the saved w with
  the gradient taken at the look-ahead, w ← w - η d(g(w')). Both steps update the
  moments, as in the authors' code.
* OptimisticAdam (Daskalakis, Ilyas, Syrgkanis and Zeng 2018, "Training GANs with
  Optimism", Alg. 1): w_t = w_{t-1} - 2η d_t + η d_{t-1}, with d_t = m̂_t / (sqrt(v̂_t) + ε)
  and d_0 = 0.

Here d(g) is Adam's direction after folding g into the moments: the library's own
:func:`bayescalc.optim.transforms.scale_by_adam`, run on each parameter's tensor. The
classes are thin ``torch.optim.Optimizer`` wrappers around it, because networks'
parameters are trained with ``torch.optim`` (the rule in ``docs/conventions.md``).
"""

from __future__ import annotations

import torch

from ..optim.transforms import scale_by_adam


def _adam_direction(parameter, group, state) -> torch.Tensor:
    """Fold the parameter's gradient into Adam's moments; return m̂ / (sqrt(v̂) + ε).

    ``state["adam"]`` holds the :class:`~bayescalc.optim.transforms.AdamState`
    (step, m, v) of this parameter.
    """
    grad = parameter.grad
    if group["weight_decay"]:
        grad = grad.add(parameter, alpha=group["weight_decay"])
    adam = scale_by_adam(*group["betas"], group["eps"])
    if "adam" not in state:
        state["adam"] = adam.init(parameter.detach())
    direction, state["adam"] = adam.update(grad, state["adam"])
    return direction


class _AdamFamily(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not all(0.0 <= beta < 1.0 for beta in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _parameters_with_grad(self):
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is not None:
                    yield group, parameter


class ExtraAdam(_AdamFamily):
    r"""Extragradient with Adam's step sizes (Gidel et al. 2019).

    One iteration is two gradient evaluations: ``extrapolate()`` with the gradient at the
    current weights w (moves to the look-ahead w' and remembers w), then ``step()`` with
    the gradient at w' (moves from w). For a GAN, compute both players' gradients, call
    both optimizers' ``extrapolate()``, recompute both gradients, call both ``step()``.
    ``step(closure)`` without a prior ``extrapolate()`` does both phases, calling the
    closure (zero the grads, compute the loss, ``backward()``, return the loss) twice.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups, as for any ``torch.optim.Optimizer``.
    lr, betas, eps, weight_decay
        As in ``torch.optim.Adam`` (the same defaults).

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    >>> optimizer = ExtraAdam([w], lr=0.1)
    >>> def closure():
    ...     optimizer.zero_grad()
    ...     loss = (w**2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = optimizer.step(closure)
    >>> round(w.item(), 6)   # the look-ahead to 0.9, then 1 - 0.1·m̂/sqrt(v̂) from w = 1
    0.9
    """

    @torch.no_grad()
    def extrapolate(self) -> None:
        """Move to the look-ahead point w' = w - η d(g(w)), remembering w."""
        for group, parameter in self._parameters_with_grad():
            state = self.state[parameter]
            state["saved"] = parameter.detach().clone()
            parameter.sub_(_adam_direction(parameter, group, state), alpha=group["lr"])

    def step(self, closure=None):
        """The update from the remembered w with the gradient at the look-ahead point."""
        loss = None
        if not any("saved" in self.state[p] for group in self.param_groups
                   for p in group["params"]):
            if closure is None:
                raise RuntimeError("ExtraAdam.step() needs extrapolate() first, or a closure")
            with torch.enable_grad():
                closure()
            self.extrapolate()
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group, parameter in self._parameters_with_grad():
                state = self.state[parameter]
                if "saved" not in state:
                    continue
                direction = _adam_direction(parameter, group, state)
                parameter.copy_(state.pop("saved") - group["lr"] * direction)
        return loss


class OptimisticAdam(_AdamFamily):
    r"""Optimistic Adam (Daskalakis et al. 2018): w ← w - 2η d_t + η d_{t-1}.

    A drop-in replacement for ``torch.optim.Adam`` (one gradient per step): the previous
    direction is subtracted back, which damps the rotation of a game's dynamics.

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    >>> optimizer = OptimisticAdam([w], lr=0.1)
    >>> (w**2).sum().backward()
    >>> optimizer.step()
    >>> round(w.item(), 6)   # first step: 2η m̂/sqrt(v̂) = 0.2
    0.8
    """

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group, parameter in self._parameters_with_grad():
            state = self.state[parameter]
            direction = _adam_direction(parameter, group, state)
            previous = state.get("previous_direction")
            parameter.sub_(direction, alpha=2 * group["lr"])
            if previous is not None:
                parameter.add_(previous, alpha=group["lr"])
            state["previous_direction"] = direction
        return loss
