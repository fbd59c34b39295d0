"""
Monte Carlo: the error against n, and a bad proposal caught by k-hat
====================================================================

Plain Monte Carlo, antithetic pairs, scrambled Sobol' points and VEGAS on a peaked
integrand (the error against the number of evaluations), then importance sampling with
a good and a too-narrow proposal, flagged by the PSIS k-hat.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.monte_carlo``), so ``bayescalc demo monte_carlo`` runs the same code from an
installed wheel. Run it as::

    python examples/monte_carlo.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/monte_carlo/`` (default
``./bayescalc-demos/monte_carlo/``); it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "monte_carlo", *sys.argv[1:]])
if status:
    sys.exit(status)
