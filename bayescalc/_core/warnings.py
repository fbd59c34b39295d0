"""Warning classes. A result that missed its tolerance warns, never fails silently."""

from __future__ import annotations

import warnings


class BayescalcWarning(UserWarning):
    """Base class of every warning bayescalc emits."""


class AccuracyWarning(BayescalcWarning):
    """A result did not reach its requested tolerance (its ``success`` is False)."""


class IntegrationWarning(AccuracyWarning):
    """An integral missed its tolerance or its budget (``max_evals``) ran out."""


class ConvergenceWarning(AccuracyWarning):
    """An iterative method stopped before its convergence test held."""


class ReliabilityWarning(BayescalcWarning):
    """An estimate is unreliable, e.g. Pareto k-hat of importance weights > 0.7."""


def warn_unless_success(result, category=AccuracyWarning, stacklevel: int = 3):
    """Emit ``category`` with ``result.message`` when ``result.success`` is False.

    Returns ``result`` so an estimator can end with ``return warn_unless_success(r)``.
    """
    if not result.success:
        warnings.warn(result.message, category, stacklevel=stacklevel)
    return result
