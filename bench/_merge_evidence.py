"""Merge partial runs of bench/evidence.py into bench/results/evidence.md.

``python -m bench._merge_evidence OLD.md PART.md [PART.md ...]``: rows are keyed by
(problem, method); a later file's row replaces an earlier one's, and rows are ordered by
the benchmark's problem list and method list. Used when only some methods changed: the
tempering and dynesty rows of a full run are kept, the changed methods rerun
(``--methods=`` / ``--problems=``, see bench/evidence.py). The notes of the first file
are kept; each part's machine line and run time are listed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bench._harness import RESULTS

ORDER_METHODS = ["bayescalc auto", "bayescalc smc", "bayescalc smc, Laplace ref.", "bayescalc ais",
                 "bayescalc thermodynamic", "bayescalc stepping-stone", "bayescalc laplace",
                 "bayescalc importance", "bayescalc bridge", "bayescalc conditional",
                 "bayescalc flow", "dynesty (500 live)",
                 "dynesty (2000 live)", "nautilus", "pocoMC"]


def rows(text: str):
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] not in ("problem",) and not set(cells[0]) <= {"-"}:
            out[(cells[0], cells[1])] = cells
    return out


def main(paths):
    from bench._evidence_problems import all_problems

    texts = [Path(p).read_text() for p in paths]
    merged = {}
    for t in texts:
        merged.update(rows(t))
    problems = [p.name for p in all_problems()]
    body = ["| problem | method | median abs. error (nats) | median error bar | bar covers "
            "(2 errors) | likelihood evals | gradient evals | time vs smc | success |",
            "|---|---|---|---|---|---|---|---|---|"]
    for prob in problems:
        for meth in ORDER_METHODS:
            cells = merged.get((prob, meth))
            if cells:
                cells = ["–" if c == "nan" else c for c in cells]
                body.append("| " + " | ".join(cells) + " |")
    notes = [line for line in texts[0].splitlines() if line.startswith("- ")]
    machine = re.search(r"^Machine:.*$", texts[0], flags=re.M).group(0)
    out = ["## evidence", "", machine, "",
           "### log Z against the exact value: medians over seeded repeats", "", *body, "",
           *notes]
    parts = []
    for p, t in zip(paths[1:], texts[1:], strict=True):
        run = re.search(r"whole run (\d+) s", t)
        parts.append(Path(p).stem + (f" ({run.group(1)} s)" if run else ""))
    out.append("- merged by bench/_merge_evidence.py: rows of the first run replaced or joined "
               "by those of " + ", ".join(parts) + "; '–' in 'time vs smc' where SMC was not "
               "in the same run")
    (RESULTS / "evidence.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
