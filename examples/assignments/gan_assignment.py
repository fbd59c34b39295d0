"""Assignment: why GAN training spirals, and the update rules that fix it.

Fill in the five functions marked TODO, then run

    python examples/assignments/gan_assignment.py

Each function is graded by ``bayescalc.testing`` as soon as you run the script: the
grader says whether it is right and, when it is not, the first place it disagrees and
which mistake (or which other rule) it recognizes. When every part passes, the script
trains the Dirac-GAN with your own update rules and saves a figure of their paths.

The game: the generator is a point mass at θ, the data a point mass at 0, and the
discriminator D(x) = ψx. The loss f(θ, ψ) = log σ(θψ) + log σ(0) is minimized over θ
(the generator) and maximized over ψ (the discriminator); its only equilibrium is
(0, 0). In the functions below the generator's variable is called x and the
discriminator's y, as in ``bayescalc.minmax``.

Every step function receives the current point (x, y), two functions ``grad_x(x, y)``
and ``grad_y(x, y)`` returning ∂f/∂x and ∂f/∂y, and the step size ``lr``; it returns
the pair ``(x_new, y_new)``. x descends (it minimizes f), y ascends (it maximizes f).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bayescalc.testing import check_gradient, check_kl, check_minmax_step

# --- Part 1: a divergence ------------------------------------------------------------------
# A GAN minimizes a divergence between the data and the generator's distribution. The
# simplest one to write down is the KL divergence between two Gaussians.


def kl_gaussians(mean_q, cov_q, mean_p, cov_p):
    """KL(q || p) for q = N(mean_q, cov_q) and p = N(mean_p, cov_p), in d dimensions.

    Means have shape (d,), covariances (d, d); return one number.
    Hint: 1/2 [tr(Σp⁻¹ Σq) + (μp - μq)ᵀ Σp⁻¹ (μp - μq) - d + log det Σp - log det Σq].
    """
    raise NotImplementedError("TODO: part 1")


# --- Part 2: the game's gradient -----------------------------------------------------------


def dirac_gan_loss(point):
    """f(θ, ψ) = log σ(θψ) + log σ(0) at point = (θ, ψ) (given, nothing to do)."""
    theta, psi = point
    return -np.log1p(np.exp(-theta * psi)) + np.log(0.5)


def dirac_gan_gradient(point):
    """The gradient (∂f/∂θ, ∂f/∂ψ) of ``dirac_gan_loss`` at point = (θ, ψ).

    Hint: d/dt log σ(t) = σ(-t) = 1 / (1 + e^t), and the chain rule.
    """
    raise NotImplementedError("TODO: part 2")


# --- Part 3: the update rules --------------------------------------------------------------


def simultaneous_step(x, y, grad_x, grad_y, lr):
    """Simultaneous gradient descent-ascent: both players step from the same point."""
    raise NotImplementedError("TODO: part 3a")


def extragradient_step(x, y, grad_x, grad_y, lr):
    """Extragradient: a look-ahead step from (x, y), then a step from (x, y) using the
    gradients at the look-ahead point."""
    raise NotImplementedError("TODO: part 3b")


def optimistic_step(x, y, grad_x, grad_y, lr, previous):
    """Optimistic GDA: twice the current gradient step, minus the previous one.

    ``previous = (gx, gy)`` holds ∂f/∂x and ∂f/∂y at the previous iterate.
    """
    raise NotImplementedError("TODO: part 3c")


# --- the grading and the experiment (no need to edit below) --------------------------------

STEPS = {"simultaneous": simultaneous_step, "extragradient": extragradient_step,
         "optimistic": optimistic_step}


def grade() -> dict:
    """Run every grader; print and return the verdicts."""
    verdicts = {
        "1. KL between Gaussians": check_kl(kl_gaussians),
        "2. the Dirac-GAN gradient": check_gradient(dirac_gan_loss, dirac_gan_gradient,
                                                    np.array([0.7, -1.3])),
    }
    for name, step in STEPS.items():
        verdicts[f"3. the {name} step"] = check_minmax_step(step, name)
    for part, verdict in verdicts.items():
        print(f"{'PASS' if verdict.ok else 'FAIL'}  {part}: {verdict.message}")
    return verdicts


def train(step, *, start=(1.0, 1.0), lr=0.2, n_steps=300):
    """Run a student's step on the Dirac-GAN; return the path of (x, y)."""
    def grad_x(x, y):
        return dirac_gan_gradient(np.array([x[0], y[0]]))[:1]

    def grad_y(x, y):
        return dirac_gan_gradient(np.array([x[0], y[0]]))[1:]

    x, y = np.array([start[0]]), np.array([start[1]])
    previous = (grad_x(x, y), grad_y(x, y))
    path = [(x[0], y[0])]
    for _ in range(n_steps):
        if step is optimistic_step:
            current = (grad_x(x, y), grad_y(x, y))
            x, y = step(x, y, grad_x, grad_y, lr, previous)
            previous = current
        else:
            x, y = step(x, y, grad_x, grad_y, lr)
        path.append((float(np.ravel(x)[0]), float(np.ravel(y)[0])))
    return np.array(path)


def experiment(out_dir) -> dict:
    """Train the Dirac-GAN with each of your rules; print the distances, save a figure."""
    from bayescalc.minmax import games
    from bayescalc.plot import new_figure, save_figure
    from bayescalc.plot.minmax import plot_phase_portrait

    paths = {name: train(step) for name, step in STEPS.items()}
    distances = {name: float(np.hypot(*path[-1])) for name, path in paths.items()}
    for name, distance in distances.items():
        print(f"   {name:14s} distance to the equilibrium after 300 steps: {distance:.3g}")
    fig, ax = new_figure(size=(7.5, 4.5))
    plot_phase_portrait(games.dirac_gan, paths, ax=ax, title="your rules on the Dirac-GAN",
                        labels=("θ (generator)", "ψ (discriminator)"))
    print(f"   figure: {save_figure(fig, out_dir, 'gan_assignment')}")
    return distances


def main(out_dir="bayescalc-assignments") -> dict:
    verdicts = grade()
    if all(verdict.ok for verdict in verdicts.values()):
        print("All parts pass. Your rules on the Dirac-GAN from (1, 1), lr = 0.2:")
        experiment(Path(out_dir))
        print("Question: which rules converge, and why does simultaneous GDA not? "
              "(bayescalc.minmax.stability gives the eigenvalues.)")
    else:
        print("Fix the FAIL parts, then run the script again.")
    return verdicts


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bayescalc-assignments")
