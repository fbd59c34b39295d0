"""Results come back in the kind that went in: Python float, numpy array or torch tensor."""

from __future__ import annotations

import numbers

import numpy as np


def is_tensor(x) -> bool:
    """True for a torch.Tensor (without importing torch when it is not loaded)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def to_numpy(x) -> np.ndarray:
    """``x`` as a float64 numpy array (tensors are detached and moved to the CPU)."""
    if is_tensor(x):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def like(template, value):
    """``value`` (numpy/float) in the kind of ``template``.

    A Python/numpy scalar template gives a Python float when ``value`` is a scalar; a
    numpy array template gives an ndarray; a tensor template gives a tensor with the
    template's floating dtype (float64 for integer tensors) and device.
    """
    if is_tensor(template):
        import torch

        dtype = template.dtype if template.is_floating_point() else torch.float64
        return torch.as_tensor(np.asarray(value), dtype=dtype, device=template.device)
    array = np.asarray(value, dtype=np.float64)
    if isinstance(template, numbers.Number) and array.ndim == 0:
        return float(array)
    if isinstance(template, np.generic) and array.ndim == 0:
        return float(array)
    return array
