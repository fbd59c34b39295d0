"""
A Bayes factor on real data: two regressions of the diabetes data
=================================================================

scikit-learn's diabetes data (442 patients, 10 predictors, standardized): a
3-predictor linear regression (bmi, bp, s5) against one with all 10, both with a
conjugate normal-inverse-gamma prior, so each log Z is known in closed form. log Z of
each, and the log Bayes factor with its error bar, by Laplace, auto, importance sampling
and SMC (bridge sampling and AIS in the full run), against the exact values.

Needs the ``data`` extra: ``pip install 'bayescalc[data]'`` (scikit-learn ships the
data; nothing is downloaded). This script is a thin wrapper: the demo lives in the
package (``bayescalc.demos.bayes_factor_diabetes``), so ``bayescalc demo
bayes_factor_diabetes`` runs the same code from an installed wheel. Run it as::

    python examples/bayes_factor_diabetes.py [--quick] [--seed N] [--out DIR]

It prints what it measured and saves its figure under ``DIR/bayes_factor_diabetes/``;
it never opens a window.
"""

import sys

from bayescalc.cli import main

status = main(["demo", "bayes_factor_diabetes", *sys.argv[1:]])
if status:
    sys.exit(status)
