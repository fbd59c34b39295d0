"""Infinite and semi-infinite ranges mapped onto finite ones, and the wrapped integrand.

The 1-D rules (Gauss–Kronrod, tanh-sinh) only ever see a finite interval. A range with an
infinite end is mapped as in QUADPACK's ``qagi`` (Piessens et al. 1983, sec. 2.2.3), with
the infinite end sent to ``t = 0``, where float64 resolves nodes down to 1e-308 (a slowly
decaying tail becomes an integrable singularity at ``t = 0``, which the rules can refine
without running out of floating-point resolution):

* ``[a, inf)``:    ``x = a + (1 - t) / t``,  ``t in (0, 1]``,  ``|dx/dt| = 1 / t^2``
* ``(-inf, b]``:   ``x = b - (1 - t) / t``,  ``t in (0, 1]``,  ``|dx/dt| = 1 / t^2``
* ``(-inf, inf)``: ``x = sign(t) (1 - |t|) / |t|``, ``t in [-1, 1]`` with a breakpoint at
  ``t = 0``, ``|dx/dt| = 1 / t^2``

A half-infinite range has a second map ("upper-infinite-split", "lower-infinite-split")
that puts *both* of its ends at ``t = 0``, where float64 resolves them, with a
breakpoint there: ``[a, inf)`` by ``x = a - t`` for ``t in [-1, 0]`` (``x in [a, a + 1]``)
and ``x = a + 1 / t`` for ``t in (0, 1]``. The first map resolves ``x - a`` only to about
1e-16 (the finite end sits at ``t = 1``), too coarse for a singularity there
(``exp(-x) / sqrt(x)`` on ``[0, inf)`` loses 2e-8); ``quad`` tries the second when the
first misses.

For tanh-sinh, ``(-inf, inf)`` is mapped as one interval instead ("infinite-sinh"):

* ``x = t / (1 - t^2)``, ``t in (-1, 1)``, ``|dx/dt| = (1 + t^2) / (1 - t^2)^2``

whose composition with the tanh-sinh substitution ``t = tanh(pi/2 sinh s)`` is the
sinh-sinh rule ``x = sinh(pi sinh s) / 2`` (Takahasi & Mori 1974): its nodes gather
where a doubly-infinite integrand lives, not at ``x = 0`` from both sides as with the
split map. Near ``t = ±1`` float64 resolves ``|x|`` up to about 5e14, so tails slower
than ``|x|^-2`` (whose remainder there exceeds 1e-14) show up in the error estimate; the
other rules use the split map. ``[a, inf)`` with tanh-sinh on the first map is already
the exp-sinh rule ``x = a + exp(-pi sinh s)``.

Every rule evaluates strictly inside its interval, so ``t = 0`` is never used; nodes so
close to it that ``|x| > 1e100`` are not evaluated and count as 0 (integrands such as
``x**2 * exp(-x)`` give NaN out there; an integrable tail has long vanished; a tail that
has not shows up in the error estimate); for the same reason a NaN or inf from f beyond
``|x| = 1e30`` (``x**9 * exp(-x)`` overflows there) counts as 0.
"""

from __future__ import annotations

import math

import numpy as np

from ..._core.batch import BatchFunction

_FARTHEST = 1e100
_FAR_TAIL = 1e30  # beyond it, a non-finite f (overflow in a decaying product) counts as 0


def range_kind(a: float, b: float) -> str:
    """``"finite"``, ``"upper-infinite"``, ``"lower-infinite"`` or ``"infinite"``."""
    if math.isfinite(a) and math.isfinite(b):
        return "finite"
    if math.isfinite(a):
        return "upper-infinite"
    if math.isfinite(b):
        return "lower-infinite"
    return "infinite"


