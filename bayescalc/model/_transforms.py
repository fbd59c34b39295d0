"""A block bijection of a flat parameter vector: one ``biject_to`` transform per block.

A model's parameters are a flat vector ``theta`` of shape ``(n, D)`` made of blocks
(sites): a positive scale, an interval, a simplex, an ordered vector, ... Each block maps
from its own unconstrained coordinates by ``torch.distributions.biject_to(support)``.
The unconstrained vector ``z`` (n, d) is the concatenation of the blocks' unconstrained
coordinates; d can be smaller than D (a simplex of k components has k - 1 unconstrained
coordinates, by stick-breaking).
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Transform, biject_to, constraints


class _Block:
    __slots__ = ("name", "transform", "shape", "ushape", "size", "usize")

    def __init__(self, name, transform, shape):
        self.name = name
        self.transform = transform
        self.shape = torch.Size(shape)                       # constrained
        self.ushape = torch.Size(transform.inverse_shape(self.shape))  # unconstrained
        self.size = math.prod(self.shape)
        self.usize = math.prod(self.ushape)


class BlockTransform(Transform):
    """``z`` (n, d) -> ``theta`` (n, D): each block through its own bijection.

    Parameters
    ----------
    blocks : sequence of (name, transform, shape)
        ``transform`` maps the block's unconstrained values, shape
        ``transform.inverse_shape(shape)``, onto its support of constrained ``shape``.

    Notes
    -----
    ``log_abs_det_jacobian(z, theta)`` has shape ``(n,)``: the sum over the blocks.
    """

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self, blocks, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.blocks = [_Block(*b) for b in blocks]
        self.dim = sum(b.usize for b in self.blocks)
        self.constrained_dim = sum(b.size for b in self.blocks)

    def __eq__(self, other):
        return self is other

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return BlockTransform([(b.name, b.transform, b.shape) for b in self.blocks],
                              cache_size=cache_size)

    def forward_shape(self, shape):
        return torch.Size(shape[:-1]) + (self.constrained_dim,)

    def inverse_shape(self, shape):
        return torch.Size(shape[:-1]) + (self.dim,)

    def split_unconstrained(self, z):
        """``z`` (n, d) -> list of per-block unconstrained tensors (n, *ushape)."""
        n = z.shape[0]
        out, i = [], 0
        for b in self.blocks:
            out.append(z[:, i:i + b.usize].reshape((n,) + b.ushape))
            i += b.usize
        return out

    def split(self, theta):
        """``theta`` (n, D) -> ``{name: (n, *shape)}`` per block (constrained)."""
        n = theta.shape[0]
        out, i = {}, 0
        for b in self.blocks:
            out[b.name] = theta[:, i:i + b.size].reshape((n,) + b.shape)
            i += b.size
        return out

    def join(self, values):
        """``{name: (n, *shape)}`` -> ``theta`` (n, D)."""
        parts = [values[b.name].reshape(values[b.name].shape[0], b.size) for b in self.blocks]
        return torch.cat(parts, dim=-1)

    def _call(self, z):
        n = z.shape[0]
        parts = [b.transform(u).reshape(n, b.size)
                 for b, u in zip(self.blocks, self.split_unconstrained(z))]
        return torch.cat(parts, dim=-1)

    def _inverse(self, theta):
        n = theta.shape[0]
        values = self.split(theta)
        parts = [b.transform.inv(values[b.name]).reshape(n, b.usize) for b in self.blocks]
        return torch.cat(parts, dim=-1)

    def log_abs_det_jacobian(self, z, theta):
        n = z.shape[0]
        values = self.split(theta)
        total = torch.zeros(n, dtype=z.dtype, device=z.device)
        for b, u in zip(self.blocks, self.split_unconstrained(z)):
            ladj = b.transform.log_abs_det_jacobian(u, values[b.name])
            ladj = ladj.expand((n,) + ladj.shape[1:]) if ladj.ndim else ladj.expand(n)
            total = total + ladj.reshape(n, -1).sum(-1)
        return total


def block_transform(supports):
    """A :class:`BlockTransform` from ``[(name, support, shape), ...]`` by ``biject_to``.

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import constraints
    >>> t = block_transform([("scale", constraints.positive, ()),
    ...                      ("w", constraints.simplex, (3,))])
    >>> t.dim, t.constrained_dim
    (3, 4)
    >>> theta = t(torch.zeros(1, 3))
    >>> [round(v, 4) for v in theta[0].tolist()]
    [1.0, 0.3333, 0.3333, 0.3333]
    """
    return BlockTransform([(name, biject_to(support), tuple(shape))
                           for name, support, shape in supports])
