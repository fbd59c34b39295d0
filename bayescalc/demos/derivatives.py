"""The derivative, from the difference quotient to the gradient (the notes' examples).

1. d/dx x² = 2x: the difference quotient (f(x+h) - f(x))/h = 2x + h tends to 2x as
   h -> 0 (the secant lines turn into the tangent), until round-off takes over: the
   error against h is a V, truncation h falling, round-off ~ eps|f|/h rising, best near
   h* = sqrt(2 eps) |x|. The adaptive Richardson engine beats the bottom of the V.
2. The chain rule: h(g(x)) with h = x³, g = x² has derivative 6x⁵; sin((4x)²) has
   32x·cos(16x²): checked numerically and by autodiff at many points.
3. The gradient as the vector of partial derivatives, each holding the other variables
   constant: f(x, y) = x²y + y³ at (1, 2) has gradient (2xy, x² + 3y²) = (4, 13).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bayescalc.diff import derivative, finite_difference, gradient
from bayescalc.plot import save_figure
from bayescalc.plot.derivatives import (
    plot_derivative_check,
    plot_partials,
    plot_secants,
    plot_step_error,
)

TITLE = "Derivatives: from the difference quotient to the gradient"
FIGURES = {
    "secants_to_tangent": (
        "Secant lines of f(x) = x² through x = 1.5 for shrinking steps h: their slopes "
        "(f(x+h) - f(x))/h = 2x + h turn into the tangent's slope 2x = 3 as h goes to 0. "
        "This is the limit definition of the derivative."),
    "error_vs_step": (
        "Error of the forward difference against the step h (log-log). Read it from the "
        "right: the error falls like h (truncation) until round-off, which grows like "
        "eps·x²/h, takes over near h* = sqrt(2 eps)|x|, giving a V. The marked point is "
        "the adaptive Richardson engine: it lands below the bottom of the V."),
    "chain_rule_1": (
        "The chain rule on h(g(x)) = (x²)³: the exact derivative 6x⁵ (line) and the "
        "numeric (Richardson) and autodiff values on top of it; the lower panel shows "
        "their errors, near round-off everywhere."),
    "chain_rule_2": (
        "The chain rule on sin((4x)²), derivative 32x·cos(16x²): a fast oscillation, "
        "still matched by both the numeric and the automatic derivative; the lower "
        "panel shows the errors."),
    "gradient_partials": (
        "The gradient as the vector of partial derivatives: f(x, y) = x²y + y³ near "
        "(1, 2), with the slices along x (y held fixed) and along y (x held fixed) whose "
        "slopes are ∂f/∂x = 4 and ∂f/∂y = 13, and the gradient arrow (4, 13)."),
}

EPS = np.finfo(float).eps
X0 = 1.5


def square(x):
    return x * x


def difference_quotients(out_dir) -> dict:
    """x²: the quotient 2x + h, the secants, and the V-shaped error curve."""
    print(f"1. d/dx x^2 at x = {X0}: (f(x+h) - f(x))/h = 2x + h -> 2x = {2 * X0}")
    for h in (1.0, 0.5, 0.1, 0.01, 1e-4):
        quotient = finite_difference(square, X0, method="forward", step=h).value
        print(f"   h = {h:<7g} quotient = {quotient:.10f}   2x + h = {2 * X0 + h:.10f}")
    fig = plot_secants(square, X0, [1.0, 0.5, 0.25, 0.1], slope=2 * X0)
    save_figure(fig, out_dir, "secants_to_tangent")

    steps = np.logspace(-15, 0, 61)
    forward = np.array([finite_difference(square, X0, method="forward", step=h).value
                        for h in steps])
    errors = np.abs(forward - 2 * X0)
    best = int(np.argmin(errors))
    theory = np.sqrt(2 * EPS) * X0            # minimizes h + 2 eps x^2 / h
    engine = finite_difference(square, X0)
    print(f"   forward-difference error is smallest at h = {steps[best]:.2g} "
          f"(error {errors[best]:.1g}); theory: h* = sqrt(2 eps)|x| = {theory:.2g}")
    print(f"   adaptive Richardson: error {abs(engine.value - 2 * X0):.1g} "
          f"(estimate {engine.error:.1g}) with {engine.n_evals} evaluations")
    fig = plot_step_error(
        steps, {"forward difference (f(x+h) - f(x))/h": errors},
        optimum=(steps[best], errors[best]),
        models={"truncation: h": steps, "round-off: eps x^2 / h": EPS * X0**2 / steps},
        marks={f"Richardson engine ({engine.n_evals} evaluations, error "
               f"{abs(engine.value - 2 * X0):.0e})": (engine.step, abs(engine.value - 2 * X0))})
    save_figure(fig, out_dir, "error_vs_step")
    return {"best_step": float(steps[best]), "best_forward_error": float(errors[best]),
            "theoretical_best_step": float(theory),
            "richardson_error": float(abs(engine.value - 2 * X0))}


def chain_rule(out_dir, quick) -> dict:
    """6x⁵ and 32x cos(16x²), numerically (numpy f) and by autodiff (torch f)."""
    points = np.linspace(-1.2, 1.2, 41 if quick else 241)
    cases = [
        ("h(g(x)) = (x^2)^3", lambda x: (x**2) ** 3, lambda x: (x**2) ** 3,
         lambda x: 6 * x**5, "6 x^5"),
        ("sin((4x)^2)", lambda x: np.sin((4 * x) ** 2), lambda x: torch.sin((4 * x) ** 2),
         lambda x: 32 * x * np.cos(16 * x**2), "32 x cos(16 x^2)"),
    ]
    summary = {}
    print(f"2. chain rule at {points.size} points in [-1.2, 1.2]: max |error| / max(|f'|, 1)")
    for index, (name, f_numpy, f_torch, exact, formula) in enumerate(cases):
        truth = exact(points)
        numeric = finite_difference(f_numpy, points, vectorized=True)
        auto = derivative(f_torch, torch.tensor(points)).numpy()
        scale = np.maximum(np.abs(truth), 1.0)
        numeric_error = float(np.max(np.abs(numeric.value - truth) / scale))
        auto_error = float(np.max(np.abs(auto - truth) / scale))
        covered = bool(np.all(numeric.error >= np.abs(numeric.value - truth)))
        print(f"   d/dx {name} = {formula}: numeric {numeric_error:.1e} "
              f"(error estimates cover: {covered}), autodiff {auto_error:.1e}")
        fig = plot_derivative_check(points, truth, {"Richardson": numeric.value,
                                                    "autodiff": auto},
                                    title=f"d/dx {name} = {formula}")
        save_figure(fig, out_dir, f"chain_rule_{index + 1}")
        summary[f"chain_rule_{index + 1}_numeric_error"] = numeric_error
        summary[f"chain_rule_{index + 1}_autodiff_error"] = auto_error
    return summary


def partial_derivatives(out_dir) -> dict:
    """The gradient of f(x, y) = x²y + y³ at (1, 2), one partial per coordinate."""
    def f(p):
        return p[..., 0] ** 2 * p[..., 1] + p[..., 1] ** 3

    point = np.array([1.0, 2.0])
    partial_x = derivative(lambda x: f(np.array([x, point[1]])), point[0], method="richardson")
    partial_y = derivative(lambda y: f(np.array([point[0], y])), point[1], method="richardson")
    grad = gradient(f, point)
    print("3. f(x, y) = x^2 y + y^3 at (1, 2): partials, each holding the other fixed:")
    print(f"   df/dx = 2xy = {partial_x:.12f}, df/dy = x^2 + 3y^2 = {partial_y:.12f}")
    print(f"   gradient(f) = [{grad[0]:.12f}, {grad[1]:.12f}]")
    fig = plot_partials(f, point, grad)
    save_figure(fig, out_dir, "gradient_partials")
    return {"gradient": [float(g) for g in grad]}


def main(out_dir, quick: bool = False, seed: int = 0) -> dict:
    """Run the three parts, save the figures under ``out_dir``; return the numbers.

    ``seed`` is accepted for a uniform interface: nothing here is random.
    """
    out_dir = Path(out_dir)
    summary = {}
    summary.update(difference_quotients(out_dir))
    summary.update(chain_rule(out_dir, quick))
    summary.update(partial_derivatives(out_dir))
    return summary


