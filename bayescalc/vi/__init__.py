"""Variational inference: approximating families, ELBO/IWAE estimators, fit, diagnostics.

Families are torch Distributions on a model's unconstrained space
(:class:`MeanFieldNormal`, :class:`FullRankNormal`, :class:`LowRankNormal`,
:class:`Flow`); :func:`elbo` and :func:`iwae` estimate the bounds with a choice of
gradient estimators; :func:`fit` runs ADVI (from the Laplace start, whitened) or
Batch-and-Match and returns a :class:`VIResult` with the PSIS k-hat. See docs/vi.md.
"""

from ..integrate import psis_khat
from ._elbo import ESTIMATORS, elbo, iwae
from ._fit import METHODS, fit
from .bam import bam_update
from .families import Flow, FullRankNormal, LowRankNormal, MeanFieldNormal, make_family
from .result import VIResult

__all__ = [
    "MeanFieldNormal",
    "FullRankNormal",
    "LowRankNormal",
    "Flow",
    "make_family",
    "elbo",
    "iwae",
    "fit",
    "bam_update",
    "VIResult",
    "psis_khat",
    "ESTIMATORS",
    "METHODS",
]
