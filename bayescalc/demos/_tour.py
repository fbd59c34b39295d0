"""The tour: the library's story in legs, each leg one or two demos and a summary.

A leg is a function ``leg(out_dir, *, quick, seed) -> Leg``: it runs its demos (their
figures land in ``out_dir/<demo>/``) and returns a title, a short readable summary, the
figures with their captions and the numbers it measured. :data:`LEGS` is the tour, in
order; adding a leg is adding one function to that list. :func:`run_tour` runs the legs
with a progress bar, prints each summary and writes the ``index.html`` report
(:mod:`bayescalc.demos._report`).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from .._core.progress import progress_bar
from . import load_demo


@dataclass(frozen=True)
class Figure:
    """One saved figure and the paragraph saying what to see in it."""

    path: Path
    caption: str


@dataclass(frozen=True)
class Leg:
    """What one leg of the tour shows: text, figures with captions, numbers."""

    title: str
    summary: str
    figures: tuple[Figure, ...]
    numbers: dict
    log: str = ""            # everything the leg's demos printed
    seconds: float = 0.0
    runs: tuple = ()         # the DemoRun of each demo the leg ran


@dataclass(frozen=True)
class DemoRun:
    """One demo's output: the numbers ``main`` returned, what it printed, its figures."""

    name: str
    numbers: dict
    log: str
    figures: tuple[Figure, ...]
    command: str = ""        # the command line that reproduces this run


def run_demo(name: str, out_dir, *, quick: bool, seed: int = 0, **options) -> DemoRun:
    """Run demo ``name`` into ``out_dir/name``, capturing what it prints.

    Every PNG the demo wrote comes back with its caption from the demo's ``FIGURES``,
    in the order of that dict (a figure the demo did not caption gets a placeholder
    that the tests reject).
    """
    module = load_demo(name)
    folder = Path(out_dir) / name
    printed = io.StringIO()
    # the tour shows its own bar: a demo's bar (its ``progress`` option) stays off
    quiet = {"progress": False} if "progress" in inspect.signature(module.main).parameters \
        else {}
    with contextlib.redirect_stdout(printed):
        numbers = module.main(out_dir=folder, quick=quick, seed=seed, **options, **quiet)
    captions = dict(getattr(module, "FIGURES", {}))
    written = {path.stem: path for path in sorted(folder.glob("*.png"))}
    order = [stem for stem in captions if stem in written]
    order += [stem for stem in written if stem not in captions]
    figures = tuple(Figure(written[stem], captions.get(stem, "(no caption)"))
                    for stem in order)
    command = (f"bayescalc demo {name}{' --quick' if quick else ''} --seed {seed}"
               + "".join(f" --{key.replace('_', '-')} {value}" for key, value in options.items()))
    return DemoRun(name, dict(numbers), printed.getvalue(), figures, command)


def _leg(title: str, summary: str, runs: list[DemoRun], start: float) -> Leg:
    numbers = {}
    for run in runs:
        numbers.update({f"{run.name}.{key}": value for key, value in run.numbers.items()})
    return Leg(title=title, summary=summary,
               figures=tuple(fig for run in runs for fig in run.figures), numbers=numbers,
               log="".join(f"$ {run.command}\n{run.log}\n" for run in runs),
               seconds=time.perf_counter() - start, runs=tuple(runs))


def _e(value: float) -> str:
    """A small error in one significant digit; an exact zero as 0."""
    return "0" if value == 0 else f"{value:.0e}"


# --- the legs ---------------------------------------------------------------------------

