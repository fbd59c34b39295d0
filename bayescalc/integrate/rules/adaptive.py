"""The one adaptive loop that every refining rule runs in, and the contract it asks for.

A rule here is an object that knows where to evaluate next and what the values told it.
It offers four methods (see :class:`Refinement`); this loop owns everything the rules share:
the budget, the calls of the integrand (ONE call a round, every new node at once), the
log-space rescale (:func:`.scaled.rescale`), the tolerance, the history of the estimates
and the :class:`~.scaled.ScaledEstimate` returned. The rules that run in it:
Gauss–Kronrod bisection (:mod:`.gauss_kronrod`), tanh-sinh levels (:mod:`.tanh_sinh`),
Genz–Malik region halving (:mod:`.genz_malik`), the dimension-adaptive sparse grid
(:mod:`.sparse_grid`) and the tensor rule with order doubling (:mod:`.tensor_rule`).

The contract is scipy's rule contract (``scipy/integrate/_rules/_base.py``:
``nodes_and_weights``, ``estimate``, ``estimate_error``) made adaptive: ``nodes`` gives
the nodes of the next round, ``estimate`` applies the weights to their values and
returns the estimate and its error, and ``refine`` decides where the next nodes go.
A new rule plugs in without touching the loop.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .scaled import ScaledEstimate, rescale, tolerance


class Refinement(Protocol):
    """An adaptive rule between two rounds of :func:`adaptive_loop` (its state is its own).

    ``nodes(evals_left)``
        The points of the next round (an array whose first axis counts the points; it
        may be empty), or the message saying why no round fits in ``evals_left``.
    ``rescale(factor)``
        Multiply every stored sum by ``factor`` (log mode: the shift grew).
    ``estimate(values, n_evals, shift)``
        Take the values at those points (linear scale: ``f * exp(-shift)``) and return
        ``(total, error)``, the estimate of the integral and its error so far.
    ``converged(total, error, allowed)``
        Called when ``error <= allowed``: the converged message, or ``""`` when the
        rule needs more evidence first (too few levels, an estimate still moving).
    ``refine(total, error, allowed, evals_left)``
        Choose the next round's points; ``""`` to go on, or the message why it stops
        (the budget, roundoff, a suspected singularity).
    """

    def nodes(self, evals_left: int) -> np.ndarray | str: ...

    def rescale(self, factor: float) -> None: ...

    def estimate(self, values: np.ndarray, n_evals: int, shift: float) -> tuple: ...

    def converged(self, total: float, error: float, allowed: float) -> str: ...

    def refine(self, total: float, error: float, allowed: float, evals_left: int) -> str: ...


def adaptive_loop(refinement: Refinement, integrand, *, rtol: float, atol: float,
                  log: bool, max_evals: int, history: list | None = None) -> ScaledEstimate:
    """Run ``refinement`` until its error meets the tolerance, it stops, or the budget ends.

    ``integrand`` takes the points of a round and returns their values (log values with
    ``log=True``: the sums are then kept as ``exp(shift) * total``, see :mod:`.scaled`).
    ``history``, a list, receives ``(n_evals, total, shift)`` after every round.

    Examples
    --------
    >>> from bayescalc.integrate.rules.tensor_rule import TensorRefinement
    >>> rule = TensorRefinement(np.zeros(2), np.ones(2), max_evals=10_000)  # ∫∫ e^(x+y)
    >>> found = adaptive_loop(rule, lambda x: np.exp(x.sum(axis=1)), rtol=1e-12, atol=0.0,
    ...                       log=False, max_evals=10_000)
    >>> print(f"{found.total:.12f} {(np.e - 1) ** 2:.12f}", found.n_evals, found.converged)
    2.952492442013 2.952492442013 340 True
    """
    shift = -np.inf if log else 0.0
    n_evals, total, error, converged = 0, 0.0, np.inf, False
    while True:
        nodes = refinement.nodes(max_evals - n_evals)
        if isinstance(nodes, str):
            message = nodes
            break
        values = integrand(nodes) if len(nodes) else np.empty(0)
        n_evals += values.size
        if log:
            values, shift, factor = rescale(values, shift)
            if factor != 1.0:
                refinement.rescale(factor)
        total, error = refinement.estimate(values, n_evals, shift)
        if history is not None:
            history.append((n_evals, total, shift))
        allowed = tolerance(total, shift, rtol=rtol, atol=atol, log=log)
        message = refinement.converged(total, error, allowed) if error <= allowed else ""
        if message:
            converged = True
            break
        message = refinement.refine(total, error, allowed, max_evals - n_evals)
        if message:
            break
    return ScaledEstimate(total, error, shift, n_evals, converged, message)


def converged_message(error: float, allowed: float) -> str:
    """The message of a rule that stops as soon as its error meets the tolerance."""
    return f"converged: error estimate {error:.2e} <= tolerance {allowed:.2e}"
