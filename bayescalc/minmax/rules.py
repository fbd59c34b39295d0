"""The update rules of min-max training, each a :class:`~bayescalc._core.stepping.Stepper`.

A rule is built for one game field and step, ``rule(field, lr) -> Stepper``; its
``init(z) -> GameState`` and ``step(state) -> (GameState, GameStepInfo)`` follow the
library's step contract (``docs/conventions.md``). Here z = (x, y) is flattened, v is
the game field (∇x f, -∇y f) (:class:`~bayescalc.minmax.GameField`), the state carries
the previous field value for optimistic GDA (None before the first step and for the
other rules), and the info holds v(z_t) (for the convergence test) and the number of
field evaluations the step cost. Every rule is the textbook update with step η:

* simultaneous GDA:  z_{t+1} = z_t - η v(z_t)
* alternating GDA:   x_{t+1} = x_t - η ∇x f(x_t, y_t),  y_{t+1} = y_t + η ∇y f(x_{t+1}, y_t)
* extragradient (Korpelevich 1976): z_{t+½} = z_t - η v(z_t),  z_{t+1} = z_t - η v(z_{t+½})
* optimistic GDA (Daskalakis, Ilyas, Syrgkanis and Zeng 2018, "Training GANs with
  Optimism", Eq. 4): z_{t+1} = z_t - 2η v(z_t) + η v(z_{t-1}), with v(z_{-1}) := v(z_0)
* consensus optimization (Mescheder, Nowozin and Geiger 2017, "The Numerics of GANs",
  Alg. 1): z_{t+1} = z_t - η (v + γ Jᵀv)(z_t), Jᵀv = ∇(½‖v‖²)

Examples
--------
>>> import numpy as np
>>> field = lambda z: np.array([z[1], -z[0]])           # the bilinear game x·y
>>> stepper = extragradient(field, lr=0.1)
>>> state, info = stepper.step(stepper.init(np.array([1.0, 1.0])))
>>> state.position, info.field, info.n_evals
(array([0.89, 1.09]), array([ 1., -1.]), 2)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._core.stepping import Stepper


class GameState(NamedTuple):
    """Where a min-max rule stands: z_t = (x_t, y_t) and, for optimistic GDA, v(z_{t-1})."""

    position: np.ndarray
    previous_field: np.ndarray | None = None


class GameStepInfo(NamedTuple):
    """One step's diagnostics: v(z_t) and the field evaluations the step cost."""

    field: np.ndarray
    n_evals: int


def _init(position) -> GameState:
    return GameState(np.asarray(position, dtype=np.float64))


def simultaneous(field, lr: float) -> Stepper:
    """Simultaneous gradient descent-ascent, z ← z - η v(z)."""

    def step(state):
        v = field(state.position)
        return GameState(state.position - lr * v), GameStepInfo(v, 1)

    return Stepper(_init, step)


def alternating(field, lr: float) -> Stepper:
    """Alternating GDA: x descends first, then y ascends at the new x.

    ``field.dx`` is the length of the x part of z.
    """

    def step(state):
        z, dx = state.position, field.dx
        v = field(z)
        x_new = z[:dx] - lr * v[:dx]
        y_new = z[dx:] - lr * field(np.concatenate([x_new, z[dx:]]))[dx:]  # ascent, new x
        return GameState(np.concatenate([x_new, y_new])), GameStepInfo(v, 2)

    return Stepper(_init, step)


def extragradient(field, lr: float) -> Stepper:
    """Extragradient (Korpelevich 1976): a look-ahead step, then the step from z."""

    def step(state):
        z = state.position
        v = field(z)
        return GameState(z - lr * field(z - lr * v)), GameStepInfo(v, 2)

    return Stepper(_init, step)


def optimistic(field, lr: float) -> Stepper:
    """Optimistic GDA (Daskalakis et al. 2018), z ← z - 2η v(z_t) + η v(z_{t-1})."""

    def step(state):
        z = state.position
        v = field(z)
        v_previous = v if state.previous_field is None else state.previous_field
        return GameState(z - 2.0 * lr * v + lr * v_previous, v), GameStepInfo(v, 1)

    return Stepper(_init, step)


def consensus(field, lr: float, consensus_weight: float = 1.0) -> Stepper:
    """Consensus optimization (Mescheder et al. 2017), z ← z - η (v + γ Jᵀv).

    ``field.consensus_term(z, v)`` gives Jᵀv.
    """

    def step(state):
        z = state.position
        v = field(z)
        direction = v + consensus_weight * field.consensus_term(z, v)
        return GameState(z - lr * direction), GameStepInfo(v, 2)

    return Stepper(_init, step)


RULES = {
    "simultaneous": simultaneous,
    "alternating": alternating,
    "extragradient": extragradient,
    "optimistic": optimistic,
    "consensus": consensus,
}
