"""check_elbo and check_evidence: the reference passes, each usual mistake fails at the
right place with its name, and a student function that raises or returns the wrong
shape gets a verdict, not a traceback."""

import math

import pytest
import torch

from bayescalc.testing import check_elbo, check_evidence

# --- ELBO ----------------------------------------------------------------------------------

def elbo_reference(model, q, z):
    return (model.log_joint(z) - q.log_prob(z)).mean()


def elbo_closed_entropy(model, q, z):
    return model.log_joint(z).mean() + q.entropy()


def _ladj(model, z):
    value = model.transform.log_abs_det_jacobian(z, model.transform(z))
    return value.sum(-1) if value.ndim == 2 else value


def elbo_no_jacobian(model, q, z):
    return (model.log_joint(z) - _ladj(model, z) - q.log_prob(z)).mean()


def elbo_own_draws(model, q, z):
    draws = q.sample((8000,), generator=torch.Generator().manual_seed(7))
    return (model.log_joint(draws) - q.log_prob(draws)).mean()


@pytest.mark.parametrize("student", [elbo_reference, elbo_closed_entropy, elbo_own_draws])
def test_check_elbo_passes_correct_estimators(student):
    verdict = check_elbo(student)
    assert verdict.ok and verdict.n_cases == 3, verdict.message


@pytest.mark.parametrize("student, diagnosis, case", [
    (lambda m, q, z: -elbo_reference(m, q, z), "wrong sign", 1),
    (lambda m, q, z: m.log_joint(z).mean(), "missing entropy", 1),
    (elbo_no_jacobian, "missing log-Jacobian", 3),      # only case 3 is constrained
    (lambda m, q, z: (m.log_joint(z) - q.log_prob(z)).sum(), "sum instead of mean", 1),
    (lambda m, q, z: (m.log_joint(z) + q.log_prob(z)).mean(), "log q added", 1),
])
def test_check_elbo_names_the_mistake_where_it_shows(student, diagnosis, case):
    verdict = check_elbo(student)
    assert not verdict.ok
    assert verdict.diagnosis == diagnosis, verdict.message
    assert verdict.where.startswith(f"case {case} ")
    assert math.isfinite(verdict.expected) and math.isfinite(verdict.got)


def test_check_elbo_own_draws_missing_entropy_is_caught_within_mc_error():
    def student(model, q, z):
        draws = q.sample((8000,), generator=torch.Generator().manual_seed(3))
        return model.log_joint(draws).mean()

    verdict = check_elbo(student)
    assert not verdict.ok and verdict.diagnosis in ("missing entropy", None)


@pytest.mark.parametrize("student, text", [
    (lambda m, q, z: 1 / 0, "raised ZeroDivisionError"),
    (lambda m, q, z: m.log_joint(z) - q.log_prob(z), "has shape (256,)"),
    (lambda m, q, z: "ELBO", "not numbers"),
    (lambda m, q, z: torch.tensor(float("nan")), "not finite"),
])
def test_check_elbo_verdict_not_traceback(student, text):
    verdict = check_elbo(student)
    assert not verdict.ok and text in verdict.message and verdict.where.startswith("case 1")


def test_check_elbo_on_a_users_pair_and_bad_arguments():
    import bayescalc as bc

    model = bc.models.linear_regression(3, n=40, seed=1)
    q = bc.vi.FullRankNormal.from_gaussian(model.posterior_mean, model.posterior_cov)
    assert check_elbo(elbo_reference, model, q).ok
    with pytest.raises(ValueError, match="both model and approx"):
        check_elbo(elbo_reference, model)
    with pytest.raises(TypeError, match="student_elbo_fn"):
        check_elbo("elbo")
    with pytest.raises(ValueError, match="dimension"):
        check_elbo(elbo_reference, model, bc.vi.MeanFieldNormal(2))


# --- evidence ------------------------------------------------------------------------------

def log_z_grid(model, half_width=12.0, n=801):
    axes = [torch.linspace(-half_width, half_width, n, dtype=torch.float64)] * model.dim
    grid = torch.cartesian_prod(*axes).reshape(-1, model.dim)
    return float(torch.logsumexp(model.log_joint(grid), 0)) + model.dim * math.log(
        2 * half_width / (n - 1))


def log_z_prior_mc(model):
    """Simple Monte Carlo over the prior, with its delta-method error: correct."""
    draws = model.sample_prior(200_000, seed=1)
    log_lik = model.log_likelihood(draws)
    weights = torch.exp(log_lik - log_lik.max())
    log_z = float(torch.logsumexp(log_lik, 0)) - math.log(len(log_lik))
    return log_z, float(weights.std() / weights.mean()) / math.sqrt(len(log_lik))


def log_z_no_jacobian(model):
    if model.dim > 1:
        return log_z_grid(model)
    z = torch.linspace(-12, 12, 801, dtype=torch.float64).reshape(-1, 1)
    ladj = model.transform.log_abs_det_jacobian(z, model.transform(z))
    ladj = ladj.sum(-1) if ladj.ndim == 2 else ladj
    return float(torch.logsumexp(model.log_joint(z) - ladj, 0)) + math.log(24 / 800)


def log_z_no_prior(model):
    z = torch.linspace(-30, 30, 6001, dtype=torch.float64).reshape(-1, 1)
    ladj = model.transform.log_abs_det_jacobian(z, model.transform(z))
    ladj = ladj.sum(-1) if ladj.ndim == 2 else ladj
    return float(torch.logsumexp(model.log_likelihood(z) + ladj, 0)) + math.log(60 / 6000)


def log_z_jensen(model):
    return float(model.log_likelihood(model.sample_prior(50_000, seed=2)).mean())


@pytest.mark.parametrize("student", [log_z_grid, log_z_prior_mc])
def test_check_evidence_passes_correct_estimators(student):
    verdict = check_evidence(student)
    assert verdict.ok and verdict.n_cases == 3, verdict.message


@pytest.mark.parametrize("student, diagnosis, case", [
    (lambda m: math.exp(log_z_grid(m)), "returned Z, not log Z", 1),
    (lambda m: -log_z_grid(m), "wrong sign", 1),
    (log_z_no_jacobian, "missing log-Jacobian", 2),
    (log_z_no_prior, "prior left out", 1),
    (log_z_jensen, "log inside the mean (Jensen)", 1),
    (lambda m: (log_z_grid(m) + 0.03, 1e-4), "error bar too small", 1),
])
def test_check_evidence_names_the_mistake(student, diagnosis, case):
    verdict = check_evidence(student)
    assert not verdict.ok
    assert verdict.diagnosis == diagnosis, verdict.message
    assert verdict.where.startswith(f"case {case} ")


@pytest.mark.parametrize("student, text", [
    (lambda m: [][1], "raised IndexError"),
    (lambda m: torch.zeros(2), "shape (2,)"),
    (lambda m: (1.0, 2.0, 3.0), "returned 3 values"),
])
def test_check_evidence_verdict_not_traceback(student, text):
    verdict = check_evidence(student)
    assert not verdict.ok and text in verdict.message


def test_check_evidence_needs_an_exact_answer():
    import bayescalc as bc

    with pytest.raises(ValueError, match="log_z_exact"):
        check_evidence(log_z_grid, bc.Model(lambda t: -t[:, 0] ** 2,
                                            lambda t: -t[:, 0] ** 2, 1))
