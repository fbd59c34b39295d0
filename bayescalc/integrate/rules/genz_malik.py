"""Adaptive Genz–Malik cubature on boxes, vectorized over regions.

Genz & Malik (1980), "An adaptive algorithm for numerical integration over an
n-dimensional rectangular region", J. Comput. Appl. Math. 6: a degree-7 rule with an
embedded degree-5 rule on ``2^d + 2d^2 + 2d + 1`` points (generators at ``λ2 = √(9/70)``,
``λ3 = λ4 = √(9/10)``, ``λ5 = √(9/19)`` of the half-widths). The difference of the two is
the region's error estimate; the region is halved along the axis with the largest fourth
difference (their sec. 3), which follows the integrand's roughness.

When the two halves of a region disagree with it by more than the error it claimed,
the halves inherit that disagreement as their error (:func:`_distrust`): a cheap check
that catches the discontinuities the embedded pair misses.

Every round halves a batch of regions (:func:`_choose`) and evaluates every new region's
points in ONE call of the integrand. Far from the tolerance the batch is the smallest set
of regions carrying half of the total *split priority*, the error scaled by the square
of the region's relative size where the rule's own estimate stands (:data:`_ORDER_GAIN`):
the refinement stays adaptive (kinks, peaks) when the tolerance is out of reach, instead of
halving nearly every region. Near the tolerance it is the largest errors until the
untouched ones carry less than half of it.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from .adaptive import adaptive_loop, converged_message
from .scaled import ScaledEstimate

_L2, _L3, _L4, _L5 = np.sqrt(9 / 70), np.sqrt(9 / 10), np.sqrt(9 / 10), np.sqrt(9 / 19)
# |I7 - I5| is the error of the degree-5 rule; on smooth integrands it overstates the
# error of I7 by orders of magnitude, on kinks (Genz's C0 family) it understated it by up
# to 3x in our tests: a factor 3 makes it a promise there for little extra work. (Scaling
# it down by |I7 - I5| / |I5 - I3| in the asymptotic regime, DCUHRE's idea, lost
# coverage on the smooth families before they reached that regime: 26 misses in 162.)
_SAFETY = 3.0
# The outermost nodes sit at 0.949 of the half-width: a jump in the last 2.5% of a region
# is invisible to the rules (Genz's discontinuous family then converges, wrongly). Probes
# at 0.999 of the half-width on each axis flag a jump there (:func:`_jump_floor`).
_FACE = 0.999
# A kink at p h (λ3 < p < 0.999) bends the probe off the parabola through the inner nodes
# by about Δs (0.999 - p) h and the rules then err by about Δs (1 - p)^2 h / 4 per unit
# volume, under the floor (1 - λ3)/2 * bend. On a smooth f the bend is the parabola's
# cubic remainder, 0.032 h^3 |f'''| / 6 against a change of about 0.95 h |f'|: for
# f = exp(a x) a share 0.0056 (a h)^2, below 0.02 once a region is resolved (a h < 1.9).
# A kink's bend exceeds 0.02 of the change (~ 2 (0.999 - p) / 0.95 of it) unless it lies
# within 1% of the half-width from the probe, where its error is below 1e-4 h Δs. Without
# this check the estimate missed on 3-5 of 180 Genz cases per tolerance (all C0).
_KINK = 0.02
# The split priority of a region whose error is the rule's |I7 - I5| is that error times
# (h / H)^2, h its largest half-width and H the box's: |I7 - I5| is the error of the
# degree-5 rule, O(h^6) on smooth integrands, while the returned I7 errs by O(h^8), so
# ranking by |I7 - I5| alone over-refines small regions (on Genz's Gaussian family it lost
# a decade of accuracy at equal n_evals against uniform halving). A region whose error was
# raised by a jump or a broken parent (not smooth) keeps priority = error.
_ORDER_GAIN = 2.0
# Before calling a result converged, uniform probes at _AUDIT_SHARE of the evaluations so
# far (at least _AUDIT_MIN), spread over the regions by volume, look for values above
# twice the largest the region's own nodes saw: a feature between the nodes (a thin ring
# that no node of a large region comes near). A ring of width 0.17 and radius 3 in a box
# of side 27 had 10% of its mass in regions whose 21 nodes saw nothing, converged with
# error 8e-7 (relative); random thin rings (width 0.01-0.2) in boxes of side 8-50: 7 of
# 40 such silent misses (scipy's cubature: 8 of 40), 0 of 40 with the audit. A flagged
# region's error becomes the probe's value times its volume, refinement goes on, and
# that mass stays in the error until a later audit finds nothing (the children's nodes
# may miss the feature again). Cost: 10% more evaluations on a converged run.
_AUDIT_SHARE = 0.1
_AUDIT_MIN = 256        # also: fewer evaluations than this left, no audit
_AUDIT_RISE = 2.0
_MAX_AUDITS = 8


@lru_cache(maxsize=16)
def genz_malik_template(d: int):
    """Points on [-1, 1]^d; degree-7, degree-5 and degree-3 weights (each summing to 1)."""
    points = [np.zeros(d)]
    w7 = [(12824 - 9120 * d + 400 * d * d) / 19683]
    w5 = [(729 - 950 * d + 50 * d * d) / 729]
    for scale, weight7, weight5 in ((_L2, 980 / 6561, 245 / 486),
                                    (_L3, (1820 - 400 * d) / 19683, (265 - 100 * d) / 1458)):
        for i in range(d):
            for sign in (1.0, -1.0):
                p = np.zeros(d)
                p[i] = sign * scale
                points.append(p)
                w7.append(weight7)
                w5.append(weight5)
    for i, j in itertools.combinations(range(d), 2):
        for si, sj in itertools.product((1.0, -1.0), repeat=2):
            p = np.zeros(d)
            p[i], p[j] = si * _L4, sj * _L4
            points.append(p)
            w7.append(200 / 19683)
            w5.append(25 / 729)
    for signs in itertools.product((1.0, -1.0), repeat=d):
        points.append(_L5 * np.array(signs))
        w7.append(6859 / 19683 / 2**d)
        w5.append(0.0)
    for i in range(d):  # near-face probes (weight 0): see a jump outside the outer nodes
        for sign in (1.0, -1.0):
            p = np.zeros(d)
            p[i] = sign * _FACE
            points.append(p)
            w7.append(0.0)
            w5.append(0.0)
    w3 = np.zeros(len(points))
    w3[0] = 1.0 - 2 * d / (6 * _L3**2)
    w3[1 + 2 * d:1 + 4 * d] = 1.0 / (6 * _L3**2)  # degree 3: E x_i^2 = 1/3 on [-1, 1]
    return np.array(points), np.array(w7), np.array(w5), w3


def _jump_floor(values, d):
    """Error floor (per unit volume) from jumps and kinks between the outer nodes and faces.

    On each axis and side, compare the change from the node at λ3 h to the probe at
    0.999 h (5% of the half-width) with the change from the center to λ3 h (95%): a smooth
    function changes less over the short stretch; a change more than half as large is
    a jump, and gets the strip's share of the region, (1 - λ3)/2 of it per side, times its
    size. A kink there (Genz's C0 family) changes the slope, not the value: the probe
    then misses the parabola through the center, λ2 h and λ3 h by ``bend``, and that
    miss counts the same way when it exceeds ``_KINK`` times the change. Returns the
    floor and the axis of the largest jump or kink.
    """
    start = 1 + 4 * d + 2 * d * (d - 1) + 2**d
    face = values[:, start:start + 2 * d].reshape(-1, d, 2)
    inner = values[:, 1:1 + 2 * d].reshape(-1, d, 2)
    outer = values[:, 1 + 2 * d:1 + 4 * d].reshape(-1, d, 2)
    center = values[:, :1, None]
    step = np.abs(face - outer)
    variation = np.abs(outer - inner) + np.abs(inner - center)
    scale = 1e-12 * np.max(np.abs(values), axis=1)[:, None, None]
    jump = np.where(step > 0.5 * variation + scale, step, 0.0)
    # the parabola through the center, λ2 h and λ3 h, extended to the probe
    parabola = (center * (_FACE - _L2) * (_FACE - _L3) / (_L2 * _L3)
                + inner * _FACE * (_FACE - _L3) / (_L2 * (_L2 - _L3))
                + outer * _FACE * (_FACE - _L2) / (_L3 * (_L3 - _L2)))
    bend = np.abs(face - parabola)
    jump = np.where((jump == 0) & (bend > _KINK * variation + scale), bend, jump)
    per_axis = jump.sum(axis=2)
    return 0.5 * (1 - _L3) * per_axis.sum(axis=1), np.argmax(per_axis, axis=1)


def _fourth_differences(values, d):
    """Per region and axis, |f(±λ2) - 2 f(0) - (λ2/λ3)^2 (f(±λ3) - 2 f(0))|."""
    center = values[:, :1]
    inner = values[:, 1:1 + 2 * d].reshape(-1, d, 2).sum(axis=2)
    outer = values[:, 1 + 2 * d:1 + 4 * d].reshape(-1, d, 2).sum(axis=2)
    return np.abs(inner - 2 * center - (_L2 / _L3) ** 2 * (outer - 2 * center))


def adaptive_genz_malik(integrand, lower, upper, *, rtol, atol, log, max_evals,
                        history=None) -> ScaledEstimate:
    """Integrate ``integrand`` (points ``(n, d)`` -> ``(n,)``) over the box [lower, upper].

    ``history``, a list, receives ``(n_evals, total, shift)`` after every round. The loop
    is :func:`.adaptive.adaptive_loop`.
    """
    return adaptive_loop(GenzMalikRefinement(lower, upper, max_evals=max_evals), integrand,
                         rtol=rtol, atol=atol, log=log, max_evals=max_evals, history=history)


class GenzMalikRefinement:
    """Halving of the regions with the largest errors (:class:`.adaptive.Refinement`)."""

    def __init__(self, lower, upper, *, max_evals):
        self.d = d = lower.size
        self.template, self.w7, self.w5, _ = genz_malik_template(d)
        self.per_region = self.template.shape[0]
        self.max_evals = max_evals
        self.centers = (0.5 * (lower + upper))[None, :]
        self.halves = (0.5 * (upper - lower))[None, :]
        self.root_half = np.where(self.halves[0] > 0, self.halves[0], 1.0)
        self.state_center = np.empty((0, d))
        self.state_half = np.empty((0, d))
        self.estimates = self.errors = np.empty(0)
        self.axis = np.empty(0, dtype=np.intp)
        self.weight = np.empty(0)
        self.node_max = np.empty(0)
        self.parent_estimate = self.parent_error = np.empty(0)
        self.audit = None          # (points, region index) of a pending audit round
        self.audited = False       # an audit found nothing since the last flag
        self.n_audits = 0
        self.n_evals = 0
        self.unresolved = 0.0      # mass an audit found and no later audit cleared

    def nodes(self, evals_left):
        if self.audit is not None:
            return self.audit[0]
        if self.per_region > evals_left:
            return (f"max_evals = {self.max_evals} is below one Genz-Malik region "
                    f"({self.per_region} points in d = {self.d})")
        points = self.centers[:, None, :] + self.halves[:, None, :] * self.template[None, :, :]
        return points.reshape(-1, self.d)

    def rescale(self, factor):
        self.estimates, self.errors = self.estimates * factor, self.errors * factor
        self.node_max = self.node_max * factor
        self.unresolved *= factor

    def estimate(self, values, n_evals, shift):
        self.n_evals = n_evals
        if self.audit is not None:
            return self._audited(values, n_evals)
        d, halves, w7 = self.d, self.halves, self.w7
        values = values.reshape(self.centers.shape[0], self.per_region)
        volume = np.prod(2 * halves, axis=1)
        new_estimate = volume * (values @ w7)
        rule_error = new_error = _SAFETY * volume * np.abs(values @ (w7 - self.w5))
        new_axis = np.argmax(_fourth_differences(values, d) + 1e-300 * halves, axis=1)
        floor, jump_axis = _jump_floor(values, d)
        jumped = volume * floor > new_error
        new_error = np.maximum(new_error, volume * floor)
        new_axis = np.where(jumped, jump_axis, new_axis)
        if self.parent_estimate.size:
            new_error = _distrust(new_estimate, new_error, self.parent_estimate,
                                  self.parent_error)
        size = np.max(halves / self.root_half, axis=1) ** _ORDER_GAIN
        self.weight = np.concatenate([self.weight, np.where(new_error > rule_error, 1.0, size)])
        self.state_center = np.concatenate([self.state_center, self.centers])
        self.state_half = np.concatenate([self.state_half, halves])
        self.estimates = np.concatenate([self.estimates, new_estimate])
        self.errors = np.concatenate([self.errors, new_error])
        self.axis = np.concatenate([self.axis, new_axis])
        self.node_max = np.concatenate([self.node_max, np.max(np.abs(values), axis=1)])
        return float(self.estimates.sum()), float(self.errors.sum()) + self.unresolved

    def converged(self, total, error, allowed):
        if (not self.audited and self.n_audits < _MAX_AUDITS
                and self.max_evals - self.n_evals >= _AUDIT_MIN):
            return ""  # refine() runs an audit round first
        return converged_message(error, allowed)

    def _plan_audit(self, evals_left):
        """Uniform probes in the regions, their number by volume (multinomial)."""
        self.n_audits += 1
        n = int(min(evals_left, max(_AUDIT_MIN, _AUDIT_SHARE * self.n_evals)))
        rng = np.random.default_rng([self.n_audits, 20240611])  # a deterministic rule
        volume = np.prod(2 * self.state_half, axis=1)
        counts = rng.multinomial(n, volume / volume.sum())
        region = np.repeat(np.arange(volume.size), counts)
        u = rng.uniform(-1.0, 1.0, (n, self.d))
        self.audit = (self.state_center[region] + self.state_half[region] * u, region)

    def _audited(self, values, n_evals):
        """After an audit round: raise the error of every region where a probe rose above
        ``_AUDIT_RISE`` times the largest value its nodes saw (and mattered: probe x
        volume above its error), and keep what was flagged as ``unresolved`` (added to
        the error) until an audit finds nothing."""
        _, region = self.audit
        self.audit = None
        volume = np.prod(2 * self.state_half, axis=1)
        seen = np.zeros(volume.size)
        np.maximum.at(seen, region, np.abs(values))
        missed = seen * volume
        flagged = (seen > _AUDIT_RISE * self.node_max) & (missed > self.errors)
        if flagged.any():
            self.errors = np.where(flagged, missed, self.errors)
            self.weight = np.where(flagged, 1.0, self.weight)
            self.axis = np.where(flagged, np.argmax(self.state_half, axis=1), self.axis)
            self.node_max = np.maximum(self.node_max, seen)
            # the flagged regions' children may miss the feature again: what was found
            # stays in the error until an audit of the refined regions finds nothing
            self.unresolved = float(missed[flagged].sum())
            self.audited = False
        else:
            self.unresolved = 0.0
            self.audited = True
        self.parent_estimate = self.parent_error = np.empty(0)
        return float(self.estimates.sum()), float(self.errors.sum()) + self.unresolved

    def refine(self, total, error, allowed, evals_left):
        if (self.errors.sum() <= allowed and not self.audited
                and self.n_audits < _MAX_AUDITS):
            if evals_left >= _AUDIT_MIN:  # the regions converged: audit them first
                self._plan_audit(evals_left)
                return ""
            if self.unresolved > 0:
                return ("the budget ran out before the regions where an audit found "
                        "missed mass (a thin feature between the nodes) could be audited "
                        "again; the error includes that mass")
        errors = self.errors
        splits_left = evals_left // (2 * self.per_region)
        if splits_left < 1:
            worst = int(np.argmax(errors))
            return (f"max_evals = {self.max_evals} reached before the tolerance; the largest "
                    f"error is in the region centered at {self.state_center[worst]}")
        chosen = _choose(errors, self.weight, allowed)[:splits_left]
        keep = np.ones(errors.size, dtype=bool)
        keep[chosen] = False
        rows = np.arange(chosen.size)
        axis = self.axis
        self.parent_estimate, self.parent_error = self.estimates[chosen], errors[chosen]
        halves = self.state_half[chosen].copy()
        halves[rows, axis[chosen]] *= 0.5
        offset = np.zeros_like(halves)
        offset[rows, axis[chosen]] = halves[rows, axis[chosen]]
        centers = self.state_center[chosen]
        self.centers = np.concatenate([centers - offset, centers + offset])
        self.halves = np.concatenate([halves, halves])
        self.state_center, self.state_half = self.state_center[keep], self.state_half[keep]
        self.estimates, self.errors = self.estimates[keep], errors[keep]
        self.axis, self.weight = axis[keep], self.weight[keep]
        self.node_max = self.node_max[keep]
        return ""


def _choose(error, weight, allowed):
    """The regions to halve this round, most urgent first (at least one).

    Near the tolerance: the largest errors until the rest carry less than half of
    ``allowed`` (the fewest splits that can meet it). Far from it (that set is larger):
    the smallest set carrying half of the total priority ``error * weight``, the batched
    form of the classical one-region-at-a-time worst-first rule (Genz & Malik 1980, sec. 3):
    a region is halved now only if it would be among the next splits of that rule, which
    keeps the refinement adaptive, and each round still cuts the total priority by about
    a constant factor, so the number of rounds (calls of ``f``) grows like a logarithm.
    The caller keeps the first ``splits_left`` of them, so a budget-limited last round
    spends its evaluations on the most urgent regions.
    """
    by_error = np.argsort(error)[::-1]
    untouched = error.sum() - np.cumsum(error[by_error])
    needed = int(np.searchsorted(-untouched, -0.5 * allowed)) + 1
    priority = error * weight
    by_priority = np.argsort(priority)[::-1]
    rest = priority.sum() - np.cumsum(priority[by_priority])
    share = int(np.searchsorted(-rest, -0.5 * priority.sum())) + 1
    return by_error[:needed] if needed <= share else by_priority[:share]


def _distrust(estimate, error, parent_estimate, parent_error):
    """Children's errors, raised where their parent's error estimate was broken.

    The two halves of a region must add up to the region's estimate within the error
    the region claimed. Where they do not (a discontinuity or a kink the degree-7/5
    pair did not see), the difference is a better error estimate than the rule's: each
    half gets at least half of it. On smooth integrands the condition never triggers.
    """
    m = parent_estimate.size
    discrepancy = np.abs(parent_estimate - (estimate[:m] + estimate[m:]))
    broken = discrepancy > parent_error
    if not broken.any():
        return error
    floor = np.where(broken, 0.5 * discrepancy, 0.0)
    return np.maximum(error, np.concatenate([floor, floor]))
