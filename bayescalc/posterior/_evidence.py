"""``evidence``: one entry point to every estimator of log Z, and ``auto``.

``METHODS`` maps each method name to its estimator, all with the signature
``estimator(model, *, seed=None, executor=None, progress=False, **options)``. The
tempering estimators (``smc``, ``ais``, ``thermodynamic``, ``stepping-stone``) join it
from :mod:`bayescalc.posterior.tempering` when that sub-package is present.
"""

from __future__ import annotations

import math
import warnings

from .._core.random import spawn_seeds
from .._core.warnings import ReliabilityWarning
from ..integrate.sampling import check_executor
from ._common import counted, fit_laplace
from .bridge import bridge_evidence
from .harmonic_mean import harmonic_mean_evidence
from .importance import importance_evidence
from .laplace import laplace_evidence, laplace_from_fit
from .nested import nested_evidence
from .quadrature import TENSOR_MAX_DIM, quadrature_evidence
from .result import EvidenceResult

METHODS = {
    "laplace": laplace_evidence,
    "quadrature": quadrature_evidence,
    "importance": importance_evidence,
    "bridge": bridge_evidence,
    "nested": nested_evidence,
    "harmonic-mean": harmonic_mean_evidence,
}

try:  # the tempering sub-package (smc, ais, thermodynamic, stepping-stone), once merged
    from .tempering import (
        ais_evidence,
        smc_evidence,
        stepping_stone_evidence,
        thermodynamic_evidence,
    )
except ImportError:  # pragma: no cover - depends on the merge
    smc_evidence = None
else:  # pragma: no cover - depends on the merge
    METHODS.update({"smc": smc_evidence, "ais": ais_evidence,
                    "thermodynamic": thermodynamic_evidence,
                    "stepping-stone": stepping_stone_evidence})


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def auto_evidence(model, *, seed=None, executor=None, progress=False, target=0.005,
                  max_evals=60_000, n_check=1000) -> EvidenceResult:
    """log Z by the method that the model's own diagnostics point to.

    1. Modes by L-BFGS from several starts, each with its Laplace fit (a singular
       Hessian: reported as improper, ``log_z = inf``, ``success=False``).
    2. ``d <= 3``: adapted quadrature (Gauss-Hermite, then the trapezoid rule), kept when
       it converges.
    3. Importance sampling from the Laplace mixture (``n_check`` draws) beside the
       Laplace value with its measured non-Gaussian correction: when k-hat < 0.5, the
       correction is below 1e-3 and the two agree within their errors, the posterior is
       Gaussian to that precision and Laplace is returned; when only k-hat is good,
       importance sampling is rerun with enough draws for ``target`` nats.
    4. Otherwise (heavy-tailed weights, disagreement): tempering (``smc``) where it is
       available, else bridge sampling; the result's own diagnostics decide ``success``.

    Parameters
    ----------
    model : bayescalc.Model
    seed : int, optional
    executor : optional
        Passed to the particle methods.
    progress : bool
    target : float
        Standard error in nats aimed at by importance sampling.
    max_evals : int
        Budget of the quadrature and importance stages.
    n_check : int
        Draws of the importance-sampling check.

    Returns
    -------
    EvidenceResult
        ``method="auto"``; ``diagnostics["chosen"]`` names the estimator whose value is
        returned and ``diagnostics["stages"]`` lists what was tried.

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t).sum(-1),
    ...           lambda t: Normal(t, 1.0).log_prob(torch.tensor(1.0)).sum(-1), dim=5)
    >>> r = auto_evidence(m, seed=0)
    >>> exact = 5 * Normal(0.0, math.sqrt(2.0)).log_prob(torch.tensor(1.0)).item()
    >>> r.diagnostics["chosen"], abs(r.log_z - exact) < 1e-6
    ('laplace', True)
    """
    check_executor(executor)
    cm = counted(model)
    d = model.dim
    seeds = spawn_seeds(seed, 4)
    fit = fit_laplace(cm, n_starts=8 if d <= 3 else 4, seed=seeds[0])
    stages = []

    def done(result, chosen, extra_message=""):
        diagnostics = dict(result.diagnostics)
        diagnostics.update({"chosen": chosen, "stages": stages})
        message = f"auto chose {chosen}: {result.message}" + extra_message
        out = EvidenceResult(result.log_z, result.error, cm.n_evals, cm.n_grad_evals, "auto",
                             result.success, message, diagnostics)
        if not out.success:
            warnings.warn(out.message, ReliabilityWarning, stacklevel=3)
        return out

    def spend(result, base):
        cm.n_evals += result.n_evals - base[0]
        cm.n_grad_evals += result.n_grad_evals - base[1]
        stages.append((result.method, result.log_z, result.error, result.success))
        return result

    if fit.problem:
        improper = EvidenceResult(math.inf, math.inf, cm.n_evals, cm.n_grad_evals, "laplace",
                                  False, fit.problem + "; no finite log Z", {})
        return done(improper, "laplace")
    base = (cm.n_evals, cm.n_grad_evals)
    fit.cost = base
    if d <= TENSOR_MAX_DIM:
        quad = spend(_quiet(quadrature_evidence, model, fit=fit, tol=1e-3,
                            max_evals=max_evals), base)
        if quad.success or quad.log_z == math.inf:  # converged, or found divergent
            return done(quad, "quadrature")
    lap_log_z, lap_error, _ = laplace_from_fit(cm, fit, n_check=0)
    stages.append(("laplace", lap_log_z, lap_error, True))
    fit.cost = (cm.n_evals, cm.n_grad_evals)
    check = spend(_quiet(importance_evidence, model, fit=fit, n=n_check, seed=seeds[1],
                         executor=executor), fit.cost)
    khat = check.diagnostics.get("khat", math.inf)
    good_weights = check.success and khat < 0.5
    agree = abs(check.log_z - lap_log_z) <= 3 * check.error + lap_error
    if good_weights and agree and lap_error < 1e-3:
        lap = EvidenceResult(lap_log_z, lap_error, 0, 0, "laplace", True,
                             f"Laplace (non-Gaussian correction {lap_error:.1e}; importance "
                             f"check k-hat {khat:.2f} agrees within "
                             f"{abs(check.log_z - lap_log_z):.1e})",
                             {"mode": fit.best.point, "cov": fit.best.cov,
                              "samples": check.diagnostics["samples"],
                              "log_weights": check.diagnostics["log_weights"]})
        return done(lap, "laplace")
    if good_weights:
        n = int(min(max_evals, max(n_check, n_check * (check.error / target) ** 2)))
        fit.cost = (cm.n_evals, cm.n_grad_evals)
        more = spend(_quiet(importance_evidence, model, fit=fit, n=n, seed=seeds[2],
                            executor=executor), fit.cost)
        if more.success:
            return done(more, "importance")
    fit.cost = (cm.n_evals, cm.n_grad_evals)
    if smc_evidence is not None:  # pragma: no cover - depends on the merge
        base = (cm.n_evals, cm.n_grad_evals)
        # Without a prior sampler SMC starts from a Laplace-centred reference; the heavier
        # tailed Student-t one with more particles is the less biased there (measured on
        # a 5-d banana: -0.03 to -0.06 nats against -0.09 to -0.12 for the Gaussian).
        extra = {} if model.can_sample_prior else {"reference": "student-t",
                                                   "n_particles": 8192}
        result = spend(_quiet(smc_evidence, model, seed=seeds[3], executor=executor,
                              progress=progress, **extra), (0, 0))
        return done(result, "smc")
    result = spend(_quiet(bridge_evidence, model, fit=fit, seed=seeds[3], executor=executor,
                          progress=progress), fit.cost)
    return done(result, "bridge",
                f" (importance check: k-hat {khat:.2f}, |IS - Laplace| = "
                f"{abs(check.log_z - lap_log_z):.3g})")


