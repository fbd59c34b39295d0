"""The ``bayescalc`` command: ``tour``, ``demo NAME`` and ``demo --list``.

Every demo is a script in ``examples/`` with a ``main(out_dir, quick=False)`` function;
the tour runs the short (``quick=True``) version of each leg in order. Only this module
knows about the command line.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

# The tour, in order: each capability adds its leg here (an example script's name).
TOUR_LEGS = [
    "derivatives",
    "gradient_descent",
    "quadrature",
    "monte_carlo",
    "dirac_gan",
    "gan_ring",
]


def examples_dir() -> Path:
    """The ``examples/`` folder of the source checkout this package runs from."""
    return Path(__file__).resolve().parent.parent / "examples"


def list_demos() -> list[str]:
    folder = examples_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def load_demo(name: str):
    """Import ``examples/<name>.py`` as a module (it must define ``main``)."""
    path = examples_dir() / f"{name}.py"
    if not path.is_file():
        known = ", ".join(list_demos()) or "none found"
        raise SystemExit(f"bayescalc: no demo named {name!r} (known: {known}); "
                         f"demos run from a source checkout, looked in {examples_dir()}")
    spec = importlib.util.spec_from_file_location(f"bayescalc_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_demo(name: str, out_dir: Path, *, quick: bool) -> None:
    start = time.perf_counter()
    print(f"== {name} ==", flush=True)
    load_demo(name).main(out_dir=out_dir / name, quick=quick)
    figures = sorted((out_dir / name).glob("*.png"))
    print(f"   {len(figures)} figure(s) in {out_dir / name} "
          f"({time.perf_counter() - start:.1f} s)", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayescalc", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tour = commands.add_parser("tour", help="walk through every capability, saving figures")
    tour.add_argument("--out", type=Path, default=Path("out/tour"), help="output folder")
    tour.add_argument("--full", action="store_true", help="full-size runs, not the short ones")
    tour.add_argument("--only", nargs="+", choices=TOUR_LEGS, help="run only these legs")
    demo = commands.add_parser("demo", help="run one example script")
    demo.add_argument("name", nargs="?", help="the demo's name (see --list)")
    demo.add_argument("--list", action="store_true", help="list the demos")
    demo.add_argument("--out", type=Path, default=Path("out/demos"), help="output folder")
    demo.add_argument("--quick", action="store_true", help="the short version")
    return parser


def main(argv=None) -> int:
    import torch

    torch.set_num_threads(1)  # small models run faster and steadier on one thread
    args = _parser().parse_args(argv)
    if args.command == "tour":
        for leg in args.only or TOUR_LEGS:
            run_demo(leg, args.out, quick=not args.full)
        print(f"tour done: figures under {args.out}")
        return 0
    if args.list or not args.name:
        print("\n".join(list_demos()))
        return 0
    run_demo(args.name, args.out, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