def derivatives(out_dir, *, quick: bool, seed: int = 0) -> Leg:
    """The limit definition, the chain rule, gradients as vectors of partials."""
    start = time.perf_counter()
    run = run_demo("derivatives", out_dir, quick=quick, seed=seed)
    n = run.numbers
    numeric = max(v for k, v in n.items() if k.endswith("_numeric_error"))
    auto = max(v for k, v in n.items() if k.endswith("_autodiff_error"))
    summary = (
        f"The difference quotient (f(x+h) - f(x))/h of x² tends to 2x as h shrinks, until "
        f"round-off wins: the forward difference is best at h = {n['best_step']:.1e} "
        f"(theory: sqrt(2 eps)|x| = {n['theoretical_best_step']:.1e}, error "
        f"{n['best_forward_error']:.0e}); the adaptive Richardson engine's error is "
        f"{_e(n['richardson_error'])}.\n"
        f"Chain rule on (x²)³ and sin((4x)²): worst relative error {numeric:.0e} "
        f"numerically, {auto:.0e} by autodiff.\n"
        f"Gradient of x²y + y³ at (1, 2): ({n['gradient'][0]:.6g}, {n['gradient'][1]:.6g}), "
        f"each partial holding the other variable fixed.")
    return _leg("Derivatives: the limit, the chain rule, the gradient", summary, [run], start)


def optimization(out_dir, *, quick: bool, seed: int = 0) -> Leg:
    """Gradient descent from several starts; every critical point found and classified."""
    start = time.perf_counter()
    run = run_demo("gradient_descent", out_dir, quick=quick, seed=seed)
    n = run.numbers
    steps = {k.rsplit("_", 1)[1]: v for k, v in n.items() if k.startswith("rosenbrock_steps_")}
    summary = (
        f"Gradient descent from 5 starts on a surface with 6 minima reached "
        f"{n['distinct_minima_reached']} different minima: which minimum you reach depends "
        f"on the basin you start in, not on how long you run.\n"
        f"critical_points found {n['n_critical_points']} stationary points ({n['minimum']} "
        f"minima, {n['maximum']} maxima, {n['saddle']} saddles; {n['n_correct']} match the "
        f"analytic list) and names the global minimum f({n['global_minimum'][0]:g}, "
        f"{n['global_minimum'][1]:g}) = {n['global_minimum_value']:g}.\n"
        "Rosenbrock, steps to |∇f| <= 1e-6: "
        + ", ".join(f"{method} {count}" for method, count in steps.items()) + ".")
    return _leg("Gradient descent and critical points: the start decides", summary, [run],
                start)


def integrals(out_dir, *, quick: bool, seed: int = 0) -> Leg:
    """Quadrature (rates, log space) and Monte Carlo (rates, importance sampling)."""
    start = time.perf_counter()
    quad_run = run_demo("quadrature", out_dir, quick=quick, seed=seed)
    mc_run = run_demo("monte_carlo", out_dir, quick=quick, seed=seed)
    q, m = quad_run.numbers, mc_run.numbers
    within = q["error_within_150_evals"]
    summary = (
        f"With at most 150 evaluations on a smooth integrand: trapezoid "
        f"{within['trapezoid'][0]:.0e}, Simpson {within['Simpson'][0]:.0e}, Gauss-Legendre "
        f"{_e(within['Gauss-Legendre'][0])}; on √x·log x (singular at 0) only tanh-sinh "
        f"stays exact ({_e(within['tanh-sinh'][1])}).\n"
        f"log Z of a model whose likelihood underflows: quad(log=True) has relative error "
        f"{q['log_z_relative_error']:.0e}; without log space quad returns 0 and says so.\n"
        f"Monte Carlo error slope {m['slope_mc']:+.2f} (theory -1/2), scrambled Sobol' "
        f"{m['slope_qmc']:+.2f}; a too-narrow importance proposal has k-hat "
        f"{m['khat_bad']:.2f} > 0.7 and is flagged unreliable (a good one: "
        f"{m['khat_good']:.2f}).")
    return _leg("Integrals: quadrature and Monte Carlo", summary, [quad_run, mc_run], start)


def _real_data_run(name: str, out_dir, describe, *, quick: bool, seed: int):
    """``(runs, text)`` of a real-data demo: its run and ``describe(numbers)``, or no run
    and why it was skipped when its optional extra is missing."""
    from ._data import MissingDataExtraError

    try:
        run = run_demo(name, out_dir, quick=quick, seed=seed)
    except MissingDataExtraError as error:
        return [], f"\n(The real-data demo {name} was skipped: {error}.)"
    return [run], "\n" + describe(run.numbers)


