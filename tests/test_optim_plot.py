"""The optim figures: built without pyplot, returned, saved."""

import numpy as np
import pytest

from bayescalc.optim import critical_points, minimize
from bayescalc.optim.surfaces import HILLS_BOUNDS, hills, hills_gradient, hills_hessian
from bayescalc.plot import new_figure, save_figure
from bayescalc.plot.optim import plot_convergence, plot_optimization_paths


def test_paths_and_critical_points_figure(tmp_path):
    runs = [minimize(hills, np.array(s), method="lbfgs", grad=hills_gradient)
            for s in ([1.6, 1.0], [-0.5, -0.5])]
    points = critical_points(hills, HILLS_BOUNDS, seed=0, grad=hills_gradient,
                             hess=hills_hessian)
    fig = plot_optimization_paths(hills, HILLS_BOUNDS, results=runs, points=points,
                                  labels=["a", "b"], resolution=40)
    ax = fig.axes[0]
    assert ax.get_xlim() == (-3.0, 2.5)
    assert len(ax.lines) == 3 * len(runs)  # path, start, end per run
    texts = [t.get_text() for t in ax.texts]
    assert any("global min" in t for t in texts) and any("global max" in t for t in texts)
    assert save_figure(fig, tmp_path, "paths").stat().st_size > 0


def test_vectorized_contour_and_a_given_axes():
    fig, ax = new_figure()
    out = plot_optimization_paths(lambda p: p[:, 0] ** 2 + p[:, 1] ** 2, [(-1, 1), (-1, 1)],
                                  ax=ax, vectorized=True, resolution=20)
    assert out is fig


def test_convergence_figure():
    f, grad = (lambda x: np.sum(x**2)), (lambda x: 2 * x)
    runs = [minimize(f, np.ones(2), method=m, lr=lr, grad=grad)
            for m, lr in (("newton", None), ("gd", 0.1))]
    fig = plot_convergence(runs, optimum=0.0)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("newton (1 steps)")


def test_paths_figure_needs_two_pairs_of_bounds():
    with pytest.raises(ValueError, match="two \\(low, high\\) pairs"):
        plot_optimization_paths(hills, [(-1, 1)])
