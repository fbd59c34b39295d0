"""vegas and AdaptiveMap: peaked integrands against closed forms and the vegas package,
the map's Jacobian, chi^2, and bad input.

Values are checked within 5 reported standard errors (the vegas package's own test
convention); the chi^2/dof of consistent iterations must be modest."""

import math
import warnings

import numpy as np
import pytest

from bayescalc.integrate import AdaptiveMap, VegasResult, vegas


def peak(x, width=100.0):
    return np.exp(-width * ((x - 0.5) ** 2).sum(axis=1))


def peak_exact(d, width=100.0):
    return (math.sqrt(math.pi / width) * math.erf(0.5 * math.sqrt(width))) ** d


@pytest.mark.parametrize("sampling", ["mc", "stratified", "qmc"])
@pytest.mark.parametrize("d", [2, 4])
def test_peak_within_its_standard_error(sampling, d, seed):
    r = vegas(peak, np.zeros(d), np.ones(d), n_eval=5000, seed=seed, sampling=sampling)
    assert isinstance(r, VegasResult) and r.method == f"vegas-{sampling}"
    exact = peak_exact(d)
    assert abs(r.value - exact) < 5 * r.error
    # adaptation pays: far below plain MC's error with the same budget
    plain_mc_error = exact * math.sqrt(((math.pi / 50) / (math.pi / 100) ** 2) ** (d / 2)
                                       / r.n_evals)
    assert r.error < plain_mc_error / 5
    if sampling != "qmc":
        assert r.chi2_dof < 5 and r.q_value > 1e-4 and len(r.iterations) == 10
    else:
        assert math.isnan(r.chi2_dof) and len(r.iterations) >= 8


def test_agrees_with_vegas_package_on_the_same_problem(seed):
    vegas_package = pytest.importorskip("vegas")
    d = 3
    integrator = vegas_package.Integrator([[0, 1]] * d)
    batch = vegas_package.lbatchintegrand(peak)
    integrator(batch, nitn=5, neval=5000)
    theirs = integrator(batch, nitn=10, neval=5000)
    ours = vegas(peak, np.zeros(d), np.ones(d), n_eval=5000, seed=seed, sampling="stratified")
    combined = math.hypot(ours.error, theirs.sdev)
    assert abs(ours.value - theirs.mean) < 5 * combined
    assert ours.error < 3 * theirs.sdev              # no worse by more than noise


def test_corner_box_and_one_dimension():
    r = vegas(lambda x: 1.0 / np.sqrt(x), 0.0, 4.0, n_eval=4000, seed=1)  # integrable spike
    assert abs(r.value - 4.0) < 5 * r.error
    box = vegas(lambda x: peak((x - np.array([1.0, -2.0])) / 2 + 0.5), [0, -3], [2, -1],
                n_eval=4000, seed=2)
    assert abs(box.value - 4 * peak_exact(2)) < 5 * box.error


def test_constant_integrand_is_exact_with_zero_error():
    r = vegas(lambda x: np.full(x.shape[0], 3.0), [0, 0], [1, 2], n_eval=1000, seed=0)
    assert r.value == pytest.approx(6.0, rel=1e-12) and r.error < 1e-9


