"""The course kit: graders a student calls on their own code.

Each grader tries the student's function on a few cases with known answers and returns
a :class:`Verdict`: ``ok``, the first place the answer disagrees, and a readable
message that names the mistake when it recognizes it. A function that raises or
returns the wrong shape gets a verdict, not a traceback.

* :func:`check_gradient` — a hand-written gradient against the numeric one (the
  numbers of :func:`bayescalc.diff.check_gradient`, with a verdict).
* :func:`check_kl` — KL(q || p) between two Gaussians.
* :func:`check_minmax_step` — one step of simultaneous, alternating, extragradient or
  optimistic gradient descent-ascent.

* :func:`check_elbo` — a Monte Carlo ELBO estimator (wrong sign, missing entropy,
  missing log-Jacobian, ...).
* :func:`check_evidence` — a log evidence (Z instead of log Z, a missing log-Jacobian,
  the prior left out, Jensen's mean of the log likelihood, ...).
"""

from ._check_elbo import check_elbo
from ._check_evidence import check_evidence
from ._check_gradient import check_gradient
from ._check_kl import check_kl, gaussian_kl
from ._check_minmax_step import check_minmax_step
from .verdict import Verdict

__all__ = ["check_gradient", "check_elbo", "check_evidence", "check_kl", "check_minmax_step",
           "gaussian_kl", "Verdict"]
