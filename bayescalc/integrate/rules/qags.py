"""Adaptive Gauss–Kronrod with Wynn ε-extrapolation of the bisection sequence (QAGS).

QUADPACK's ``dqagse`` (Piessens, de Doncker-Kapenga, Überhuber & Kahaner 1983, sec. 4.4;
de Doncker 1978): bisect the subinterval with the largest error, as the plain loop does;
but once the largest errors sit on the *smallest* subintervals (a singularity or a kink is
being chased down), first bisect the larger ones until their errors sum below the
tolerance, then hand the sum over all subintervals to Wynn's ε-algorithm
(:mod:`.wynn`) and halve the size that counts as small. The sums after successive levels
of bisection toward the bad point form a nearly geometric sequence, whose limit the
ε-table finds long before float64 could resolve the nodes that the plain loop would need:
``sqrt(t) / sqrt(1 - t^2)`` at ``t = 1`` (where nodes closer than ``eps`` cannot exist),
a kink at ``1/3`` (189 evaluations instead of 735).

The result is the extrapolated limit when its error (the spread of the last three
extrapolations, :class:`.wynn.EpsilonTable`) is relatively smaller than the sum's, else
the sum. QUADPACK's tests for roundoff and for divergence are kept (a sum whose
extrapolation drifts by orders of magnitude, or whose error exceeds it, is reported as
probably divergent).
"""

from __future__ import annotations

import numpy as np

from .gauss_kronrod import G10K21, gauss_kronrod_rule
from .scaled import ScaledEstimate
from .wynn import EpsilonTable

_EPS = np.finfo(float).eps
_TINY = np.finfo(float).tiny
_NARROWEST = 1e-290
_GROWING_STEPS = 5


