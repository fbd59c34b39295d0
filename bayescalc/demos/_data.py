"""Real data sets for the demos, from scikit-learn (the optional ``data`` extra).

scikit-learn ships these tables inside its wheel, so nothing is downloaded: the
diabetes data (442 patients, 10 baseline measurements, a disease-progression score one
year later) and the Wisconsin breast-cancer data (569 tumours, 30 features of the cell
nuclei, malignant or benign). Both are standardized here (each column to mean 0 and
standard deviation 1), so that a N(0, 1) prior on a coefficient means "an effect of
about one standard deviation per standard deviation".
"""

from __future__ import annotations

import numpy as np

INSTALL_HINT = ("the real-data demos need scikit-learn, which ships the data sets: "
                "pip install 'bayescalc[data]' (or pip install scikit-learn)")


class MissingDataExtraError(ImportError):
    """scikit-learn, the optional ``data`` extra, is not installed."""


def _datasets():
    try:
        from sklearn import datasets
    except ImportError as error:
        raise MissingDataExtraError(INSTALL_HINT) from error
    return datasets


def _standardize(a):
    a = np.asarray(a, dtype=np.float64)
    return (a - a.mean(0)) / a.std(0)


def diabetes():
    """The diabetes regression data, standardized: ``(X (442, 10), y (442,), names)``.

    Raises
    ------
    MissingDataExtraError
        An ImportError naming the ``data`` extra when scikit-learn is missing.

    Examples
    --------
    >>> X, y, names = diabetes()              # doctest: +SKIP
    >>> X.shape, names[2]                     # doctest: +SKIP
    ((442, 10), 'bmi')
    """
    data = _datasets().load_diabetes()
    return _standardize(data.data), _standardize(data.target), list(data.feature_names)


def breast_cancer():
    """The breast-cancer classification data: ``(X (569, 30) standardized, y (569,) in
    {0, 1} with 1 = benign, names)``.

    Raises
    ------
    MissingDataExtraError
        An ImportError naming the ``data`` extra when scikit-learn is missing.
    """
    data = _datasets().load_breast_cancer()
    return (_standardize(data.data), np.asarray(data.target, dtype=np.float64),
            list(data.feature_names))
