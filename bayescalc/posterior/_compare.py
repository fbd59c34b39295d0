"""``compare``: every applicable evidence method on one model, side by side."""

from __future__ import annotations

import math
import time
import warnings

from .._core.random import spawn_seeds
from ._evidence import METHODS
from ._vi_bounds import is_lower_bound, vi_bound_rows
from .result import EvidenceResult

_DEFAULT_SKIP = ("auto",)


class EvidenceTable:
    """The results of several evidence methods on one model (built by :func:`compare`).

    Attributes
    ----------
    rows : list of EvidenceResult
        One per method, in the order run (a method that does not apply has
        ``success=False`` and its error message).
    times : list of float
        Wall-clock seconds per method.
    exact : float or None
        ``model.log_z_exact`` where known.
    disagreements : list of (str, str)
        Pairs of successful methods whose estimates differ by more than
        ``2 sqrt(e1^2 + e2^2)`` (and 1e-8); a lower bound (the VI rows) only where it
        lies that far *above* an estimate.

    Examples
    --------
    >>> table = EvidenceTable([EvidenceResult(-1.0, 0.01, 10, 0, "a", True, "", {}),
    ...                        EvidenceResult(-1.5, 0.01, 10, 0, "b", True, "", {})],
    ...                       [0.1, 0.2], exact=-1.0)
    >>> table.disagreements
    [('a', 'b')]
    """

    def __init__(self, rows, times, exact=None):
        self.rows = list(rows)
        self.times = list(times)
        self.exact = exact
        ok = [r for r in self.rows if r.success and math.isfinite(r.log_z)]
        self.disagreements = []
        for i, a in enumerate(ok):
            for b in ok[i + 1:]:
                bar = max(2 * math.hypot(_finite(a.error), _finite(b.error)), 1e-8)
                if is_lower_bound(a) and is_lower_bound(b):
                    continue  # two bounds may lie anywhere below log Z
                if is_lower_bound(a) or is_lower_bound(b):
                    bound, estimate = (a, b) if is_lower_bound(a) else (b, a)
                    if bound.log_z - estimate.log_z > bar:  # a bound above the estimate
                        self.disagreements.append((a.method, b.method))
                elif abs(a.log_z - b.log_z) > bar:
                    self.disagreements.append((a.method, b.method))

    def __getitem__(self, method):
        for r in self.rows:
            if r.method == method:
                return r
        raise KeyError(method)

    def to_dict(self):
        """Columns as lists: method, log_z, error, n_evals, n_grad_evals, time, success."""
        return {"method": [r.method for r in self.rows],
                "log_z": [r.log_z for r in self.rows],
                "error": [r.error for r in self.rows],
                "n_evals": [r.n_evals for r in self.rows],
                "n_grad_evals": [r.n_grad_evals for r in self.rows],
                "time": self.times, "success": [r.success for r in self.rows]}

    def __repr__(self):
        head = (f"{'method':<15}{'log Z':>13}{'error':>11}{'|dlogZ|':>10}{'n_evals':>10}"
                f"{'n_grad':>9}{'time s':>8}  ok")
        lines = [head]
        flagged = {m for pair in self.disagreements for m in pair}
        for r, t in zip(self.rows, self.times, strict=False):
            delta = abs(r.log_z - self.exact) if self.exact is not None and \
                math.isfinite(r.log_z) else float("nan")
            mark = " *" if r.method in flagged else ""
            lines.append(f"{r.method:<15}{r.log_z:>13.6f}{r.error:>11.2e}{delta:>10.2e}"
                         f"{r.n_evals:>10d}{r.n_grad_evals:>9d}{t:>8.2f}  "
                         f"{'yes' if r.success else 'no'}{mark}")
        if self.exact is not None:
            lines.append(f"exact log Z = {self.exact:.6f}")
        if self.disagreements:
            lines.append("* disagree beyond 2 combined errors: " +
                         ", ".join(f"{a}/{b}" for a, b in self.disagreements))
        return "\n".join(lines)

    def plot(self, **kwargs):
        """Estimates with error bars and the exact line (:func:`bayescalc.plot.plot_evidence`)."""
        from ..plot.posterior import plot_evidence

        return plot_evidence(self, **kwargs)


def _finite(x):
    return x if math.isfinite(x) else 1e300


def compare(model, methods=None, seed=None, executor=None, progress=False,
            options=None, vi=None) -> EvidenceTable:
    """Run several evidence methods on ``model`` and tabulate them.

    Parameters
    ----------
    model : bayescalc.Model
    methods : sequence of str, optional
        Default: every method in ``METHODS`` except ``"auto"``.
    seed : int, optional
        Each method gets its own spawned seed (the same for any executor).
    executor : optional
        Passed to every method.
    progress : bool
    options : dict, optional
        ``{method: {option: value}}`` passed to the methods.
    vi : bayescalc.vi.VIResult or bool, optional
        Add the lower bounds of a VI fit as rows ``"vi-elbo"`` and ``"vi-iwae"``
        (:func:`._vi_bounds.vi_bound_rows`): a fit already made, or True to fit the
        default full-rank Gaussian here.

    Returns
    -------
    EvidenceTable

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal
    >>> from bayescalc import Model
    >>> m = Model(lambda t: Normal(0.0, 1.0).log_prob(t[:, 0]),
    ...           lambda t: Normal(t[:, 0], 1.0).log_prob(torch.tensor(1.0)), dim=1)
    >>> table = compare(m, methods=["laplace", "quadrature", "importance"], seed=0)
    >>> table.disagreements
    []
    """
    if methods is None:
        methods = [m for m in METHODS if m not in _DEFAULT_SKIP]
    methods = [m.lower().replace("_", "-") for m in methods]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"methods must be among {sorted(METHODS)}, got {unknown}")
    options = options or {}
    seeds = spawn_seeds(seed, len(methods) + 1)
    rows, times = [], []
    for name, s in zip(methods, seeds, strict=False):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = METHODS[name](model, seed=s, executor=executor, progress=progress,
                                  **options.get(name, {}))
        except (ValueError, ImportError) as exc:  # a method that does not apply
            r = EvidenceResult(float("nan"), float("inf"), 0, 0, name, False, str(exc), {})
        times.append(time.perf_counter() - start)
        rows.append(r._replace(method=name))
    if vi is not None and vi is not False:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bounds = vi_bound_rows(model, vi, seed=int(seeds[-1].generate_state(1)[0]))
        spent = time.perf_counter() - start
        rows.extend(bounds)
        times.extend([spent, 0.0])
    return EvidenceTable(rows, times, getattr(model, "log_z_exact", None))
