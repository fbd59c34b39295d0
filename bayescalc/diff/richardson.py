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

The search is a loop over rounds with explicit state: a fixed :class:`_Plan`, the table
of f's values (:class:`_Table`), and per-line states (:class:`_Line`, held as arrays in
:class:`_Search`) that :func:`_step` maps to the next state after judging the line's
window; :func:`_after_nonfinite` is the step after non-finite values. The best window
per line is kept by :class:`_Best`.

References: L. F. Richardson (1911); J. N. Lyness and C. B. Moler, "Van der Monde
systems and numerical differentiation", Numer. Math. 8 (1966); the window/step search
follows the spirit of numdifftools (P. A. Brodtkorb) and scipy.differentiate (geometric
steps, reuse of points), with our own stopping rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .stencils import geometric_window, window_checks

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
PROBE_LEVELS = 14
# The regime check: successive differences of the low-order estimates E_j shrink by
# r^2 per level in the asymptotic regime; a ratio outside [r^2 / SPREAD, r^2 * SPREAD]
# (or of the wrong sign) means the steps do not resolve f (sin x at x = 1e6 with steps
# of 1e4). SPREAD is wide: the h^4 term bends the ratio at moderate steps.
REGIME_SPREAD = 16.0
# Noise amplitude, relative to |f|, above which a window counts as unresolved rather
# than noisy: special functions carry noise of 1e-14..1e-9 of |f|; "noise" of the size
# of f itself is f varying on a scale below the steps.
NOISE_LIMIT = 1e-4
# The noise part of the error: NOISE_FACTOR * delta * ||w||_2 (delta measured as the
# largest of four unit-norm high-order differences, each ~ |N(0, delta^2)|).
NOISE_FACTOR = 3.0
# Measured "noise" below NOISE_ULPS ulps of |f| is f's own rounding, which the round-off
# bound already covers.
NOISE_ULPS = 64.0
# A neighbouring window whose value differs from the chosen one by more than its own
# error plus this many times the chosen one's means the chosen error is not to be
# trusted (see _Best).
NEIGHBOUR_FACTOR = 2.0


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
                     scale_hint=None, rtol=0.0, per_line_center=False, ratio=2.0,
                     small_step=None, magnitude=None):
    """n-th derivatives at t = 0 of K line functions, adaptively.

    At large |x| (``small_step`` at least 2^PROBE_LEVELS below ``h0``) the first
    windows are also checked against the lowest-order estimate at ``small_step`` (2 or 4
    more evaluations): steps relative to |x| can alias an oscillation (sin x at 1e6,
    steps 1024..16384 close to multiples of 2 pi) into data that look smooth.

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
    ratio : float
        Ratio of successive steps (2 keeps power-of-two steps exact; higher orders use a
        smaller ratio, whose weights amplify round-off far less).
    small_step : ndarray, shape (K,), optional
        A step small in absolute terms (the default start at |x| <= 1): when the first
        window does not resolve f (at large |x| the relative first step can span many
        periods of sin x), the window jumps there at once.
    magnitude : ndarray, shape (K,), optional
        |x| along each line. With a step ratio other than 2 the nodes ``x + t`` are
        rounded to float64, an error of up to ``eps |x| |f'|`` in each value, which
        the round-off bound then includes (``|f'|`` from the window's widest
        difference).

    Returns
    -------
    LineEstimates
    """
    plan = _make_plan(center, n, h0, levels, max_levels, max_restarts, scale_hint, rtol,
                      per_line_center, ratio, small_step, magnitude)
    count = plan.h0.size
    table = _Table(np.full((count, plan.max_levels, 2) + plan.out_shape, np.nan),
                   np.zeros((count, plan.max_levels, 2), dtype=bool))
    search = _Search(start=np.zeros(count, dtype=int), side=np.zeros(count, dtype=int),
                     active=np.ones(count, dtype=bool), restarts=np.zeros(count, dtype=int),
                     jump=plan.jump.copy(), probe=plan.probe.copy())
    best = _Best(count, plan.out_shape)
    n_evals = 0
    for round_index in range(plan.max_levels + plan.max_restarts + 2):   # a budget
        n_evals += _sample_round(sample, plan, table, search, first=round_index == 0)
        precomputed = _central_estimates(table.values, plan.center, search.active,
                                         search.start, search.side, plan.h0, plan.n,
                                         plan.levels, plan.max_levels, plan.ratio,
                                         plan.position)
        for k in np.flatnonzero(search.active):
            line = _step(plan, table, best, k, _line(search, k), precomputed.get(k))
            _write(search, k, line)
        if not search.active.any():
            break
    best.check_neighbours()
    return LineEstimates(best.value, best.error, best.step, best.side, best.converged,
                         best.kink, n_evals)


