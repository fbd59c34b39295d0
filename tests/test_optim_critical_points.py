"""critical_points and classify: the analytic list of the hills surface, degenerate
points, the global flags, a scipy peer, and bad bounds."""

import numpy as np
import pytest
import scipy.optimize

from bayescalc.optim import classify, critical_points, kind_from_eigenvalues
from bayescalc.optim.surfaces import (
    HILLS_BOUNDS,
    hills,
    hills_gradient,
    hills_hessian,
    hills_stationary_points,
)

EXACT = {"grad": hills_gradient, "hess": hills_hessian}  # fast: for tests not about diff


def _match(found, exact_points, atol):
    """Pair each exact point with the found one nearest to it (distance <= atol)."""
    pairs = []
    for exact, kind in exact_points:
        distances = [np.max(np.abs(np.asarray(p.x) - exact)) for p in found]
        i = int(np.argmin(distances))
        assert distances[i] <= atol, f"{exact} ({kind}) not found; nearest at {distances[i]}"
        pairs.append((found[i], exact, kind))
    return pairs


def _check_hills(found, atol):
    exact = hills_stationary_points()
    assert len(found) == len(exact) == 15
    for point, x, kind in _match(found, exact, atol=atol):
        assert point.kind == kind, (x, point.kind, kind)
        assert point.value == pytest.approx(hills(x), abs=1e-12)
        # Hessian eigenvalues against the closed form diag(P''(x), Q''(y)).
        p2 = 0.5 * np.polyval(np.polyder(np.poly([0, -2.5, -1.5, 1, 2])), x[0])
        q2 = np.polyval(np.polyder(np.poly([0, -1, 1.5])), x[1])
        np.testing.assert_allclose(point.hessian_eigenvalues, sorted([p2, q2]), rtol=1e-6)


def _numpy_only_hills(x):
    # np.asarray refuses a tensor that requires grad: diff falls back to numeric
    # differences (Richardson), the path every non-torch function takes.
    return hills(np.asarray(x, dtype=np.float64))


@pytest.mark.parametrize("f", [hills, _numpy_only_hills], ids=["autodiff", "numeric"])
@pytest.mark.parametrize("seed_offset", [0, 1])
def test_every_stationary_point_of_hills_is_found_and_classified(f, seed, seed_offset):
    # The acceptance test, with the default derivatives (bayescalc.diff: hills is plain
    # arithmetic, so torch.func autodiff; the numpy-only copy gets numeric differences).
    # The roots of ∇f are simple with |λ| >= 1.5, so a position is off by
    # |∇f error| / 1.5; 1e-7 is generous.
    _check_hills(critical_points(f, HILLS_BOUNDS, seed=seed + seed_offset), atol=1e-7)


@pytest.mark.parametrize("seed_offset", range(10))
def test_default_starts_find_all_of_hills_for_many_seeds(seed, seed_offset):
    # With exact derivatives (fast), over more seeds: the default 32·d = 64 starts find
    # all 15 points (48 starts sufficed on 20 of 20 seeds when measured; 32 on 8 of 20).
    found = critical_points(hills, HILLS_BOUNDS, seed=seed + 100 + seed_offset, **EXACT)
    _check_hills(found, atol=1e-9)  # LM stops on a step of 1e-10 of the box


def test_hills_global_minimum_and_maximum_are_named(seed):
    found = critical_points(hills, HILLS_BOUNDS, seed=seed, **EXACT)
    (global_min,) = [p for p in found if p.is_global_minimum]
    (global_max,) = [p for p in found if p.is_global_maximum]
    np.testing.assert_allclose(global_min.x, [2.0, 1.5], atol=1e-8)
    np.testing.assert_allclose(global_max.x, [-1.5, 0.0], atol=1e-8)
    assert global_min.value == pytest.approx(-1.784375, abs=1e-12)
    assert global_max.value == pytest.approx(2.281640625, abs=1e-12)
    assert global_min is found[0]  # sorted by value, lowest first
    values = [p.value for p in found]
    assert values == sorted(values)


def test_each_minimum_found_is_where_scipy_descends_to(seed):
    # Peer check: scipy's BFGS started near each minimum we report stays at it.
    rng = np.random.default_rng(seed)
    for point in critical_points(hills, HILLS_BOUNDS, seed=seed, **EXACT):
        if point.kind != "minimum":
            continue
        start = np.asarray(point.x) + rng.uniform(-0.05, 0.05, size=2)
        peer = scipy.optimize.minimize(hills, start, method="BFGS", tol=1e-12)
        np.testing.assert_allclose(peer.x, point.x, atol=1e-6)


