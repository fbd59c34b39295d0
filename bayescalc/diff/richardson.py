"""Adaptive Richardson extrapolation along K lines at once (the numeric engine).

Each "line" is a one-dimensional problem :math:`g_k(t) = f(x + t u_k)` whose n-th
derivative at :math:`t = 0` is wanted: the 1-D derivative (one line), a gradient (the
coordinate axes), the Hessian (axes and pairs of axes). All lines advance together, so a
batch-capable f is called once per round, not once per line.

Steps form the geometric sequence :math:`h_j = h_0 2^{-j}`. A *window* is ``levels``
consecutive steps; on its nodes :math:`\\{0, \\pm h_j\\}` the Fornberg weights give the
extrapolated estimate (order :math:`2 \\cdot` levels for a first derivative, the last
column of a Richardson tableau in :math:`h^2`) and a one-order-lower estimate without the
largest step. Their difference estimates the truncation error (it is the error of the
lower-order estimate, so it over-covers the higher one); a bound on the propagated
round-off, :math:`c\\,\\varepsilon \\sum_i |w_i f_i| / h^n`, is added. The window slides
to smaller steps (two new evaluations per line per round) while truncation dominates
round-off, and the window with the smallest likely error is kept.

Where f is NaN/inf at a step (the edge of its domain) the window moves below the bad
steps, jumping under |x|/2 at once (edges and poles usually sit at 0), and turns
one-sided when one side stays bad. Each central window also forms the forward and
backward estimates from its own points: when they disagree beyond their error estimates
in three windows running, f has a kink there, and the error says so.

References: L. F. Richardson (1911); J. N. Lyness and C. B. Moler, "Van der Monde
systems and numerical differentiation", Numer. Math. 8 (1966); the window/step search
follows the spirit of numdifftools (P. A. Brodtkorb) and scipy.differentiate (geometric
steps, reuse of points), with our own stopping rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stencils import geometric_window

EPS = np.finfo(np.float64).eps
# Each f value is trusted to ROUNDOFF_ULPS units in the last place of |f|. An elementary
# function is rounded to ~1 ulp of its result, but its argument was rounded first:
# sin(16 x^2) near x = 1.08 carries ulp(18.7) * |cos| ~ 30 ulps of |f|. 32 covers such
# compositions (the chain-rule example, the bench battery) at the price of a more
# pessimistic, still tight, error estimate.
ROUNDOFF_ULPS = 32.0
# The step search stops at the round-off floor of a typical f (4 ulps), not at the
# pessimistic bound above, which would stop it a window or two early.
FLOOR_ULPS = 4.0
KINK_WINDOWS = 3


@dataclass
class LineEstimates:
    """Per-line results of :func:`richardson_lines` (arrays over the K lines)."""

    value: np.ndarray       # (K, *out)
    error: np.ndarray       # (K,)  max over the output components
    step: np.ndarray        # (K,)  largest step of the chosen window
    side: np.ndarray        # (K,)  0 central, +1 forward, -1 backward
    converged: np.ndarray   # (K,)  bool
    kink: np.ndarray        # (K,)  bool: one-sided slopes disagree (non-differentiable)
    n_evals: int


def richardson_lines(sample, center, n, h0, *, levels=5, max_levels=40, max_restarts=12,
                     scale_hint=None, rtol=0.0, per_line_center=False):
    """n-th derivatives at t = 0 of K line functions, adaptively.

    Parameters
    ----------
    sample : callable
        ``sample(line, t) -> values`` with ``line`` int array (P,), ``t`` float array
        (P,); returns f at those line points, shape (P, *out). Called once per round.
    center : ndarray, shape out or (K, *out)
        f at t = 0, shared by every line or one per line (assumed finite).
    n : int
        Derivative order.
    h0 : ndarray, shape (K,)
        Largest initial step per line (a power of two keeps x + t exact).
    levels : int
        Steps per window (order of the extrapolation grows with it).
    max_levels : int
        Budget: at most this many step levels per line.
    max_restarts : int
        Budget of step reductions after non-finite values.
    scale_hint : ndarray, shape (K,), optional
        Distance to a likely domain edge (|x| along the line): after a non-finite value
        the step jumps below it instead of halving one level at a time.
    rtol : float
        Stop a line early once its error estimate is below ``rtol * |value|``.

    Returns
    -------
    LineEstimates
    """
    h0 = np.asarray(h0, dtype=np.float64)
    count = h0.size
    center = np.asarray(center, dtype=np.float64)
    if per_line_center:
        out_shape = center.shape[1:]
    else:
        out_shape = center.shape
        center = np.broadcast_to(center, (count,) + out_shape)
    # values[k, j, s]: f at t = sign_s * h0_k * 2^-j (s = 0 plus, 1 minus).
    values = np.full((count, max_levels, 2) + out_shape, np.nan)
    have = np.zeros((count, max_levels, 2), dtype=bool)
    start = np.zeros(count, dtype=int)            # first level of the current window
    side = np.zeros(count, dtype=int)
    active = np.ones(count, dtype=bool)
    restarts = np.zeros(count, dtype=int)
    best = _Best(count, out_shape)
    n_evals = 0
    hint = None if scale_hint is None else np.asarray(scale_hint, dtype=np.float64)

    for _round in range(max_levels + max_restarts + 2):     # every loop has a budget
        lines, level_index, sides = _requests(active, start, side, levels, have, max_levels)
        if lines.size:
            t = np.where(sides == 0, 1.0, -1.0) * h0[lines] * 2.0 ** -level_index
            fresh = np.asarray(sample(lines, t), dtype=np.float64)
            fresh = fresh.reshape((lines.size,) + out_shape)
            values[lines, level_index, sides] = fresh
            have[lines, level_index, sides] = True
            n_evals += lines.size
        precomputed = _central_estimates(values, center, active, start, side, h0, n, levels,
                                         max_levels)
        for k in np.flatnonzero(active):
            window = slice(start[k], start[k] + levels)
            if start[k] + levels > max_levels:
                active[k] = False
                continue
            top_step = h0[k] * 2.0 ** -start[k]
            if k in precomputed:
                estimate = precomputed[k]
            else:
                block = values[k, window]                      # (levels, 2, *out)
                finite = np.isfinite(block.reshape(levels, 2, -1)).all(axis=2)
                needed = _needed_sides(side[k])
                if not finite[:, needed].all():
                    restarts[k] += 1
                    _handle_nonfinite(k, finite, needed, start, side, h0, hint, restarts,
                                      max_restarts, max_levels, levels, active)
                    continue
                estimate = _window_estimate(block, center[k], n, side[k], top_step)
            best.offer(k, estimate, top_step, side[k])
            if estimate.kink and hint is not None and 0 < 0.5 * hint[k] < top_step:
                # The window straddles 0, where poles and kinks usually sit (1/x near 0):
                # jump below |x| / 2 as for a non-finite value, before judging the kink.
                target = int(np.ceil(np.log2(top_step / (0.5 * hint[k])))) + start[k]
                if target + levels <= max_levels:
                    start[k] = target
                    continue
            trunc, roundoff = estimate.truncation, estimate.roundoff
            at_floor = trunc <= roundoff * (FLOOR_ULPS / ROUNDOFF_ULPS) and not estimate.kink
            met = rtol > 0 and estimate.error <= rtol * np.max(np.abs(estimate.value))
            # Past the best window twice in a row: stop, but only once the best is a
            # plausible derivative (a window straddling a pole can look "best" early).
            plausible = best.at_floor[k] or best.error[k] <= 1e-3 * np.max(np.abs(best.value[k]))
            worse_twice = best.rounds_since_best[k] >= 2 and (plausible or best.kink[k])
            kinked = best.kink_streak[k] >= KINK_WINDOWS
            if at_floor or met or worse_twice or kinked:
                best.converged[k] = bool(at_floor or met or best.at_floor[k]) and not best.kink[k]
                active[k] = False
            else:
                start[k] += 1
        if not active.any():
            break

    return LineEstimates(best.value, best.error, best.step, best.side, best.converged,
                         best.kink, n_evals)


@dataclass
class _WindowEstimate:
    value: np.ndarray
    error: float
    truncation: float
    roundoff: float
    kink: bool
    score: float        # the likely error (round-off at FLOOR_ULPS): ranks windows


def _central_estimates(values, center, active, start, side, h0, n, levels, max_levels):
    """Window estimates of every active central line whose window is finite, at once.

    Returns {line: _WindowEstimate}; the other lines (non-finite values, one-sided
    windows) go through :func:`_window_estimate` one by one.
    """
    lines = np.flatnonzero(active & (side == 0) & (start + levels <= max_levels))
    if lines.size == 0:
        return {}
    index = start[lines][:, None] + np.arange(levels)[None, :]
    blocks = values[lines[:, None], index]                  # (B, levels, 2, *out)
    finite = np.isfinite(blocks.reshape(lines.size, -1)).all(axis=1)
    lines, blocks = lines[finite], blocks[finite]
    if lines.size == 0:
        return {}
    top = h0[lines] * 2.0 ** -start[lines]
    batch = _batch_estimates(blocks, center[lines], n, top)
    return {int(k): _WindowEstimate(batch["value"][i], float(batch["error"][i]),
                                    float(batch["truncation"][i]), float(batch["roundoff"][i]),
                                    bool(batch["kink"][i]), float(batch["score"][i]))
            for i, k in enumerate(lines)}


def _batch_estimates(blocks, centers, n, top):
    """Central-window estimates for B lines: blocks (B, levels, 2, *out)."""
    count, levels = blocks.shape[:2]
    out_shape = blocks.shape[3:]
    scale = (top ** -n).reshape((count,) + (1,) * len(out_shape))

    def combine(weights, nodes_values):
        # Node by node, in a fixed order: a BLAS product would sum in an order that
        # depends on B, and batched results must equal looped ones bit for bit.
        total = np.zeros((count,) + out_shape)
        for weight, column in zip(weights, np.moveaxis(nodes_values, 1, 0), strict=True):
            if weight != 0.0:
                total += weight * column
        return scale * total

    def worst(array):
        return np.abs(array).reshape(count, -1).max(axis=1)

    _, high, low = geometric_window(n, levels, 2.0, 0)
    nodes_values = np.concatenate(
        [centers[:, None], blocks.reshape((count, 2 * levels) + out_shape)], axis=1)
    value = combine(high, nodes_values)
    truncation = worst(value - combine(low, nodes_values))
    roundoff = ROUNDOFF_ULPS * EPS * worst(combine(np.abs(high), np.abs(nodes_values)))
    error = truncation + roundoff
    score = truncation + roundoff * FLOOR_ULPS / ROUNDOFF_ULPS
    # A derivative exists only if the one-sided estimates agree: |x| at 0 has a
    # central difference of exactly 0 at every step, a confident wrong answer.
    one_sided = []
    for sign, column in ((1, 0), (-1, 1)):
        _, side_high, side_low = geometric_window(n, levels, 2.0, sign)
        side_values = np.concatenate([centers[:, None], blocks[:, :, column]], axis=1)
        side_value = combine(side_high, side_values)
        side_round = ROUNDOFF_ULPS * EPS * combine(np.abs(side_high), np.abs(side_values))
        side_error = (np.abs(side_value - combine(side_low, side_values)) + side_round)
        one_sided.append((side_value, side_error.reshape(count, -1).max(axis=1)))
    (forward, forward_error), (backward, backward_error) = one_sided
    gap = worst(forward - backward)
    kink = gap > 10.0 * (forward_error + backward_error) + error
    error = np.where(kink, np.maximum(error, gap), error)
    score = np.where(kink, error, score)
    return {"value": value, "error": error, "truncation": truncation, "roundoff": roundoff,
            "kink": kink, "score": score}


def _window_estimate(block, center, n, side, top_step):
    """Extrapolated value and error estimate from one window of values."""
    if side == 0:
        batch = _batch_estimates(block[None], np.asarray(center)[None], n,
                                 np.array([top_step]))
        return _WindowEstimate(batch["value"][0], float(batch["error"][0]),
                               float(batch["truncation"][0]), float(batch["roundoff"][0]),
                               bool(batch["kink"][0]), float(batch["score"][0]))
    levels = block.shape[0]
    scale = top_step ** -n
    high, low, nodes_values = _weights_and_values(block, center, n, side, levels)
    value = scale * np.tensordot(high, nodes_values, axes=1)
    lower = scale * np.tensordot(low, nodes_values, axes=1)
    truncation = float(np.max(np.abs(value - lower)))
    roundoff = float(np.max(ROUNDOFF_ULPS * EPS * scale
                            * np.tensordot(np.abs(high), np.abs(nodes_values), axes=1)))
    error = truncation + roundoff
    score = truncation + roundoff * FLOOR_ULPS / ROUNDOFF_ULPS
    return _WindowEstimate(value, error, truncation, roundoff, False, score)


def _weights_and_values(block, center, n, side, levels):
    _offsets, high, low = geometric_window(n, levels, 2.0, int(side))
    if side == 0:
        stacked = block.reshape((2 * levels,) + block.shape[2:])   # plus, minus per level
    else:
        stacked = block[:, 0 if side > 0 else 1]
    nodes_values = np.concatenate([center[None], stacked])
    return np.asarray(high), np.asarray(low), nodes_values


def _needed_sides(side):
    return [0, 1] if side == 0 else [0 if side > 0 else 1]


def _requests(active, start, side, levels, have, max_levels):
    """The (line, level, side) triples the active windows still need, in that order."""
    lines = np.flatnonzero(active)
    level = start[lines][:, None] + np.arange(levels)[None, :]            # (A, levels)
    inside = level < max_levels
    level = np.minimum(level, max_levels - 1)
    sides = side[lines]
    need = np.stack([np.broadcast_to((sides >= 0)[:, None], level.shape),
                     np.broadcast_to((sides <= 0)[:, None], level.shape)], axis=-1)
    need = need & inside[..., None] & ~have[lines[:, None], level]
    which, index, column = np.nonzero(need)
    return lines[which], level[which, index], column


def _handle_nonfinite(k, finite, needed, start, side, h0, hint, restarts, max_restarts,
                      max_levels, levels, active):
    """Shrink the window past the non-finite steps, or go one-sided, or give up."""
    bad_levels = np.flatnonzero(~finite[:, needed].all(axis=1))
    next_start = start[k] + int(bad_levels.max()) + 1
    if hint is not None and hint[k] > 0:
        # The domain edge is often at 0 (log, sqrt, 1/x): jump below |x| / 2 at once.
        target = int(np.ceil(np.log2(h0[k] / (0.5 * hint[k]))))
        next_start = max(next_start, target)
    if side[k] == 0 and (restarts[k] > max_restarts // 2 or next_start + levels > max_levels):
        # Shrinking did not help: use the side on which f is finite, from the old start.
        plus_ok = finite[:, 0].all()
        minus_ok = finite[:, 1].all()
        if plus_ok or minus_ok:
            side[k] = 1 if plus_ok else -1
            restarts[k] = max_restarts // 2
            return
    if restarts[k] > max_restarts or next_start + levels > max_levels:
        active[k] = False
        return
    start[k] = next_start


class _Best:
    """The best window seen per line (smallest error estimate)."""

    def __init__(self, count, out_shape):
        self.value = np.full((count,) + out_shape, np.nan)
        self.error = np.full(count, np.inf)
        self.score = np.full(count, np.inf)
        self.kink_streak = np.zeros(count, dtype=int)
        self.step = np.full(count, np.nan)
        self.side = np.zeros(count, dtype=int)
        self.converged = np.zeros(count, dtype=bool)
        self.at_floor = np.zeros(count, dtype=bool)
        self.kink = np.zeros(count, dtype=bool)
        self.rounds_since_best = np.zeros(count, dtype=int)

    def offer(self, k, estimate, step, side):
        # Windows are ranked by their likely error (round-off at FLOOR_ULPS), reported
        # with the safe bound (ROUNDOFF_ULPS). Three kinks in a row are conclusive: at
        # still smaller steps round-off would hide the kink, so the kink is kept.
        self.kink_streak[k] = self.kink_streak[k] + 1 if estimate.kink else 0
        conclusive = self.kink_streak[k] >= KINK_WINDOWS
        if estimate.score < self.score[k] or not np.isfinite(self.score[k]) or conclusive:
            self.score[k] = estimate.score
            self.value[k] = estimate.value
            self.error[k] = estimate.error
            self.step[k] = step
            self.side[k] = side
            self.kink[k] = estimate.kink
            floor = estimate.roundoff * FLOOR_ULPS / ROUNDOFF_ULPS
            self.at_floor[k] = estimate.truncation <= floor and not estimate.kink
            self.rounds_since_best[k] = 0
        else:
            self.rounds_since_best[k] += 1