# -- the search state and its step -----------------------------------------------------------

class _Plan(NamedTuple):
    """What stays fixed during the search (per-line arrays have shape (K,))."""

    n: int
    levels: int
    max_levels: int
    max_restarts: int
    ratio: float
    rtol: float
    h0: np.ndarray            # largest first step per line
    hint: np.ndarray | None   # distance to a likely domain edge (|x| along the line)
    center: np.ndarray        # f at t = 0, (K, *out)
    out_shape: tuple
    width: int                # levels of the lowest-order stencil of f^(n)
    jump: np.ndarray          # level of the step small in absolute terms
    probe: np.ndarray         # whether the first window is checked there (large |x|)
    position: np.ndarray      # |x| along each line where nodes are rounded, else 0


class _Table(NamedTuple):
    """f's values: ``values[k, j, s]`` at t = sign_s h0_k r^-j (s = 0 plus, 1 minus)."""

    values: np.ndarray
    have: np.ndarray


class _Search(NamedTuple):
    """Per-line arrays (K,) of the search: one :class:`_Line` per entry."""

    start: np.ndarray
    side: np.ndarray
    active: np.ndarray
    restarts: np.ndarray
    jump: np.ndarray
    probe: np.ndarray


class _Line(NamedTuple):
    """One line's search state: where its window starts and how it may move."""

    start: int        # first level of the window
    side: int         # 0 central, +1 forward, -1 backward
    active: bool
    restarts: int     # step reductions after non-finite values so far
    jump: int         # level to jump to when unresolved (0: used or none)
    probe: bool       # the large-|x| probe is still to be checked


def _line(search, k):
    return _Line(*(array[k] for array in search))


def _write(search, k, line):
    for array, value in zip(search, line, strict=True):
        array[k] = value


def _make_plan(center, n, h0, levels, max_levels, max_restarts, scale_hint, rtol,
               per_line_center, ratio, small_step, magnitude=None):
    h0 = np.asarray(h0, dtype=np.float64)
    count = h0.size
    jump = np.zeros(count, dtype=int)
    if small_step is not None:
        levels_down = np.log(h0 / np.asarray(small_step, dtype=np.float64)) / np.log(ratio)
        jump = np.maximum(np.ceil(levels_down - 1e-9), 0).astype(int)
        max_levels += int(jump.max())
    width = next(m for m in range(1, levels + 1) if 2 * m + 1 > n)
    probe = (jump * np.log2(ratio) >= PROBE_LEVELS) & (width <= levels)
    center = np.asarray(center, dtype=np.float64)
    if per_line_center:
        out_shape = center.shape[1:]
    else:
        out_shape = center.shape
        center = np.broadcast_to(center, (count,) + out_shape)
    hint = None if scale_hint is None else np.asarray(scale_hint, dtype=np.float64)
    # the nodes x + t are exact for power-of-two steps (ratio 2), rounded otherwise
    position = (np.zeros(count) if magnitude is None or ratio == 2.0 else
                np.broadcast_to(np.asarray(magnitude, dtype=np.float64), (count,)))
    return _Plan(n, levels, max_levels, max_restarts, ratio, rtol, h0, hint, center,
                 out_shape, width, jump, probe, position)