def t_range(kind: str):
    """Breakpoints of the new variable ``t`` for a range of this kind (not finite)."""
    if kind in ("infinite", "upper-infinite-split", "lower-infinite-split"):
        return (-1.0, 0.0, 1.0)
    return (-1.0, 1.0) if kind == "infinite-sinh" else (0.0, 1.0)


def x_of_t(kind: str, a: float, b: float, t: np.ndarray):
    """``x(t)`` and ``log |dx/dt|`` for the change of variables of this kind of range."""
    if kind == "finite":
        return t, np.zeros_like(t)
    if kind == "infinite-sinh":
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            one_minus = (1.0 - t) * (1.0 + t)  # exact enough near ±1 (t is a float)
            return t / one_minus, np.log1p(t * t) - 2.0 * np.log(one_minus)
    if kind.endswith("-split"):
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            step = np.where(t > 0, 1.0 / t, -t)
            log_jacobian = np.where(t > 0, -2.0 * np.log(t), 0.0)
        return _from_end(kind, a, b, step), log_jacobian
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        size = np.abs(t)
        step = (1.0 - size) / size
        log_jacobian = -2.0 * np.log(size)
    if kind == "infinite":
        x = np.copysign(step, t)
    else:
        x = _from_end(kind, a, b, step)
    return x, log_jacobian


def _from_end(kind, a, b, step):
    """``a + step`` or ``b - step``, never rounding onto the end itself when step > 0.

    (A node 1e-16 from a finite end a = 1 would round to x = 1, where f may be singular;
    the nearest float inside the range changes the integral by less than eps |a| f.)
    """
    if kind.startswith("upper"):
        x = a + step
        return np.where((x == a) & (step > 0), np.nextafter(a, np.inf), x)
    x = b - step
    return np.where((x == b) & (step > 0), np.nextafter(b, -np.inf), x)


def t_of_x(kind: str, a: float, b: float, x: np.ndarray) -> np.ndarray:
    """The inverse map ``t(x)`` (used to carry breakpoints into the new variable)."""
    x = np.asarray(x, dtype=np.float64)
    if kind == "finite":
        return x
    if kind == "infinite":
        return np.where(x >= 0, 1.0 / (1.0 + np.abs(x)), -1.0 / (1.0 + np.abs(x)))
    if kind == "infinite-sinh":  # the root of x t^2 + t - x = 0 in (-1, 1)
        return 2.0 * x / (1.0 + np.sqrt(1.0 + 4.0 * x * x))
    distance = x - a if kind.startswith("upper") else b - x
    if kind.endswith("-split"):
        with np.errstate(divide="ignore"):
            return np.where(distance > 1.0, 1.0 / distance, -distance)
    return 1.0 / (1.0 + distance)


class NonFiniteValue(ValueError):
    """f returned NaN, or inf where a finite value is needed; ``x`` is the point.

    ``overflow`` is True for ``±inf`` (f grew past float64 there: a non-integrable
    singularity, or an integrable one hit exactly), False for NaN.
    """

    def __init__(self, message, x, overflow):
        super().__init__(message)
        self.x, self.overflow = x, overflow


