"""Numeric derivatives along K lines :math:`t \\mapsto f(x + t u_k)` (shared by the verbs).

The 1-D derivative is one line (or one per element of an array of points); a gradient
or Jacobian uses the coordinate axes; a Hessian the axes and the pair directions
:math:`e_i + e_j`; a Hessian-vector product the directions :math:`v \\pm e_i`. Every
method here evaluates all lines' stencil points of a round in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .complex_step import complex_step_first
from .richardson import EPS, ROUNDOFF_ULPS, richardson_lines
from .stencils import basic_stencil
from .steps import (
    basic_step,
    power_of_two_below,
    richardson_levels,
    richardson_ratio,
    richardson_start,
)

BASIC_ACCURACY = {"forward": 1, "backward": 1, "central": 2}


@dataclass
class LineResult:
    value: np.ndarray      # (K, *out)
    error: np.ndarray      # (K,) or (K, *out)
    step: np.ndarray       # (K,)
    success: bool
    message: str


def numeric_lines(sampler, center, n, method, *, scale, hint=None, step=None, rtol=1e-12):
    """n-th derivatives along the sampler's lines by a real-valued method.

    ``center`` is f at each line's base point, shape (K, *out); ``scale`` (K,) the
    magnitude of x along each line (steps are proportional to ``max(scale, 1)``);
    ``step`` an initial step per line (K,) or None for the default.
    """
    if method == "richardson":
        h0 = richardson_start(scale, n) if step is None else power_of_two_below(step)
        h0 = np.asarray(h0, dtype=np.float64)
        # At large |x| the first step (relative to |x|) may not resolve f (sin x at 1e6):
        # the engine then jumps to the step it would take at |x| <= 1.
        small = None
        if step is None:
            small = np.broadcast_to(richardson_start(0.0, n), h0.shape)
        lines = richardson_lines(sampler, center, n, h0, scale_hint=hint, rtol=rtol,
                                 per_line_center=True, levels=richardson_levels(n),
                                 ratio=richardson_ratio(n), small_step=small,
                                 magnitude=scale)
        return LineResult(lines.value, lines.error, lines.step, bool(lines.converged.all()),
                          _message(lines))
    return _basic(sampler, center, n, method, scale, step)


def _message(lines):
    if lines.kink.any():
        return ("the one-sided slopes disagree: f is not differentiable at x "
                "(the error estimate is their difference)")
    if not np.isfinite(lines.error).all():
        if np.isfinite(lines.value).all():
            return ("unresolved: no step resolved f (the difference quotients do not "
                    "converge; f may vary on a scale far below |x|, or be discontinuous)")
        return "f is not finite at any usable step near x"
    if not lines.converged.all():
        return "the step budget ran out before the extrapolation converged"
    if (lines.side != 0).any():
        return "converged with one-sided steps (f is not finite on the other side of x)"
    return "converged"


def _basic(sampler, center, n, method, scale, step):
    """One classical stencil at h, and at 2h for the error estimate."""
    accuracy = BASIC_ACCURACY[method]
    nodes, weights = (np.asarray(a) for a in basic_stencil(method, n, accuracy))
    count = center.shape[0]
    h = basic_step(scale, n, accuracy) if step is None else np.broadcast_to(step, (count,))
    h = np.asarray(h, dtype=np.float64).reshape(count)
    keep = nodes != 0

    def stencil(size):
        offsets = nodes[None, keep] * size[:, None]                       # (K, N')
        lines = np.repeat(np.arange(count), keep.sum())
        sampled = sampler(lines, offsets.reshape(-1))
        sampled = sampled.reshape((count, int(keep.sum())) + center.shape[1:])
        values = np.empty((count, nodes.size) + center.shape[1:])
        values[:, keep] = sampled
        values[:, ~keep] = center[:, None]
        power = size.reshape((count,) + (1,) * (center.ndim - 1)) ** n
        estimate = np.tensordot(values, weights, axes=([1], [0])) / power
        roundoff = ROUNDOFF_ULPS * EPS * np.tensordot(np.abs(values), np.abs(weights),
                                                      axes=([1], [0])) / power
        return estimate, roundoff

    value, roundoff = stencil(h)
    coarse, _ = stencil(2 * h)
    # D(2h) - D(h) = (2^p - 1) times the truncation error of D(h): an over-estimate.
    error = np.abs(coarse - value) + roundoff
    success = bool(np.all(np.isfinite(value)))
    return LineResult(value, error, h, success,
                      "converged" if success else "f is not finite at a stencil point")


def complex_lines(sampler, scale):
    """First derivatives along the sampler's lines by the complex step.

    f must accept complex x; ``scale`` (K,) is x's magnitude along each line.
    """
    value, error, success, message = complex_step_first(sampler, scale)
    return LineResult(np.asarray(value), np.asarray(error), scale * 1e-100, success, message)