def _sample_round(sample, plan, table, search, *, first):
    """Evaluate f at every point the active windows (and, first, the probes) still need."""
    lines, level_index, sides = _requests(search.active, search.start, search.side,
                                          plan.levels, table.have, plan.max_levels)
    if first and search.probe.any():
        extra = _probe_requests(search.probe, search.jump, plan.width, table.have)
        lines, level_index, sides = (np.concatenate([a, b]) for a, b in
                                     zip((lines, level_index, sides), extra, strict=True))
    if lines.size == 0:
        return 0
    t = np.where(sides == 0, 1.0, -1.0) * plan.h0[lines] * plan.ratio ** -level_index
    fresh = np.asarray(sample(lines, t), dtype=np.float64)
    table.values[lines, level_index, sides] = fresh.reshape((lines.size,) + plan.out_shape)
    table.have[lines, level_index, sides] = True
    return lines.size


def _step(plan, table, best, k, line, estimate):
    """One round for line k: judge its window, offer it to ``best``, and move.

    ``estimate`` is the window's batched central estimate, or None (non-finite values,
    one-sided windows). Returns the line's next state.
    """
    levels = plan.levels
    if line.start + levels > plan.max_levels:
        return line._replace(active=False)
    top_step = plan.h0[k] * plan.ratio ** -line.start
    if estimate is None:
        block = table.values[k, line.start:line.start + levels]          # (levels, 2, *out)
        finite = np.isfinite(block.reshape(levels, 2, -1)).all(axis=2)
        needed = _needed_sides(line.side)
        if not finite[:, needed].all():
            return _after_nonfinite(plan, k, line._replace(restarts=line.restarts + 1),
                                    finite, needed)
        estimate = _window_estimate(block, plan.center[k], plan.n, line.side, top_step,
                                    plan.ratio)
    if line.probe and line.side == 0 and not estimate.unresolved and line.start < line.jump:
        line = line._replace(probe=False)
        if not _probe_agrees(estimate, table.values[k], plan.center[k], plan.n, plan.h0[k],
                             line.jump, plan.width, plan.ratio, line.start, levels):
            estimate.unresolved = True
            estimate.error = estimate.score = np.inf
    best.offer(k, estimate, top_step, line.side)
    entering = estimate.unresolved and any(np.isfinite(e) for _, e in best.seen[k][:-1])
    if estimate.unresolved and line.jump - line.start > levels and not entering:
        # The steps do not resolve f: try steps small in absolute terms at once (when
        # they are more than a window away; nearer, sliding costs no more). Not once
        # earlier windows were resolved: then the sequence is entering its asymptotic
        # regime (a pole at distance ~ the step, high orders), and the next windows
        # are the good ones.
        return line._replace(start=line.jump, jump=0)
    hint = plan.hint
    if (estimate.kink or (estimate.unresolved and not entering)) and hint is not None \
            and 0 < 0.5 * hint[k] < top_step:
        # The window straddles 0, where poles and kinks usually sit (1/x near 0): jump
        # below |x| / 2 as for a non-finite value, before judging the kink.
        target = int(np.ceil(np.log(top_step / (0.5 * hint[k])) / np.log(plan.ratio)))
        target += line.start
        if target + levels <= plan.max_levels:
            return line._replace(start=target)
    at_floor = estimate.at_floor
    met = plan.rtol > 0 and estimate.error - estimate.noise <= plan.rtol * np.max(
        np.abs(estimate.value))
    # Past the best window twice in a row: stop, but only once the best is a plausible
    # derivative (a window straddling a pole can look "best" early).
    plausible = best.at_floor[k] or best.error[k] <= 1e-3 * np.max(np.abs(best.value[k]))
    worse_twice = best.rounds_since_best[k] >= 2 and (plausible or best.kink[k])
    kinked = best.kink_streak[k] >= KINK_WINDOWS
    if at_floor or met or worse_twice or kinked:
        best.converged[k] = bool(at_floor or met or best.at_floor[k]) and not best.kink[k]
        return line._replace(active=False)
    return line._replace(start=line.start + 1)