METHODS["auto"] = auto_evidence


def evidence(model, *, method="auto", seed=None, executor=None, progress=False,
             **options) -> EvidenceResult:
    """The log evidence log Z of ``model`` by ``method``.

    Parameters
    ----------
    model : bayescalc.Model
        The unnormalized posterior (normalized prior x likelihood).
    method : str
        One of ``METHODS``: ``"auto"`` (default: chosen by dimension and diagnostics),
        ``"laplace"``, ``"quadrature"`` (d <= 10), ``"importance"``, ``"bridge"``,
        ``"nested"`` (dynesty), ``"harmonic-mean"`` (cautionary), and the tempering
        methods ``"smc"``, ``"ais"``, ``"thermodynamic"``, ``"stepping-stone"`` when
        present.
    seed : int, numpy Generator or SeedSequence, optional
        The only source of randomness: the same seed gives the same answer.
    executor : concurrent.futures.Executor or dask Client, optional
        Where the particle methods run their batches (the answer does not depend on it).
    progress : bool
        Progress bars for long work.
    **options
        Passed to the estimator (see each one's docstring).

    Returns
    -------
    EvidenceResult

    Examples
    --------
    >>> import math, torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1)
    >>> r = evidence(m, method="quadrature")
    >>> exact = -0.5 * math.log(4 * math.pi) - 0.25   # log N(1; 0, 2)
    >>> abs(r.log_z - exact) < 1e-10
    True
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    key = method.lower().replace("_", "-")
    if key not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return METHODS[key](model, seed=seed, executor=executor, progress=progress, **options)
