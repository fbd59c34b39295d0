"""bayescalc: the calculus that Bayesian machine learning runs on.

One derivative/gradient core (:mod:`bayescalc.diff`, :mod:`bayescalc.optim`) under four
layers: integration (:mod:`bayescalc.integrate`), the evidence, variational inference and
min-max games (:mod:`bayescalc.minmax`). See ``docs/index.md``.
"""

from . import diff, integrate, minmax, model, models, optim, posterior, vi
from ._core.warnings import (
    AccuracyWarning,
    BayescalcWarning,
    ConvergenceWarning,
    IntegrationWarning,
    ReliabilityWarning,
)
from .model import Model

__version__ = "0.1.0.dev0"

__all__ = [
    "diff",
    "optim",
    "integrate",
    "minmax",
    "model",
    "Model",
    "models",
    "posterior",
    "vi",
    "AccuracyWarning",
    "BayescalcWarning",
    "ConvergenceWarning",
    "IntegrationWarning",
    "ReliabilityWarning",
]
