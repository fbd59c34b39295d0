"""bayescalc.diff.derivative / finite_difference: accuracy, error estimates, traps.

Oracles: closed-form derivatives (each case is a triple f, f', points, the scipy
pattern); the reported error must cover the true error; autodiff against closed forms.
"""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescalc import AccuracyWarning
from bayescalc.diff import derivative, finite_difference
from bench._derivative_problems import BATTERY as DERIVATIVE_BATTERY
from bench._derivative_problems import sigmoid

# The bench's battery minus sigmoid at 30, whose cancellation trap has its own test below.
BATTERY = [(name, f, df, [x for x in points if not (name == "sigmoid" and x == 30.0)])
           for name, f, df, points in DERIVATIVE_BATTERY]
CASES = [(name, f, df, x) for name, f, df, points in BATTERY for x in points]
IDS = [f"{name}@{x:g}" for name, _, _, x in CASES]


@pytest.mark.parametrize("name, f, df, x", CASES, ids=IDS)
def test_battery_case_is_accurate_and_its_error_covers(name, f, df, x):
    result = finite_difference(f, x)
    exact = df(x)
    true_error = abs(result.value - exact)
    assert result.success, result.message
    # The engine reaches the round-off floor: relative error ~1e-15..1e-12 on these cases
    # (atan at 7 and tanh at -5 lose digits to |f| >> |f'|), so 1e-10 is a safe bound.
    assert true_error <= 1e-10 * abs(exact)
    assert result.error >= true_error
    assert result.n_evals <= 41


def test_battery_median_error_coverage_and_cost_against_scipy():
    import scipy.differentiate

    relative, covered, ours, theirs = [], [], 0, 0
    for _name, f, df, x in CASES:
        result = finite_difference(f, x)
        relative.append(abs(result.value - df(x)) / abs(df(x)))
        covered.append(result.error >= abs(result.value - df(x)))
        ours += result.n_evals
        with np.errstate(all="ignore"):
            theirs += int(scipy.differentiate.derivative(f, x).nfev)
    # The acceptance lines: median <= 1e-13 at no more evaluations than
    # scipy.differentiate uses (in all, on the same cases), estimates covering >= 95 %.
    assert np.median(relative) <= 1e-13
    assert ours <= theirs
    assert np.mean(covered) >= 0.95


def test_first_window_costs_eleven_evaluations():
    # f(x) plus five step pairs: the cost of scipy.differentiate's common case.
    assert finite_difference(np.exp, 1.0).n_evals == 11


@pytest.mark.parametrize("n, f, exact", [
    (2, np.exp, np.exp), (3, np.sin, lambda x: -np.cos(x)), (4, np.cos, np.cos),
    (5, np.exp, np.exp), (2, np.log, lambda x: -1 / x**2),
])
@pytest.mark.parametrize("x", [0.3, 1.7])
def test_higher_orders(n, f, exact, x):
    result = finite_difference(f, x, n=n)
    true_error = abs(result.value - exact(x))
    # Round-off grows like eps / h^n: ~1e-12 for n = 2, ~1e-8 for n = 5.
    assert true_error <= 10.0 ** (-13 + 1.2 * n) * max(1.0, abs(exact(x)))
    assert result.error >= true_error


# -- the notes' worked examples ---------------------------------------------------------

@pytest.mark.parametrize("x", [-1.5, 0.0, 0.5, 3.0])
@pytest.mark.parametrize("h", [0.5, 0.25, 0.125, 2.0**-10])
def test_difference_quotient_of_x_squared_is_2x_plus_h(x, h):
    # (f(x+h) - f(x)) / h = (2xh + h^2) / h = 2x + h: exact in floating point for these
    # dyadic x and h.
    result = finite_difference(lambda t: t * t, x, method="forward", step=h)
    assert result.value == 2 * x + h


