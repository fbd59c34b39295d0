"""check_minmax_step: grade one step of a student's min-max update rule."""

from __future__ import annotations

import inspect

import numpy as np

from ..minmax.rules import RULES, GameState
from ._calling import StudentError, as_array, call_student, close
from .verdict import Verdict

METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")


# --- the test games: f(x, y), min over x, max over y, with their gradients ---------------

def _sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


_A = np.array([[1.0, 2.0], [-0.5, 0.7]])


class _Game:
    """A game of two players with closed-form partial gradients."""

    def __init__(self, name, grad_x, grad_y, x, y, x_previous, y_previous):
        self.name, self.grad_x, self.grad_y = name, grad_x, grad_y
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.x_previous = np.asarray(x_previous, dtype=float)
        self.y_previous = np.asarray(y_previous, dtype=float)


GAMES = [
    _Game("bilinear f = x·y", lambda x, y: y.copy(), lambda x, y: x.copy(),
          [1.0], [0.5], [1.2], [0.3]),
    _Game("quadratic f = xᵀAy + ½|x|² - ¼|y|²",
          lambda x, y: _A @ y + x, lambda x, y: _A.T @ x - 0.5 * y,
          [0.8, -0.3], [0.4, 1.1], [1.0, -0.1], [0.2, 1.3]),
    _Game("Dirac-GAN f = log σ(θψ) + log σ(0)",
          lambda x, y: y * _sigmoid(-x * y), lambda x, y: x * _sigmoid(-x * y),
          [1.0], [1.5], [0.9], [1.7]),
]


class _Field:
    """The game field v(z) = (∇x f, -∇y f) on z = (x, y) flattened (what RULES take)."""

    def __init__(self, game):
        self.game, self.dx = game, game.x.size

    def __call__(self, z):
        x, y = z[: self.dx], z[self.dx:]
        return np.concatenate([self.game.grad_x(x, y), -self.game.grad_y(x, y)])


# --- the rules a student may have written: the four methods and the usual slips ----------

def _reference(method):
    def step(game, lr, previous_v):
        z = np.concatenate([game.x, game.y])
        previous = previous_v if method == "optimistic" else None
        state, _ = RULES[method](_Field(game), lr).step(GameState(z, previous))
        return state.position
    return step


def _rule(formula):
    def step(game, lr, previous_v):
        field = _Field(game)
        z = np.concatenate([game.x, game.y])
        return formula(z, field, lr, previous_v)
    return step


def _y_first(z, field, lr, previous_v):
    dx = field.dx
    y_new = z[dx:] - lr * field(z)[dx:]
    x_new = z[:dx] - lr * field(np.concatenate([z[:dx], y_new]))[:dx]
    return np.concatenate([x_new, y_new])


def _flip_y(v, dx):
    return np.concatenate([v[:dx], -v[dx:]])


CANDIDATES = {
    "simultaneous": ("simultaneous gradient descent-ascent: both players step from the "
                     "same point, z ← z - η v(z)", _reference("simultaneous"), False),
    "alternating": ("alternating gradient descent-ascent: x steps first, then y steps "
                    "using the new x", _reference("alternating"), False),
    "extragradient": ("extragradient: a look-ahead step z' = z - η v(z), then "
                      "z ← z - η v(z')", _reference("extragradient"), False),
    "optimistic": ("optimistic GDA: z ← z - 2η v(z_t) + η v(z_(t-1))",
                   _reference("optimistic"), True),
    "alternating, y first": (
        "alternating gradient descent-ascent with y stepping first (the grader's "
        "alternating rule moves x first)", _rule(_y_first), False),
    "both descend": (
        "both players descend: y moved against ∂f/∂y, but the max player must ascend "
        "(y ← y + η ∂f/∂y)",
        _rule(lambda z, field, lr, pv: z - lr * _flip_y(field(z), field.dx)), False),
    "roles swapped": (
        "the players' roles are swapped: x ascends and y descends (x is the min player)",
        _rule(lambda z, field, lr, pv: z + lr * field(z)), False),
    "two simultaneous steps": (
        "two simultaneous steps: the second step starts from the look-ahead point; "
        "extragradient starts it from z (z ← z - η v(z'))",
        _rule(lambda z, field, lr, pv: (lambda w: w - lr * field(w))(z - lr * field(z))),
        False),
    "optimistic, weights swapped": (
        "optimistic GDA with the weights swapped: z - η v(z_t) + 2η v(z_(t-1)); the "
        "current gradient gets weight 2",
        _rule(lambda z, field, lr, pv: z - lr * field(z) + 2 * lr * pv), True),
    "optimistic, correction sign": (
        "optimistic GDA with the correction's sign flipped: z - 2η v(z_t) - η v(z_(t-1)), "
        "where the rule adds the previous field back: z - 2η v(z_t) + η v(z_(t-1))",
        _rule(lambda z, field, lr, pv: z - 2 * lr * field(z) - lr * pv), True),
}


