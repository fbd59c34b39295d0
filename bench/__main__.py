"""``python -m bench NAME [--quick]`` runs one benchmark; ``all`` runs every one.

Each benchmark module ``bench/<NAME>.py`` defines ``main(quick: bool) -> None``.
"""

import argparse
import importlib
import pkgutil
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=available() + ["all"])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and cases")
    args = parser.parse_args()
    for name in available() if args.name == "all" else [args.name]:
        importlib.import_module(f"bench.{name}").main(quick=args.quick)


if __name__ == "__main__":
    main()
