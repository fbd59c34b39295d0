"""Tanh-sinh (double exponential) quadrature for integrands singular at the endpoints.

Takahasi & Mori (1974); Bailey, Jeyabalan & Li (2005), "A comparison of three
high-precision quadrature schemes". On ``[l, r]`` the substitution

    x = l + (r - l) s(t),   s(t) = (1 + tanh u) / 2,   u = (pi/2) sinh t

turns ``∫ f dx`` into ``∫ g(t) dt`` over the real line with ``g`` decaying doubly
exponentially, so the trapezoid rule ``h Σ g(jh)`` converges like ``exp(-c / h)`` even
when ``f`` has an integrable singularity at ``l`` or ``r`` (``1/sqrt(x)``, ``log x``).
Halving ``h`` adds only the odd nodes (the levels are nested).

Nodes near an endpoint are computed from their *distance* to it,
``(r - l) / (1 + exp(2|u|))``, so they stay distinct from the endpoint down to the
smallest distance float64 can represent there; the trapezoid sum is truncated at that
``t`` and the last term kept estimates the truncated tail.

Truncation (as in Boost's ``tanh_sinh``): once the levels down to step 1/4 are known,
each side of each interval stops half a unit of ``t`` (two such steps) past its
outermost term above ``eps Σ|g|``; farther nodes, where the doubly exponential decay
has made the terms negligible, are not evaluated. Integrands that are already 0 to
float64 long before the last representable node (a Gaussian tail, ``exp(-x)`` after the
infinite-range map) then cost a fraction of the nodes. A term that is significant only
beyond that point (a narrow feature far out, invisible at step 1/4) is missed, as by
every truncated DE rule. (Judged at step 1/2 instead, log(x)/sqrt(x) lost 3e-13 to the
cut, unreported.)

Error estimate (Bailey's, made conservative): with ``Δ1 = |S_k - S_{k-1}|`` and
``Δ2 = |S_{k-1} - S_{k-2}|``, ``err = Δ1² / Δ2`` once the levels converge (each level
roughly doubles the digits), else ``Δ1``; plus the tail term and ``10 eps Σ|h g|``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .adaptive import adaptive_loop, converged_message
from .scaled import ScaledEstimate

_EPS = np.finfo(float).eps
_TINY_DISTANCE = 1e-300
_MAX_LEVEL = 10
_MIN_LEVEL = 3
# Past level 2 (step 1/4), nodes beyond the last significant term are not evaluated (see
# the module notes); the cut is _MARGIN past that term (a margin of one step of the
# current level, shrinking with h, lost terms of 1e-14 in our tests).
_FIRST_TRUNCATED = 2
_MARGIN = 0.5
_sum = np.add.reduce  # ndarray.sum without its Python wrapper (the same pairwise sum)


def _side_limits(left, right, scales=None):
    """Largest |t| on each side whose node is still distinct from the endpoint.

    ``scales`` (left ends, right ends): the magnitude that limits the resolution at each
    end, ``|left|`` and ``|right|`` by default; a mapped integrand passes that of ``x``
    there (:meth:`.range_maps.WrappedIntegrand.end_scales`).
    """
    width = right - left
    scale_left, scale_right = (np.abs(left), np.abs(right)) if scales is None else scales
    floor_left = np.maximum(4 * _EPS * np.asarray(scale_left), _TINY_DISTANCE)
    floor_right = np.maximum(4 * _EPS * np.asarray(scale_right), _TINY_DISTANCE)
    u_left = 0.5 * np.log(np.maximum(width / floor_left - 1.0, 1.0))
    u_right = 0.5 * np.log(np.maximum(width / floor_right - 1.0, 1.0))
    return np.arcsinh(2 * u_left / np.pi), np.arcsinh(2 * u_right / np.pi)


class _Level(NamedTuple):
    """The abscissae of one level and every factor of the nodes that depends on t alone."""

    t: np.ndarray
    negative_t: np.ndarray
    abs_t: np.ndarray
    left_side: np.ndarray   # t <= 0: the node is measured from the left end
    sides: np.ndarray       # (2, 1, n): t < 0 and t > 0
    decay: np.ndarray       # exp(-2 |u|)
    one_plus: np.ndarray    # 1 + decay
    square: np.ndarray      # (1 + decay)^2
    cosh: np.ndarray


def _level(t_max: float, level: int) -> _Level:
    """Level ``level`` (step ``2^-level``, odd steps only past level 0) up to ``|t| <= t_max``."""
    h = 2.0 ** -level
    steps = np.arange(-np.floor(t_max / h), np.floor(t_max / h) + 1)
    if level:
        steps = steps[steps % 2 == 1]
    t = steps * h
    u = 0.5 * np.pi * np.sinh(t)
    with np.errstate(over="ignore", under="ignore"):
        decay = np.exp(-2.0 * np.abs(u))
        one_plus = 1 + decay
        square = one_plus**2
        cosh = np.cosh(t)
    sides = np.stack((t < 0, t > 0))[:, None, :]
    tables = _Level(t, -t, np.abs(t), t <= 0, sides, decay, one_plus, square, cosh)
    for table in tables:
        table.flags.writeable = False
    return tables


class _Nodes(NamedTuple):
    """One level's nodes on every interval (read-only)."""

    grid: _Level
    x: np.ndarray       # the valid nodes, row by row
    x_grid: np.ndarray  # (m, n) every node, valid or not
    weight: np.ndarray  # (m, n) weights (without h)
    valid: np.ndarray   # (m, n) whether each node is evaluated
    count: int
    outer: np.ndarray   # (2, m) index of the outermost valid node, left and right side
    reach: np.ndarray   # (2, m) its |t| (-1 where a side has no valid node)


