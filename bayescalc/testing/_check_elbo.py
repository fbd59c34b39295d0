"""check_elbo: grade a student's ELBO estimator on models with a known answer."""

from __future__ import annotations

import math

import torch

from ._calling import StudentError, as_array, call_student
from .verdict import Verdict

# The usual mistakes, as functions of the per-draw terms on the grader's draws z:
# log_joint (log p(z, y) on the unconstrained space, Jacobian included), log_q, the
# log-det-Jacobian of the model's transform, and the closed-form entropy of q.
_MISTAKES = {
    "wrong sign": (
        "this is minus the ELBO: the ELBO is E_q[log p(z, y) - log q(z)], maximized, "
        "not a loss to minimize (return it, not its negative)",
        lambda t: -t["elbo"]),
    "missing entropy": (
        "the entropy term is missing: you returned E_q[log p(z, y)] without "
        "- E_q[log q(z)] (or + H[q])",
        lambda t: t["log_joint"]),
    "missing log-Jacobian": (
        "the log-determinant of the Jacobian of the map from the unconstrained z to the "
        "parameters is missing: on the unconstrained space log p(z, y) = "
        "log p(theta(z), y) + log |det d theta / d z|",
        lambda t: t["elbo"] - t["log_det_jacobian"]),
    "wrong sign of the log-Jacobian": (
        "the log-Jacobian enters with the wrong sign: it is + log |det d theta / d z| "
        "(the density of z gains the volume factor of the map)",
        lambda t: t["elbo"] - 2.0 * t["log_det_jacobian"]),
    "sum instead of mean": (
        "the draws are summed instead of averaged: the ELBO is an expectation, estimate "
        "it by the mean over the draws",
        lambda t: t["n"] * t["elbo"]),
    "log q added": (
        "log q(z) is added instead of subtracted",
        lambda t: t["log_joint"] + t["log_q"]),
}


def _cases():
    """The grader's models and approximations: (description, model, approx).

    Each q is the exact (or Laplace) posterior, shifted by 0.3 sd and widened by 20%:
    close enough that log p - log q varies little (a small Monte Carlo error), far
    enough that every term of the ELBO matters.
    """
    from ..models import beta_binomial, conjugate_normal_mean, linear_regression
    from ..vi import FullRankNormal

    def near(model, mean, cov):
        chol = torch.linalg.cholesky(torch.as_tensor(cov, dtype=torch.float64))
        loc = torch.as_tensor(mean, dtype=torch.float64) + 0.3 * chol.diagonal()
        return FullRankNormal(model.dim, loc=loc, scale_tril=1.2 * chol)

    normal = conjugate_normal_mean(n=20, d=1, seed=3)
    regression = linear_regression(2, n=50, seed=4)
    coin = beta_binomial(n=30, a=2.0, b=3.0, seed=5)
    # The beta-binomial's posterior on the logit scale: Beta(a + k, b + n - k) mapped,
    # approximated by its moments from a fine grid (only q's placement depends on it).
    grid = torch.linspace(-8, 8, 4001, dtype=torch.float64).reshape(-1, 1)
    weights = torch.softmax(coin.log_joint(grid), 0)
    mean = (weights * grid[:, 0]).sum()
    var = (weights * (grid[:, 0] - mean) ** 2).sum()
    return [
        ("normal mean (1-D)", normal,
         near(normal, normal.posterior_mean, normal.posterior_cov)),
        ("linear regression (2-D), a full-rank q", regression,
         near(regression, regression.posterior_mean, regression.posterior_cov)),
        ("beta-binomial on the logit scale (a constrained parameter)", coin,
         near(coin, mean.reshape(1), var.reshape(1, 1))),
    ]


def _terms(model, approx, z):
    """Per-draw means the reference and every mistake are built from."""
    with torch.no_grad():
        log_joint = model.log_joint(z)
        log_q = approx.log_prob(z)
        theta = model.transform(z)
        ladj = model.transform.log_abs_det_jacobian(z, theta)
        if ladj.ndim == 2:
            ladj = ladj.sum(-1)
        diff = (log_joint - log_q).numpy()
        terms = {"elbo": float(diff.mean()), "log_joint": float(log_joint.mean()),
                 "log_q": float(log_q.mean()),
                 "log_det_jacobian": float(ladj.expand(z.shape[0]).mean()),
                 "n": z.shape[0],
                 "sd": float(diff.std(ddof=1)) if z.shape[0] > 1 else math.inf}
        try:
            entropy = float(approx.entropy())
        except (NotImplementedError, AttributeError):
            entropy = None
    terms["elbo_closed"] = None if entropy is None else terms["log_joint"] + entropy
    return terms


