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
    calls = []

    def f(points):
        calls.append(points.shape)
        return points[:, 0] ** 2 + points[:, 1] ** 2

    out = plot_optimization_paths(f, [(-1, 1), (-1, 1)], ax=ax, vectorized=True,
                                  resolution=20)
    assert out is fig and fig.axes[0] is ax
    assert calls == [(400, 2)]                 # the whole 20 x 20 grid in one batch
    filled, lines = ax.collections             # contourf and the white contour lines
    assert filled.filled and not lines.filled
    # the levels span f's range on the grid, [0, 2] (0 at the centre, 2 at the corners)
    assert lines.levels.min() == pytest.approx(0.0) and lines.levels.max() == pytest.approx(2.0)
    assert fig.axes[1].get_ylabel() == "f(x)"  # the colour bar says what it measures
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    assert ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (-1.0, 1.0)
    assert not ax.lines and ax.get_legend() is None   # no results, no labels: no series


def test_convergence_figure():
    f, grad = (lambda x: np.sum(x**2)), (lambda x: 2 * x)
    runs = [minimize(f, np.ones(2), method=m, lr=lr, grad=grad)
            for m, lr in (("newton", None), ("gd", 0.1))]
    fig = plot_convergence(runs, optimum=0.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("newton (1 steps)")
    assert len(ax.lines) == len(runs) and ax.get_yscale() == "log"
    # each line is f(x_k) - f* against k along its run's path
    for line, run in zip(ax.lines, runs, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(run.n_steps + 1))
        np.testing.assert_array_equal(line.get_ydata(), np.maximum(run.fun_path, 1e-300))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step k", "f(x_k) - f*")


def test_paths_figure_needs_two_pairs_of_bounds():
    with pytest.raises(ValueError, match="two \\(low, high\\) pairs"):
        plot_optimization_paths(hills, [(-1, 1)])
