"""
Assignment: the evidence, the ELBO, and a variational fit you write yourself
============================================================================


Fill in the four functions marked TODO, then run

    python examples/assignments/vi_assignment.py

Each function is graded by ``bayescalc.testing`` as soon as you run the script: the
grader says whether it is right and, when it is not, the first place it disagrees and
which mistake it recognizes (a wrong sign, a missing entropy term, a missing
log-Jacobian, Z instead of log Z, ...). When every part passes, the script fits a
Gaussian to a coin's posterior with YOUR ELBO and YOUR optimizer loop, and compares the
gap log Z - ELBO (= KL(q || posterior)) with bayescalc's own fit.

A model is a ``bayescalc.Model``: ``model.log_joint(z)`` is log p(z, y) at a batch z of
shape (n, d) on the UNCONSTRAINED space (the log-Jacobian of the map z -> θ is already
in it), ``model.log_likelihood(z)``, ``model.log_prior(z)``, ``model.dim``. An
approximation q is a torch Distribution: ``q.rsample((n,))``, ``q.log_prob(z)``,
``q.entropy()``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch

from bayescalc.testing import check_elbo, check_evidence

# --- Part 1: the evidence by quadrature ----------------------------------------------------


def log_evidence(model):
    """log Z = log ∫ p(z, y) dz for a model with dim 1 or 2, by a grid (Riemann sum).

    Work in log space: the likelihood of 50 observations is far below the smallest
    float64, so sum the log terms with torch.logsumexp and add log(cell volume).
    Hint: a grid on [-12, 12]^d with 801 points per axis is accurate to ~1e-10 here.
    """
    raise NotImplementedError("TODO: part 1")


# --- Part 2: the ELBO -----------------------------------------------------------------------


def elbo(model, q, z):
    """The Monte Carlo ELBO from draws z ~ q of shape (n, d): mean of log p(z, y) - log q(z).

    Return one number (a 0-d tensor is fine; keep it differentiable for part 3).
    """
    raise NotImplementedError("TODO: part 2")


# --- Part 3: fit q by gradient ascent on your ELBO -----------------------------------------


def fit_gaussian(model, *, steps=1000, lr=0.05, n_samples=32, seed=0):
    """Fit q = N(m, s^2) (1-D) by maximizing your ELBO with torch.optim.Adam.

    Parameters to learn: ``m`` and ``log_s`` (s = exp(log_s) stays positive). Each step:
    draw z = m + s * eps with eps ~ N(0, 1) (the reparameterization trick: gradients flow
    through z), compute -elbo(model, q, z), backward, step. Return (m, s) as floats.
    """
    raise NotImplementedError("TODO: part 3")


def kl_gap(model, m, s, n_samples=20_000, seed=1):
    """log Z - ELBO(q) for q = N(m, s^2): the KL(q || posterior) your fit left.

    Use your ``log_evidence`` and your ``elbo`` with many draws (no gradient needed).
    """
    raise NotImplementedError("TODO: part 3")


# --- the grading and the experiment (no need to edit below) --------------------------------


def grade() -> dict:
    """Run every grader; print and return the verdicts."""
    verdicts = {
        "1. log evidence by quadrature": check_evidence(log_evidence),
        "2. the ELBO": check_elbo(elbo),
    }
    for part, verdict in verdicts.items():
        print(f"{'PASS' if verdict.ok else 'FAIL'}  {part}: {verdict.message}")
    return verdicts


def experiment(out_dir) -> dict:
    """Fit the coin's posterior with your code and with bayescalc; compare the gaps."""
    import bayescalc as bc
    from bayescalc.plot import new_figure, save_figure

    model = bc.models.beta_binomial(n=30, a=2.0, b=3.0, seed=5)
    m, s = fit_gaussian(model)
    gap = kl_gap(model, m, s)
    with warnings.catch_warnings(record=True):  # its k-hat warning is printed below
        warnings.simplefilter("always")
        reference = bc.vi.fit(model, "meanfield", method="advi", seed=0, progress=False)
    print(f"   your fit: q = N({m:.4f}, {s:.4f}^2) on the logit scale, "
          f"log Z - ELBO = {gap:.4f} nats")
    print(f"   bayescalc.vi.fit: mean {float(reference.mean[0]):.4f}, "
          f"sd {float(reference.cov[0, 0]) ** 0.5:.4f}, gap {reference.gap:.4f} nats")
    print(f"   its PSIS k-hat is {reference.khat:.2f}: above 0.7, the Gaussian's tails are "
          "lighter than the posterior's (exponential on the logit scale), so it is a poor "
          "importance proposal even though the gap is small")
    z = torch.linspace(-4, 2, 400, dtype=torch.float64).reshape(-1, 1)
    posterior = torch.exp(model.log_joint(z) - log_evidence(model))
    fig, ax = new_figure(size=(6.5, 4.0))
    ax.plot(z[:, 0], posterior, label="exact posterior (logit scale)", lw=2.5)
    ax.plot(z[:, 0], torch.distributions.Normal(m, s).log_prob(z[:, 0]).exp(), "--",
            label=f"your Gaussian fit (gap {gap:.3f} nats)")
    ax.set(xlabel="z = logit p", ylabel="density", title="A Gaussian fitted by your ELBO")
    ax.legend()
    print(f"   figure: {save_figure(fig, out_dir, 'vi_assignment')}")
    return {"m": m, "s": s, "gap": gap, "reference_gap": reference.gap}


def main(out_dir="bayescalc-assignments") -> dict:
    verdicts = grade()
    if all(verdict.ok for verdict in verdicts.values()):
        print("All parts pass. Your variational fit of a coin's posterior:")
        experiment(Path(out_dir))
        print("Question: why is the gap never negative, and why is it not zero here? "
              "(Hint: the posterior on the logit scale is not Gaussian.)")
    else:
        print("Fix the FAIL parts, then run the script again.")
    return verdicts


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bayescalc-assignments")