def check_elbo(student_elbo_fn, model=None, approx=None, *, n_samples: int = 256,
               seed: int = 0, rtol: float = 1e-8) -> Verdict:
    """Grade a student's ELBO estimator ``student_elbo_fn(model, approx, z) -> float``.

    The student's function receives a :class:`~bayescalc.Model`, an approximation ``q``
    (a family of :mod:`bayescalc.vi`: ``log_prob``, ``entropy``) and draws ``z ~ q`` of
    shape ``(n_samples, d)`` on the model's unconstrained space, and must return the
    Monte Carlo estimate of ``ELBO = E_q[log p(z, y) - log q(z)]`` from those draws (with
    ``- log q`` or with the closed-form entropy: both are accepted). Because the grader
    knows the draws, a correct answer agrees to ``rtol``; a function that draws its own
    samples is accepted within 4 Monte Carlo standard errors of bayescalc's estimate.

    A wrong answer is matched against the usual mistakes: the wrong sign, a missing
    entropy term, a missing (or negated) log-Jacobian of the constraining transform, a
    sum instead of a mean, ``+ log q``.

    Parameters
    ----------
    student_elbo_fn : callable
        The student's estimator.
    model, approx : Model and approximation, optional
        Grade on this pair only. By default three cases: a 1-D normal mean, a 2-D linear
        regression with a full-rank q, and a beta-binomial on the logit scale (where the
        log-Jacobian matters).
    n_samples : int
        Draws per case.
    seed : int
        Seed of the draws.
    rtol : float
        Relative tolerance of the exact comparison.

    Returns
    -------
    Verdict
        ``ok``, the first case that disagrees (``where``, ``expected``, ``got``) and the
        mistake recognized (``diagnosis``); never a traceback.

    Examples
    --------
    >>> def elbo(model, approx, z):
    ...     return (model.log_joint(z) - approx.log_prob(z)).mean()
    >>> check_elbo(elbo).ok
    True
    >>> verdict = check_elbo(lambda m, q, z: m.log_joint(z).mean())
    >>> verdict.ok, verdict.diagnosis
    (False, 'missing entropy')
    """
    if not callable(student_elbo_fn):
        raise TypeError(f"student_elbo_fn must be callable, got "
                        f"{type(student_elbo_fn).__name__}")
    if (model is None) != (approx is None):
        raise ValueError("give both model and approx, or neither (the default cases)")
    n_samples = int(n_samples)
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples}")
    cases = _cases() if model is None else [("your model and approximation", model, approx)]
    generator = torch.Generator().manual_seed(int(seed))
    for index, (description, case_model, q) in enumerate(cases, start=1):
        where = f"case {index} ({description})"
        if q.event_shape[-1] != case_model.dim:
            raise ValueError(f"approx has dimension {q.event_shape[-1]}, the model "
                             f"{case_model.dim}")
        with torch.no_grad():
            z = q.sample((n_samples,), generator=generator)
        terms = _terms(case_model, q, z)
        try:
            value = call_student(student_elbo_fn, case_model, q, z.clone(),
                                 name="your ELBO function")
            got = float(as_array(value, shape=(), what="the value it returned"))
        except StudentError as error:
            return Verdict(ok=False, message=f"{where}: {error}.", where=where,
                           n_cases=len(cases))
        verdict = _judge(got, terms, case_model, q, where, len(cases), seed)
        if verdict is not None:
            return verdict
    return Verdict(ok=True, n_cases=len(cases),
                   message=f"correct: your ELBO matches E_q[log p(z, y) - log q(z)] on all "
                           f"{len(cases)} cases.")


def _exact(got, value, rtol):
    return value is not None and abs(got - value) <= rtol * max(1.0, abs(value))


def _judge(got, terms, model, approx, where, n_cases, seed):
    """None when ``got`` is a correct ELBO on these draws, else the verdict."""
    if _exact(got, terms["elbo"], 1e-8) or _exact(got, terms["elbo_closed"], 1e-8):
        return None
    for name, (text, formula) in _MISTAKES.items():
        value = formula(terms)
        if abs(value - terms["elbo"]) > 1e-6 * max(1.0, abs(value)) and _exact(got, value, 1e-8):
            return _wrong(where, terms["elbo"], got, name, text, n_cases)
    # Not computed from the grader's draws? Then within Monte Carlo error of bayescalc's
    # own estimate (its standard error from a large independent sample).
    from ..vi import elbo as reference_elbo

    n_ref = 20_000
    with torch.no_grad():
        reference = float(reference_elbo(model, approx, n_samples=n_ref,
                                         seed=seed + 1_000_003))
    tolerance = 4.0 * terms["sd"] * math.sqrt(1.0 / terms["n"] + 1.0 / n_ref)
    lookalikes = [name for name, (_, formula) in _MISTAKES.items()
                  if abs(formula(terms) - terms["elbo"]) > 2 * tolerance
                  and abs(got - (reference + formula(terms) - terms["elbo"])) <= tolerance]
    if abs(got - reference) <= tolerance and not lookalikes:
        return None
    if lookalikes and abs(got - reference) > tolerance:
        name = lookalikes[0]
        return _wrong(where, reference, got, name, _MISTAKES[name][0], n_cases)
    if lookalikes:
        return _wrong(where, reference, got, None,
                      "your function does not use the draws z it is given, and with its "
                      f"own draws the grader cannot tell a correct ELBO from a "
                      f"'{lookalikes[0]}' mistake: compute it from z", n_cases)
    return _wrong(where, reference, got, None,
                  f"no common mistake matches (Monte Carlo error allows ±{tolerance:.2g}); "
                  "compare each term with mean(log p(z, y) - log q(z)) over the draws",
                  n_cases)


def _wrong(where, expected, got, diagnosis, text, n_cases):
    return Verdict(ok=False, where=where, expected=float(expected), got=float(got),
                   diagnosis=diagnosis, n_cases=n_cases,
                   message=f"{where}: expected ELBO {expected:.6g}, got {got:.6g}. "
                           f"{text[0].upper()}{text[1:]}.")

