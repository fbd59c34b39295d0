"""Wynn's ε-algorithm: the limit of a slowly converging sequence, with an error estimate.

Shanks' transformation computed by Wynn's (1956) recurrence
``ε[k+1](n) = ε[k-1](n+1) + 1 / (ε[k](n+1) - ε[k](n))``: the even columns hold the
estimates of the limit. It sums geometric-like sequences exactly, which is what the
partial results of an adaptive rule bisecting toward a singularity form (each level adds a
contribution a fixed ratio smaller: ``x^-1/2`` at 0, ``sqrt(1 - t)`` at 1, a kink), and
alternating series (the half-period pieces of ``∫ sin(x)/x``).

This follows QUADPACK's ``dqelg`` (Piessens, de Doncker-Kapenga, Überhuber & Kahaner
1983, sec. 4.3): only the last two diagonals of the table are kept, parts of it are
dropped when two neighbouring elements agree to rounding (the table would divide by ~0)
or behave irregularly, and the error of the result is the spread of the last three
results (plus ``5 eps |result|``), which is conservative for a converging table.
"""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(float).eps
_HUGE = np.finfo(float).max
_LIMIT = 50  # the table keeps at most this many elements of its first column


class EpsilonTable:
    """Feed the terms of a sequence with :meth:`add`; each call returns ``(limit, error)``.

    ``error`` is ``inf`` until three extrapolated results exist.

    Examples
    --------
    >>> table = EpsilonTable()
    >>> partial = 0.0
    >>> for k in range(20):                      # 1 - 1/2 + 1/3 - ... = log 2
    ...     partial += (-1) ** k / (k + 1)
    ...     limit, error = table.add(partial)
    >>> print(f"{limit:.12f} {np.log(2):.12f} {error < 1e-9}")
    0.693147180560 0.693147180560 True
    """

    def __init__(self):
        self._table = [0.0] * (_LIMIT + 3)
        self._count = 0
        self._last_three = []

    def add(self, value: float):
        """Append the next element of the sequence; return the best limit and its error."""
        table = self._table
        table[self._count] = float(value)
        self._count += 1
        if self._count < 3:
            return float(value), np.inf
        result, error, settled = self._extend()
        if not settled:  # dqelg: the spread of the last three results (after three)
            if len(self._last_three) < 3:
                self._last_three.append(result)
                error = _HUGE
            else:
                error = sum(abs(result - previous) for previous in self._last_three)
                self._last_three = self._last_three[1:] + [result]
        error = max(error, 5.0 * _EPS * abs(result))
        return result, (np.inf if error >= _HUGE else error)

    def _extend(self):
        """dqelg's step: a new diagonal of the condensed table (1-based index n)."""
        table, n = self._table, self._count
        # 0-based translation of QUADPACK's 1-based epstab(k) -> table[k - 1]
        table[n + 1] = table[n - 1]
        new_elements = (n - 1) // 2
        table[n - 1] = _HUGE
        result, abserr = table[n + 1], _HUGE
        k1, original = n, n
        for i in range(1, new_elements + 1):
            k2, k3 = k1 - 1, k1 - 2
            res = table[k1 + 1]
            e0, e1, e2 = table[k3 - 1], table[k2 - 1], res
            e1abs = abs(e1)
            delta2, delta3 = e2 - e1, e1 - e0
            err2, err3 = abs(delta2), abs(delta3)
            tol2 = max(abs(e2), e1abs) * _EPS
            tol3 = max(e1abs, abs(e0)) * _EPS
            if err2 <= tol2 and err3 <= tol3:
                # e0, e1, e2 equal to rounding: converged
                self._count = n
                return res, err2 + err3, True
            e3 = table[k1 - 1]
            table[k1 - 1] = e1
            delta1 = e1 - e3
            err1 = abs(delta1)
            tol1 = max(e1abs, abs(e3)) * _EPS
            irregular = err1 <= tol1 or err2 <= tol2 or err3 <= tol3
            if not irregular:
                ss = 1.0 / delta1 + 1.0 / delta2 - 1.0 / delta3
                irregular = abs(ss * e1) <= 1e-4
            if irregular:  # drop the rest of the table
                n = i + i - 1
                break
            res = e1 + 1.0 / ss
            table[k1 - 1] = res
            k1 -= 2
            error = err2 + abs(res - e2) + err3
            if error <= abserr:
                abserr, result = error, res
        if n == _LIMIT:
            n = 2 * (_LIMIT // 2) - 1
        ib = 1 if original % 2 else 2
        for _ in range(new_elements + 1):
            table[ib - 1] = table[ib + 1]
            ib += 2
        if original != n:
            index = original - n
            table[:n] = table[index:index + n]
        self._count = n
        return result, abserr, False
