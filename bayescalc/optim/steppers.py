"""The methods of :func:`~bayescalc.optim._minimize` as steppers of the library's contract.

Each method is a :class:`~bayescalc._core.stepping.Stepper` built for one objective:
``init(z) -> state`` and ``step(state) -> (state, info)`` on the internal vector ``z``
(``docs/conventions.md``). The state is a NamedTuple whose first field is ``position``;
the info (:class:`OptimStepInfo`) holds the gradient the step used.
:func:`~bayescalc.optim._minimize` owns the loop, the stopping test, the path and the
failure handling. A step reads f and ∇f at its position through the
:class:`~bayescalc.optim._objective.Objective`, which remembers the latest point it
evaluated, so the loop's own evaluation of the new point is never repeated.

First-order rules are :class:`~.transforms.Transform` chains adapted by
:func:`from_transform`; Newton and L-BFGS (:mod:`.newton`, :mod:`.lbfgs`) take
line-search steps.

Examples
--------
>>> import numpy as np
>>> from bayescalc.optim._objective import Objective
>>> from bayescalc.optim.transforms import gd
>>> objective = Objective(lambda x: float(x @ x), np.zeros(2))
>>> stepper = from_transform(gd(0.25), objective)
>>> state, info = stepper.step(stepper.init(np.array([1.0, -2.0])))
>>> state.position, np.round(info.gradient, 6)
(array([ 0.5, -1. ]), array([ 2., -4.]))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._core.stepping import Stepper

__all__ = ["Stepper", "OptimStepInfo", "TransformState", "from_transform"]


class OptimStepInfo(NamedTuple):
    """One step's diagnostics: the gradient at the position the step started from."""

    gradient: np.ndarray


class TransformState(NamedTuple):
    """A first-order rule's state: the position and its transform's state."""

    position: np.ndarray
    transform_state: object


def from_transform(transform, objective) -> Stepper:
    """A :class:`Stepper` moving to ``z + u`` for the transform's update ``u`` of ∇f(z)."""

    def init(z):
        return TransformState(z, transform.init(z))

    def step(state):
        gradient = objective.grad(state.position)
        update, transform_state = transform.update(gradient, state.transform_state)
        return TransformState(state.position + update, transform_state), OptimStepInfo(gradient)

    return Stepper(init, step)