def adaptive_qags(integrand, edges, *, rtol, atol, max_evals, endpoint_depth=None,
                  watched=None, log=False) -> ScaledEstimate:
    """QAGS on the intervals of ``edges`` (linear values only: ``log`` must be False).

    With ``endpoint_depth = k``, stop early (message starting ``"endpoint"``) when the
    subinterval to be bisected touches an end of ``edges``, has been bisected ``k`` times
    and carries most of the error: the caller may prefer tanh-sinh there. ``watched``:
    the ends to watch (default: all of ``edges``).
    """
    if log:
        raise ValueError("adaptive_qags integrates linear values (log=False)")
    rule = G10K21
    edges = np.asarray(edges, dtype=float)
    ends = set(edges.tolist() if watched is None else watched)
    all_ends = set(edges.tolist())
    left, right = edges[:-1], edges[1:]
    values = _evaluate(integrand, left, right, rule)
    n_evals = values.size
    est, err, roundoff = gauss_kronrod_rule(values, 0.5 * (right - left), rule)
    resabs = float(np.sum(roundoff)) / (50 * _EPS)  # ∫|f| by the Kronrod rule
    # The subintervals: parallel lists (sequential bisection, one at a time)
    a, b = left.tolist(), right.tolist()
    area_list, error_list = est.tolist(), err.tolist()
    level = [0] * len(a)
    area, errsum = float(np.sum(est)), float(np.sum(err))
    allowed = max(atol, rtol * abs(area))
    first_area = area
    resasc = float(np.sum(_resasc(values, 0.5 * (right - left), rule)))
    if errsum <= allowed and not (len(a) == 1 and errsum == resasc):
        return ScaledEstimate(area, errsum, 0.0, n_evals, True,
                              f"converged: error estimate {errsum:.2e} <= tolerance {allowed:.2e}")
    if errsum <= 2 * 50 * _EPS * resabs and errsum > allowed:
        return ScaledEstimate(area, errsum, 0.0, n_evals, False, _roundoff_message(allowed, errsum))
    ksgn = 1 if abs(area) >= (1 - 50 * _EPS) * resabs else -1
    table = EpsilonTable()
    table.add(first_area)
    sums = [first_area]
    small_level = 2            # subintervals bisected this often are "small" (dqagse: small)
    extrapolating, no_extrapolation = False, False
    erlarg, ertest, correction = errsum, allowed, 0.0
    result, abserr = area, np.inf  # the best extrapolated limit so far
    ktmin, roundoff1, roundoff2, roundoff3 = 0, 0, 0, 0
    roundoff_flag = False
    extrapolations = 0
    stop = None
    target = int(np.argmax(error_list))
    bisections = 0
    while True:
        if n_evals + 2 * rule.nodes.size > max_evals:
            stop = "budget"
            break
        lo, hi = a[target], b[target]
        mid = 0.5 * (lo + hi)
        if not (hi - lo > max(256 * _EPS * max(abs(lo), abs(hi)), _NARROWEST)):
            stop = "narrow"
            break
        if (endpoint_depth is not None and level[target] >= endpoint_depth
                and (lo in ends or hi in ends)
                and error_list[target] > 0.5 * errsum):
            stop = "endpoint"
            break
        half = np.array([0.5 * (mid - lo), 0.5 * (hi - mid)])
        values = _evaluate(integrand, np.array([lo, mid]), np.array([mid, hi]), rule)
        n_evals += values.size
        (area1, area2), (error1, error2), (round1, round2) = gauss_kronrod_rule(values, half, rule)
        bisections += 1
        error_max, area_old = error_list[target], area_list[target]
        disagreement = abs(area_old - (area1 + area2))
        if disagreement > error_max:
            # The parent's error missed what its halves show: the rule's error estimate
            # is not to be trusted here (a cusp the 21 nodes straddle), so the halves
            # inherit the disagreement (as the Genz-Malik cubature does).
            share = disagreement / max(abs(area1) + abs(area2), _TINY)
            error1 = max(error1, disagreement * abs(area1) * 0 + share * abs(area1))
            error2 = max(error2, share * abs(area2))
        area12, error12 = area1 + area2, error1 + error2
        errsum += error12 - error_max
        area += area12 - area_old
        defab1, defab2 = _resasc(values, half, rule)
        if not (defab1 == error1 or defab2 == error2):
            if abs(area_old - area12) <= 1e-5 * abs(area12) and error12 >= 0.99 * error_max:
                if extrapolating:
                    roundoff2 += 1
                else:
                    roundoff1 += 1
            if bisections > 9 and error12 > error_max:
                roundoff3 += 1
        new_level = level[target] + 1
        a[target], b[target], area_list[target], error_list[target] = lo, mid, area1, error1
        level[target] = new_level
        a.append(mid), b.append(hi), area_list.append(area2), error_list.append(error2)
        level.append(new_level)
        allowed = max(atol, rtol * abs(area))
        if roundoff1 + roundoff2 >= 10 or roundoff3 >= 20:
            stop = "roundoff"
        if roundoff2 >= 5:
            roundoff_flag = True
        if errsum <= allowed:
            stop = "sum"
            break
        if stop:
            break
        errors = np.asarray(error_list)
        if bisections == 1:
            erlarg, ertest = errsum, allowed
            table.add(area)
            sums.append(area)
            target = int(np.argmax(errors))
            continue
        if no_extrapolation:
            target = int(np.argmax(errors))
            continue
        erlarg -= error_max
        if new_level < small_level:
            erlarg += error12
        levels = np.asarray(level)
        if not extrapolating:
            target = int(np.argmax(errors))
            if levels[target] < small_level:
                continue
            extrapolating = True
        if not roundoff_flag and erlarg > ertest:
            large = np.flatnonzero(levels < small_level)
            if large.size:  # bisect the larger subintervals first
                target = int(large[np.argmax(errors[large])])
                continue
        # the smallest subintervals hold the largest errors: extrapolate
        sums.append(float(area))
        if _growing(sums):
            stop = "diverging"
            break
        reseps, abseps = table.add(area)
        if abs(reseps - area) > errsum or (ksgn == 1 and reseps * area <= 0):
            # outside the bracket the rule's own errors allow, or of the other sign than
            # the sums of a one-signed f: not a limit of these sums (a divergent sequence
            # "extrapolates" to its analytic continuation: ∫_0^1 x^-1.5 "= -2")
            abseps = np.inf
        extrapolations += 1
        ktmin += 1
        if ktmin > 5 and abserr < 1e-3 * errsum:
            stop = "diverging"
        if abseps < abserr:
            ktmin, abserr, result, correction = 0, float(abseps), float(reseps), erlarg
            ertest = max(atol, rtol * abs(reseps))
            if abserr <= ertest:
                stop = "extrapolated"
                break
        if stop:
            break
        target = int(np.argmax(errors))
        extrapolating = False
        small_level += 1
        erlarg = errsum
    return _finish(stop, area, errsum, result, abserr, correction, roundoff_flag, ksgn, resabs,
                   n_evals, allowed, extrapolations, a, b, error_list, all_ends)


