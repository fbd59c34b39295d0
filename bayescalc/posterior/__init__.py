"""Posterior normalization: the evidence log Z by many estimators on one model."""

from .result import EvidenceResult

__all__ = ["EvidenceResult"]