def evidence(out_dir, *, quick: bool, seed: int = 0) -> Leg:
    """Posterior normalization: log Z by many methods on one model, a normalized posterior,
    and a Bayes factor between two regressions of real data."""
    start = time.perf_counter()
    run = run_demo("posterior_normalization", out_dir, quick=quick, seed=seed)
    n = run.numbers
    summary = (
        f"A beta-binomial posterior normalized by adapted quadrature: log Z off the closed "
        f"form by {n['beta_binomial_dlogz']:.0e}.\n"
        f"Linear regression (d = 3), log Z by every method: quadrature off by "
        f"{_e(n['regression_dlogz_quadrature'])}; the harmonic mean off by "
        f"{n['regression_dlogz_harmonic_mean']:.2f} nats (why not to use it).\n"
        f"A banana posterior normalized (log Z = {n['banana_log_z']:.4f}); a log Bayes factor "
        f"between two regressions of {n['log_bayes_factor']:.4f}.")
    runs = [run]

    def describe(r):
        return (
            f"Real data (scikit-learn's diabetes, 442 patients): bmi + bp + s5 against all 10 "
            f"predictors, exact log Bayes factor {r['exact_log_bayes_factor']:.3f} (the "
            f"smaller model is favoured {math.exp(r['exact_log_bayes_factor']):.1f} : 1); SMC "
            f"gives {r['log_bayes_factor_smc']:.3f} ± {r['log_bayes_factor_error_smc']:.2f}, "
            f"importance sampling {r['log_bayes_factor_importance']:.3f} ± "
            f"{r['log_bayes_factor_error_importance']:.2f}, Laplace "
            f"{r['log_bayes_factor_laplace']:.3f} ± {r['log_bayes_factor_error_laplace']:.2f}.")

    real_runs, text = _real_data_run("bayes_factor_diabetes", out_dir, describe, quick=quick,
                                     seed=seed)
    summary += text
    runs += real_runs
    return _leg("The evidence and the normalized posterior", summary, runs, start)


def variational(out_dir, *, quick: bool, seed: int = 0) -> Leg:
    """VI: mean-field hides inside a correlated posterior; full-rank is exact; VI on real
    data against a reference and Pyro."""
    start = time.perf_counter()
    run = run_demo("meanfield_vs_fullrank", out_dir, quick=quick, seed=seed)
    n = run.numbers
    summary = (
        f"On a correlated Gaussian (rho = 0.9) the mean-field fit's variance is "
        f"{n['meanfield_var']:.3f} (closed form 1 - rho² = {n['closed_form_var']:.3f}), the "
        f"full-rank fit's {n['fullrank_var']:.3f} (true 1).\n"
        f"The gap log Z - ELBO = KL(q || p): mean-field {n['meanfield_gap']:.3f} nats, "
        f"full-rank {_e(abs(n['fullrank_gap']))}.")
    runs = [run]

    def describe(r):
        return (
            f"Real data (scikit-learn's breast cancer, logistic regression, d = 31) against "
            f"an SMC reference: full-rank ADVI's posterior means are within "
            f"{r['advi_fullrank_mean_error_sd']:.2f} sd and its sds within "
            f"{r['advi_fullrank_sd_error']:.0%} (k-hat {r['advi_fullrank_khat']:.2f}, "
            f"{r['advi_fullrank_grad_evals']} gradients); mean-field shrinks sds by up to "
            f"{r['advi_meanfield_sd_error']:.0%} (k-hat {r['advi_meanfield_khat']:.2f}); "
            f"Pyro's SVI (AutoMultivariateNormal, from its default start) after "
            f"{r['pyro_svi_grad_evals']} steps: means within {r['pyro_svi_mean_error_sd']:.2f} "
            f"sd, sds within {r['pyro_svi_sd_error']:.0%}.")

    real_runs, text = _real_data_run("vi_logistic_regression", out_dir, describe, quick=quick,
                                     seed=seed)
    summary += text
    runs += real_runs
    return _leg("Variational inference: the ELBO and what mean-field misses", summary, runs,
                start)


