"""Gradient-based min-max games: GDA and its stable variants, game analysis, GAN optimizers.

* :func:`solve` — min over x, max over y of f(x, y) with simultaneous or alternating
  gradient descent-ascent, extragradient, optimistic GDA or consensus optimization.
* :func:`stability` — eigenvalues of the game Jacobian and each rule's step radius.
* :class:`ExtraAdam`, :class:`OptimisticAdam` — torch optimizers for GANs;
  :func:`ema_model` — an exponential moving average of a network's weights.
* :mod:`~bayescalc.minmax.games` — the bilinear game and the Dirac-GAN;
  :func:`sample_ring`, :func:`mode_coverage` — the ring-of-Gaussians GAN benchmark.
"""

from . import games
from ._solve import METHODS, solve
from ._stability import stability, step_matrices
from .ema import ema_model
from .field import GameField
from .optimizers import ExtraAdam, OptimisticAdam
from .result import MinMaxResult, StabilityResult
from .ring import ModeCoverage, mode_coverage, ring_centers, sample_ring

__all__ = [
    "solve", "stability", "step_matrices", "METHODS", "MinMaxResult", "StabilityResult",
    "GameField", "ExtraAdam", "OptimisticAdam", "ema_model", "games",
    "ring_centers", "sample_ring", "mode_coverage", "ModeCoverage",
]