def test_same_seed_same_answer_and_map_reuse():
    a = vegas(peak, [0, 0], [1, 1], n_eval=2000, seed=7)
    b = vegas(peak, [0, 0], [1, 1], n_eval=2000, seed=7)
    assert a.value == b.value
    warm = vegas(peak, [0, 0], [1, 1], n_eval=2000, n_adapt=0, seed=8, initial_map=a.map)
    assert abs(warm.value - peak_exact(2)) < 5 * warm.error
    assert a.map.grid[0, a.map.n_bins // 2] == pytest.approx(0.5, abs=0.02)


def test_inconsistent_iterations_warn():
    # a needle no early iteration sees: later iterations jump, chi^2 flags it
    def needle(x):
        return np.exp(-1e6 * ((x - 0.9137) ** 2).sum(axis=1)) * 1e6 + 1.0

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = vegas(needle, [0, 0], [1, 1], n_eval=500, n_adapt=0, n_iter=10, seed=3,
                  sampling="mc")
    if not r.success:
        assert any("iterations disagree" in str(w.message) for w in caught)
    assert r.n_evals == 5000


# ---- the map ---------------------------------------------------------------------------

def test_map_jacobian_is_the_derivative_of_the_map():
    rng = np.random.default_rng(0)
    m = AdaptiveMap(2, n_bins=8)
    m.grid = np.sort(np.r_[0.0, rng.random(7), 1.0][None].repeat(2, 0) ** [[1.0], [2.0]],
                     axis=1)
    y = rng.random((50, 2)) * 0.98 + 0.01
    x, jac = m.map(y)
    h = 1e-7
    numeric = np.prod([(m.map(y + h * np.eye(2)[j])[0][:, j] - x[:, j]) / h for j in range(2)],
                      axis=0)
    inside = np.all(np.abs((y * 8) - np.round(y * 8)) > 1e-5, axis=1)  # away from bin edges
    np.testing.assert_allclose(jac[inside], numeric[inside], rtol=1e-5)
    assert np.all((x >= 0) & (x <= 1))


def test_trained_map_density_follows_the_integrand():
    # for f(x) = 2x on [0, 1] the optimal map is x = sqrt(y): its median sits at sqrt(1/2)
    m = AdaptiveMap(1, n_bins=50)
    y = np.random.default_rng(1).random((20_000, 1))
    for _ in range(20):
        x, jac = m.map(y)
        m.add_training_data(y, 2 * x[:, 0] * jac)
        m.adapt(alpha=1.0)
    assert m.map(np.array([[0.5]]))[0][0, 0] == pytest.approx(math.sqrt(0.5), abs=0.02)


def test_alpha_zero_freezes_the_map():
    m = AdaptiveMap(1, n_bins=10)
    y = np.random.default_rng(1).random((1000, 1))
    m.add_training_data(y, y[:, 0] ** 4)
    m.adapt(alpha=0.0)
    np.testing.assert_array_equal(m.grid, np.linspace(0, 1, 11)[None])


# ---- bad input -------------------------------------------------------------------------

def test_bad_input():
    with pytest.raises(ValueError, match="n_eval must be >= 2"):
        vegas(peak, [0], [1], n_eval=1)
    with pytest.raises(ValueError, match="n_iter must be >= 2"):
        vegas(peak, [0], [1], n_iter=1)
    with pytest.raises(ValueError, match="must be finite"):
        vegas(peak, [0], [np.inf])
    with pytest.raises(ValueError, match="alpha must be"):
        vegas(peak, [0], [1], alpha=3.0)
    with pytest.raises(ValueError, match="sampling must be one of"):
        vegas(peak, [0], [1], sampling="halton")
    with pytest.raises(ValueError, match="f returned a non-finite value nan"):
        vegas(lambda x: np.where(x[:, 0] > 0.9, np.nan, 1.0), [0, 0], [1, 1], n_eval=500)
    with pytest.raises(ValueError, match="initial_map has dimension 2"):
        vegas(peak, [0], [1], n_eval=100, initial_map=AdaptiveMap(2))


def test_torch_integrand_on_device_equals_numpy():
    torch = pytest.importorskip("torch")
    numpy_result = vegas(peak, [0, 0], [1, 1], n_eval=2000, n_iter=3, n_adapt=2, seed=4)

    def torch_peak(x):
        return torch.exp(-100.0 * ((x - 0.5) ** 2).sum(dim=1))

    on_cpu = vegas(torch_peak, [0, 0], [1, 1], n_eval=2000, n_iter=3, n_adapt=2, seed=4,
                   device="cpu")
    assert on_cpu.value == pytest.approx(numpy_result.value, rel=1e-12)


def test_stratified_allocation_follows_the_variance_and_spends_the_budget():
    vegas_module = __import__("importlib").import_module("bayescalc.integrate._vegas")
    counts = vegas_module._allocate(100, np.array([0.0, 1.0, 16.0, 0.0]), beta=1.0)
    assert counts.sum() == 100 and counts.min() >= 2
    assert counts[2] > counts[1] > counts[0]       # sigma 4 > 1 > 0
    r = vegas(peak, [0, 0], [1, 1], n_eval=3000, n_iter=4, n_adapt=2, seed=0,
              sampling="stratified")
    assert r.method == "vegas-stratified"
    assert abs(r.value - peak_exact(2)) < 5 * r.error


def test_auto_sampling_is_qmc_up_to_six_dimensions():
    assert vegas(peak, np.zeros(6), np.ones(6), n_eval=500, n_iter=2, n_adapt=1,
                 seed=0).method == "vegas-qmc"
    assert vegas(peak, np.zeros(7), np.ones(7), n_eval=500, n_iter=2, n_adapt=1,
                 seed=0).method == "vegas-stratified"


def test_progress_bar_counts_iterations_and_leaves_the_numbers_alone(capsys):
    peak = lambda x: np.exp(-100 * ((x - 0.5) ** 2).sum(axis=1))   # noqa: E731
    quiet = vegas(peak, [0, 0], [1, 1], n_eval=2000, seed=0, progress=False)
    shown = vegas(peak, [0, 0], [1, 1], n_eval=2000, seed=0, progress=True)
    assert (shown.value, shown.error, shown.n_evals) == (quiet.value, quiet.error,
                                                         quiet.n_evals)
    assert "vegas" in capsys.readouterr().err          # tqdm writes to stderr
    with pytest.raises(TypeError, match="progress"):
        vegas(peak, [0, 0], [1, 1], n_eval=2000, progress="yes")


# ---- issue 8, item 15: the lean iteration keeps its answers ---------------------------

@pytest.mark.parametrize("sampling", ["stratified", "mc"])
def test_points_do_not_depend_on_the_batch_size(sampling):
    # one stream per iteration: the batches only cut the evaluation
    runs = [vegas(peak, np.zeros(3), np.ones(3), n_eval=3000, n_iter=3, n_adapt=2, seed=4,
                  sampling=sampling, batch_size=b) for b in (None, 700, 3000)]
    assert len({(r.value, r.error, r.n_evals) for r in runs}) == 1


def test_nan_names_the_mapped_point_in_the_box():
    # the map runs before f: the point named is where f was called, inside the box
    def f(x):
        return np.where(x[:, 0] > 2.9, np.nan, 1.0)

    with pytest.raises(ValueError, match="non-finite") as info:
        vegas(f, [2, -1], [3, 1], n_eval=2000, seed=0, sampling="stratified")
    x = np.array([float(v) for v in str(info.value).split("[")[1].split("]")[0].split()])
    assert 2.9 < x[0] <= 3 and -1 <= x[1] <= 1


def test_binned_training_is_the_training():
    # add_binned_data with map_points' bins equals add_training_data on the points
    from bayescalc.integrate.sampling.vegas_map import map_points

    rng = np.random.default_rng(0)
    a, b = AdaptiveMap(3, 20), AdaptiveMap(3, 20)
    y = rng.random((500, 3))
    a.grid[:, 1:-1] = np.sort(rng.random((3, 19)), axis=1)
    b.grid = a.grid.copy()
    x, jac, bins = map_points(a.grid, y.copy(), with_bins=True)
    values, weights = peak(x) * jac, rng.random(500) + 0.5
    a.add_training_data(y, values, weights)
    b.add_binned_data(bins, values, weights)
    assert np.allclose(a._sum, b._sum) and np.allclose(a._count, b._count)
    a.adapt(0.5)
    b.adapt(0.5)
    assert np.array_equal(a.grid, b.grid)


@pytest.mark.parametrize("sampling", ["stratified", "mc", "qmc"])
def test_f_may_return_a_read_only_or_kept_array(sampling):
    # f J is formed in vegas's own buffer, never in the array f returned
    kept = []

    def constant(x):
        out = np.broadcast_to(2.0, (x.shape[0],))  # read-only
        kept.append(out)
        return out

    r = vegas(constant, [0, 0], [1, 1], n_eval=500, n_iter=3, n_adapt=1, seed=0,
              sampling=sampling)
    assert abs(r.value - 2.0) < 1e-9 and all(np.all(k == 2.0) for k in kept)