def games(out_dir, *, quick: bool, seed: int = 0) -> Leg:
    """The Dirac-GAN (which rules converge) and a GAN on a ring of Gaussians."""
    start = time.perf_counter()
    dirac = run_demo("dirac_gan", out_dir, quick=quick, seed=seed)
    ring = run_demo("gan_ring", out_dir, quick=quick, seed=seed)
    d, r = dirac.numbers, ring.numbers
    summary = (
        "Dirac-GAN, distance to the equilibrium from (1, 1): simultaneous steps "
        f"{d['simultaneous_gamma0']:.3g} (spiral out), alternating "
        f"{d['alternating_gamma0']:.3g} (circle), extragradient "
        f"{d['extragradient_gamma0']:.3g}, optimistic {d['optimistic_gamma0']:.3g}, "
        f"consensus {d['consensus_gamma0']:.1e}; with the R1 penalty every rule converges "
        f"(simultaneous: {d['simultaneous_gamma0.3']:.1e}).\n"
        f"Ring GAN ({r['optimizer']}, {r['steps']} steps, {r['hidden']}-unit MLPs, seed {seed}): "
        f"{r['modes_covered']}/8 modes, {r['high_quality']:.1%} high-quality samples "
        f"(EMA generator: {r['modes_covered_ema']}/8, {r['high_quality_ema']:.1%}).")
    return _leg("Min-max and the GAN", summary, [dirac, ring], start)


# The tour, in order.
LEGS = [derivatives, optimization, integrals, evidence, variational, games]


def leg_names() -> list[str]:
    """The legs' names, in order (``bayescalc tour --only NAME``)."""
    return [leg.__name__ for leg in LEGS]


# Rough relative cost of each leg (seconds of one core in the quick tour, measured; in
# the full tour the GAN leg is by far the longest), so that the worker processes start
# with the longest legs and finish together.
_COST = {"games": 8.0, "variational": 7.5, "evidence": 3.5, "optimization": 2.3,
         "derivatives": 2.2, "integrals": 1.8}


def _worker_context():
    """Fork where it is safe and cheap (Linux: the workers inherit the imported library,
    as torch's DataLoader workers do); spawn elsewhere."""
    import multiprocessing
    import sys

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _run_leg(leg, out_dir, quick, seed):
    """One leg in a worker process (one torch thread, like the parent)."""
    import torch

    torch.set_num_threads(1)
    return leg(out_dir, quick=quick, seed=seed)


def run_tour(out_dir, *, quick: bool = False, seed: int = 0, only=None, jobs: int = 1,
             progress: bool = True, echo=print) -> list[Leg]:
    """Run the legs, print each summary in order, write ``out_dir/index.html``.

    With ``jobs > 1`` the legs run in that many worker processes (the legs are
    independent; each writes under its own folders), and their summaries are still
    printed in the tour's order. Returns the legs (each with its figures and numbers).
    """
    from ._report import write_report

    out_dir = Path(out_dir)
    legs = [leg for leg in LEGS if only is None or leg.__name__ in only]
    done = []
    with contextlib.ExitStack() as stack:
        if jobs > 1 and len(legs) > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = stack.enter_context(ProcessPoolExecutor(
                max_workers=min(jobs, len(legs)), mp_context=_worker_context()))
            # longest first, so that the workers finish together; reported in tour order
            order = sorted(legs, key=lambda leg: -_COST.get(leg.__name__, 0.0))
            futures = {leg: pool.submit(_run_leg, leg, out_dir, quick, seed) for leg in order}
            results = (futures[leg].result() for leg in legs)
        else:
            results = (leg(out_dir, quick=quick, seed=seed) for leg in legs)
        # the bar (and its monitor thread) only once the workers exist
        bar = stack.enter_context(progress_bar(total=len(legs), enabled=progress, desc="tour"))
        for number, result in enumerate(results, start=1):
            if hasattr(bar, "set_description") and number < len(legs):
                bar.set_description(f"tour: {legs[number].__name__}")
            done.append(result)
            text = (f"\n== {number}. {result.title} ({result.seconds:.0f} s, "
                    f"{len(result.figures)} figures)\n"
                    + "\n".join(textwrap.fill(line, 88) for line in result.summary.splitlines()))
            if hasattr(bar, "write"):
                bar.write(text)
            else:
                echo(text)
            bar.update()
    write_report(done, out_dir, quick=quick, seed=seed)
    return done
