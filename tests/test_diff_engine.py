"""The pieces of the numeric engine: Fornberg weights, windows, budgets, steps."""

import math

import numpy as np
import pytest

from bayescalc.diff import finite_difference
from bayescalc.diff.richardson import richardson_lines
from bayescalc.diff.stencils import basic_stencil, fornberg_weights, geometric_window
from bayescalc.diff.steps import power_of_two_below, richardson_start


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_fornberg_weights_are_exact_on_polynomials(n):
    rng = np.random.default_rng(0)
    nodes = np.sort(rng.uniform(-1, 1, 7))
    weights = fornberg_weights(nodes, n)
    for degree in range(7):
        exact = math.factorial(n) if degree == n else 0.0     # d^n/dt^n t^degree at 0
        assert np.dot(weights, nodes**degree) == pytest.approx(exact, abs=1e-10)


def test_fornberg_needs_more_nodes_than_the_order():
    with pytest.raises(ValueError, match="need more than n = 2 nodes"):
        fornberg_weights([0.0, 1.0], 2)


def test_classical_stencils():
    assert basic_stencil("backward", 1, 1) == ((0.0, -1.0), (1.0, -1.0))
    nodes, weights = basic_stencil("central", 2, 4)
    assert nodes == (-2.0, -1.0, 0.0, 1.0, 2.0)
    np.testing.assert_allclose(weights, np.array([-1, 16, -30, 16, -1]) / 12)


@pytest.mark.parametrize("n, levels", [(1, 5), (2, 5), (3, 6), (1, 3)])
def test_window_weights_are_exact_to_their_order(n, levels):
    offsets, high, low = geometric_window(n, levels, 2.0, 0)
    nodes = np.concatenate([[0.0], offsets])
    # symmetric 2*levels + 1 nodes: exact for degree <= 2*levels (the parity adds one)
    for degree in range(2 * levels + 1):
        exact = math.factorial(n) if degree == n else 0.0
        assert np.dot(high, nodes**degree) == pytest.approx(exact, abs=1e-8)
        if degree <= 2 * levels - 2:
            assert np.dot(low, nodes**degree) == pytest.approx(exact, abs=1e-8)


def test_steps_are_powers_of_two():
    assert power_of_two_below(0.3) == 0.25
    assert richardson_start(1e6, 1) == 2.0**14          # 1e6 / 32 = 31250 -> 16384
    np.testing.assert_array_equal(richardson_start(np.array([0.0, 3.0]), 1), [2.0**-5, 2.0**-4])


def test_noise_stops_within_the_budget():
    # A function that is pure noise has no derivative: the loop must end (budget) and
    # must not claim a small error.
    rng = np.random.default_rng(1)
    calls = []

    def noise(x):
        calls.append(x)
        return float(rng.normal())

    with pytest.warns(Warning):
        result = finite_difference(noise, 0.5)
    assert result.n_evals == len(calls) <= 1 + 2 * 40
    assert not result.success or result.error > 1.0


def test_engine_on_many_lines_matches_one_line_at_a_time():
    x = np.array([0.3, 1.0, 4.0])

    def sample(line, t):
        return np.exp(x[line] + t)

    h0 = richardson_start(x, 1)
    together = richardson_lines(sample, np.exp(x), 1, h0, per_line_center=True)
    for k in range(3):
        alone = richardson_lines(lambda line, t, k=k: np.exp(x[k] + t), np.exp(x[k]), 1,
                                 h0[k:k + 1])
        assert alone.value[0] == together.value[k]
        assert alone.error[0] == together.error[k]
