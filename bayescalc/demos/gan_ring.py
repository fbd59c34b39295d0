"""A small GAN on a ring of 8 Gaussians: mode coverage and sample quality over training.

The data: 8 Gaussians (σ = 0.02) evenly spaced on a circle of radius 2, the standard
test of mode collapse (Metz et al. 2017). Generator and discriminator are small MLPs,
trained by simultaneous steps of the two players (both gradients at the same point) with
the non-saturating loss, on the CPU. Every ``eval_every`` steps the script counts the
modes covered and the fraction of high-quality samples (within 3σ of a mode), with
:func:`bayescalc.minmax.mode_coverage`, and keeps a scatter of samples for the figure.

    python examples/gan_ring.py [--quick] [--optimizer adam|extraadam|optimisticadam]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from bayescalc._core.progress import progress_bar
from bayescalc.minmax import ExtraAdam, OptimisticAdam, ema_model, mode_coverage, ring_centers
from bayescalc.plot import save_figure
from bayescalc.plot.minmax import plot_ring_progress

TITLE = "A GAN on a ring of 8 Gaussians: mode coverage over training"
_RING_CAPTION = (
    "Samples of the generator (blue dots) over training with {optimizer}, against the 8 "
    "modes of the data (red crosses: Gaussians with σ = 0.02 on a circle of radius 2); "
    "each panel's title gives the step, the modes covered and the share of high-quality "
    "samples (within 3σ of a mode). Training starts from a blob near the origin, spreads "
    "out, and sharpens onto the modes.")
_OPTIMIZER_NAMES = {"adam": "Adam", "extraadam": "ExtraAdam",
                    "optimisticadam": "OptimisticAdam"}
FIGURES = {f"gan_ring_{key}": _RING_CAPTION.format(optimizer=name)
           for key, name in _OPTIMIZER_NAMES.items()}

OPTIMIZERS = {"adam": torch.optim.Adam, "extraadam": ExtraAdam,
              "optimisticadam": OptimisticAdam}
STD, RADIUS, N_MODES = 0.02, 2.0, 8
SETTINGS = {  # the full run and the short one (tour, tests), in gradient evaluations; the
    # short one trains networks half as wide (64 units), which halves its time
    False: dict(steps=8000, eval_every=1000),
    True: dict(steps=1500, eval_every=300, hidden=64),
}


def mlp(n_in: int, n_out: int, hidden: int = 128, depth: int = 2) -> torch.nn.Module:
    layers, width = [], n_in
    for _ in range(depth):
        layers += [torch.nn.Linear(width, hidden), torch.nn.LeakyReLU(0.2)]
        width = hidden
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, n_out))


def train(*, optimizer: str = "adam", steps: int = 8000, eval_every: int = 1000,
          batch_size: int = 256, noise_dim: int = 2, lr: float = 2e-3,
          betas=(0.5, 0.999), ema_decay: float = 0.99, n_eval: int = 2000,
          hidden: int = 128, depth: int = 3, gradient_penalty: float = 0.1,
          r1_every: int = 4, lr_decay: bool = True, std: float = STD, seed: int = 0,
          progress: bool = True) -> dict:
    """Train the ring GAN; return the history of coverage and the sample snapshots.

    ``progress`` shows a progress bar over the steps (tqdm); False for none.

    The defaults are the tuned full run: G and D are MLPs with 3 hidden layers of 128
    LeakyReLU units, 2-D Gaussian noise, Adam(2e-3, β = (0.5, 0.999)) decayed linearly to
    5%, the R1 penalty γ = 0.1 on D (applied every 4th step), and an EMA (0.99) of G.
    """
    generator_rng = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():                 # seeded initial weights, no global state
        torch.manual_seed(seed)
        generator = mlp(noise_dim, 2, hidden, depth)
        discriminator = mlp(2, 1, hidden, depth)
    average = ema_model(generator, decay=ema_decay)
    centers = torch.as_tensor(ring_centers(N_MODES, RADIUS), dtype=torch.float32)
    optimizer_class = OPTIMIZERS[optimizer]
    g_opt = optimizer_class(generator.parameters(), lr=lr, betas=betas)
    d_opt = optimizer_class(discriminator.parameters(), lr=lr, betas=betas)
    # a linear decay of the step to 5% sharpens the modes once they are found
    schedules = [torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: max(0.05, 1.0 - t / steps) if lr_decay else 1.0) for opt in (g_opt, d_opt)]
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    eval_noise = torch.randn(n_eval, noise_dim, generator=generator_rng)

    def real_batch():
        modes = torch.randint(N_MODES, (batch_size,), generator=generator_rng)
        return centers[modes] + std * torch.randn(batch_size, 2, generator=generator_rng)

    def gradients(step):
        """Both players' gradients at the current weights (one fresh batch)."""
        penalty = gradient_penalty * r1_every if step % r1_every == 0 else 0.0
        fake = generator(torch.randn(batch_size, noise_dim, generator=generator_rng))
        real = real_batch().requires_grad_(penalty > 0)
        logits_real, logits_fake = discriminator(real), discriminator(fake)
        ones, zeros = torch.ones_like(logits_real), torch.zeros_like(logits_fake)
        loss_d = bce(logits_real, ones) + bce(logits_fake, zeros)
        if penalty > 0:
            # R1 (Mescheder et al. 2018, Eq. 9): γ/2 E|∇D(x_real)|², every r1_every steps
            # with weight γ·r1_every ("lazy regularization", Karras et al. 2020)
            grad_real, = torch.autograd.grad(logits_real.sum(), real, create_graph=True)
            loss_d = loss_d + 0.5 * penalty * grad_real.pow(2).sum(1).mean()
        loss_g = bce(logits_fake, ones)           # the non-saturating generator loss
        d_params, g_params = list(discriminator.parameters()), list(generator.parameters())
        for p, g in zip(d_params, torch.autograd.grad(loss_d, d_params, retain_graph=True),
                        strict=True):
            p.grad = g
        for p, g in zip(g_params, torch.autograd.grad(loss_g, g_params), strict=True):
            p.grad = g

    def evaluate(step):
        with torch.no_grad():
            samples = generator(eval_noise).numpy().astype(np.float64)
            averaged = average(eval_noise).numpy().astype(np.float64)
        coverage = mode_coverage(samples, radius=RADIUS, std=std)
        coverage_ema = mode_coverage(averaged, radius=RADIUS, std=std)
        history["step"].append(step)
        history["modes"].append(coverage.modes_covered)
        history["high_quality"].append(coverage.high_quality)
        history["modes_ema"].append(coverage_ema.modes_covered)
        history["high_quality_ema"].append(coverage_ema.high_quality)
        history["snapshots"].append(samples)

    history = {key: [] for key in ("step", "modes", "high_quality", "modes_ema",
                                   "high_quality_ema", "snapshots")}
    evaluate(0)
    with progress_bar(total=steps, enabled=progress, desc="ring GAN") as bar:
        for step in range(1, steps + 1):
            gradients(step)
            if optimizer == "extraadam":
                g_opt.extrapolate()
                d_opt.extrapolate()
                gradients(step)
            g_opt.step()
            d_opt.step()
            for schedule in schedules:
                schedule.step()
            average.update_parameters(generator)
            bar.update()
            if step % eval_every == 0 or step == steps:
                evaluate(step)
                bar.set_postfix(modes=history["modes"][-1])
    return history


