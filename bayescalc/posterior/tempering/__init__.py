"""Tempering estimators of the evidence: SMC, AIS, thermodynamic integration and
stepping-stone, on one adaptive temperature ladder and one batched HMC/MALA kernel.

Each walks particles from a reference (the prior where it can be sampled, or a widened
Laplace Gaussian / Student-t) to the posterior through
``log r(z) + beta (log joint(z) - log r(z))``, choosing each next ``beta`` by the
conditional ESS, and takes the estimator signature
``estimator(model, *, seed=None, executor=None, progress=False, n_particles=..., **options)``.
"""

from ._ais import ais_evidence
from ._smc import smc_evidence
from ._stepping_stone import stepping_stone_evidence
from ._thermodynamic import hermite_trapezoid, thermodynamic_evidence
from .kernel import StepSize, hmc_move, preconditioner
from .ladder import cess, next_beta
from .reference import GaussianReference, PriorReference, StudentTReference

__all__ = ["smc_evidence", "ais_evidence", "thermodynamic_evidence",
           "stepping_stone_evidence", "hermite_trapezoid", "cess", "next_beta",
           "hmc_move", "preconditioner", "StepSize", "GaussianReference",
           "PriorReference", "StudentTReference"]