# Where a test uses bayescalc.diff's numeric derivatives of a function of one variable,
# a stationary point is located to (error of f') / |f''|; diff's f' is accurate to
# better than 1e-6, so positions are checked to 1e-6.


def test_ties_flag_every_global_minimum():
    # (x² - 1)² has two minima of value 0 at ±1 and a maximum at 0.
    found = critical_points(lambda x: (x * x - 1.0) ** 2, (-2.0, 2.0), seed=0)
    assert [p.kind for p in found] == ["minimum", "minimum", "maximum"]
    np.testing.assert_allclose(sorted(p.x for p in found), [-1.0, 0.0, 1.0], atol=1e-6)
    assert [p.is_global_minimum for p in found] == [True, True, False]
    assert [p.is_global_maximum for p in found] == [False, False, True]


DEGENERATE = [
    # (f, bounds, the point, exact gradient, exact Hessian)
    (lambda x: x**4, (-1.0, 1.0), 0.0, lambda x: 4 * x**3, lambda x: 12 * x**2),
    (lambda x: x[0] ** 3 - 3 * x[0] * x[1] ** 2, [(-1, 1), (-1, 1)], [0.0, 0.0],
     lambda x: np.array([3 * x[0] ** 2 - 3 * x[1] ** 2, -6 * x[0] * x[1]]),
     lambda x: np.array([[6 * x[0], -6 * x[1]], [-6 * x[1], -6 * x[0]]])),
    (lambda x: x[0] ** 4 + x[1] ** 2, [(-1, 1), (-1, 1)], [0.0, 0.0],
     lambda x: np.array([4 * x[0] ** 3, 2 * x[1]]),
     lambda x: np.diag([12 * x[0] ** 2, 2.0])),
]
DEGENERATE_IDS = ["x^4", "monkey saddle", "x^4 + y^2"]


@pytest.mark.parametrize("f, bounds, x, grad, hess", DEGENERATE, ids=DEGENERATE_IDS)
def test_degenerate_points_are_found_and_called_degenerate(f, bounds, x, grad, hess):
    found = critical_points(f, bounds, seed=0, grad=grad, hess=hess)
    assert len(found) == 1, found
    (point,) = found
    assert point.kind == "degenerate"
    # Levenberg-Marquardt converges only linearly to a degenerate root; it stops on a
    # relative step of 1e-10, so the point is within ~1e-9 of the exact one.
    np.testing.assert_allclose(point.x, x, atol=1e-8)
    assert classify(f, x, grad=grad, hess=hess) == "degenerate"


@pytest.mark.parametrize("f, bounds, x, grad, hess", DEGENERATE, ids=DEGENERATE_IDS)
def test_degenerate_points_with_diffs_derivatives(f, bounds, x, grad, hess):
    # The default derivatives (bayescalc.diff: autodiff, these are plain arithmetic).
    # Convergence to a degenerate root is linear, so few starts keep this quick.
    found = critical_points(f, bounds, seed=0, n_starts=6)
    assert [p.kind for p in found] == ["degenerate"]
    np.testing.assert_allclose(found[0].x, x, atol=1e-4)
    assert classify(f, x) == "degenerate"


def test_one_dimensional_function():
    found = critical_points(lambda x: x**3 - 3.0 * x, (-3.0, 3.0), seed=0)
    assert [p.kind for p in found] == ["minimum", "maximum"]
    np.testing.assert_allclose([p.x for p in found], [1.0, -1.0], atol=1e-6)
    assert isinstance(found[0].x, float)
    np.testing.assert_allclose(found[0].hessian_eigenvalues, [6.0], rtol=1e-5)


def test_points_outside_the_box_are_not_reported():
    # Stationary points of hills outside x in [-1, 1.5]: only x in {0, 1} remain.
    found = critical_points(hills, [(-1.0, 1.5), (-1.5, 2.0)], seed=0, **EXACT)
    assert sorted({round(float(p.x[0]), 8) for p in found}) == [0.0, 1.0]
    assert len(found) == 6