def _interval_nodes(edges: tuple, level: int, scales: tuple | None = None) -> _Nodes:
    """Level ``level`` on every interval of ``edges`` (a pure function of them)."""
    left, right = np.array(edges[:-1]), np.array(edges[1:])
    t_left, t_right = _side_limits(left, right, scales)
    t_max = float(max(t_left.max(), t_right.max()))
    grid = _level(t_max, level)
    x, weight, valid = _nodes(grid, left, right, t_left, t_right)
    reach = np.where(valid & grid.sides, grid.abs_t, -1.0)  # (2, m, n)
    outer = reach.argmax(axis=2)
    rows = np.arange(left.size)
    nodes = _Nodes(grid, x[valid], x, weight, valid, int(np.count_nonzero(valid)), outer,
                   reach[_SIDES, rows, outer])
    for table in nodes[1:5] + nodes[6:]:
        table.flags.writeable = False
    return nodes


# Repeated integrals over the same intervals reuse the tables of their first levels (small:
# a few hundred nodes; past them numpy's per-call overhead no longer dominates).
_CACHED_LEVELS = 6
_cached_nodes = functools.lru_cache(maxsize=64)(_interval_nodes)


def _nodes(grid, left, right, t_left, t_right):
    """Nodes, weights (without h) and validity for the abscissae of ``grid`` on every interval."""
    width = (right - left)[:, None]
    with np.errstate(over="ignore", under="ignore"):
        distance = width * grid.decay / grid.one_plus  # = width / (1 + exp(2|u|))
        weight = width * (0.25 * np.pi) * grid.cosh * 4 * grid.decay / grid.square
    x = np.where(grid.left_side, left[:, None] + distance, right[:, None] - distance)
    valid = np.where(grid.left_side, grid.negative_t <= t_left[:, None],
                     grid.t <= t_right[:, None]) & (weight > 0)
    return x, weight, valid


def adaptive_tanh_sinh(integrand, edges, *, rtol, atol, log, max_evals,
                       patience=None) -> ScaledEstimate:
    """Tanh-sinh on each interval of ``edges``; each level is one call of ``integrand``.

    With ``patience = k``, give up once ``k`` levels after the 4th have each failed to
    shrink the difference between successive estimates tenfold (double exponential
    convergence roughly doubles the digits per level; an interior kink or jump does not).
    The loop is :func:`.adaptive.adaptive_loop`.
    """
    edges = tuple(np.asarray(edges, dtype=float).tolist())
    end_scales = getattr(integrand, "end_scales", None)
    scales = None if end_scales is None else end_scales(edges)
    refinement = TanhSinhRefinement(edges, scales, max_evals=max_evals, patience=patience)
    return adaptive_loop(refinement, integrand, rtol=rtol, atol=atol, log=log,
                         max_evals=max_evals)


