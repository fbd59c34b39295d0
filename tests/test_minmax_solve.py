"""minmax.solve: every rule against its textbook loop, and the bilinear-game facts.

Oracles: hand-written loops of each update rule with the analytic gradients of the
quadratic game f = ½xᵀAx + xᵀBy - ½yᵀCy (torch autodiff of a quadratic is exact, so the
two agree to rounding: rtol 1e-12), and the closed-form growth of simultaneous GDA on
x·y (|z_{t+1}| = sqrt(1 + η²)|z_t|).
"""

import math
import warnings

import numpy as np
import pytest
import torch

from bayescalc import ConvergenceWarning
from bayescalc.minmax import METHODS, games, solve

LR = 0.1
A = np.array([[0.3, 0.1], [0.1, 0.2]])
B = np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -0.4]])
C = np.diag([0.1, 0.05, 0.2])
X0, Y0 = np.array([1.0, -0.5]), np.array([0.7, 0.2, -1.0])


def quadratic(x, y):
    a, b, c = (torch.as_tensor(m) for m in (A, B, C))
    return 0.5 * x @ a @ x + x @ b @ y - 0.5 * y @ c @ y


def grad_x(x, y):
    return A @ x + B @ y


def grad_y(x, y):
    return B.T @ x - C @ y


def textbook_path(method, steps, gamma=1.0):
    """The update rules written out by hand (the papers' equations)."""
    x, y = X0.copy(), Y0.copy()
    path = [np.concatenate([x, y])]
    previous = None
    for _ in range(steps):
        gx, gy = grad_x(x, y), grad_y(x, y)
        if method == "simultaneous":
            x, y = x - LR * gx, y + LR * gy
        elif method == "alternating":
            x = x - LR * gx
            y = y + LR * grad_y(x, y)
        elif method == "extragradient":
            xh, yh = x - LR * gx, y + LR * gy
            x, y = x - LR * grad_x(xh, yh), y + LR * grad_y(xh, yh)
        elif method == "optimistic":
            px, py = (gx, gy) if previous is None else previous
            previous = (gx, gy)
            x, y = x - 2 * LR * gx + LR * px, y + 2 * LR * gy - LR * py
        elif method == "consensus":
            # v = (gx, -gy), J = [[A, B], [-Bᵀ, C]], Jᵀv = ∇½|v|²
            v = np.concatenate([gx, -gy])
            jacobian = np.block([[A, B], [-B.T, C]])
            step = v + gamma * jacobian.T @ v
            x, y = x - LR * step[:2], y - LR * step[2:]
        path.append(np.concatenate([x, y]))
    return np.array(path)


