"""Warnings that point at the user's line, however deep inside bayescalc they arise.

A fixed ``stacklevel`` is right for one call path only: ``derivative`` calls
``finite_difference``, ``gradient`` calls ``gradient_estimate``, and the optimizers call
both. The level here is counted at run time: the first frame outside the bayescalc
package is the user's.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from .._core.warnings import AccuracyWarning

_PACKAGE = str(Path(__file__).resolve().parent.parent)


def user_stacklevel() -> int:
    """The ``stacklevel`` of the innermost caller outside bayescalc (for warnings.warn)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def warn_unless_success(result, category=AccuracyWarning):
    """Emit ``category`` with ``result.message`` at the user's line when not ``success``.

    Returns ``result``.
    """
    if not result.success:
        warnings.warn(result.message, category, stacklevel=user_stacklevel())
    return result