def test_user_gradient_and_hessian_are_used():
    calls = {"grad": 0, "hess": 0}

    def grad(x):
        calls["grad"] += 1
        return np.array([2 * x[0], -2 * x[1]])

    def hess(x):
        calls["hess"] += 1
        return np.diag([2.0, -2.0])

    found = critical_points(lambda x: x[0] ** 2 - x[1] ** 2, [(-1, 1), (-1, 1)], n_starts=8,
                            seed=0, grad=grad, hess=hess)
    assert [p.kind for p in found] == ["saddle"]
    assert calls["grad"] > 0 and calls["hess"] > 0


def test_same_seed_same_points():
    first = critical_points(hills, HILLS_BOUNDS, seed=7, n_starts=40, **EXACT)
    second = critical_points(hills, HILLS_BOUNDS, seed=7, n_starts=40, **EXACT)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.x, b.x)


@pytest.mark.parametrize(
    "bounds, match",
    [([(1.0, -1.0), (0.0, 1.0)], r"bounds: low\[0\] = 1.0 >= high\[0\] = -1.0"),
     ([(0.0, 1.0), (2.0, 2.0)], r"bounds: low\[1\] = 2.0 >= high\[1\]"),
     ((3.0, 1.0), r"bounds: low\[0\] = 3.0 >= high\[0\] = 1.0"),
     ([(0.0, 1.0, 2.0)], r"one \(low, high\) pair per coordinate"),
     ([(0.0, np.inf)], "must be finite"),
     ([(np.nan, 1.0)], "must not contain NaN")],
)
def test_bad_bounds(bounds, match):
    with pytest.raises(ValueError, match=match):
        critical_points(lambda x: np.sum(x**2), bounds)


def test_bad_options():
    with pytest.raises(ValueError, match="n_starts must be >= 1"):
        critical_points(lambda x: x**2, (-1.0, 1.0), n_starts=0)
    with pytest.raises(ValueError, match="tol must be finite and > 0"):
        critical_points(lambda x: x**2, (-1.0, 1.0), tol=0.0)
    with pytest.raises(TypeError, match="f must be callable"):
        critical_points("x**2", (-1.0, 1.0))


def test_classify_the_second_derivative_test():
    assert classify(lambda x: x[0] ** 2 + 3 * x[1] ** 2, [0.0, 0.0]) == "minimum"
    assert classify(lambda x: -(x[0] ** 2) - x[0] * x[1] - x[1] ** 2, [0.0, 0.0]) == "maximum"
    assert classify(lambda x: x[0] * x[1], np.zeros(2)) == "saddle"
    assert classify(lambda x: np.cos(x), np.pi) == "minimum"
    # A saddle even though one eigenvalue is zero: x² - y² + z⁴ (eigenvalues -2, 0, 2).
    assert classify(lambda x: x[0] ** 2 - x[1] ** 2 + x[2] ** 4, np.zeros(3)) == "saddle"


def test_classify_refuses_a_point_that_is_not_stationary():
    with pytest.raises(ValueError, match="not a stationary point"):
        classify(lambda x: np.sum(x**2), [1.0, 0.0])


def test_kind_from_eigenvalues_tolerance():
    assert kind_from_eigenvalues([1e-7, 1.0]) == "degenerate"  # 1e-7 <= 1e-5 * 1
    assert kind_from_eigenvalues([1e-7, 1.0], tol=1e-8) == "minimum"
    assert kind_from_eigenvalues([-3e3, -1.0]) == "maximum"  # 1 > 1e-5 * 3e3
    assert kind_from_eigenvalues([-3e3, -1.0], tol=1e-3) == "degenerate"  # 1 <= 3


def test_starts_where_f_is_not_finite_are_dropped():
    # x log x - x: NaN for x < 0 (diff refuses there), one minimum at x = 1 (f' = log x).
    def f(x):
        with np.errstate(invalid="ignore", divide="ignore"):
            return x * np.log(x) - x

    found = critical_points(f, (-1.0, 2.0), seed=0)
    assert [p.kind for p in found] == ["minimum"]
    assert found[0].x == pytest.approx(1.0, abs=1e-6)


def test_f_failing_everywhere_is_an_error():
    with pytest.raises(ValueError, match="failed at every start.*non-finite"):
        critical_points(lambda x: np.nan * x, (0.0, 1.0), seed=0)
