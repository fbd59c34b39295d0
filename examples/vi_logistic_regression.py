"""
VI on real data: logistic regression of the breast-cancer data
==============================================================

scikit-learn's breast-cancer data (569 tumours, 30 standardized features and an
intercept) with a N(0, 1) prior. ``bc.vi.fit`` full-rank and mean-field ADVI and
Batch-and-Match, and Pyro's SVI (AutoMultivariateNormal) on the same model: the ELBO
per step, and every coefficient's posterior mean and sd against a sequential Monte
Carlo reference, in posterior-sd units, with each fit's PSIS k-hat.

Needs the ``data`` extra: ``pip install 'bayescalc[data]'`` (scikit-learn ships the
data; nothing is downloaded). This script is a thin wrapper: the demo lives in the
package (``bayescalc.demos.vi_logistic_regression``), so ``bayescalc demo
vi_logistic_regression`` runs the same code from an installed wheel. Run it as::

    python examples/vi_logistic_regression.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figures under ``DIR/vi_logistic_regression/``;
it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "vi_logistic_regression", *sys.argv[1:]])
if status:
    sys.exit(status)
