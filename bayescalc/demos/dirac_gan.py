"""The Dirac-GAN (Mescheder, Geiger and Nowozin 2018): which training methods converge?

The generator is a point mass at θ, the data a point mass at 0, the discriminator
D(x) = ψx; the game is L(θ, ψ) = φ(ψθ) + φ(0), φ(t) = log σ(t) (min over θ, max over ψ),
with its only equilibrium at (0, 0). The Jacobian of the game field there has eigenvalues
±i/2: purely imaginary, so simultaneous gradient descent-ascent spirals out, alternating
steps circle, and extragradient, optimistic and consensus steps spiral in. The R1
gradient penalty γ/2 ψ² moves the eigenvalues to γ/2 ± sqrt(γ²/4 - 1/4), into the right
half plane: with it, even simultaneous steps converge.

The figure shows every method's path on the flow, without and with the penalty.
"""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path

import numpy as np

from bayescalc import ConvergenceWarning
from bayescalc.minmax import games, solve, stability
from bayescalc.plot import new_figure, save_figure
from bayescalc.plot.minmax import plot_distance_to_equilibrium, plot_phase_portrait

TITLE = "The Dirac-GAN: which training rules converge to the equilibrium"
FIGURES = {
    "dirac_gan": (
        "The Dirac-GAN game on the (θ, ψ) plane. Top row: grey streamlines are the "
        "gradient descent-ascent flow, which circles the equilibrium (0, 0); each coloured "
        "path is one update rule from (1, 1) (a path that leaves the window says so in "
        "the legend and ends in an arrow). Bottom row: each rule's distance to (0, 0) "
        "against the step, log scale. Left, no penalty: simultaneous steps spiral out, "
        "alternating steps circle at a constant distance, extragradient and optimistic "
        "steps (nearly the same rule here: the dashed and dotted lines lie on each other) "
        "spiral slowly in, consensus goes straight in. Right, with the R1 penalty "
        "γ = 0.3: every rule converges, simultaneous steps included."),
}

METHODS = ("simultaneous", "alternating", "extragradient", "optimistic", "consensus")
START, LR, PENALTY = (1.0, 1.0), 0.2, 0.3
# stop once |v| <= TOL; the figures and the docs use this tolerance
TOL = 1e-6


def main(out_dir, quick: bool = False, seed: int = 0) -> dict:
    """Solve the game with every rule, save the figure under ``out_dir``; return the numbers.

    ``seed`` is accepted for a uniform interface: nothing here is random.
    """
    out_dir = Path(out_dir)
    steps = 150 if quick else 600
    fig, axes = new_figure(2, 2, size=(5.6, 4.4))
    summary = {}
    print(f"Dirac-GAN from (θ, ψ) = {START}, lr = {LR}, {steps} steps: distance to (0, 0)")
    for column, gamma in enumerate((0.0, PENALTY)):
        game = partial(games.dirac_gan, gradient_penalty=gamma)
        local = stability(game, 0.0, 0.0, lr=LR)
        paths = {}
        line = []
        for method in METHODS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                result = solve(game, *START, method=method, lr=LR, steps=steps, tol=TOL)
            paths[method] = result.path
            distance = float(np.hypot(result.x, result.y))
            summary[f"{method}_gamma{gamma:g}"] = round(distance, 4)
            line.append(f"{method} {distance:.3g}")
        eigen = ", ".join(f"{round(v.real, 3) + 0.0:+.3f}{round(v.imag, 3) + 0.0:+.3f}i"
                          for v in local.eigenvalues)
        print(f"  γ = {gamma:g}: eigenvalues at (0, 0): {eigen}")
        print("     step radius ρ: " + ", ".join(f"{name} {rho:.4f}"
                                                  for name, rho in local.spectral_radius.items()))
        print("     distance:      " + ", ".join(line))
        title = "no penalty" if gamma == 0 else f"R1 penalty γ = {gamma:g}"
        # the field on a 15 x 15 grid (one autodiff call per node): the streamlines
        # interpolate it, and look the same as on a finer grid
        plot_phase_portrait(game, paths, bounds=((-2.0, 2.0), (-2.0, 2.0)), grid=15,
                            ax=axes[0, column], title=f"Dirac-GAN, {title}: paths",
                            labels=("θ (generator)", "ψ (discriminator)"))
        plot_distance_to_equilibrium(paths, ax=axes[1, column],
                                     title=f"{title}: distance to (0, 0), lr = {LR}")
    fig.suptitle(f"Dirac-GAN: five update rules from (θ, ψ) = {START}, {steps} steps")
    save_figure(fig, out_dir, "dirac_gan")
    return summary


