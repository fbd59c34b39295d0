"""Posterior normalization: the evidence log Z by many estimators on one model."""

from ._evidence import METHODS, evidence
from .result import EvidenceResult

__all__ = ["EvidenceResult", "evidence", "METHODS"]
