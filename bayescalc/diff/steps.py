"""Default steps: where the truncation and round-off errors balance.

A difference formula of order p for the n-th derivative has truncation error
:math:`\\approx C h^p |f^{(n+p)}|` and round-off error :math:`\\approx \\varepsilon |f| / h^n`;
their sum is smallest near :math:`h^* \\propto \\varepsilon^{1/(n+p)} L`, where L is the
length over which f changes (taken as :math:`\\max(|x|, 1)`). The adaptive Richardson
engine starts at a deliberately moderate step and shrinks it while truncation dominates.

Steps are rounded down to a power of two, so that :math:`x \\pm h` are exact in floating
point (the argument then carries no rounding error) and halving keeps them exact.
"""

from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float64).eps

# Largest step of the first Richardson window, in units of max(|x|, 1), by derivative
# order. Measured on the bench battery (bench/derivatives.py, 48 cases): 1/8 for n = 1
# gives a median relative error of 3.7e-15 with 648 evaluations in all, 1/16 7.4e-15
# with 616, 1/32 1.7e-14 with 596 (scipy.differentiate: 1.5e-12 with 604): functions
# that vary on scales below 1 (sin 20x, exp 10x, 1/x near 0) then converge in their
# first window. Higher derivatives amplify round-off by 1/h^n and want larger steps.
RICHARDSON_START = {1: 1 / 32, 2: 0.25, 3: 0.5}
# Orders n >= 4 use more levels per window (a window must determine f^(n) without its
# largest level) and a smaller step ratio: on geometric nodes with ratio 2 the weights of
# the 10th derivative sum to ~1e22 (h = 1), with ratio 2^(1/3) to ~5e13, so round-off
# is amplified a billion times less. Their first step grows with n: the round-off
# eps |f| sum|w| / h^n wants h of a few units of max(|x|, 1) at n = 10.
HIGH_ORDER = 4
HIGH_ORDER_RATIO = 2.0 ** (1.0 / 3.0)


def richardson_levels(n: int) -> int:
    """Steps per Richardson window for order n (5 up to n = 3, then n // 2 + 4)."""
    return 5 if n < HIGH_ORDER else n // 2 + 4


def richardson_ratio(n: int) -> float:
    """Ratio of successive steps for order n (2, or 2^(1/3) from n = 4 on)."""
    return 2.0 if n < HIGH_ORDER else HIGH_ORDER_RATIO


def power_of_two_below(value):
    """The largest power of two <= value (elementwise, value > 0).

    Examples
    --------
    >>> power_of_two_below(0.3)
    0.25
    """
    value = np.asarray(value, dtype=np.float64)
    result = 2.0 ** np.floor(np.log2(value))
    return float(result) if result.ndim == 0 else result


def richardson_start(x, n: int):
    """The initial (largest) step of the adaptive engine at x (elementwise)."""
    scale = np.maximum(np.abs(np.asarray(x, dtype=np.float64)), 1.0)
    start = RICHARDSON_START.get(n, 2.0 ** ((n - HIGH_ORDER) / 3.0))
    return power_of_two_below(start * scale)


def basic_step(x, n: int, accuracy: int):
    """The classical step :math:`\\varepsilon^{1/(n+p)} \\max(|x|, 1)` (elementwise).

    Examples
    --------
    >>> print(f"{basic_step(1.0, 1, 1):.2e}")      # forward difference: sqrt(eps)
    1.49e-08
    """
    scale = np.maximum(np.abs(np.asarray(x, dtype=np.float64)), 1.0)
    return power_of_two_below(EPS ** (1.0 / (n + accuracy)) * scale)
