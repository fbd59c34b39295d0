"""check_evidence: grade a student's log evidence (log Z) on models with a known answer."""

from __future__ import annotations

import math

import torch

from ._calling import StudentError, as_array, call_student
from .verdict import Verdict


def _cases():
    """The grader's models: (description, model), each with an exact ``log_z_exact``."""
    from ..models import beta_binomial, conjugate_normal_mean, linear_regression

    return [
        ("normal mean (1-D)", conjugate_normal_mean(n=20, d=1, seed=3)),
        ("beta-binomial on the logit scale (a constrained parameter)",
         beta_binomial(n=30, a=2.0, b=3.0, seed=5)),
        ("linear regression (2-D)", linear_regression(2, n=50, seed=4)),
    ]


def _log_integral_1d(log_f, centre, width) -> float:
    """log of the integral of exp(log_f) over R, by a fine trapezoid in log space.

    The integrands here are smooth and decay like Gaussians within 40 widths of
    ``centre``; 40,001 nodes put the trapezoid's error far below the grader's tolerance.
    """
    z = torch.linspace(centre - 40 * width, centre + 40 * width, 40_001,
                       dtype=torch.float64).reshape(-1, 1)
    values = log_f(z)
    h = float(z[1, 0] - z[0, 0])
    return float(torch.logsumexp(values, 0)) + math.log(h)


def _mistakes(model):
    """The usual wrong answers for ``model``: name -> (explanation, value or None)."""
    log_z = model.log_z_exact
    out = {
        "returned Z, not log Z": (
            "you returned the evidence Z itself; the grader asks for log Z (work in log "
            "space: log Z = logsumexp of the log terms, never exp of a log likelihood)",
            math.exp(log_z) if log_z > -700 else 0.0),
        "wrong sign": ("you returned -log Z", -log_z),
    }
    if model.dim != 1:
        return out

    def ladj(z):
        theta = model.transform(z)
        value = model.transform.log_abs_det_jacobian(z, theta)
        return value.sum(-1) if value.ndim == 2 else value

    with torch.no_grad():
        grid = torch.linspace(-30, 30, 6001, dtype=torch.float64).reshape(-1, 1)
        log_joint = model.log_joint(grid)
        centre = float(grid[int(torch.argmax(log_joint)), 0])
        weights = torch.softmax(log_joint, 0)
        width = float(((weights * (grid[:, 0] - centre) ** 2).sum()).sqrt()) or 1.0
        identity = bool(torch.all(ladj(grid) == 0))
        if not identity:
            out["missing log-Jacobian"] = (
                "the log-Jacobian of the map from the unconstrained z to the parameter is "
                "missing: integrating over z, the integrand is p(theta(z)) p(y | theta(z)) "
                "|d theta / d z|",
                _log_integral_1d(lambda z: model.log_joint(z) - ladj(z), centre, width))
        out["prior left out"] = (
            "the prior is left out: you integrated the likelihood alone (Z = ∫ p(y | θ) "
            "p(θ) dθ)",
            _log_integral_1d(lambda z: model.log_likelihood(z) + ladj(z), centre,
                             3 * width))
        # E_prior[log p(y | z)] by the trapezoid on a wide grid (the prior is proper).
        wide = torch.linspace(-60, 60, 24_001, dtype=torch.float64).reshape(-1, 1)
        prior_weights = torch.exp(model.log_prior(wide)) * float(wide[1, 0] - wide[0, 0])
        log_lik = model.log_likelihood(wide)
        keep = prior_weights > 0
        out["log inside the mean (Jensen)"] = (
            "this is E_prior[log p(y | θ)], the mean of the log likelihood: log Z is the "
            "log of the MEAN of the likelihood (log-mean-exp), which is larger (Jensen)",
            float((prior_weights[keep] * log_lik[keep]).sum()), 0.05)
    return out


