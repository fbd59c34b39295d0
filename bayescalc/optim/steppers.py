"""The contract every method of :func:`~bayescalc.optim._minimize` follows.

A :class:`Stepper` is ``init(z, objective) -> state`` and
``step(state, z, value, gradient, objective) -> (z_new, state)`` on the internal vector
``z``; :func:`~bayescalc.optim._minimize` owns the loop, the stopping test, the path and
the failure handling. First-order rules are :class:`~.transforms.Transform` chains
adapted by :func:`from_transform`; Newton and L-BFGS take line-search steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Stepper(NamedTuple):
    init: Callable
    step: Callable


def from_transform(transform) -> Stepper:
    """A :class:`Stepper` taking ``z + u`` for the transform's update ``u``."""

    def init(z, objective):
        return transform.init(z)

    def step(state, z, value, gradient, objective):
        update, state = transform.update(gradient, state)
        return z + update, state

    return Stepper(init, step)