def _wants_previous(function) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 6 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def check_minmax_step(student_step, method: str, *, lr: float = 0.1, rtol: float = 1e-9,
                      atol: float = 1e-12) -> Verdict:
    """Grade one step of a student's min-max update rule against bayescalc.minmax's.

    The game is min over x, max over y of f(x, y). The student's step is called as
    ``student_step(x, y, grad_x, grad_y, lr)`` and returns ``(x_new, y_new)``, where
    ``grad_x(x, y)`` and ``grad_y(x, y)`` return ∂f/∂x and ∂f/∂y (arrays shaped like
    x and y). For ``method="optimistic"`` it is called with one more argument,
    ``previous = (grad_x at the previous iterate, grad_y at the previous iterate)``.
    It is tried on three games (bilinear, a quadratic with 2-D players, the Dirac-GAN)
    and compared with the reference rule of :mod:`bayescalc.minmax.rules`. When it
    disagrees, the grader names the rule the student actually wrote, if it is one of
    the four methods or a common slip (both players descending, roles swapped, y first
    in alternating steps, two simultaneous steps for extragradient, optimistic
    weights swapped or its correction's sign flipped).

    Parameters
    ----------
    student_step : callable
        The student's step.
    method : {"simultaneous", "alternating", "extragradient", "optimistic"}
        The rule the student was asked to write.
    lr : float
        The step size η passed to the student's step.
    rtol, atol : float
        Each coordinate must be within ``atol + rtol * |reference|``.

    Returns
    -------
    Verdict
        ``ok``; ``where``, the first game and coordinate that disagree; ``diagnosis``,
        the rule the student's step matches (e.g. ``"simultaneous"``), or None. A step
        that raises or returns the wrong shape gets a verdict, never a traceback.

    Examples
    --------
    >>> def extragradient(x, y, grad_x, grad_y, lr):
    ...     x_half, y_half = x - lr * grad_x(x, y), y + lr * grad_y(x, y)
    ...     return x - lr * grad_x(x_half, y_half), y + lr * grad_y(x_half, y_half)
    >>> check_minmax_step(extragradient, "extragradient").ok
    True
    >>> def simultaneous(x, y, grad_x, grad_y, lr):
    ...     return x - lr * grad_x(x, y), y + lr * grad_y(x, y)
    >>> verdict = check_minmax_step(simultaneous, "extragradient")
    >>> verdict.ok, verdict.diagnosis
    (False, 'simultaneous')
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not callable(student_step):
        raise TypeError(f"student_step must be callable, got {type(student_step).__name__}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    with_previous = method == "optimistic"
    if with_previous and not _wants_previous(student_step):
        return Verdict(ok=False, diagnosis=None, where="the step's signature",
                       message="an optimistic step needs the previous gradients: write it "
                               "as step(x, y, grad_x, grad_y, lr, previous), where previous "
                               "= (grad_x, grad_y) at the previous iterate.")
    expected, got, previous_fields = [], [], []
    for index, game in enumerate(GAMES, start=1):
        where = f"game {index} ({game.name}, x = {game.x.tolist()}, y = {game.y.tolist()})"
        previous = (game.grad_x(game.x_previous, game.y_previous),
                    game.grad_y(game.x_previous, game.y_previous))
        previous_v = np.concatenate([previous[0], -previous[1]])
        previous_fields.append(previous_v)
        args = [game.x.copy(), game.y.copy(), game.grad_x, game.grad_y, lr]
        if with_previous:
            args.append((previous[0].copy(), previous[1].copy()))
        try:
            answer = call_student(student_step, *args, name="your step")
            if not isinstance(answer, (tuple, list)) or len(answer) != 2:
                raise StudentError(
                    f"your step returned {type(answer).__name__}"
                    f"{f' of length {len(answer)}' if hasattr(answer, '__len__') else ''}; "
                    "expected the pair (x_new, y_new)")
            x_new = as_array(answer[0], shape=game.x.shape, what="x_new")
            y_new = as_array(answer[1], shape=game.y.shape, what="y_new")
        except StudentError as error:
            return Verdict(ok=False, message=f"{where}: {error}.", where=where,
                           n_cases=len(GAMES))
        got.append(np.concatenate([x_new, y_new]))
        expected.append(_reference(method)(game, lr, previous_v))
    mismatch = [(i, j) for i in range(len(GAMES))
                for j in np.flatnonzero(~close(got[i], expected[i], rtol, atol))]
    if not mismatch:
        return Verdict(ok=True, n_cases=len(GAMES),
                       message=f"correct: your {method} step matches bayescalc.minmax's "
                               f"reference rule on all {len(GAMES)} games.")
    i, j = mismatch[0]
    game = GAMES[i]
    dx = game.x.size
    coordinate = f"x_new[{j}]" if j < dx else f"y_new[{j - dx}]"
    where = (f"game {i + 1} ({game.name}, x = {game.x.tolist()}, y = {game.y.tolist()}), "
             f"{coordinate}")
    diagnosis, explanation = None, (
        "it matches none of the rules the grader knows; write the update out for this "
        "game by hand and compare")
    for name, (text, rule, needs_previous) in CANDIDATES.items():
        if name == method or (needs_previous and not with_previous):
            continue
        if all(close(got[k], rule(g, lr, previous_fields[k]), rtol, atol).all()
               for k, g in enumerate(GAMES)):
            diagnosis, explanation = name, f"your step is {text}"
            break
    return Verdict(
        ok=False, where=where, expected=float(expected[i][j]), got=float(got[i][j]),
        diagnosis=diagnosis, n_cases=len(GAMES),
        message=f"not the {method} rule. At {where}: expected {expected[i][j]:.10g}, "
                f"got {got[i][j]:.10g}. {explanation[0].upper()}{explanation[1:]}.")
