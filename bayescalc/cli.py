"""The ``bayescalc`` command: ``tour``, ``demo --list`` and ``demo NAME``.

The demos are modules of :mod:`bayescalc.demos`, found by import, so the command works
the same from an installed wheel as from a source checkout. Only this module knows
about the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .demos import UnknownDemoError, list_demos, load_demo
from .demos._data import MissingDataExtraError

DEFAULT_TOUR_OUT = Path("bayescalc-tour")
DEFAULT_DEMO_OUT = Path("bayescalc-demos")


class OutputFolderError(OSError):
    """The output folder cannot be created or written to."""


def prepare_output(folder) -> Path:
    """Create ``folder`` if needed and check that a file can be written in it.

    Raises
    ------
    OutputFolderError
        With the folder and the operating system's reason, before any work starts.
    """
    folder = Path(folder)
    probe = folder / ".bayescalc-write-check"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        culprit = error.filename
        if culprit and str(culprit) != str(folder):
            reason += f" ({culprit})"
        raise OutputFolderError(f"cannot write to the output folder '{folder}': {reason}; "
                                "choose another with --out") from error
    return folder


def _tour_parser(commands) -> None:
    from .demos._tour import leg_names

    tour = commands.add_parser(
        "tour", help="walk through the library's story, writing figures and index.html",
        description="Walk through derivatives, optimization, integrals, the evidence, "
                    "variational inference and min-max games; write every figure and an "
                    "index.html report.")
    tour.add_argument("--out", type=Path, default=DEFAULT_TOUR_OUT,
                      help=f"output folder (default: ./{DEFAULT_TOUR_OUT}/)")
    tour.add_argument("--quick", action="store_true",
                      help="the short runs (under 20 s on two cores) instead of the full ones "
                           "(under 2 minutes)")
    tour.add_argument("--seed", type=int, default=0, help="the seed of every leg (default 0)")
    tour.add_argument("--only", nargs="+", choices=leg_names(), metavar="LEG",
                      help=f"run only these legs ({', '.join(leg_names())})")
    tour.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                      help="legs run in this many processes at once (default: 2, or 1 on "
                           "one core)")
    tour.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_demo_options(parser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_DEMO_OUT,
                        help="output folder; the figures go to OUT/NAME/ "
                             f"(default: ./{DEFAULT_DEMO_OUT}/)")
    parser.add_argument("--quick", action="store_true", help="the short version")
    parser.add_argument("--seed", type=int, default=0, help="the seed (default 0)")


def _demo_parser(commands) -> argparse.ArgumentParser:
    demo = commands.add_parser(
        "demo", help="run one demo (see --list)", add_help=False,
        description="Run one demo; `bayescalc demo NAME --help` shows its own options.")
    demo.add_argument("name", nargs="?", help="the demo's name (see --list)")
    demo.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    demo.add_argument("--list", action="store_true", help="list the demos and exit")
    _add_demo_options(demo)
    return demo


def _one_demo_parser(module, name: str) -> argparse.ArgumentParser:
    """The options of ``bayescalc demo NAME``: the common ones and the demo's own."""
    parser = argparse.ArgumentParser(prog=f"bayescalc demo {name}",
                                     description=module.TITLE)
    _add_demo_options(parser)
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayescalc", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _tour_parser(commands)
    parser.demo_parser = _demo_parser(commands)
    return parser


def _demo_listing() -> str:
    lines = []
    for name in list_demos():
        lines.append(f"  {name:18s} {load_demo(name).TITLE}")
    return "\n".join(lines)


def run_demo_command(name: str, out: Path, *, quick: bool, seed: int, options: dict) -> None:
    """``bayescalc demo NAME``: run it, printing its output, and say where the figures are."""
    module = load_demo(name)
    folder = prepare_output(out / name)
    start = time.perf_counter()
    print(f"== {module.TITLE} ==", flush=True)
    module.main(out_dir=folder, quick=quick, seed=seed, **options)
    figures = sorted(folder.glob("*.png"))
    print(f"{len(figures)} figure(s) in {folder} ({time.perf_counter() - start:.1f} s)")


def main(argv=None) -> int:
    """Entry point of the ``bayescalc`` command; returns the exit status."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "tour" and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    import torch

    torch.set_num_threads(1)  # small models run faster and steadier on one thread
    try:
        if args.command == "tour":
            from .demos._tour import run_tour

            out = prepare_output(args.out)
            start = time.perf_counter()
            legs = run_tour(out, quick=args.quick, seed=args.seed, only=args.only,
                            jobs=max(1, args.jobs), progress=not args.no_progress)
            n_figures = sum(len(leg.figures) for leg in legs)
            print(f"\ntour done in {time.perf_counter() - start:.0f} s: {len(legs)} legs, "
                  f"{n_figures} figures; open {out / 'index.html'}")
            return 0
        if args.list:
            print(_demo_listing())
            return 0
        if args.help and not args.name:
            parser.demo_parser.print_help()
            print("\nthe demos:\n" + _demo_listing())
            return 0
        if not args.name:
            print("bayescalc demo: name a demo (bayescalc demo NAME); the demos are:\n"
                  + _demo_listing(), file=sys.stderr)
            return 2
        module = load_demo(args.name)
        one = _one_demo_parser(module, args.name)
        if args.help:
            one.print_help()
            return 0
        options = vars(one.parse_args(extra, namespace=argparse.Namespace()))
        for common in ("out", "quick", "seed"):   # given before or after the demo's own
            options.pop(common)
        run_demo_command(args.name, args.out, quick=args.quick, seed=args.seed,
                         options=options)
        return 0
    except UnknownDemoError:
        print(f"bayescalc demo: no demo named {args.name!r}; the demos are:\n"
              + _demo_listing(), file=sys.stderr)
        return 2
    except OutputFolderError as error:
        print(f"bayescalc: {error}", file=sys.stderr)
        return 2
    except MissingDataExtraError as error:
        print(f"bayescalc demo {args.name}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