def _after_nonfinite(plan, k, line, finite, needed):
    """The next state after non-finite values: shrink past them, go one-sided, or stop."""
    bad_levels = np.flatnonzero(~finite[:, needed].all(axis=1))
    next_start = line.start + int(bad_levels.max()) + 1
    if plan.hint is not None and plan.hint[k] > 0:
        # The domain edge is often at 0 (log, sqrt, 1/x): jump below |x| / 2 at once.
        target = int(np.ceil(np.log(plan.h0[k] / (0.5 * plan.hint[k])) / np.log(plan.ratio)))
        next_start = max(next_start, target)
    past_budget = next_start + plan.levels > plan.max_levels
    one_sided_possible = plan.levels > plan.n      # L + 1 nodes on one side give f^(n)
    if line.side == 0 and one_sided_possible and (line.restarts > plan.max_restarts // 2
                                                  or past_budget):
        # Shrinking did not help: use the side on which f is finite, from the old start.
        plus_ok = finite[:, 0].all()
        minus_ok = finite[:, 1].all()
        if plus_ok or minus_ok:
            return line._replace(side=1 if plus_ok else -1, restarts=plan.max_restarts // 2)
    if line.restarts > plan.max_restarts or past_budget:
        return line._replace(active=False)
    return line._replace(start=next_start)


@dataclass
class _WindowEstimate:
    value: np.ndarray
    error: float
    truncation: float
    roundoff: float
    kink: bool
    score: float        # the likely error (round-off at FLOOR_ULPS): ranks windows
    noise: float = 0.0  # the noise part of the error (measured from the window's values)
    unresolved: bool = False    # the steps do not resolve f: error is inf

    @property
    def at_floor(self):
        """Truncation below the round-off and noise floor (a converged window)."""
        # Measured noise counts in the error, not in the floor: at moderate steps the
        # high-order differences still see some of f's smooth part, which must not stop
        # the search. A noisy f thus ends "not converged", with an error that covers.
        floor = self.roundoff * FLOOR_ULPS / ROUNDOFF_ULPS
        return bool(self.truncation <= floor and not self.kink and not self.unresolved)


def _central_estimates(values, center, active, start, side, h0, n, levels, max_levels,
                       ratio, position=None):
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
    top = h0[lines] * ratio ** -start[lines]
    batch = _batch_estimates(blocks, center[lines], n, top, ratio,
                             None if position is None else position[lines])
    return {int(k): _from_batch(batch, i) for i, k in enumerate(lines)}


def _from_batch(batch, i):
    return _WindowEstimate(batch["value"][i], float(batch["error"][i]),
                           float(batch["truncation"][i]), float(batch["roundoff"][i]),
                           bool(batch["kink"][i]), float(batch["score"][i]),
                           float(batch["noise"][i]), bool(batch["unresolved"][i]))


def _batch_estimates(blocks, centers, n, top, ratio=2.0, position=None):
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

    _, high, low = geometric_window(n, levels, ratio, 0)
    nodes_values = np.concatenate(
        [centers[:, None], blocks.reshape((count, 2 * levels) + out_shape)], axis=1)
    value = combine(high, nodes_values)
    truncation = worst(value - combine(low, nodes_values))
    roundoff = ROUNDOFF_ULPS * EPS * worst(combine(np.abs(high), np.abs(nodes_values)))
    if position is not None and np.any(position > 0):
        # rounded nodes: each value off by up to eps |x| |f'| (|f'| from the widest
        # central difference, doubled for its variation over the window)
        slope = worst(blocks[:, 0, 0] - blocks[:, 0, 1]) / (2 * top)
        roundoff = roundoff + 2 * EPS * position * slope * float(np.sum(np.abs(high))) \
            * top ** -n
    noise, unresolved = _regime(nodes_values, n, levels, ratio, scale, high)
    error = np.where(unresolved, np.inf, truncation + roundoff + noise)
    # The noise part ranks windows (a window at large steps whose "noise" is f's own
    # unresolved structure, sin x + x at 5e5, must lose to a clean one at small steps)
    # but does not stop the search (not in ``at_floor`` or the rtol test): at moderate
    # steps the highest differences still see some of f's smooth part.
    score = np.where(unresolved, np.inf, truncation + roundoff * FLOOR_ULPS / ROUNDOFF_ULPS
                     + noise)
    batch = {"value": value, "error": error, "truncation": truncation, "roundoff": roundoff,
             "kink": np.zeros(count, dtype=bool), "score": score, "noise": noise,
             "unresolved": unresolved}
    if levels <= n:
        return batch        # one-sided windows cannot determine f^(n): no kink check
    # A derivative exists only if the one-sided estimates agree: |x| at 0 has a
    # central difference of exactly 0 at every step, a confident wrong answer.
    one_sided = []
    for sign, column in ((1, 0), (-1, 1)):
        _, side_high, side_low = geometric_window(n, levels, ratio, sign)
        side_values = np.concatenate([centers[:, None], blocks[:, :, column]], axis=1)
        side_value = combine(side_high, side_values)
        side_round = ROUNDOFF_ULPS * EPS * combine(np.abs(side_high), np.abs(side_values))
        side_error = (np.abs(side_value - combine(side_low, side_values)) + side_round)
        one_sided.append((side_value, side_error.reshape(count, -1).max(axis=1)))
    (forward, forward_error), (backward, backward_error) = one_sided
    gap = worst(forward - backward)
    # A kink explains a window that looks unresolved (|x| at 0): it is reported as such.
    base = truncation + roundoff + noise
    kink = gap > 10.0 * (forward_error + backward_error) + base
    batch["error"] = np.where(kink, np.maximum(base, gap), error)
    batch["score"] = np.where(kink, batch["error"], score)
    batch["kink"] = kink
    batch["unresolved"] = unresolved & ~kink
    return batch


def _regime(nodes_values, n, levels, ratio, scale, high):
    """The measured noise part of the error, and whether the steps resolve f at all.

    The noise level delta is the largest unit-norm highest-order difference of the
    window's values (:func:`~bayescalc.diff.stencils.window_checks`); it adds
    ``NOISE_FACTOR * delta * ||w||_2 / h^n`` to the error. A window is *unresolved*
    when that "noise" is not small against |f| (f varies on a scale below the steps),
    or when the low-order estimates do not converge like h^2 (ratios of successive
    differences far from r^2, beyond the noise and round-off of each difference).
    """
    count = nodes_values.shape[0]
    sequence, noise_rows = window_checks(n, levels, ratio)
    values = nodes_values.reshape(count, nodes_values.shape[1], -1)          # (B, N, C)
    factor = scale.reshape(count, 1, 1)                                      # 1 / h^n
    magnitude = np.abs(values).max(axis=1)                                   # (B, C)
    # On ratio-2 windows the unit-norm high-order differences weigh the innermost nodes
    # (steps h/16, h/8), where f's smooth part is negligible: what is left is noise. The
    # high-order windows (ratio 2^(1/3)) spread their nodes over a factor 2.5 only, where
    # those differences still see f's smooth part: no noise term there.
    if ratio == 2.0:
        delta = np.abs(np.einsum("rn,bnc->brc", noise_rows, values)).max(axis=1)
    else:
        delta = np.zeros_like(magnitude)
    delta = np.where(delta > NOISE_ULPS * EPS * magnitude, delta, 0.0)
    noise = NOISE_FACTOR * np.linalg.norm(high) * (delta * factor[:, :, 0]).max(axis=1)
    unresolved = (delta > NOISE_LIMIT * magnitude).any(axis=1)
    # Low-order estimates and the size of what is not truncation in their differences.
    estimates = np.einsum("jn,bnc->bjc", sequence, values) * factor          # (B, J, C)
    sizes = np.einsum("jn,bnc->bjc", np.abs(sequence), np.abs(values)) * factor
    floor = 8 * (ROUNDOFF_ULPS * EPS * sizes
                 + NOISE_FACTOR * delta[:, None, :]
                 * np.linalg.norm(sequence, axis=1)[None, :, None] * factor)
    differences = estimates[:, :-1] - estimates[:, 1:]
    noise_of_difference = floor[:, :-1] + floor[:, 1:]
    expected = ratio ** 2
    for j in range(differences.shape[1] - 1):
        a, b = differences[:, j], differences[:, j + 1]
        a_small = np.abs(a) <= noise_of_difference[:, j]
        b_small = np.abs(b) <= noise_of_difference[:, j + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = a / b
        in_range = (quotient >= expected / REGIME_SPREAD) & (quotient <= expected * REGIME_SPREAD)
        # a at the floor while b is not: the sequence grows towards small steps.
        fine = (a_small & (np.abs(b) <= 8 * noise_of_difference[:, j + 1])) | \
            (~a_small & (b_small | in_range))
        unresolved |= (~fine).any(axis=1)
    return noise, unresolved


def _window_estimate(block, center, n, side, top_step, ratio=2.0):
    """Extrapolated value and error estimate from one window of values."""
    if side == 0:
        batch = _batch_estimates(block[None], np.asarray(center)[None], n,
                                 np.array([top_step]), ratio)
        return _from_batch(batch, 0)
    levels = block.shape[0]
    scale = top_step ** -n
    high, low, nodes_values = _weights_and_values(block, center, n, side, levels, ratio)
    value = scale * np.tensordot(high, nodes_values, axes=1)
    lower = scale * np.tensordot(low, nodes_values, axes=1)
    truncation = float(np.max(np.abs(value - lower)))
    roundoff = float(np.max(ROUNDOFF_ULPS * EPS * scale
                            * np.tensordot(np.abs(high), np.abs(nodes_values), axes=1)))
    error = truncation + roundoff
    score = truncation + roundoff * FLOOR_ULPS / ROUNDOFF_ULPS
    return _WindowEstimate(value, error, truncation, roundoff, False, score)


def _weights_and_values(block, center, n, side, levels, ratio=2.0):
    _offsets, high, low = geometric_window(n, levels, ratio, int(side))
    if side == 0:
        stacked = block.reshape((2 * levels,) + block.shape[2:])   # plus, minus per level
    else:
        stacked = block[:, 0 if side > 0 else 1]
    nodes_values = np.concatenate([center[None], stacked])
    return np.asarray(high), np.asarray(low), nodes_values


def _probe_requests(probe, jump, width, have):
    """(line, level, side) of the lowest-order stencil at the small step, per probed line."""
    lines = np.repeat(np.flatnonzero(probe), 2 * width)
    level = jump[lines] + np.tile(np.repeat(np.arange(width), 2), int(probe.sum()))
    sides = np.tile([0, 1], lines.size // 2)
    fresh = ~have[lines, level, sides]
    return lines[fresh], level[fresh], sides[fresh]


def _probe_agrees(estimate, line_values, center, n, h0, jump, width, ratio, start, levels):
    """Whether the window's value predicts the low-order estimate at the small step.

    The low-order estimate is E(h) = f^(n) + c h^2 + ...: c h^2 comes from the window's
    smallest low-order estimate, E(h_s) from the probe's points; they must agree within
    the window's error, the c h_s^2 term and the round-off of E(h_s).
    """
    sequence, _ = window_checks(n, levels, ratio)
    row = sequence[0][: 1 + 2 * width]
    out = center.shape

    def nodes(first, count):
        block = line_values[first:first + count].reshape((2 * count,) + out)
        return np.concatenate([center[None], block])

    small = h0 * ratio ** -jump
    probe_nodes = nodes(jump, width)
    probe_value = np.tensordot(row, probe_nodes, axes=1) / small ** n
    roundoff = ROUNDOFF_ULPS * EPS * np.tensordot(np.abs(row), np.abs(probe_nodes),
                                                  axes=1) / small ** n
    top = h0 * ratio ** -start
    smallest_value = np.tensordot(sequence[-1], nodes(start, levels), axes=1) / top ** n
    smallest = top * ratio ** -(levels - width)
    curvature = np.abs(smallest_value - estimate.value) * (small / smallest) ** 2
    mismatch = np.abs(probe_value - estimate.value)
    return bool(np.all(mismatch <= 4.0 * (estimate.error + roundoff + curvature)))


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
        # every window offered per line, in order: (value, error, finite-error flag)
        self.seen = [[] for _ in range(count)]
        self.chosen = np.full(count, -1)

    def check_neighbours(self):
        """Widen the chosen window's error where the windows offered just before and
        after it disagree with it by more than their own error plus ``NEIGHBOUR_FACTOR``
        times the chosen one's.

        In the asymptotic regime every window's error over-covers (it is the error of
        the lower-order estimate), so neighbours agree well within it. Steps larger
        than f's scale (a pole at distance r with steps above r, high orders) give
        windows whose values wander while each looks converged: arctan's 10th
        derivative at 0.3 chose -91,545 +- 1,986 between neighbours -107,375 and
        -69,697 (exact -53,084). The error then becomes the largest disagreement and the
        line does not count as converged."""
        for k, seen in enumerate(self.seen):
            i = int(self.chosen[k])
            if i < 0 or self.kink[k]:
                continue
            value, error = seen[i]
            worst = 0.0
            for j in (i - 1, i + 1):
                if 0 <= j < len(seen) and np.isfinite(seen[j][1]):
                    gap = float(np.max(np.abs(seen[j][0] - value)))
                    if gap > NEIGHBOUR_FACTOR * error + seen[j][1]:
                        worst = max(worst, gap)
            if worst > 0:
                self.error[k] = max(self.error[k], worst)
                self.converged[k] = False

    def offer(self, k, estimate, step, side):
        # Windows are ranked by their likely error (round-off at FLOOR_ULPS), reported
        # with the safe bound (ROUNDOFF_ULPS). Three kinks in a row are conclusive: at
        # still smaller steps round-off would hide the kink, so the kink is kept.
        self.kink_streak[k] = self.kink_streak[k] + 1 if estimate.kink else 0
        conclusive = self.kink_streak[k] >= KINK_WINDOWS
        self.seen[k].append((np.array(estimate.value, dtype=float), float(estimate.error)))
        if self.chosen[k] >= 0 and np.isfinite(estimate.error) and not self.kink[k]:
            # a later window that disagrees with the best beyond both errors shows the
            # best's error to be at least their gap (pre-asymptotic steps: the values
            # wander while each window looks converged); the best is demoted to it
            gap = float(np.max(np.abs(estimate.value - self.value[k])))
            if gap > NEIGHBOUR_FACTOR * self.error[k] + estimate.error:
                self.score[k] = max(self.score[k], gap)
                self.error[k] = max(self.error[k], gap)
                self.at_floor[k] = False
        if estimate.score < self.score[k] or not np.isfinite(self.score[k]) or conclusive:
            self.chosen[k] = len(self.seen[k]) - 1
            self.score[k] = estimate.score
            self.value[k] = estimate.value
            self.error[k] = estimate.error
            self.step[k] = step
            self.side[k] = side
            self.kink[k] = estimate.kink
            self.at_floor[k] = estimate.at_floor
            self.rounds_since_best[k] = 0
        else:
            self.rounds_since_best[k] += 1