@pytest.mark.parametrize("x", np.linspace(-2, 2, 9))
def test_derivative_of_x_squared_is_2x(x):
    assert abs(finite_difference(lambda t: t * t, x).value - 2 * x) <= 1e-13
    assert derivative(lambda t: t * t, float(x)) == pytest.approx(2 * x, abs=1e-15)


POINTS = np.linspace(-1.5, 1.5, 25)


def test_chain_rule_x_squared_cubed_is_6x5_numerically_and_by_autodiff():
    # h(g(x)) with h = x^3, g = x^2: derivative 3 g^2 * g' = 6 x^5.
    composite = lambda x: (x**2) ** 3  # noqa: E731
    exact = 6 * POINTS**5
    numeric = finite_difference(composite, POINTS)
    assert np.all(np.abs(numeric.value - exact) <= 1e-12 * np.maximum(1, np.abs(exact)))
    assert np.all(numeric.error >= np.abs(numeric.value - exact))
    auto = derivative(composite, torch.tensor(POINTS))
    assert isinstance(auto, torch.Tensor)
    np.testing.assert_allclose(auto.numpy(), exact, rtol=1e-13, atol=1e-300)


def test_chain_rule_sin_of_4x_squared_is_32x_cos_16x2():
    composite_np = lambda x: np.sin((4 * x) ** 2)  # noqa: E731
    exact = 32 * POINTS * np.cos(16 * POINTS**2)
    numeric = finite_difference(composite_np, POINTS)
    scale = np.maximum(1, np.abs(exact))
    assert np.all(np.abs(numeric.value - exact) <= 1e-11 * scale)
    assert np.all(numeric.error >= np.abs(numeric.value - exact))
    auto = derivative(lambda x: torch.sin((4 * x) ** 2), torch.tensor(POINTS))
    np.testing.assert_allclose(auto.numpy(), exact, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n, f_torch, exact", [
    (1, torch.exp, np.exp), (2, torch.sin, lambda x: -np.sin(x)),
    (3, torch.log, lambda x: 2 / x**3), (1, torch.sigmoid, lambda x: sigmoid(x) * sigmoid(-x)),
])
def test_autodiff_agrees_with_closed_forms(n, f_torch, exact):
    x = np.linspace(0.2, 3.0, 8)
    value = derivative(f_torch, torch.tensor(x), n=n)
    np.testing.assert_allclose(value.numpy(), exact(x), rtol=1e-13)
    # A numpy point and a torch-traceable f also goes through autodiff ("auto").
    assert derivative(f_torch, 0.7, n=n) == pytest.approx(float(exact(0.7)), rel=1e-13)


# -- the traps ------------------------------------------------------------------------------

