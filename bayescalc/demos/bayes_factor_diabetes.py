"""A Bayes factor between two linear regressions on real data (scikit-learn's diabetes).

The diabetes data (442 patients; 10 baseline measurements: age, sex, body-mass index,
blood pressure and six blood serum values s1-s6; the response is a measure of disease
progression one year later), standardized. Two Bayesian linear regressions:

* model A: three predictors, bmi + bp + s5;
* model B: all ten.

Both have the conjugate normal-inverse-gamma prior ``sigma² ~ InvGamma(2, 1)``,
``beta | sigma² ~ N(0, sigma² I)``, so each log Z has a closed form. Each model works on
``(beta, log sigma²)``, so the samplers see an unconstrained space. ``log Z`` of each is
estimated by several methods of :func:`bayescalc.posterior.evidence` (Laplace, auto,
importance sampling, SMC; bridge sampling and AIS in the full run) and compared with the
exact value, and so is the log Bayes factor ``log Z_A - log Z_B`` with its error bar.

Needs the optional ``data`` extra (scikit-learn, which ships the data; nothing is
downloaded): ``pip install 'bayescalc[data]'``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch

import bayescalc as bc
from bayescalc.plot import new_figure, save_figure

from ._data import diabetes

TITLE = "A Bayes factor on real data: two regressions of the diabetes data (scikit-learn)"
FIGURES = {
    "bayes_factor_diabetes": (
        "Left: each method's log Z minus the exact value, with its own error bar (one "
        "standard error), for the 3-predictor model A (bmi, bp, s5; circles) and the "
        "10-predictor model B (squares) of the diabetes data. Right: the log Bayes factor "
        "log Z_A - log Z_B by each method, its error bar combining the two, against the "
        "exact value (black line). A bar that reaches the black line is an honest error "
        "estimate; Laplace's wide bar is its own measure of how far the posterior is from "
        "Gaussian, and the sampling methods land within a bar or two of the closed form."),
}

SMALL = ("bmi", "bp", "s5")
A0, B0, TAU = 2.0, 1.0, 1.0           # sigma² ~ InvGamma(A0, B0); beta ~ N(0, sigma² TAU² I)
QUICK_METHODS = ("laplace", "auto", "importance", "smc")
FULL_METHODS = ("laplace", "auto", "importance", "bridge", "smc", "ais")
LOG_2PI = math.log(2.0 * math.pi)


def exact_log_z(X, y, a0=A0, b0=B0, tau=TAU) -> float:
    """log Z of the normal-inverse-gamma linear regression, in closed form.

    ``log Z = -n/2 log 2 pi - 1/2 log |V_0^-1 + X'X| - d log tau + a0 log b0
    - a_n log b_n + log Gamma(a_n) - log Gamma(a0)`` with ``a_n = a0 + n/2``,
    ``b_n = b0 + (y'y - m_n' (V_0^-1 + X'X) m_n) / 2``, ``V_0 = tau² I``.

    Examples
    --------
    >>> X, y = np.ones((1, 1)), np.zeros(1)
    >>> round(exact_log_z(X, y, a0=1.0, b0=1.0, tau=1.0), 6)  # t(2 dof, scale √2) at 0: 1/4
    -1.386294
    """
    n, d = X.shape
    precision = np.eye(d) / tau**2 + X.T @ X
    mean = np.linalg.solve(precision, X.T @ y)
    a_n = a0 + n / 2
    b_n = b0 + 0.5 * (y @ y - mean @ precision @ mean)
    return float(-0.5 * n * LOG_2PI - 0.5 * np.linalg.slogdet(precision)[1] - d * math.log(tau)
                 + a0 * math.log(b0) - a_n * math.log(b_n) + math.lgamma(a_n)
                 - math.lgamma(a0))


def regression_model(X, y, names, a0=A0, b0=B0, tau=TAU) -> bc.Model:
    """The conjugate regression as a :class:`bayescalc.Model` on ``(beta, log sigma²)``.

    The prior's density on ``log sigma²`` includes the Jacobian ``sigma²`` of the map,
    so ``log Z`` is the same as on ``(beta, sigma²)``; ``log_z_exact`` is set.
    """
    n, d = X.shape
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    const = a0 * math.log(b0) - math.lgamma(a0)

    def log_prior(z):
        beta, log_s2 = z[:, :d], z[:, d]
        # InvGamma(a0, b0) on sigma², times the Jacobian sigma² of sigma² = exp(log sigma²)
        log_ig = const - a0 * log_s2 - b0 * torch.exp(-log_s2)
        return (log_ig - 0.5 * (beta**2).sum(-1) * torch.exp(-log_s2) / tau**2
                - 0.5 * d * (log_s2 + 2 * math.log(tau) + LOG_2PI))

    def log_likelihood(z):
        beta, log_s2 = z[:, :d], z[:, d]
        residual = yt - beta @ Xt.T
        return -0.5 * (residual**2).sum(-1) * torch.exp(-log_s2) - 0.5 * n * (log_s2 + LOG_2PI)

    return bc.Model(log_prior, log_likelihood, d + 1, names=[*names, "log sigma2"],
                    log_z_exact=exact_log_z(X, y, a0, b0, tau))


def _estimate(model, method, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # success and the error bar are printed
        return bc.posterior.evidence(model, method=method, seed=seed)


def _plot(results, exact, methods, labels):
    fig, (left, right) = new_figure(2, size=(4.6, 3.6))
    rows = np.arange(len(methods))[::-1]
    for offset, key, marker in ((0.15, "A", "o"), (-0.15, "B", "s")):
        delta = [results[key][m].log_z - exact[key] for m in methods]
        error = [results[key][m].error for m in methods]
        left.errorbar(delta, rows + offset, xerr=error, fmt=marker, ms=5, capsize=3,
                      label=f"model {key}: {labels[key]}")
    left.axvline(0.0, color="k", lw=1)
    left.set(yticks=rows, yticklabels=methods, ylabel="method",
             xlabel="log Z - exact log Z  (nats)",
             title="log Z of each model: error and error bar")
    left.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    bf = [results["A"][m].log_z - results["B"][m].log_z for m in methods]
    bf_error = [math.hypot(results["A"][m].error, results["B"][m].error) for m in methods]
    right.errorbar(bf, rows, xerr=bf_error, fmt="D", ms=5, capsize=3, color="C2",
                   label="estimate ± 1 standard error")
    right.axvline(exact["A"] - exact["B"], color="k", lw=1.5,
                  label=f"exact {exact['A'] - exact['B']:.3f}")
    right.set(yticks=rows, yticklabels=methods, xlabel="log Bayes factor log Z_A - log Z_B",
              title="Bayes factor, model A against model B")
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    fig.suptitle("Diabetes data (442 patients): evidence by several methods against the "
                 "closed form")
    return fig


def main(out_dir, quick: bool = False, seed: int = 0) -> dict:
    """Estimate both models' log Z by several methods; save the figure; return numbers."""
    out_dir = Path(out_dir)
    torch.set_num_threads(1)
    X, y, names = diabetes()
    columns = [names.index(name) for name in SMALL]
    models = {"A": regression_model(X[:, columns], y, list(SMALL)),
              "B": regression_model(X, y, names)}
    labels = {"A": "+".join(SMALL), "B": "all 10 predictors"}
    exact = {key: model.log_z_exact for key, model in models.items()}
    methods = QUICK_METHODS if quick else FULL_METHODS
    n, d = X.shape
    print(f"diabetes: {n} patients, {d} predictors, y = disease progression (standardized); "
          f"normal-inverse-gamma prior, exact log Z")
    print(f"  model A: {labels['A']} (d = {models['A'].dim} with log sigma²); "
          f"model B: {labels['B']} (d = {models['B'].dim})")
    exact_bf = exact["A"] - exact["B"]
    print(f"  exact: log Z_A = {exact['A']:.5f}, log Z_B = {exact['B']:.5f}, "
          f"log BF(A:B) = {exact_bf:.5f} (A favoured {math.exp(exact_bf):.2f} : 1)")
    results = {"A": {}, "B": {}}
    for k, method in enumerate(methods):
        for j, key in enumerate("AB"):
            results[key][method] = _estimate(models[key], method, seed=seed + 100 * k + j)
    print("  method       log Z_A - exact     log Z_B - exact     log BF - exact      "
          "evals A  evals B")
    summary = {"exact_log_z_A": exact["A"], "exact_log_z_B": exact["B"],
               "exact_log_bayes_factor": exact_bf}
    for method in methods:
        a, b = results["A"][method], results["B"][method]
        bf, bf_error = a.log_z - b.log_z, math.hypot(a.error, b.error)
        status = "ok" if a.success and b.success else "FLAGGED"
        print(f"  {method:11s} {a.log_z - exact['A']:+8.4f} ± {a.error:7.1e}  "
              f"{b.log_z - exact['B']:+8.4f} ± {b.error:7.1e}  "
              f"{bf - exact_bf:+8.4f} ± {bf_error:7.1e}  {a.n_evals:7d}  {b.n_evals:7d}  "
              f"{status}")
        summary[f"log_bayes_factor_{method}"] = bf
        summary[f"log_bayes_factor_error_{method}"] = bf_error
        summary[f"evals_{method}"] = a.n_evals + b.n_evals
    chosen = [results[key]["auto"].diagnostics.get("chosen", "?") for key in "AB"]
    print(f"  auto chose {chosen[0]} for A and {chosen[1]} for B")
    summary["auto_chose"] = chosen
    save_figure(_plot(results, exact, methods, labels), out_dir, "bayes_factor_diabetes")
    return summary
