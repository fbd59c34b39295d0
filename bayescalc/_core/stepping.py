"""The step contract every iterative algorithm of bayescalc follows (BlackJAX's).

An algorithm is a :class:`Stepper`, a pair of functions built with everything fixed for
the run (the objective or field, the step size, the rule's constants):

* ``init(position) -> state``: the state at the start; ``position`` is the flat float64
  vector (or tensor) the algorithm moves;
* ``step(state) -> (state, info)``: one iteration. ``state`` is a NamedTuple whose first
  field is ``position``; ``info`` a NamedTuple of diagnostics of this step (what the
  loop tests for convergence, the evaluations it cost), kept out of the state.

The loop that calls ``step`` owns the budget, the stopping test, the path and the
failure messages; the stepper owns the update. Steppers hold no mutable state: the same
state stepped twice gives the same answer, so a loop may retry or record any of them.

Examples
--------
>>> from typing import NamedTuple
>>> class HalvingState(NamedTuple):
...     position: float
>>> class HalvingInfo(NamedTuple):
...     moved: float
>>> def halving() -> Stepper:
...     def step(state):
...         new = HalvingState(state.position / 2)
...         return new, HalvingInfo(state.position - new.position)
...     return Stepper(HalvingState, step)
>>> stepper = halving()
>>> state = stepper.init(8.0)
>>> for _ in range(3):
...     state, info = stepper.step(state)
>>> state.position, info.moved
(1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Stepper(NamedTuple):
    """``init(position) -> state`` and ``step(state) -> (state, info)``."""

    init: Callable
    step: Callable
