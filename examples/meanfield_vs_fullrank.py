"""
Mean-field against full-rank Gaussian VI on a correlated Gaussian
=================================================================

For a Gaussian target N(0, S) the best mean-field q has the precisions of the diagonal
of S^-1: it underestimates the marginal variances (by 81% at rho = 0.9); full-rank VI is
exact. Contours of the target and both fits are drawn.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.meanfield_vs_fullrank``), so ``bayescalc demo meanfield_vs_fullrank``
runs the same code from an installed wheel. Run it as::

    python examples/meanfield_vs_fullrank.py [--quick] [--seed N] [--out DIR]
"""

import sys

from bayescalc.cli import main

status = main(["demo", "meanfield_vs_fullrank", *sys.argv[1:]])
if status:
    sys.exit(status)