def add_arguments(parser) -> None:
    """The ring GAN's own command-line options (``bayescalc demo gan_ring --help``)."""
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                        help="the optimizer of both players (default: adam)")


def main(out_dir, quick: bool = False, seed: int = 0, optimizer: str = "adam",
         progress: bool = True) -> dict:
    """Train the ring GAN, save the figure under ``out_dir``; return the numbers.

    ``progress`` shows a bar over the training steps (the tour turns it off).
    """
    out_dir = Path(out_dir)
    torch.set_num_threads(1)
    start = time.perf_counter()
    settings = dict(SETTINGS[quick])
    if optimizer == "extraadam":   # two gradient evaluations per step: the same budget
        settings.update(steps=settings["steps"] // 2, eval_every=settings["eval_every"] // 2)
    history = train(optimizer=optimizer, seed=seed, progress=progress, **settings)
    width = settings.get("hidden", 128)
    seconds = time.perf_counter() - start
    fig = plot_ring_progress(history["snapshots"], history["step"], ring_centers(N_MODES, RADIUS),
                             modes=history["modes"], high_quality=history["high_quality"],
                             title=f"ring GAN trained with {_OPTIMIZER_NAMES[optimizer]} "
                                   f"(both players), {width}-unit MLPs, seed {seed}")
    save_figure(fig, out_dir, f"gan_ring_{optimizer}")
    print(f"ring GAN ({N_MODES} Gaussians, σ = {STD}), {optimizer}, {history['step'][-1]} "
          f"steps, {width}-unit MLPs, seed {seed}: modes covered and high-quality samples "
          f"(within 3σ)")
    print("   step  modes  high-quality   EMA generator")
    for row in zip(history["step"], history["modes"], history["high_quality"],
                   history["modes_ema"], history["high_quality_ema"], strict=True):
        print(f"  {row[0]:5d}   {row[1]}/8   {row[2]:10.1%}     {row[3]}/8  {row[4]:6.1%}")
    print(f"  ({seconds:.0f} s)")
    return {"optimizer": optimizer, "steps": history["step"][-1], "hidden": width,
            "modes_covered": history["modes"][-1],
            "high_quality": round(history["high_quality"][-1], 4),
            "modes_covered_ema": history["modes_ema"][-1],
            "high_quality_ema": round(history["high_quality_ema"][-1], 4),
            "modes_at_start": history["modes"][0],
            "high_quality_at_start": history["high_quality"][0]}