def check_evidence(student_log_z_fn, model=None, *, atol: float = 0.05) -> Verdict:
    """Grade a student's log evidence ``student_log_z_fn(model) -> log Z``.

    The student's function receives a :class:`~bayescalc.Model` and returns log Z =
    log of the integral of prior x likelihood, either as one number or as a pair
    ``(log_z, error)``. It is compared with the model's exact ``log_z_exact``: within
    ``atol`` nats, or, when an error is returned, within ``max(3 error, 1e-6)`` (an error
    bar that does not cover the truth fails, whatever the tolerance). A wrong answer is
    matched against the usual mistakes: Z instead of log Z, the wrong sign, a missing
    log-Jacobian of the constraining transform, the prior left out, and the mean of the
    log likelihood instead of the log of its mean (Jensen).

    Parameters
    ----------
    student_log_z_fn : callable
        The student's function.
    model : Model, optional
        A model with ``log_z_exact``; by default three cases: a 1-D normal mean, a
        beta-binomial on the logit scale and a 2-D linear regression.
    atol : float
        Tolerance in nats for an answer without an error bar.

    Returns
    -------
    Verdict

    Examples
    --------
    Quadrature on a fine grid is exact enough for the 1-D and 2-D cases:

    >>> import torch
    >>> def log_z(model):
    ...     axes = [torch.linspace(-12, 12, 801, dtype=torch.float64)] * model.dim
    ...     grid = torch.cartesian_prod(*axes).reshape(-1, model.dim)
    ...     step = (24 / 800) ** model.dim
    ...     return float(torch.logsumexp(model.log_joint(grid), 0)) + torch.log(
    ...         torch.tensor(step)).item()
    >>> check_evidence(log_z).ok
    True
    >>> check_evidence(lambda m: -log_z(m)).diagnosis
    'wrong sign'
    """
    if not callable(student_log_z_fn):
        raise TypeError(f"student_log_z_fn must be callable, got "
                        f"{type(student_log_z_fn).__name__}")
    if model is not None and model.log_z_exact is None:
        raise ValueError("model has no log_z_exact: grade on a model whose evidence is known")
    cases = _cases() if model is None else [("your model", model)]
    for index, (description, case_model) in enumerate(cases, start=1):
        where = f"case {index} ({description})"
        try:
            value = call_student(student_log_z_fn, case_model, name="your log Z function")
            if isinstance(value, (tuple, list)):
                if len(value) != 2:
                    raise StudentError(f"it returned {len(value)} values; expected log Z "
                                       "or (log Z, error)")
                got = float(as_array(value[0], shape=(), what="the log Z it returned"))
                error = float(as_array(value[1], shape=(), what="the error it returned"))
            else:
                got = float(as_array(value, shape=(), what="the value it returned"))
                error = None
        except StudentError as failure:
            return Verdict(ok=False, message=f"{where}: {failure}.", where=where,
                           n_cases=len(cases))
        exact = case_model.log_z_exact
        tolerance = atol if error is None else max(3.0 * abs(error), 1e-6)
        if abs(got - exact) <= tolerance:
            continue
        diagnosis, text = None, (
            "no common mistake matches; check that you integrate prior x likelihood over "
            "all of the parameter space, in log space")
        for name, (explanation, wrong, *rel) in _mistakes(case_model).items():
            # A Monte Carlo student may be off the exact wrong value by its own noise:
            # the Jensen value gets 5% relative slack (it is far from log Z anyway).
            slack = max(tolerance, (rel[0] if rel else 1e-6) * abs(wrong))
            if abs(wrong - exact) > slack and abs(got - wrong) <= slack:
                diagnosis, text = name, explanation
                break
        if diagnosis is None and error is not None and abs(got - exact) <= atol:
            diagnosis, text = "error bar too small", (
                f"your estimate is close, but your error bar {error:.2g} does not cover the "
                f"true error {abs(got - exact):.2g}: an error estimate is a promise")
        return Verdict(ok=False, where=where, expected=exact, got=got, diagnosis=diagnosis,
                       n_cases=len(cases),
                       message=f"{where}: expected log Z = {exact:.6g}, got {got:.6g}. "
                               f"{text[0].upper()}{text[1:]}.")
    return Verdict(ok=True, n_cases=len(cases),
                   message=f"correct: your log Z matches the exact evidence on all "
                           f"{len(cases)} cases.")