@pytest.mark.parametrize("method", METHODS)
def test_iterates_match_textbook_rule(method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = solve(quadratic, X0, Y0, method=method, lr=LR, steps=50, tol=0.0,
                       consensus_weight=0.7)
    expected = textbook_path(method, 50, gamma=0.7)
    assert result.path.shape == (51, 5) and result.n_steps == 50
    np.testing.assert_allclose(result.path, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.x, expected[-1, :2], rtol=1e-12, atol=1e-14)
    assert isinstance(result.x, np.ndarray) and result.y.shape == (3,)


def bilinear_run(method, steps=2000, x0=1.0, y0=1.0, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return solve(games.bilinear, x0, y0, method=method, lr=LR, steps=steps, **options)


def test_simultaneous_spirals_out_at_the_predicted_rate():
    result = bilinear_run("simultaneous", steps=200)
    distance = np.linalg.norm(result.path, axis=1)
    assert np.all(np.diff(distance) > 0)
    # I - ηJ multiplies |z| by |1 - iη| = sqrt(1 + η²) every step (exact up to rounding)
    np.testing.assert_allclose(distance[1:] / distance[:-1], math.sqrt(1 + LR**2), rtol=1e-12)
    assert not result.success


@pytest.mark.parametrize("method", ["extragradient", "optimistic", "consensus"])
@pytest.mark.parametrize("start", [(1.0, 1.0), (np.array([1.0, -2.0]), np.array([1.0, 0.5]))])
def test_stable_rules_reach_the_saddle_within_2000_steps(method, start):
    result = solve(games.bilinear, *start, method=method, lr=LR, steps=2000, tol=1e-3)
    assert result.success and result.n_steps < 2000
    assert np.linalg.norm(result.path[-1]) < 1e-3
    assert type(result.x) is type(start[0])


def test_alternating_stays_bounded_but_does_not_converge():
    result = bilinear_run("alternating", steps=2000)
    distance = np.linalg.norm(result.path, axis=1)
    assert distance.max() < 2.0 * distance[0] and distance.min() > 0.5 * distance[0]
    assert not result.success


def test_tensor_start_gives_tensors_and_same_path():
    result = bilinear_run("extragradient", steps=100, x0=torch.tensor(1.0),
                          y0=torch.tensor([1.0]).squeeze())
    reference = bilinear_run("extragradient", steps=100)
    assert torch.is_tensor(result.x)
    np.testing.assert_array_equal(result.path, reference.path)


def test_numeric_callable_uses_numeric_gradients():
    # math.fsum cannot run on tensors: the diff core's finite differences are used
    result = solve(lambda x, y: math.fsum([x * y]), 1.0, 1.0, method="extragradient",
                   lr=LR, steps=2000, tol=1e-3)
    assert result.success
    reference = bilinear_run("extragradient", tol=1e-3)
    # central differences of a bilinear f are exact up to rounding ~1e-16/h
    np.testing.assert_allclose(result.path[:200], reference.path[:200], atol=1e-6)


def test_ema_average_is_the_moving_average_of_the_path():
    result = bilinear_run("optimistic", steps=300, ema=0.9)
    average = result.path[0]
    for z in result.path[1:]:
        average = 0.9 * average + 0.1 * z
    np.testing.assert_allclose([result.x_average, result.y_average], average, rtol=1e-13)
    assert bilinear_run("optimistic", steps=5).x_average is None


def test_unconverged_run_warns():
    with pytest.warns(ConvergenceWarning, match="not converged"):
        solve(games.bilinear, 1.0, 1.0, method="simultaneous", lr=LR, steps=20)


@pytest.mark.parametrize("kind", ["torch", "numpy"])
def test_nan_mid_run_stops_and_names_the_step(kind):
    # x·y plus 0·sqrt(2 - |x|): exactly the bilinear field while |x| <= 2, NaN after
    if kind == "torch":
        def f(x, y):
            return x * y + 0.0 * torch.sqrt(2.0 - x.abs())
    else:
        def f(x, y):
            return x * y + 0.0 * np.sqrt(2.0 - abs(float(x)))
    x, y, first_bad = 1.0, 1.0, None
    for step in range(1, 500):           # the hand loop: first step that lands where f is NaN
        x, y = x - LR * y, y + LR * x
        if abs(x) > 2.0:
            first_bad = step
            break
    with np.errstate(invalid="ignore"), pytest.warns(ConvergenceWarning,
                                                     match=f"non-finite at step {first_bad}"):
        result = solve(f, 1.0, 1.0, method="simultaneous", lr=LR, steps=500)
    assert not result.success
    assert result.n_steps == first_bad - 1 and len(result.path) == first_bad
    assert np.all(np.isfinite(result.path)) and abs(result.x) <= 2.0


def test_bad_input():
    f = games.bilinear
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        solve(f, 1.0, 1.0, lr=0.0)
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        solve(f, 1.0, 1.0, lr=-0.1)
    with pytest.raises(ValueError, match="lr must be finite"):
        solve(f, 1.0, 1.0, lr=float("nan"))
    with pytest.raises(ValueError, match=r"x0 must be a scalar or have shape \(d,\)"):
        solve(f, np.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="y0 must not be empty"):
        solve(f, 1.0, np.array([]))
    with pytest.raises(ValueError, match="x0 must be finite"):
        solve(f, np.nan, 1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        solve(f, 1.0, 1.0, method="adam")
    with pytest.raises(ValueError, match="steps must be >= 1"):
        solve(f, 1.0, 1.0, steps=0)
    with pytest.raises(ValueError, match=r"ema must be a decay in \[0, 1\)"):
        solve(f, 1.0, 1.0, ema=1.0)
    with pytest.raises(TypeError, match="f must be callable"):
        solve("x*y", 1.0, 1.0)


def test_callable_that_leaves_torch_gets_correct_gradients():
    # float(x) runs under torch.func but drops sin's derivative; the start-point check
    # against the numeric gradient must catch it (tolerance: central differences ~1e-9)
    def f(x, y):
        return x * y + np.sin(float(x))

    with pytest.warns(ConvergenceWarning):
        result = solve(f, 1.0, 1.0, method="simultaneous", lr=LR, steps=1)
    assert result.x == pytest.approx(1.0 - LR * (1.0 + math.cos(1.0)), abs=1e-8)
    assert result.y == pytest.approx(1.0 + LR * 1.0, abs=1e-8)


@pytest.mark.parametrize("method", ["simultaneous", "alternating", "extragradient", "optimistic"])
def test_bilinear_iterates_match_textbook_rule_to_rounding(method):
    # f = x·y from (1, 1): ∇x f = y, ∇y f = x exactly (autodiff), so the iterates are the
    # hand loop's up to the order of floating-point operations
    x, y, previous, expected = 1.0, 1.0, None, [(1.0, 1.0)]
    for _ in range(300):
        if method == "simultaneous":
            x, y = x - LR * y, y + LR * x
        elif method == "alternating":
            x = x - LR * y
            y = y + LR * x
        elif method == "extragradient":
            xh, yh = x - LR * y, y + LR * x
            x, y = x - LR * yh, y + LR * xh
        else:
            px, py = (y, x) if previous is None else previous
            previous = (y, x)
            x, y = x - 2 * LR * y + LR * px, y + 2 * LR * x - LR * py
        expected.append((x, y))
    result = bilinear_run(method, steps=300, tol=0.0)
    np.testing.assert_allclose(result.path, np.array(expected), rtol=1e-13, atol=1e-15)


def test_old_field_names_still_read_with_a_deprecation_warning():
    result = bilinear_run("extragradient", steps=50, tol=0.0)
    with pytest.warns(DeprecationWarning, match="use success"):
        assert result.converged is result.success
    with pytest.warns(DeprecationWarning, match="use n_evals"):
        assert result.n_grad_evals == result.n_evals == 2 * 50 + 1
