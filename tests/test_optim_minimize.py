"""minimize / maximize: every method on a convex quadratic and on Rosenbrock within a
stated budget, against the exact minimizer and scipy.optimize; kinds, paths, bad input."""

import warnings

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group

from bayescalc import ConvergenceWarning
from bayescalc.optim import METHODS, maximize, minimize
from bayescalc.optim.surfaces import (
    hills,
    rosenbrock,
    rosenbrock_gradient,
    rosenbrock_hessian,
)


def _quadratic():
    """0.5 xᵀAx - bᵀx in d = 5, eigenvalues 1..10 (condition number 10); a fixed problem."""
    rng = np.random.default_rng(20261126)
    q = ortho_group.rvs(5, random_state=rng)
    a = q @ np.diag(np.linspace(1.0, 10.0, 5)) @ q.T
    b = rng.normal(size=5)
    return a, b, 3.0 * rng.normal(size=5)


# (lr, budget of steps). Measured step counts on this problem, tol = 1e-8: gd 111,
# momentum 385, nesterov 252, adam 706, newton 2, lbfgs 13; the budgets leave ~25% slack.
QUADRATIC_BUDGET = {"gd": (0.15, 150), "momentum": (0.02, 500), "nesterov": (0.02, 350),
                    "adam": (0.05, 900), "newton": (None, 5), "lbfgs": (None, 25)}
# Rosenbrock d = 2 from (-1.2, 1), tol = 1e-6. Measured: gd (lr 1.9e-3, just below the
# stability limit 2/λ_max = 2/1001.6) 16,851; momentum 3,020; nesterov 3,066; adam (its
# default lr 1e-2) 5,452; newton 21; lbfgs 45.
ROSENBROCK_BUDGET = {"gd": (1.9e-3, 20_000), "momentum": (1e-3, 4_000),
                     "nesterov": (1e-3, 4_000), "adam": (None, 7_000), "newton": (None, 30),
                     "lbfgs": (None, 80)}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("analytic_gradient", [True, False])
