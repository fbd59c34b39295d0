"""Figures for everything in bayescalc. Functions return matplotlib Figure/Axes and never
show them; they build ``matplotlib.figure.Figure`` objects directly (no pyplot state), so
they work headless without choosing a backend."""

from ._common import new_figure, save_figure
from .derivatives import plot_derivative_check, plot_partials, plot_secants, plot_step_error
from .minmax import plot_distance_to_equilibrium, plot_phase_portrait, plot_ring_progress
from .monte_carlo import plot_error_vs_n, plot_importance_weights, plot_vegas_map
from .optim import plot_convergence, plot_optimization_paths
from .posterior import plot_evidence, plot_posterior
from .quadrature import plot_log_integrand, plot_quadrature_convergence

__all__ = ["new_figure", "save_figure", "plot_secants", "plot_step_error",
           "plot_derivative_check", "plot_partials", "plot_optimization_paths", "plot_convergence",
           "plot_error_vs_n", "plot_importance_weights", "plot_vegas_map",
           "plot_quadrature_convergence", "plot_log_integrand",
           "plot_phase_portrait", "plot_distance_to_equilibrium", "plot_ring_progress",
           "plot_evidence", "plot_posterior"]
