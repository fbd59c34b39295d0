"""Gradient-based minimize/maximize, critical points and their kind (the core).

- :func:`minimize` / :func:`maximize`: gd, momentum, nesterov, adam, newton, lbfgs,
  recording the path of iterates (:class:`OptimizeResult`).
- :func:`critical_points`: every stationary point found in a box, de-duplicated and
  classified, the global minimum and maximum among them flagged (:class:`CriticalPoint`).
- :func:`classify`: minimum, maximum, saddle or degenerate, by the Hessian eigenvalues.
- :mod:`.transforms`: the first-order rules as compositions of small pure steps.
- :mod:`.surfaces`: test functions with known stationary points (Rosenbrock, hills).
"""

from . import surfaces as surfaces
from . import transforms as transforms
from ._classify import classify, kind_from_eigenvalues
from ._critical_points import critical_points
from ._minimize import DEFAULT_LR as DEFAULT_LR
from ._minimize import DEFAULT_MAX_STEPS as DEFAULT_MAX_STEPS
from ._minimize import METHODS as METHODS
from ._minimize import maximize, minimize
from .result import CriticalPoint, IterationInfo, OptimizeResult

# The public API (documented in docs/api.md); the method tables (METHODS, DEFAULT_LR,
# DEFAULT_MAX_STEPS) and the submodules transforms and surfaces are importable too.
__all__ = [
    "minimize", "maximize", "critical_points", "classify", "kind_from_eigenvalues",
    "OptimizeResult",
    "CriticalPoint", "IterationInfo",
]