class WrappedIntegrand:
    """The integrand in the variable of integration ``t``, checked and (log-)weighted.

    Calling it with nodes ``t`` of shape ``(n,)`` returns ``f(x(t)) dx/dt`` (or, with
    ``log=True``, ``log f(x(t)) + log dx/dt``). NaN, and ``inf`` where a finite value is
    required, raise a ValueError naming the point ``x``.
    """

    def __init__(self, f, a: float, b: float, *, log: bool, kind: str | None = None):
        self.function = f if isinstance(f, BatchFunction) else BatchFunction(f)
        self.kind = kind or range_kind(a, b)
        self.a, self.b, self.log = a, b, log
        self.all_zero = True  # every value so far exactly 0 (a sign of underflow)

    def end_scales(self, edges: tuple):
        """Per interval of ``edges`` (in ``t``): the magnitudes that limit how close to its
        left and right ends a node can be told apart from them, or None (finite range:
        ``|t|`` itself, the rules' default).

        At an end that maps to a finite ``x = c`` this is ``max(|t|, |c|)``: ``x`` is
        resolved only to ``eps |c|`` there whatever ``t`` does (``1 + 1e-20`` is 1), so
        tanh-sinh stops as far from it as in the variable ``x`` itself and its tail term
        sees a singularity there; at an end that maps to infinity, ``|t|``.
        """
        if self.kind == "finite":
            return None
        t = np.array(edges)
        with np.errstate(over="ignore", invalid="ignore"):
            inward_left = x_of_t(self.kind, self.a, self.b, np.nextafter(t[:-1], t[1:]))[0]
            inward_right = x_of_t(self.kind, self.a, self.b, np.nextafter(t[1:], t[:-1]))[0]
        # Next to an end that maps to infinity, x is beyond 1e15 |a| (1/eps of the sinh-sinh
        # map at t = 1 - eps; 1/5e-324 at t = 0); next to one that maps to c, it is c.
        far = 1e15 * max([1.0] + [abs(c) for c in (self.a, self.b) if math.isfinite(c)])
        scales = []
        for ends, x in ((t[:-1], inward_left), (t[1:], inward_right)):
            finite = np.abs(x) < far
            scales.append(tuple(np.maximum(np.abs(ends), np.where(finite, np.abs(x), 0.0))))
        return tuple(scales)

    def remapped(self, kind: str) -> WrappedIntegrand:
        """The same function (sharing its evaluation count) under another map."""
        twin = WrappedIntegrand(self.function, self.a, self.b, log=self.log, kind=kind)
        twin.all_zero = self.all_zero
        return twin

    @property
    def n_evals(self) -> int:
        return self.function.n_evals

    def __call__(self, t: np.ndarray) -> np.ndarray:
        if self.kind == "finite":  # the fast path: no change of variables
            values = self.function(t)
            if not _all_finite(values) and not (self.log and not _bad_log(values).any()):
                self._raise(values, t)
            if self.all_zero:
                self.all_zero = not np.count_nonzero(values > -np.inf if self.log else values)
            return values
        x, log_jacobian = x_of_t(self.kind, self.a, self.b, t)
        inside = (np.abs(x) < _FARTHEST) & np.isfinite(log_jacobian)
        everywhere = bool(_all(inside))
        if everywhere:
            values = self.function(x)
        else:
            values = np.full_like(x, -np.inf if self.log else 0.0)
            values[inside] = self.function(x[inside])
        if not self.log and not _all_finite(values):
            # x**k * exp(-x) is inf * 0 = NaN far out, where it is 0 to float64.
            values = np.where((np.abs(x) > _FAR_TAIL) & ~np.isfinite(values), 0.0, values)
        if not _all_finite(values) and not (self.log and not _bad_log(values).any()):
            self._raise(values, x)
        if self.log:
            if self.all_zero:
                self.all_zero = not np.count_nonzero(values > -np.inf)
            if everywhere:
                return values + log_jacobian
            return np.where(inside, values + log_jacobian, -np.inf)
        if self.all_zero:
            self.all_zero = not np.count_nonzero(values)
        # f * dx/dt as exp(log|f| + log dx/dt): near t = 0 the Jacobian alone overflows.
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            product = np.sign(values) * np.exp(np.log(np.abs(values)) + log_jacobian)
        if not _all_finite(product):
            i = int(np.flatnonzero(~np.isfinite(product))[0])
            raise NonFiniteValue(f"f(x) dx/dt overflows at x = {x[i]!r} (f = {values[i]}): the "
                                 "integrand does not decay fast enough to be integrable?",
                                 float(x[i]), True)
        return product if everywhere else np.where(inside, product, 0.0)

    def _raise(self, values, x):
        bad = _bad_log(values) if self.log else ~np.isfinite(values)
        i = int(np.flatnonzero(bad)[0])
        what = "log f" if self.log else "f"
        hint = "" if self.log else " (a singularity at a node? try points= or method='tanh-sinh')"
        raise NonFiniteValue(
            f"{what} returned a non-finite value {values[i]} at x = {x[i]!r}{hint}",
            float(x[i]), bool(np.isinf(values[i])))


