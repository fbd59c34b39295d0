"""
Posterior normalization: the evidence by every method, and a normalized posterior
=================================================================================

A beta-binomial posterior normalized by quadrature against its closed form; a linear
regression's evidence by every method (the compare plot); a banana's normalized
density; a Bayes factor between two regression models.

This script is a thin wrapper: the demo lives in the package
(``bayescalc.demos.posterior_normalization``), so ``bayescalc demo
posterior_normalization`` runs the same code from an installed wheel. Run it as::

    python examples/posterior_normalization.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/posterior_normalization/``;
it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "posterior_normalization", *sys.argv[1:]])
if status:
    sys.exit(status)
