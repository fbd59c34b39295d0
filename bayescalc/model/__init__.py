"""The Model: an unnormalized log posterior, prior and likelihood kept apart.

Built from plain functions (:class:`Model`), torch distributions or Pyro models; every
method of :mod:`bayescalc.posterior` and :mod:`bayescalc.vi` works on its unconstrained
space through batched, differentiable, float64 calls.
"""

from ._model import Model, NonFiniteDensityError
from ._transforms import block_transform
from .counting import CountedModel

__all__ = ["Model", "NonFiniteDensityError", "CountedModel", "block_transform"]