_all = np.logical_and.reduce  # ndarray.all without its Python wrapper


def _all_finite(values):
    """No NaN or ±inf in ``values``."""
    return bool(_all(np.isfinite(values)))


def _bad_log(values):
    """NaN or +inf: never a valid log density value (-inf is: f = 0 there)."""
    return np.isnan(values) | (values == np.inf)


class BoxIntegrand:
    """A d-dimensional integrand on a box with any infinite sides, in finite variables ``t``.

    Each infinite axis is mapped on its own (the maps are smooth inside the box, so the
    cubature rules, which place nodes in every region's middle, see no interior kink):
    ``[a, inf)``: ``x = a + t / (1 - t)``, ``(-inf, b]``: ``x = b - t / (1 - t)`` with
    ``t in [0, 1)``; ``(-inf, inf)``: ``x = t / (1 - t^2)`` with ``t in (-1, 1)``. Calling it
    on ``t`` of shape ``(n, d)`` returns ``f(x) |dx/dt|`` (log values with ``log=True``).
    """

    def __init__(self, f, lower, upper, *, log: bool):
        self.function = f if isinstance(f, BatchFunction) else BatchFunction(f)
        self.lower, self.upper, self.log = lower, upper, log
        self.low_infinite, self.high_infinite = ~np.isfinite(lower), ~np.isfinite(upper)
        self.mapped = self.low_infinite | self.high_infinite
        both = self.low_infinite & self.high_infinite
        self.t_lower = np.where(both, -1.0, np.where(self.mapped, 0.0, lower))
        self.t_upper = np.where(self.mapped, 1.0, upper)
        self.all_zero = True

    @property
    def n_evals(self) -> int:
        return self.function.n_evals

    def __call__(self, t: np.ndarray) -> np.ndarray:
        x, log_jacobian = self._map(t)
        inside = np.all(np.isfinite(x), axis=1) & np.isfinite(log_jacobian)
        empty = -np.inf if self.log else 0.0
        if inside.all():
            values = self.function(x)
        else:
            values = np.full(x.shape[0], empty)
            if inside.any():
                values[inside] = self.function(x[inside])
        bad = (np.isnan(values) | (values == np.inf)) if self.log else ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "log f" if self.log else "f"
            raise ValueError(f"{what} returned a non-finite value {values[i]} at x = {x[i]}")
        if self.all_zero:
            self.all_zero = not (np.any(values > -np.inf) if self.log else values.any())
        if not self.mapped.any():
            return values
        with np.errstate(over="ignore", invalid="ignore"):  # masked where not inside
            if self.log:
                return np.where(inside, values + log_jacobian, -np.inf)
            return np.where(inside & (values != 0), values * np.exp(log_jacobian), 0.0)

    def _map(self, t):
        if not self.mapped.any():
            return t, np.zeros(t.shape[0])
        x = t.copy()
        log_jacobian = np.zeros(t.shape[0])
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            for j in np.flatnonzero(self.mapped):
                column = t[:, j]
                if self.low_infinite[j] and self.high_infinite[j]:
                    one_minus = (1.0 - column) * (1.0 + column)
                    x[:, j] = column / one_minus
                    log_jacobian += np.log1p(column * column) - 2.0 * np.log(one_minus)
                else:
                    step = column / (1.0 - column)
                    if self.high_infinite[j]:
                        x[:, j] = self.lower[j] + step
                    else:
                        x[:, j] = self.upper[j] - step
                    log_jacobian += -2.0 * np.log1p(-column)
        return x, log_jacobian
