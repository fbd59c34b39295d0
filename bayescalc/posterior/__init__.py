"""Posterior normalization: the evidence log Z by many estimators on one model, their
comparison, and the normalized posterior."""

from ._compare import EvidenceTable, compare
from ._evidence import METHODS, evidence
from ._normalize import normalize
from .posterior_density import Posterior
from .result import EvidenceResult

__all__ = ["EvidenceResult", "evidence", "METHODS", "normalize", "Posterior", "compare",
           "EvidenceTable"]