@pytest.mark.parametrize("f, df, x", [
    (np.log, lambda x: 1 / x, 1e-4), (np.sqrt, lambda x: 0.5 / np.sqrt(x), 1e-3),
    (np.log, lambda x: 1 / x, 1e-9),
])
def test_domain_edge_steps_stay_where_f_is_finite(f, df, x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no AccuracyWarning, no numpy warning
        result = finite_difference(f, x)
    assert result.success
    assert abs(result.value - df(x)) <= 1e-12 * df(x)
    assert result.error >= abs(result.value - df(x))
    assert result.step < x


def test_one_sided_when_f_is_undefined_on_one_side():
    # f is NaN for x < 1 (not at 0, so the jump below |x| does not help): one-sided.
    f = lambda x: np.sqrt(x - 1) if x >= 1 else float("nan")  # noqa: E731
    x = 1.0 + 2.0**-20
    result = finite_difference(f, x)
    exact = 0.5 / np.sqrt(x - 1)
    assert result.error >= abs(result.value - exact)
    assert abs(result.value - exact) <= 1e-6 * exact


def test_sigmoid_at_30_is_accurate_or_honest():
    # f' = 9.4e-14 while f = 1 - 9.4e-14: the differences of f cancel catastrophically.
    exact = sigmoid(30.0) * sigmoid(-30.0)
    result = finite_difference(sigmoid, 30.0)
    assert result.error >= abs(result.value - exact)
    assert abs(result.value - exact) <= 0.1 * exact or result.error >= abs(exact)


def test_oscillating_sin_of_1_over_x_at_005():
    exact = -np.cos(20.0) / 0.0025
    result = finite_difference(lambda x: np.sin(1 / x), 0.05)
    assert result.error >= abs(result.value - exact)
    assert abs(result.value - exact) <= 1e-12 * abs(exact)


def test_kink_of_abs_at_zero_is_not_a_confident_zero():
    with pytest.warns(AccuracyWarning, match="not differentiable"):
        result = finite_difference(np.abs, 0.0)
    assert not result.success
    assert result.error >= 1.0          # the one-sided slopes are -1 and +1
    with pytest.warns(AccuracyWarning):
        derivative(np.abs, 0.0)


def test_pole_between_steps_is_stepped_past():
    # 1/x at 1e-3: the first steps straddle the pole at 0 without any NaN.
    result = finite_difference(lambda x: 1 / x, 1e-3)
    assert abs(result.value + 1e6) <= 1e-12 * 1e6 <= result.error + 1e-12 * 1e6


# -- the other methods ------------------------------------------------------------------------

@pytest.mark.parametrize("method, tolerance", [
    ("forward", 1e-7), ("backward", 1e-7), ("central", 1e-9), ("complex", 1e-15)])
def test_classical_methods(method, tolerance):
    result = finite_difference(np.exp, 1.0, method=method)
    assert result.method == method
    assert abs(result.value - np.e) <= tolerance * np.e
    assert result.error >= abs(result.value - np.e)


def test_complex_step_refuses_a_non_analytic_f():
    with pytest.warns(AccuracyWarning, match="not analytic"):
        result = finite_difference(np.abs, -2.0, method="complex")
    assert not result.success
    assert result.error >= 1.0


@pytest.mark.parametrize("n", [2, 3, 4])
def test_complex_contour_higher_orders(n):
    result = finite_difference(np.exp, 0.5, n=n, method="complex")
    assert abs(result.value - np.exp(0.5)) <= 1e-12
    assert result.error >= abs(result.value - np.exp(0.5))


# -- kinds, batches ---------------------------------------------------------------------

def test_array_of_points_equals_the_loop_and_vectorized_equals_looped():
    x = np.array([0.1, 0.7, 2.0, 5.0])
    looped = np.array([finite_difference(np.sin, float(v)).value for v in x])
    batched = finite_difference(np.sin, x)
    vectorized = finite_difference(np.sin, x, vectorized=True)
    np.testing.assert_array_equal(batched.value, looped)
    np.testing.assert_array_equal(vectorized.value, looped)


def test_vectorized_calls_f_once_per_round():
    calls = []

    def f(xs):
        calls.append(np.shape(xs))
        return np.exp(xs)

    result = finite_difference(f, np.array([0.0, 1.0, 2.0]), vectorized=True)
    assert len(calls) <= 4 and calls[0] == (3,)
    assert result.n_evals == sum(int(np.prod(c)) for c in calls)


def test_scalar_f_gets_python_floats():
    assert derivative(math.sin, 0.0, method="richardson") == pytest.approx(1.0, abs=1e-14)


def test_kinds_come_back():
    assert isinstance(derivative(np.exp, 1.0), float)
    assert isinstance(derivative(np.exp, np.float64(1.0)), float)
    assert isinstance(derivative(np.exp, np.array([1.0])), np.ndarray)
    value = derivative(torch.exp, torch.tensor(1.0, dtype=torch.float64))
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float64
    # a numeric method on a tensor point passes tensors to f
    numeric = derivative(torch.exp, torch.tensor(1.0, dtype=torch.float64), method="richardson")
    assert isinstance(numeric, torch.Tensor)
    assert float(numeric) == pytest.approx(math.e, rel=1e-13)


# -- bad input ----------------------------------------------------------------------------

def test_nan_at_x_is_named():
    with pytest.raises(ValueError, match=r"non-finite value nan at x = -1"):
        finite_difference(np.log, -1.0)
    with pytest.raises(ValueError, match="at x = 0"):
        derivative(lambda x: 1 / x if x else float("inf"), 0.0)
    with pytest.raises(ValueError, match="non-finite value nan at x"):
        derivative(torch.log, torch.tensor(-1.0, dtype=torch.float64))   # the autodiff path


@pytest.mark.parametrize("step", [0.0, -1e-3, float("nan"), float("inf")])
def test_step_must_be_positive(step):
    with pytest.raises(ValueError, match="step must be finite and > 0"):
        finite_difference(np.exp, 1.0, step=step)
    with pytest.raises(ValueError, match="step"):
        derivative(np.exp, 1.0, step=step, method="central")


def test_wrong_shapes_and_arguments():
    with pytest.raises(ValueError, match="must return a scalar"):
        finite_difference(lambda x: np.array([x, x]), 1.0)
    with pytest.raises(ValueError, match="vectorized=True, f must return"):
        finite_difference(lambda xs: 1.0, np.array([1.0, 2.0]), vectorized=True)
    with pytest.raises(ValueError, match="x must be finite"):
        finite_difference(np.exp, float("nan"))
    with pytest.raises(ValueError, match="n must be >= 1"):
        finite_difference(np.exp, 1.0, n=0)
    with pytest.raises(TypeError, match="n must be an integer"):
        derivative(np.exp, 1.0, n=1.5)
    with pytest.raises(ValueError, match="method must be one of"):
        derivative(np.exp, 1.0, method="spline")
    with pytest.raises(TypeError, match="f must be callable"):
        derivative(3.0, 1.0)


# -- property: random polynomials and exponentials ----------------------------------------

@settings(max_examples=60, deadline=None)
@given(coefficients=st.lists(st.floats(-3, 3), min_size=1, max_size=9),
       rate=st.floats(-3, 3), x=st.floats(-2, 2))
def test_error_estimate_covers_on_random_smooth_functions(coefficients, rate, x):
    polynomial = np.polynomial.Polynomial(coefficients)
    f = lambda t: polynomial(t) + np.exp(rate * t)  # noqa: E731
    exact = polynomial.deriv()(x) + rate * np.exp(rate * x)
    result = finite_difference(f, x)
    true_error = abs(result.value - exact)
    # The round-off part of the estimate counts ulps of |f|; where f is a small result of
    # cancelling larger terms (f ~ 0 near a root) its values carry more, and at the
    # round-off floor the estimate can fall short by a small factor: in a 3,000-example
    # run, 7 fell short, by at most 6x. Hence the factor 10 (numdifftools' tests use 100).
    assert 10 * result.error >= true_error
    # round-off floor: |f| values up to ~3 * 2^9 + e^6 over the steps, h >= 1/512
    assert true_error <= 1e-10 * max(1.0, abs(exact), abs(f(x)))


def test_auto_does_not_trust_autodiff_through_float():
    # float(x) runs under torch.func but drops d/dx sin(x): "auto" must go numeric.
    f = lambda x: x * x + np.sin(float(x))  # noqa: E731
    assert derivative(f, 1.0) == pytest.approx(2.0 + math.cos(1.0), rel=1e-12)


def test_auto_reports_kinks_that_autodiff_would_hide():
    # torch's abs has derivative 0 at 0 (a subgradient): "auto" notices the kink and
    # hands over to the numeric engine, which warns.
    with pytest.warns(AccuracyWarning, match="not differentiable"):
        derivative(abs, 0.0)
    with pytest.warns(AccuracyWarning, match="not differentiable"):
        derivative(torch.abs, torch.tensor([1.0, 0.0], dtype=torch.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # smooth, even at a stationary point
        assert derivative(lambda x: x**2, 0.0) == 0.0
        assert derivative(abs, 1.0) == 1.0
