"""The real-data demos: their closed forms, their models, and a clear message without
scikit-learn (the optional ``data`` extra).

The demos' printed numbers are checked against examples/expected/ by
tests/test_examples.py (one quick tour); here: the normal-inverse-gamma log Z against an
independent formula (the marginal likelihood is a multivariate Student-t), the model's
log densities against scipy, and what a user without scikit-learn sees.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import scipy.stats
import torch

from bayescalc import cli
from bayescalc.demos import _data, _tour, load_demo
from bayescalc.demos._data import INSTALL_HINT, MissingDataExtraError

pytest.importorskip("sklearn")
bf = load_demo("bayes_factor_diabetes")
vi = load_demo("vi_logistic_regression")


def _student_t_log_z(X, y, a0, b0, tau):
    """y ~ t_{2 a0}(0, (b0 / a0) (I + tau² X X')): sigma² and beta integrated out."""
    n = len(y)
    shape = (b0 / a0) * (np.eye(n) + tau**2 * X @ X.T)
    return scipy.stats.multivariate_t(np.zeros(n), shape, df=2 * a0).logpdf(y)


@pytest.mark.parametrize("a0, b0, tau", [(2.0, 1.0, 1.0), (3.5, 0.4, 0.7)])
def test_exact_log_z_is_the_student_t_marginal(a0, b0, tau):
    X, y, names = _data.diabetes()
    small = X[:, [names.index(c) for c in bf.SMALL]]
    for design in (small, X):
        assert bf.exact_log_z(design, y, a0, b0, tau) == pytest.approx(
            _student_t_log_z(design, y, a0, b0, tau), abs=1e-8)


def test_regression_model_densities_match_scipy():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    model = bf.regression_model(X, y, ["a", "b", "c"], a0=2.0, b0=1.5, tau=0.8)
    z = rng.standard_normal((5, 4))
    beta, s2 = z[:, :3], np.exp(z[:, 3])
    prior = (scipy.stats.invgamma(2.0, scale=1.5).logpdf(s2) + np.log(s2)   # + Jacobian
             + np.array([scipy.stats.multivariate_normal(np.zeros(3), 0.64 * v * np.eye(3))
                         .logpdf(b) for b, v in zip(beta, s2, strict=True)]))
    likelihood = np.array([scipy.stats.norm(X @ b, math.sqrt(v)).logpdf(y).sum()
                           for b, v in zip(beta, s2, strict=True)])
    zt = torch.as_tensor(z)
    np.testing.assert_allclose(model.log_prior(zt).numpy(), prior, rtol=1e-10)
    np.testing.assert_allclose(model.log_likelihood(zt).numpy(), likelihood, rtol=1e-10)
    assert model.log_z_exact == pytest.approx(_student_t_log_z(X, y, 2.0, 1.5, 0.8))
    assert model.names[-1] == "log sigma2"


def test_the_data_are_standardized_and_complete():
    X, y, names = _data.diabetes()
    assert X.shape == (442, 10) and y.shape == (442,) and "bmi" in names
    np.testing.assert_allclose(X.std(0), 1.0)
    np.testing.assert_allclose(y.mean(), 0.0, atol=1e-12)
    X, y, names = _data.breast_cancer()
    assert X.shape == (569, 30) and set(np.unique(y)) == {0.0, 1.0} and len(names) == 30
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-12)


def test_logistic_model_matches_a_direct_computation():
    model, X, y, names = vi.make_model()
    assert model.dim == 31 and names[0] == "intercept"
    beta = torch.zeros(2, 31, dtype=torch.float64)
    beta[1, 0] = 0.5
    eta = beta @ X.T
    expected = (y * eta - torch.log1p(torch.exp(eta))).sum(-1)
    torch.testing.assert_close(model.log_likelihood(beta), expected)
    assert model.log_likelihood(beta[:1]).item() == pytest.approx(-569 * math.log(2.0))


# --- without scikit-learn -----------------------------------------------------------------

@pytest.fixture
def no_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)     # `import sklearn` now fails


def test_missing_sklearn_names_the_data_extra(no_sklearn):
    for loader in (_data.diabetes, _data.breast_cancer):
        with pytest.raises(ImportError, match=r"bayescalc\[data\]"):
            loader()
    assert issubclass(MissingDataExtraError, ImportError)


def test_demo_without_sklearn_is_a_clear_error(no_sklearn, tmp_path, capsys):
    for name in ("bayes_factor_diabetes", "vi_logistic_regression"):
        assert cli.main(["demo", name, "--quick", "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert INSTALL_HINT in err and "Traceback" not in err


def test_tour_leg_without_sklearn_skips_the_real_data_demo(no_sklearn, tmp_path, monkeypatch):
    ran = []

    def fake_run_demo(name, out_dir, *, quick, seed=0, **options):
        ran.append(name)
        if name in ("bayes_factor_diabetes", "vi_logistic_regression"):
            load_demo(name).main(out_dir, quick=quick, seed=seed)       # raises
        numbers = {"meanfield_var": 0.19, "closed_form_var": 0.19, "fullrank_var": 1.0,
                   "meanfield_gap": 0.8, "fullrank_gap": 0.0}
        return _tour.DemoRun(name, numbers, "", ())

    monkeypatch.setattr(_tour, "run_demo", fake_run_demo)
    leg = _tour.variational(tmp_path, quick=True)
    assert ran == ["meanfield_vs_fullrank", "vi_logistic_regression"]
    assert "skipped" in leg.summary and "bayescalc[data]" in leg.summary
    assert [run.name for run in leg.runs] == ["meanfield_vs_fullrank"]
