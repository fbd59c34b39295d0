"""An exponential moving average of a network's weights (e.g. a GAN generator's).

Averaging the generator's weights, w̄ ← β w̄ + (1 - β) w after every step, removes much
of the cycling of GAN training (Yazıcı et al. 2019, "The Unusual Effectiveness of
Averaging in GAN Training"). Built on ``torch.optim.swa_utils.AveragedModel``.
"""

from __future__ import annotations


def ema_model(module, *, decay: float = 0.999):
    """A copy of ``module`` whose weights track the EMA of ``module``'s weights.

    Call ``average.update_parameters(module)`` after each optimizer step (the first call
    copies the weights, each later one blends them in with weight 1 - ``decay``); use
    ``average`` (an ``AveragedModel``, callable like the module) to sample.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(1, 1, bias=False)
    >>> _ = net.weight.data.fill_(0.0)
    >>> average = ema_model(net, decay=0.5)
    >>> average.update_parameters(net)
    >>> _ = net.weight.data.fill_(1.0); average.update_parameters(net)
    >>> _ = net.weight.data.fill_(1.0); average.update_parameters(net)
    >>> average.module.weight.item()   # 0 -> 0.5 -> 0.75
    0.75
    """
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    return AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(decay))
