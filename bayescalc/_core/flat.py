"""A function of one flat float64 parameter vector, whatever the arguments f takes.

Optimizers, min-max rules and the models' densities all step a flat vector ``z`` of
shape ``(d,)``, while the user writes f of the arguments that make sense to them: one
float, an array of shape ``(d,)``, a torch tensor, or several of these (``f(x, y)`` of a
game). :class:`FlatFunction` is the one adapter between the two: it cuts ``z`` into the
pieces, gives each piece the kind and shape of its template, and calls f.

The kind of each piece follows its template:

=====================================  =========================================
template                                piece of a numpy ``z``
=====================================  =========================================
Python or numpy number (``1.0``)        ``float``
ndarray of shape ``s`` (``()`` too)     ndarray of shape ``s`` (a copy)
torch tensor                            tensor of the template's dtype and device
=====================================  =========================================

A torch ``z`` (autodiff differentiating the flat function) is cut into views of
itself, reshaped, so that the derivative flows through to ``z``.

Examples
--------
>>> import numpy as np
>>> flat = FlatFunction(lambda x, y: x * y.sum(), 2.0, np.zeros(2))
>>> z = flat.flatten(2.0, np.array([1.0, 3.0]))
>>> z, flat.dim
(array([2., 1., 3.]), 3)
>>> flat.unflatten(z)
(2.0, array([1., 3.]))
>>> flat.value(z)
8.0
"""

from __future__ import annotations

import numbers

import numpy as np

from .arraykind import is_tensor, to_numpy


class FlatFunction:
    """``f(*pieces)`` as a function of the flat float64 vector ``z = (pieces...)``.

    Parameters
    ----------
    f : callable
        The user's function of ``len(templates)`` arguments.
    *templates : float, ndarray or Tensor
        One argument of each kind and shape f takes (the start point, usually).

    Attributes
    ----------
    dim : int
        Length of ``z`` (a scalar piece counts 1).
    sizes, shapes : tuple
        Each piece's length in ``z`` and its shape.
    """

    def __init__(self, f, *templates):
        if not templates:
            raise TypeError("FlatFunction needs at least one template argument")
        self.f = f
        self.templates = templates
        self.shapes = tuple(np.shape(to_numpy(t)) for t in templates)
        self.sizes = tuple(max(int(np.prod(shape)), 1) for shape in self.shapes)
        self.offsets = tuple(int(o) for o in np.cumsum((0,) + self.sizes))
        self.dim = self.offsets[-1]

    def flatten(self, *pieces) -> np.ndarray:
        """The flat float64 vector of ``pieces`` (one per template)."""
        return np.concatenate([to_numpy(p).reshape(-1) for p in pieces])

    def unflatten(self, z) -> tuple:
        """The arguments of f for the flat vector ``z`` (numpy, or a torch tensor)."""
        if is_tensor(z):
            return tuple(z[start:stop].reshape(shape) for start, stop, shape
                         in zip(self.offsets[:-1], self.offsets[1:], self.shapes, strict=True))
        z = np.asarray(z, dtype=np.float64)
        return tuple(_like_template(template, z[start:stop], shape) for template, start, stop,
                     shape in zip(self.templates, self.offsets[:-1], self.offsets[1:],
                                  self.shapes, strict=True))

    def __call__(self, z):
        """f at the flat point ``z``, as f returns it (a tensor stays a tensor)."""
        return self.f(*self.unflatten(z))

    def value(self, z) -> float:
        """f at the flat point ``z`` as a float (ValueError unless f returns one number)."""
        out = to_numpy(self(z))
        if out.size != 1:
            raise ValueError(f"f must return a scalar, got an array of shape {out.shape}")
        return float(out.reshape(()))


def _like_template(template, piece, shape):
    """The numpy ``piece`` in the kind of ``template`` (see the module's table)."""
    if is_tensor(template):
        import torch

        dtype = template.dtype if template.is_floating_point() else torch.float64
        value = piece[0] if shape == () else piece.reshape(shape)
        return torch.as_tensor(value, dtype=dtype, device=template.device)
    if isinstance(template, (numbers.Number, np.generic)):
        return float(piece[0])
    return piece.reshape(shape).copy()