def test_every_method_converges_on_a_convex_quadratic_within_budget(method, analytic_gradient):
    a, b, x0 = _quadratic()
    lr, budget = QUADRATIC_BUDGET[method]
    grad = (lambda x: a @ x - b) if analytic_gradient else None
    result = minimize(lambda x: 0.5 * x @ a @ x - b @ x, x0, method=method, lr=lr,
                      max_steps=budget, tol=1e-8, grad=grad)
    exact = np.linalg.solve(a, b)
    assert result.success, result.message
    # |x - x*| <= |∇f(x)| / λ_min = tol / 1 for a strongly convex quadratic.
    assert np.linalg.norm(result.x - exact) <= 1e-8 * 1.001
    assert result.grad_norm <= 1e-8
    assert result.fun == pytest.approx(-0.5 * b @ exact, abs=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_converges_on_rosenbrock_within_budget(method):
    lr, budget = ROSENBROCK_BUDGET[method]
    result = minimize(rosenbrock, np.array([-1.2, 1.0]), method=method, lr=lr,
                      max_steps=budget, tol=1e-6, grad=rosenbrock_gradient,
                      hess=rosenbrock_hessian)
    assert result.success, result.message
    # Near (1, 1) the Hessian's smallest eigenvalue is 0.4: |x - x*| <= tol / 0.4.
    assert np.linalg.norm(result.x - 1.0) <= 1e-6 / 0.39
    assert result.fun <= 1e-11


@pytest.mark.parametrize("method, scipy_method", [("lbfgs", "L-BFGS-B"), ("newton", "Newton-CG")])
@pytest.mark.parametrize("x0", [[-1.2, 1.0, -0.5, 0.8, 1.3], [-1.2, 1.0, 1.2, 0.8, 1.1],
                                [0.5, 0.2, 1.3, 0.8, 0.4]])
def test_numeric_derivatives_reach_scipys_minimum_on_rosenbrock_d5(method, scipy_method, x0):
    # No grad/hess: the derivatives come from bayescalc.diff (numeric differences).
    # Rosenbrock in d = 5 has two local minima, (1, ..., 1) and one near
    # (-0.96, 0.94, 0.88, 0.78, 0.61); from each start we must land where scipy lands.
    x0 = np.array(x0)
    ours = minimize(rosenbrock, x0, method=method, tol=1e-6)
    hess = scipy.optimize.rosen_hess if scipy_method == "Newton-CG" else None
    peer = scipy.optimize.minimize(scipy.optimize.rosen, x0, method=scipy_method,
                                   jac=scipy.optimize.rosen_der, hess=hess, tol=1e-12)
    assert ours.success, ours.message
    # The smallest Hessian eigenvalue at either minimum is >= 0.01 in d = 5, so
    # |∇f| <= 1e-6 puts x within 1e-4 of it.
    np.testing.assert_allclose(ours.x, peer.x, atol=2e-4)


def test_the_start_decides_which_minimum_descent_reaches():
    # The notes: "based on the initialization it takes a minimum or maximum".
    ends = [minimize(hills, np.array(start), method="gd", lr=0.02, max_steps=5_000).x
            for start in ([1.6, 1.0], [-0.5, -0.5], [-2.9, 1.9])]
    np.testing.assert_allclose(ends[0], [2.0, 1.5], atol=1e-5)
    np.testing.assert_allclose(ends[1], [0.0, -1.0], atol=1e-5)
    np.testing.assert_allclose(ends[2], [-2.5, 1.5], atol=1e-5)
    # ... and ascent reaches one maximum or the other.
    tops = [maximize(hills, np.array(start), method="lbfgs").x
            for start in ([-1.0, 0.3], [0.7, -0.2])]
    np.testing.assert_allclose(tops[0], [-1.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(tops[1], [1.0, 0.0], atol=1e-6)


def test_maximize_reports_f_itself_and_follows_minimize_of_minus_f():
    f = lambda x: -((x[0] - 1.0) ** 2) - 4.0 * (x[1] + 0.5) ** 2 + 3.0  # noqa: E731
    up = maximize(f, np.zeros(2), method="momentum", lr=0.05)
    down = minimize(lambda x: -f(x), np.zeros(2), method="momentum", lr=0.05)
    assert up.success
    assert up.fun == pytest.approx(3.0, abs=1e-12)
    np.testing.assert_array_equal(up.path, down.path)
    np.testing.assert_allclose(up.fun_path, -down.fun_path, rtol=0, atol=0)


def test_maximize_with_a_user_gradient_of_f():
    up = maximize(lambda x: -(x - 2.0) ** 2, 0.0, method="gd", lr=0.1,
                  grad=lambda x: -2.0 * (x - 2.0))
    assert up.x == pytest.approx(2.0, abs=1e-6)


def test_path_and_fun_path_record_every_iterate():
    f = lambda x: np.sum((x - np.array([1.0, 2.0, 3.0])) ** 2)  # noqa: E731
    r = minimize(f, np.zeros(3), method="nesterov", lr=0.05)
    assert r.path.shape == (r.n_steps + 1, 3)
    np.testing.assert_array_equal(r.path[0], np.zeros(3))
    np.testing.assert_array_equal(r.path[-1], r.x)
    np.testing.assert_allclose(r.fun_path, [f(p) for p in r.path], rtol=1e-15)
    assert r.fun == r.fun_path[-1]
    assert r.method == "nesterov"


def test_scalar_start_gives_a_float_and_a_1d_path():
    r = minimize(lambda x: (x - 3.0) ** 2 + 1.0, 0.0, method="lbfgs")
    assert isinstance(r.x, float)
    assert r.path.shape == (r.n_steps + 1,)
    assert r.x == pytest.approx(3.0, abs=1e-7)


def test_tensor_start_gives_a_tensor_and_uses_autodiff():
    def f(x):
        return torch.sum((x - torch.tensor([0.5, -1.0], dtype=x.dtype)) ** 4) + torch.sum(x**2)

    x0 = torch.tensor([2.0, 2.0], dtype=torch.float64)
    r = minimize(f, x0, method="newton", tol=1e-10)
    assert isinstance(r.x, torch.Tensor) and r.x.dtype == torch.float64
    peer = scipy.optimize.minimize(lambda x: f(torch.as_tensor(x)).item(), x0.numpy(),
                                   method="Nelder-Mead",
                                   options={"xatol": 1e-10, "fatol": 1e-14})
    np.testing.assert_allclose(r.x.numpy(), peer.x, atol=1e-6)


def test_callback_sees_each_step_and_can_stop_the_run():
    seen = []

    def callback(info):
        seen.append(info)
        return info.step == 5

    with pytest.warns(ConvergenceWarning, match="callback at step 5"):
        r = minimize(lambda x: np.sum(x**2), np.ones(2), method="gd", lr=0.01,
                     callback=callback)
    assert [info.step for info in seen] == [1, 2, 3, 4, 5]
    assert r.n_steps == 5 and not r.success
    np.testing.assert_array_equal(seen[-1].x, r.x)


def test_budget_exhausted_is_a_failure_with_a_warning():
    with pytest.warns(ConvergenceWarning, match="max_steps = 10 reached"):
        r = minimize(rosenbrock, np.array([-1.2, 1.0]), method="gd", max_steps=10)
    assert not r.success and r.n_steps == 10


def test_nan_during_the_run_stops_and_names_the_step():
    # log x with a step that jumps to x < 0: f is NaN at step 1.
    with np.errstate(invalid="ignore"), pytest.warns(ConvergenceWarning,
                                                     match=r"nan at step 1 \(x = -1.0\)"):
        r = minimize(np.log, 1.0, method="gd", lr=2.0, grad=lambda x: 1.0 / x)
    assert not r.success
    assert r.x == 1.0 and r.n_steps == 0  # the last finite iterate
    assert "step 1" in r.message


def test_nan_later_in_the_run_reports_that_step():
    def f(x):  # fine until x > 2.5, NaN beyond
        return -x if x <= 2.5 else np.nan

    with pytest.warns(ConvergenceWarning, match="at step 3"):
        r = minimize(f, 0.0, method="gd", lr=1.0, grad=lambda x: -1.0)
    assert r.n_steps == 2 and r.x == 2.0


def test_line_search_methods_back_away_from_nan():
    # -log x - log(1 - x) on (0, 1): lbfgs and newton steps that leave the domain are
    # shrunk by the line search, which treats NaN as "no decrease".
    def f(x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return -np.log(x) - np.log(1.0 - x) + 3.0 * x

    for method in ("lbfgs", "newton"):
        r = minimize(f, 0.9, method=method, lr=10.0, grad=lambda x: -1 / x + 1 / (1 - x) + 3)
        assert r.success, r.message
        # f'(x) = 0: 3x² - 5x + 1 = 0, root in (0, 1): (5 - √13) / 6.
        assert r.x == pytest.approx((5 - np.sqrt(13)) / 6, abs=1e-7)


@pytest.mark.parametrize(
    "x0, match",
    [(np.zeros((2, 2)), "x0 must be a scalar or have shape"),
     (np.array([1.0, np.nan]), "x0 must be finite"),
     (np.array([]), "x0 must not be empty")],
)
def test_bad_start(x0, match):
    with pytest.raises(ValueError, match=match):
        minimize(lambda x: np.sum(x**2), x0)


@pytest.mark.parametrize("lr", [0.0, -1e-3, np.inf])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        minimize(lambda x: x**2, 1.0, method="gd", lr=lr)


def test_bad_options():
    f = lambda x: x**2  # noqa: E731
    with pytest.raises(ValueError, match="method must be one of"):
        minimize(f, 1.0, method="sgd")
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        minimize(f, 1.0, max_steps=0)
    with pytest.raises(TypeError, match="max_steps must be an integer"):
        minimize(f, 1.0, max_steps=10.5)
    with pytest.raises(ValueError, match="tol must be finite"):
        minimize(f, 1.0, tol=-1.0)
    with pytest.raises(TypeError, match="f must be callable"):
        minimize(3.0, 1.0)
    with pytest.raises(TypeError, match="grad must be callable"):
        minimize(f, 1.0, grad=2.0)


def test_f_must_return_a_scalar():
    with pytest.raises(ValueError, match="f must return a scalar"):
        minimize(lambda x: x * 2.0, np.ones(3))


def test_a_wrong_gradient_shape_is_named():
    with pytest.raises(ValueError, match=r"the gradient must have shape \(3,\)"):
        minimize(lambda x: np.sum(x**2), np.ones(3), grad=lambda x: np.ones(2))


def test_f_not_finite_at_the_start_is_bad_input():
    with pytest.raises(ValueError, match="non-finite value inf at x0"):
        minimize(lambda x: np.inf, np.ones(2))


def test_first_steps_follow_the_update_equations():
    # f = x²/2 in 1-D, gradient x: hand-computed first two iterates of each rule.
    f = lambda x: 0.5 * x**2  # noqa: E731
    grad = lambda x: x  # noqa: E731
    lr, beta, x0 = 0.1, 0.9, 1.0
    x1 = x0 - lr * x0
    expected = {
        "gd": [x0, x1, x1 - lr * x1],
        # m1 = g0, m2 = β m1 + g1
        "momentum": [x0, x1, x1 - lr * (beta * x0 + x1)],
        # u = -lr (β m + g): m1 = g0 -> x1 = x0 - lr (1 + β) g0
        "nesterov": [x0, x0 - lr * (1 + beta) * x0],
    }
    for method, iterates in expected.items():
        with pytest.warns(ConvergenceWarning, match="max_steps"):
            r = minimize(f, x0, method=method, lr=lr, grad=grad,
                         max_steps=len(iterates) - 1, tol=0.0)
        np.testing.assert_allclose(r.path, iterates, rtol=1e-15)


def test_warning_free_on_success():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = minimize(lambda x: np.sum(x**2), np.ones(4), method="lbfgs")
    assert [str(w.message) for w in caught] == []
    assert r.success
    np.testing.assert_allclose(r.x, np.zeros(4), atol=1e-6)  # the default tol on |grad| / 2


def test_divergence_from_too_large_a_learning_rate_is_reported():
    # gd on x⁴ with lr = 1 from x = 10: x -> x - 4x³ explodes to overflow within steps.
    with np.errstate(over="ignore", invalid="ignore"), pytest.warns(ConvergenceWarning):
        r = minimize(lambda x: x**4, 10.0, method="gd", lr=1.0, grad=lambda x: 4 * x**3)
    assert not r.success
    # Python floats overflow with an OverflowError, numpy arrays with inf: both stop.
    assert "raised OverflowError" in r.message and "at step 4" in r.message
    assert np.isfinite(r.x)
    with np.errstate(over="ignore", invalid="ignore"), pytest.warns(ConvergenceWarning):
        r = minimize(lambda x: np.sum(x**4), np.array([10.0]), method="gd", lr=1.0,
                     grad=lambda x: 4 * x**3)
    assert "lower lr" in r.message or "returned inf" in r.message
    assert np.all(np.isfinite(r.x)) and not r.success


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 6), log_condition=st.floats(0.0, 3.0), seed=st.integers(0, 2**31))
# Once stalled lbfgs: f flat to round-off at |grad f| = 1.8e-9, where Armijo accepted
# steps that did not move x; the line search now judges such steps by |grad f|.
@example(d=6, log_condition=2.7250359947157676, seed=47)
def test_newton_and_lbfgs_solve_random_quadratics(d, log_condition, seed):
    # Property: on any strongly convex quadratic, both reach x* = A⁻¹b with
    # |x - x*| <= tol / λ_min (λ_min = 1 here), newton in at most 2 steps (the Hessian
    # comes from diff, exact to ~1e-10 for a quadratic).
    rng = np.random.default_rng(seed)
    q = ortho_group.rvs(d, random_state=rng) if d > 1 else np.ones((1, 1))
    a = q @ np.diag(np.geomspace(1.0, 10.0**log_condition, d)) @ q.T
    b = rng.normal(size=d)
    exact = np.linalg.solve(a, b)
    for method in ("newton", "lbfgs"):
        r = minimize(lambda x: 0.5 * x @ a @ x - b @ x, np.zeros(d), method=method,
                     grad=lambda x: a @ x - b, tol=1e-9)
        assert r.success, r.message
        assert np.linalg.norm(r.x - exact) <= 1e-9 * 1.001
        if method == "newton":
            assert r.n_steps <= 2
