"""Copy the tables of ``bench/results/<name>.md`` into their section of docs/benchmarks.md.

``python -m bench._sync_docs NAME [NAME ...]``: in the section of docs/benchmarks.md
whose heading starts ``## <name>`` (case-insensitive; the Monte Carlo one is
``montecarlo``), everything from the ``Machine:`` line to the next ``## `` heading is
replaced by the results file after its own heading. The prose above ``Machine:`` (what
the numbers mean, the acceptance lines) is left for a person to update.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"


def sync(name: str, text: str) -> str:
    """``text`` (docs/benchmarks.md) with the tables of section ``name`` replaced."""
    results = (RESULTS / f"{name}.md").read_text()
    body = results[results.index("Machine:"):].rstrip() + "\n\n"
    label = "monte carlo" if name == "montecarlo" else name
    heading = re.search(rf"^## {re.escape(label)}.*$", text, flags=re.M | re.I)
    if heading is None:
        raise SystemExit(f"no section '## {label}' in {DOCS}")
    start = text.index("Machine:", heading.end())
    following = re.search(r"^## ", text[start:], flags=re.M)
    end = start + following.start() if following else len(text)
    return text[:start] + body + text[end:]


def main(names: list[str]) -> None:
    text = DOCS.read_text()
    for name in names:
        text = sync(name, text)
    DOCS.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
