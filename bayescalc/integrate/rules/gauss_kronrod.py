"""Globally adaptive Gauss–Kronrod quadrature (G10/K21), vectorized over subintervals.

The 21-point Kronrod rule extends the 10-point Gauss–Legendre rule; their difference
estimates the error of each subinterval. The error is rescaled as in QUADPACK's ``qk21``
(Piessens, de Doncker-Kapenga, Überhuber & Kahaner 1983, sec. 3.3)::

    err = resasc * min(1, (200 |K - G| / resasc) ** 1.5),  err >= 50 eps resabs

where ``resasc = ∫ |f - mean f|`` and ``resabs = ∫ |f|`` by the Kronrod rule.

The loop is QUADPACK ``qag``'s, with one change that makes it fast from Python: each
round bisects *all* the subintervals with the largest errors (greedily, until the ones
left untouched carry less than the tolerance) and evaluates the 21 nodes of every
new half in ONE call of the integrand. Every round is bounded by ``max_evals``.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from .adaptive import adaptive_loop, converged_message
from .scaled import ScaledEstimate

# QUADPACK qk21 abscissae and weights (Fullerton, Bell Labs, 1981), positive half.
_KRONROD_NODES = np.array([
    0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
    0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
    0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
    0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
    0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0])
_KRONROD_WEIGHTS = np.array([
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
    0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
    0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
    0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
    0.149445554002916905664936468389821])
# The 10-point Gauss weights sit on the odd positions (0.9739..., 0.8650..., ...).
_GAUSS_WEIGHTS = np.array([
    0.0, 0.066671344308688137593568809893332, 0.0, 0.149451349150580593145776339657697,
    0.0, 0.219086362515982043995534934228163, 0.0, 0.269266719309996355091226921569469,
    0.0, 0.295524224714752870173892994651338, 0.0])

# QUADPACK qk15 (G7/K15), positive half, same source.
_KRONROD15_NODES = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0])
_KRONROD15_WEIGHTS = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_GAUSS7_WEIGHTS = np.array([
    0.0, 0.129484966168869693270611432679082, 0.0, 0.279705391489276667901467771423780,
    0.0, 0.381830050505118944950369775488975, 0.0, 0.417959183673469387755102040816327])


class KronrodRule(NamedTuple):
    """Nodes on [-1, 1] (ascending) and the Kronrod and embedded Gauss weights."""

    nodes: np.ndarray
    kronrod_weights: np.ndarray
    gauss_weights: np.ndarray
    both: np.ndarray  # (points, 2): Kronrod and Gauss weights side by side


def _symmetric(nodes, kronrod, gauss):
    full = [np.concatenate([-nodes[:-1], nodes[::-1]]),
            np.concatenate([kronrod[:-1], kronrod[::-1]]),
            np.concatenate([gauss[:-1], gauss[::-1]])]
    return KronrodRule(*full, np.stack(full[1:], axis=1))


G10K21 = _symmetric(_KRONROD_NODES, _KRONROD_WEIGHTS, _GAUSS_WEIGHTS)
G7K15 = _symmetric(_KRONROD15_NODES, _KRONROD15_WEIGHTS, _GAUSS7_WEIGHTS)
RULES = {21: G10K21, 15: G7K15}
NODES, KRONROD_WEIGHTS, GAUSS_WEIGHTS = G10K21.nodes, G10K21.kronrod_weights, G10K21.gauss_weights
_EPS = np.finfo(float).eps
_ROUNDOFF = 50.0 * _EPS  # QUADPACK's floor of the error: 50 eps ∫|f|
_NARROWEST = 1e-290  # no bisection below: nodes near 0 stay normal floats (1/x stays finite)


def gauss_kronrod_rule(values: np.ndarray, half_width: np.ndarray, rule: KronrodRule = G10K21):
    """Kronrod estimates and QUADPACK error estimates of m subintervals at once.

    ``values`` has shape ``(m, points)`` (the integrand at each subinterval's nodes) and
    ``half_width`` shape ``(m,)``. Returns the rows ``(estimate, error, roundoff)`` of an
    array of shape ``(3, m)``; ``roundoff = 50 eps ∫|f|`` is the floor of ``error``.

    Examples
    --------
    >>> half = np.array([0.5])                        # [0, 1]
    >>> estimate, error, _ = gauss_kronrod_rule(np.exp(0.5 + half[:, None] * NODES), half)
    >>> print(f"{estimate[0]:.15f} {error[0]:.0e}")   # error: the 50 eps ∫|f| floor
    1.718281828459045 2e-14
    """
    both = values @ rule.both
    kronrod = both[:, 0]
    difference = np.abs(kronrod - both[:, 1])
    resabs = np.abs(values) @ rule.kronrod_weights
    resasc = np.abs(values - 0.5 * kronrod[:, None]) @ rule.kronrod_weights
    if np.minimum.reduce(resasc) > 0:  # the usual case (a NaN or a 0 takes the other branch)
        error = 200.0 * difference
        error /= resasc
        error **= 1.5
        np.minimum(error, 1.0, out=error)
        error *= resasc
    else:
        positive = resasc > 0
        ratio = np.divide(200.0 * difference, resasc, out=np.ones_like(resasc), where=positive)
        error = np.where(positive, resasc * np.minimum(1.0, ratio**1.5), difference)
    roundoff = _ROUNDOFF * resabs
    np.maximum(error, roundoff, out=error)
    scaled = np.array((kronrod, error, roundoff))
    scaled *= half_width
    return scaled


def adaptive_gauss_kronrod(integrand, edges, *, rtol, atol, log, max_evals,
                           endpoint_depth=None, growing_depth=None,
                           points=21) -> ScaledEstimate:
    """Integrate ``integrand`` (a function of nodes ``(n,)``) over the intervals in ``edges``.

    ``edges`` is an increasing array of breakpoints; all its intervals are evaluated in
    the first call. ``points`` picks the rule: 21 (G10/K21) or 15 (G7/K15). With ``log=True`` the
    integrand returns log values and the sums are kept scaled (see :mod:`.scaled`).
    With ``endpoint_depth = k`` the loop gives up early (message starting
    ``"endpoint"``) when most of the error sits on subintervals touching one of
    ``edges`` that have been bisected ``k`` times: endpoint singularities, which
    tanh-sinh integrates far more cheaply; ``growing_depth`` (smaller) applies when the
    end subinterval's mean |f| exceeds its neighbour's (f grows toward the end). (15 is
    QUADPACK ``qagi``'s rule; on our battery 21 needed fewer evaluations on infinite
    ranges too, so ``quad`` uses 21.) The loop is :func:`.adaptive.adaptive_loop`.
    """
    refinement = GaussKronrodRefinement(edges, max_evals=max_evals,
                                        endpoint_depth=endpoint_depth,
                                        growing_depth=growing_depth, points=points)
    return adaptive_loop(refinement, integrand, rtol=rtol, atol=atol, log=log,
                         max_evals=max_evals)


class GaussKronrodRefinement:
    """Bisection of the subintervals with the largest errors (:class:`.adaptive.Refinement`).

    The subintervals live in fixed arrays (capacity from ``max_evals``): a bisected one
    is overwritten by its left half and its right half is appended, so a round costs a
    fixed number of numpy operations whatever the number of subintervals.
    """

    def __init__(self, edges, *, max_evals, endpoint_depth=None, growing_depth=None,
                 points=21):
        self.rule, self.points, self.max_evals = RULES[points], points, max_evals
        self.endpoint_depth = endpoint_depth
        edges = np.asarray(edges, dtype=float)
        self.edge_list = edge_list = edges.tolist()
        self.edge_set = set(edge_list)
        self.capacity = max_evals // points + edges.size
        store = np.empty((5, self.capacity))  # one row each: the arrays below
        self.lefts, self.rights, self.estimates, self.errors = store[:4]
        self.results = store[2:]  # estimates, errors, roundoffs: what the rule returns
        self.count = edges.size - 1
        self.lefts[:self.count], self.rights[:self.count] = edges[:-1], edges[1:]
        self.slots = np.arange(self.count)  # where this round's subintervals go
        self.stored = 0  # subintervals whose results hold (rescaled in log mode)
        self.half = self.total_roundoff = None
        smallest_piece = min(map(operator.sub, edge_list[1:], edge_list))
        self.narrowest = smallest_piece * 0.5 ** (endpoint_depth or 0)
        self.narrowest_growing = smallest_piece * 0.5 ** (growing_depth or endpoint_depth or 0)
        self.watched = max(self.narrowest, self.narrowest_growing)
        # Any subinterval wider than this can be bisected (see _splittable).
        self.safe_width = max(256 * _EPS * max(abs(edge_list[0]), abs(edge_list[-1])),
                              _NARROWEST)

    def nodes(self, evals_left):
        left, right = self.lefts[self.slots], self.rights[self.slots]
        self.half = 0.5 * (right - left)
        nodes = (0.5 * (left + right))[:, None] + self.half[:, None] * self.rule.nodes
        return nodes.ravel()

    def rescale(self, factor):
        self.results[:, :self.stored] *= factor

    def estimate(self, values, n_evals, shift):
        values = values.reshape(self.slots.size, self.points)
        self.results[:, self.slots] = gauss_kronrod_rule(values, self.half, self.rule)
        self.stored = count = self.count
        total, total_error, self.total_roundoff = _sum(self.results[:, :count], axis=1).tolist()
        return total, total_error

    def converged(self, total, error, allowed):
        return converged_message(error, allowed)

    def refine(self, total, error, allowed, evals_left):
        if error <= 2.0 * self.total_roundoff:
            return (f"the tolerance {allowed:.2e} is below the rounding error of the sums "
                    f"(error estimate {error:.2e}, mostly 50 eps ∫|f|: cancellation "
                    "in f); this is the best float64 allows")
        count, lefts, rights = self.count, self.lefts, self.rights
        errors = self.errors[:count]
        splits_left = min(evals_left // (2 * self.points), self.capacity - count)
        if splits_left < 1:
            return _budget_message(self.max_evals, lefts[:count], rights[:count], errors)
        chosen = _choose_splits(errors, error, allowed, splits_left)
        low, high = lefts[chosen], rights[chosen]
        worst_low, worst_high = float(low[0]), float(high[0])
        edge_set = self.edge_set
        if (self.endpoint_depth is not None and worst_high - worst_low <= self.watched
                and (worst_low in edge_set or worst_high in edge_set)):
            depth_width = self.narrowest
            if self.narrowest_growing > self.narrowest and _grows_toward_edge(
                    lefts[:count], rights[:count], self.estimates[:count], low[0], high[0],
                    edge_set):
                depth_width = self.narrowest_growing
            if _at_endpoint(lefts[:count], rights[:count], errors, error, self.edge_list,
                            depth_width):
                return f"endpoint singularity suspected at x = {_worst_edge(low, high, edge_set)}"
        if not np.minimum.reduce(high - low) > self.safe_width:
            splittable = _splittable(low, high)
            if not splittable.all():
                if not splittable.any():
                    return ("subintervals too narrow to bisect further (roundoff) near "
                            f"t = {low[0]:.6g}: a singularity or a discontinuity there, or "
                            "the tolerance is below what float64 can reach")
                chosen, low, high = chosen[splittable], low[splittable], high[splittable]
        middle = 0.5 * (low + high)
        rights[chosen] = middle                      # left halves overwrite their parents
        new_count = count + chosen.size              # right halves are appended
        lefts[count:new_count], rights[count:new_count] = middle, high
        self.slots = np.concatenate((chosen, np.arange(count, new_count)))
        self.count = new_count
        return ""


_sum = np.add.reduce  # ndarray.sum without its Python wrapper (the same pairwise sum)


def _splittable(low, high):
    """Which of [low, high] are wide enough to bisect (float64 resolution, 1e-290).

    Each threshold is at most ``safe_width`` in the loop, which skips this when all
    widths exceed that.
    """
    scale = np.maximum(np.abs(low), np.abs(high))
    return (high - low) > np.maximum(256 * _EPS * scale, _NARROWEST)


def _at_endpoint(lefts, rights, error, total_error, edges, narrowest):
    """Do subintervals touching a breakpoint, bisected deep, hold most of the error?"""
    touching = np.zeros(lefts.shape, dtype=bool)
    for edge in edges:
        touching |= (lefts == edge) | (rights == edge)
    deep = touching & (rights - lefts <= narrowest)
    return bool(np.count_nonzero(deep)) and float(_sum(error[deep])) > 0.5 * total_error


def _grows_toward_edge(lefts, rights, estimates, low, high, edge_set):
    """Is the mean |f| of the end subinterval [low, high] above its inner neighbour's?"""
    inner = rights == low if float(high) in edge_set else lefts == high
    if not np.count_nonzero(inner):
        return False
    j = int(inner.argmax())  # the first True
    end = int(((lefts == low) & (rights == high)).argmax())  # [low, high] is stored
    return abs(estimates[end]) / (high - low) > abs(estimates[j]) / (rights[j] - lefts[j])


def _worst_edge(low, high, edge_set):
    return float(low[0]) if float(low[0]) in edge_set else float(high[0])


def _choose_splits(error, total_error, allowed, limit):
    """Indices of the largest errors, enough that the rest sum below the tolerance."""
    worst = int(error.argmax())
    if total_error - error[worst] <= allowed or limit == 1:
        return np.array([worst])
    order = error.argsort()[::-1]
    untouched = total_error - error[order].cumsum()
    count = int((-untouched).searchsorted(-allowed)) + 1
    return order[: max(1, min(count, limit))]


def _budget_message(max_evals, lefts, rights, error):
    worst = int(np.argmax(error))
    return (f"max_evals = {max_evals} reached before the tolerance; the largest error is on "
            f"[{lefts[worst]:.6g}, {rights[worst]:.6g}] of the integration variable "
            "(a singularity there, or a divergent integral?)")
