"""The update rules of min-max training, each one small pure function.

A rule maps (z_t, state, field, lr, options) to (z_{t+1}, state, v(z_t), n_evaluations):
the next point, what it carries to the next step, the field at z_t (for the convergence
test) and how many field evaluations the step cost. Here z = (x, y) is flattened, v is
the game field (∇x f, -∇y f) and ``state`` is the previous field value for optimistic
GDA (None for the others). Every rule is the textbook update with step η:

* simultaneous GDA:  z_{t+1} = z_t - η v(z_t)
* alternating GDA:   x_{t+1} = x_t - η ∇x f(x_t, y_t),  y_{t+1} = y_t + η ∇y f(x_{t+1}, y_t)
* extragradient (Korpelevich 1976): z_{t+½} = z_t - η v(z_t),  z_{t+1} = z_t - η v(z_{t+½})
* optimistic GDA (Daskalakis, Ilyas, Syrgkanis and Zeng 2018, "Training GANs with
  Optimism", Eq. 4): z_{t+1} = z_t - 2η v(z_t) + η v(z_{t-1}), with v(z_{-1}) := v(z_0)
* consensus optimization (Mescheder, Nowozin and Geiger 2017, "The Numerics of GANs",
  Alg. 1): z_{t+1} = z_t - η (v + γ Jᵀv)(z_t), Jᵀv = ∇(½‖v‖²)
"""

from __future__ import annotations

import numpy as np


def simultaneous(z, state, field, lr, options):
    v = field(z)
    return z - lr * v, state, v, 1


def alternating(z, state, field, lr, options):
    dx = field.dx
    v = field(z)
    x_new = z[:dx] - lr * v[:dx]
    y_new = z[dx:] - lr * field(np.concatenate([x_new, z[dx:]]))[dx:]  # ascent, new x
    return np.concatenate([x_new, y_new]), state, v, 2


def extragradient(z, state, field, lr, options):
    v = field(z)
    return z - lr * field(z - lr * v), state, v, 2


def optimistic(z, state, field, lr, options):
    v = field(z)
    v_previous = v if state is None else state
    return z - 2.0 * lr * v + lr * v_previous, v, v, 1


def consensus(z, state, field, lr, options):
    v = field(z)
    step = v + options["consensus_weight"] * field.consensus_term(z, v)
    return z - lr * step, state, v, 2


RULES = {
    "simultaneous": simultaneous,
    "alternating": alternating,
    "extragradient": extragradient,
    "optimistic": optimistic,
    "consensus": consensus,
}