class TanhSinhRefinement:
    """Levels of step ``2^-level``, nested, truncated past level 2
    (:class:`.adaptive.Refinement`)."""

    def __init__(self, edges: tuple, scales, *, max_evals, patience=None):
        self.edges, self.scales = edges, scales
        self.max_evals, self.patience = max_evals, patience
        self.level = 0
        self.weighted_sum = self.abs_sum = 0.0
        self.outer_t = np.zeros((len(edges) - 1, 2))
        self.outer_term = np.zeros((len(edges) - 1, 2))
        self.rows = np.arange(len(edges) - 1)
        self.history = []
        # per side: the largest |t| of a significant term
        self.reach = np.full((2, len(edges) - 1), -1.0)
        self.extent = np.full((2, len(edges) - 1), np.inf)
        self.level_nodes = self.valid = None
        self.tail = 0.0

    def nodes(self, evals_left):
        level = self.level
        nodes = (_cached_nodes if level <= _CACHED_LEVELS else _interval_nodes)(
            self.edges, level, self.scales)
        valid = nodes.valid
        if level > _FIRST_TRUNCATED:
            extent = self.extent
            valid = valid & np.where(nodes.grid.left_side, nodes.grid.abs_t <= extent[0][:, None],
                                     nodes.grid.abs_t <= extent[1][:, None])
            count = int(np.count_nonzero(valid))
            x = nodes.x_grid[valid]
        else:
            count, x = nodes.count, nodes.x.copy()  # (a copy: f may write into its argument)
        if count > evals_left:
            return (f"max_evals = {self.max_evals} reached at tanh-sinh level {level} before "
                    "the tolerance")
        self.level_nodes, self.valid = nodes, valid
        return x

    def rescale(self, factor):
        self.weighted_sum, self.abs_sum = self.weighted_sum * factor, self.abs_sum * factor
        self.outer_term *= factor
        self.history = [s * factor for s in self.history]

    def estimate(self, raw, n_evals, shift):
        nodes, valid = self.level_nodes, self.valid
        values = np.zeros(valid.shape)
        values[valid] = raw
        terms = nodes.weight * values
        self.weighted_sum += float(_sum(terms, axis=None))
        magnitudes = np.abs(terms)
        self.abs_sum += float(_sum(magnitudes, axis=None))
        if self.level >= _FIRST_TRUNCATED:
            significant = np.where((magnitudes > _EPS * self.abs_sum) & nodes.grid.sides,
                                   nodes.grid.abs_t, -1.0).max(axis=2)
            self.reach = np.maximum(self.reach, significant)
            # One step of this level past the outermost significant node; a side with
            # no significant node yet is left whole.
            self.extent = np.where(self.reach >= 0, self.reach + _MARGIN, np.inf)
        _update_outer(self.outer_t, self.outer_term, nodes, terms, self.rows)
        h = 2.0 ** -self.level
        total = h * self.weighted_sum
        self.history.append(total)
        self.tail = float(_sum(self.outer_term, axis=None))
        return total, _error(self.history, h * self.abs_sum, self.tail)

    def converged(self, total, error, allowed):
        return converged_message(error, allowed) if self.level >= _MIN_LEVEL else ""

    def refine(self, total, error, allowed, evals_left):
        level, tail = self.level, self.tail
        if level >= _MIN_LEVEL + 1 and tail > allowed >= error - tail:
            # Finer levels cannot help: the outermost nodes already sit at the last
            # distance float64 resolves from the ends.
            return (f"the integrand is still significant at the closest node float64 "
                    f"resolves at an end of the range (tail term {tail:.2e} > tolerance "
                    f"{allowed:.2e}): a singularity stronger than float64 can follow, or a "
                    "tail that decays too slowly; substitute to weaken it, or split the "
                    "range there")
        if self.patience is not None and _stalled(self.history, self.patience):
            return (f"tanh-sinh is not converging (level {level}: the estimates stopped "
                    "gaining digits; an interior kink, jump or peak?)")
        if level == _MAX_LEVEL:
            return f"tanh-sinh did not converge in {_MAX_LEVEL} levels (h = {2.0 ** -level:g})"
        self.level += 1
        return ""


def _update_outer(outer_t, outer_term, nodes, terms, rows):
    """Keep, per interval and side, the term at the outermost valid node."""
    farther = nodes.reach > outer_t.T  # (2, m): left, right side
    if np.count_nonzero(farther):
        outer_t.T[farther] = nodes.reach[farther]
        outer_term.T[farther] = np.abs(terms[rows, nodes.outer])[farther]


_SIDES = np.array([[0], [1]])


def _error(history, abs_total, tail):
    roundoff = 10 * _EPS * abs_total
    if len(history) < 2:
        return np.inf
    delta1 = abs(history[-1] - history[-2])
    estimate = delta1
    if len(history) >= 3:
        delta2 = abs(history[-2] - history[-3])
        if 0 < delta1 < delta2:
            estimate = delta1 * delta1 / delta2
    return float(max(estimate, roundoff) + tail)


def _stalled(history, patience):
    """Have the last ``patience`` levels (past level 4) each gained less than a digit?"""
    if len(history) < 5 + patience:
        return False
    deltas = np.abs(np.diff(history[-(patience + 2):]))
    return bool(np.all(deltas[1:] > 0.1 * deltas[:-1]))
