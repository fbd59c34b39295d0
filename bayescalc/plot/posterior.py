"""Figures of the posterior layer: evidence estimates side by side, normalized posteriors."""

from __future__ import annotations

import math

import numpy as np

from ._common import new_figure


def plot_evidence(table, ax=None, linthresh=1e-3):
    """Each method's log Z with its ±2-error bar, and the exact value as a line. Lower
    bounds (the VI rows of ``compare(..., vi=...)``) are drawn as green ``>``.

    With the exact value known, the axis shows ``log Z - exact`` on a symmetric log scale
    (linear within ``linthresh`` nats), so that methods 1e-8 and 4 nats off both show.

    Examples
    --------
    >>> from bayescalc.posterior.result import EvidenceResult
    >>> from bayescalc.posterior import EvidenceTable
    >>> t = EvidenceTable([EvidenceResult(-1.0, 0.01, 10, 0, "a", True, "", {})], [0.1], -1.0)
    >>> fig = plot_evidence(t)
    """
    fig, ax = new_figure(size=(6.0, 3.5)) if ax is None else (ax.figure, ax)
    rows = [r for r in table.rows if math.isfinite(r.log_z)]
    y = np.arange(len(rows))
    shift = table.exact if table.exact is not None else 0.0
    for k, r in zip(y, rows, strict=False):
        err = 2 * r.error if math.isfinite(r.error) else 0.0
        bound = r.diagnostics.get("bound") == "lower"  # a VI bound: log Z lies right of it
        ax.errorbar(r.log_z - shift, k, xerr=err,
                    fmt=(">" if bound else "o") if r.success else "x",
                    color=("C2" if bound else "C0") if r.success else "C3", capsize=3)
    ax.set_yticks(y, [r.method for r in rows])
    if table.exact is not None:
        ax.axvline(0.0, color="k", ls="--", lw=1, label=f"exact ({table.exact:.6g})")
        ax.set_xscale("symlog", linthresh=linthresh)
        ax.margins(x=0.08)
        ax.legend(loc="best")
        ax.set_xlabel("log Z - exact, nats (bars: ±2 reported errors; x: success=False)")
    else:
        ax.set_xlabel("log Z (bars: ±2 reported errors; x: success=False)")
    return fig


_VIEW_POINTS = 201


def _view(posterior):
    """Axis limits holding all but 1e-3 of each marginal, padded by 15%: the grid itself
    reaches where the density is 1e-6 of its peak, far beyond what there is to see."""
    lo, hi = posterior.quantiles([5e-4, 1 - 5e-4])
    pad = 0.15 * (hi - lo)
    return list(zip(lo - pad, hi + pad, strict=True))


def plot_posterior(posterior, level=0.9, n_draws=2000, seed=0):
    """1-D: density with its ``level`` interval shaded; 2-D: density contours with the
    ``level`` region; d > 2: pairs of marginals (diagonal densities, scatter below).

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> from bayescalc.posterior import normalize
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1)
    >>> fig = plot_posterior(normalize(m, seed=0))
    """
    names = posterior.names
    d = len(names)
    if d == 1:
        fig, ax = new_figure(size=(5.0, 3.5))
        x, p = posterior.marginal(0)
        lo, hi = posterior.credible_interval(level)[0]
        ax.plot(x, p, color="C0")
        inside = (x >= lo) & (x <= hi)
        ax.fill_between(x[inside], p[inside], alpha=0.3, color="C0",
                        label=f"{int(level * 100)}% interval")
        ax.set_xlim(*_view(posterior)[0])
        ax.set_xlabel(names[0])
        ax.set_ylabel("density")
        ax.legend(loc="best")
        return fig
    if d == 2 and posterior._grid is not None:
        fig, ax = new_figure(size=(5.0, 4.5))
        # the density in theta on a grid of its own over the view (the posterior's grid
        # spans the whole support it checked, too coarse to draw), clipped to the support
        g = posterior._grid
        (x0, x1), (y0, y1) = _view(posterior)
        (x0, x1), (y0, y1) = [(max(a, np.min(t)), min(b, np.max(t)))
                              for (a, b), t in zip(((x0, x1), (y0, y1)), g["theta_axes"],
                                                   strict=True)]
        tx, ty = np.linspace(x0, x1, _VIEW_POINTS), np.linspace(y0, y1, _VIEW_POINTS)
        mx, my = np.meshgrid(tx, ty, indexing="ij")
        dens = posterior.pdf(np.stack([mx.ravel(), my.ravel()], 1)).reshape(mx.shape)
        dens = np.where(np.isfinite(dens), dens, 0.0)
        order = np.sort(dens.ravel())[::-1]  # equal cells in theta: density ~ mass
        cut = order[min(np.searchsorted(np.cumsum(order) / order.sum(), level), order.size - 1)]
        ax.contourf(tx, ty, dens.T, levels=12, cmap="Blues")
        ax.contour(tx, ty, dens.T, levels=[cut], colors="C3")
        ax.set_title(f"posterior density; red: {int(level * 100)}% highest-density region")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        return fig
    fig, axes = new_figure(d, d, size=(2.2, 2.2))
    axes = np.atleast_2d(axes)
    draws = posterior.sample(n_draws, seed)
    for i in range(d):
        for j in range(d):
            ax = axes[i, j]
            if i == j:
                x, p = posterior.marginal(i)
                ax.plot(x, p, color="C0")
            elif i > j:
                ax.plot(draws[:, j], draws[:, i], ".", ms=1, alpha=0.3, color="C0")
            else:
                ax.set_axis_off()
            if i == d - 1:
                ax.set_xlabel(names[j])
    return fig