def _finish(stop, area, errsum, result, abserr, correction, roundoff_flag, ksgn, resabs,
            n_evals, allowed, extrapolations, a, b, error_list, ends):
    """dqagse's choice between the extrapolated limit and the plain sum, and the message."""
    use_sum = not np.isfinite(abserr) or stop == "sum"
    if not use_sum and stop != "extrapolated":
        if roundoff_flag:
            abserr += correction
        if result != 0.0 and area != 0.0:
            use_sum = abserr / abs(result) > errsum / abs(area)
        else:
            use_sum = abserr > errsum
    divergent = stop == "diverging"
    if not use_sum and stop != "extrapolated":
        # dqagse's test on divergence (the limit and the sum differ by orders of magnitude)
        if not (ksgn == -1 and max(abs(result), abs(area)) <= 0.01 * resabs):
            if area == 0 or not 0.01 <= result / area <= 100 or errsum > abs(area):
                divergent = True
    value, error = (area, errsum) if use_sum else (result, abserr)
    if divergent:
        value, error = area, np.inf
    converged = error <= max(allowed, 0.0) if stop in ("sum", "extrapolated") else False
    if stop == "sum":
        converged = True
    if converged:
        how = "" if use_sum else f" (Wynn ε-extrapolation of {extrapolations} bisection levels)"
        message = f"converged: error estimate {error:.2e} <= tolerance {allowed:.2e}{how}"
    elif divergent:
        worst = int(np.argmax(error_list))
        message = (f"the bisection sums grow without settling near x = "
                   f"{_near(a[worst], b[worst])}: the integral is divergent? (or f has a "
                   "singularity too strong to integrate there)")
    elif stop == "endpoint":
        worst = int(np.argmax(error_list))
        message = f"endpoint singularity suspected at x = {_near(a[worst], b[worst])}"
    elif stop == "budget":
        worst = int(np.argmax(error_list))
        message = (f"max_evals reached before the tolerance {allowed:.2e} (error estimate "
                   f"{error:.2e}); the largest error is near x = {_near(a[worst], b[worst])} "
                   "(a singularity or a jump there, or a divergent integral?)")
    elif stop == "roundoff":
        message = _roundoff_message(allowed, error)
    elif a[int(np.argmax(error_list))] in ends or b[int(np.argmax(error_list))] in ends:
        # bisected down to float64's resolution at an end and still unsettled: what lies
        # closer to the end is not measured, so nothing bounds the error
        worst = int(np.argmax(error_list))
        edge = a[worst] if a[worst] in ends else b[worst]
        error = np.inf
        message = (f"bisected to float64's resolution at the end x = {edge:.6g} without the "
                   "sums or their extrapolation settling: a singularity too strong or too "
                   "slowly integrable there (like 1/(x log(x)^2) at 0) for float64, or the "
                   "integral is divergent?")
    else:  # narrow
        worst = int(np.argmax(error_list))
        message = (f"subintervals too narrow to bisect further near x = "
                   f"{_near(a[worst], b[worst])}, and the extrapolation did not settle "
                   f"(error estimate {error:.2e} > tolerance {allowed:.2e}): a jump or a "
                   "singularity there")
    return ScaledEstimate(float(value), float(error), 0.0, n_evals, converged, message)


def _growing(sums):
    """Do the last increments of the bisection sums keep their sign and never shrink?

    Toward an integrable singularity ``x^-p`` (p < 1) each level adds ``2^(p-1)`` times
    the previous increment; toward ``1/x`` the same amount again (a logarithm), toward
    ``x^-1.5`` more: the sums diverge, and the ε-table would "extrapolate" them to the
    analytic continuation (``∫_0^1 x^-1.5 = -2``). Five increments in a row: near an
    interior point that is not a bisection point (``|x - c|^0.01``) the increments
    fluctuate, and three in a row fired there.
    """
    if len(sums) < _GROWING_STEPS + 2:
        return False
    recent = sums[-(_GROWING_STEPS + 1):]
    steps = [later - earlier for earlier, later in zip(recent, recent[1:], strict=False)]
    if not (all(step > 0 for step in steps) or all(step < 0 for step in steps)):
        return False
    return all(abs(later) >= 0.999 * abs(earlier)
               for earlier, later in zip(steps, steps[1:], strict=False))


def _near(lo, hi):
    return f"{0.5 * (lo + hi):.6g}"


def _roundoff_message(allowed, error):
    return (f"rounding errors prevent the tolerance {allowed:.2e} (error estimate "
            f"{error:.2e}): cancellation in f, or a tolerance below what float64 allows")


def _evaluate(integrand, left, right, rule):
    half = 0.5 * (right - left)
    nodes = (0.5 * (left + right))[:, None] + half[:, None] * rule.nodes
    return integrand(nodes.ravel()).reshape(left.size, rule.nodes.size)


def _resasc(values, half, rule):
    """QUADPACK's resasc (∫|f - mean f|) of each row, scaled to its subinterval."""
    kronrod = values @ rule.kronrod_weights
    return (np.abs(values - 0.5 * kronrod[:, None]) @ rule.kronrod_weights * half).tolist()
