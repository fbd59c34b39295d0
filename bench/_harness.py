"""The shared benchmark harness: threads, repeat timing, and side-by-side tables.

Every benchmark: pins torch/BLAS to the thread count it states, times each contender in
the same run as medians of repeats, reports ratios to the peer (never absolute wall-clock
thresholds) and evaluation counts, and writes its markdown table to bench/results/.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def set_threads(n: int = 1) -> int:
    """Pin torch to ``n`` threads (BLAS via OMP_NUM_THREADS, set by the Makefile)."""
    import torch

    torch.set_num_threads(n)
    return n


def median_time(fn, *, repeats: int = 5, min_seconds: float = 0.02) -> float:
    """Median wall time of one call of ``fn()`` over ``repeats`` rounds.

    Each round calls ``fn`` as many times as fit in ``min_seconds`` (at least once) and
    keeps the mean, so microsecond calls are timed above the clock's resolution.
    """
    rounds = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rounds.append(elapsed / calls)
    return statistics.median(rounds)


def machine_line(threads: int) -> str:
    import numpy
    import scipy
    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{threads} thread(s); Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"scipy {scipy.__version__}, torch {torch.__version__}")


@dataclass
class Table:
    """A markdown table built row by row."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells, table has {len(self.columns)} columns")
        self.rows.append([fmt(c) for c in cells])

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def fmt(value) -> str:
    """Numbers in a table: errors in 1 significant-digit-ish e-notation, counts as ints."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value == 0:
            return "0"
        if abs(value) < 1e-3 or abs(value) >= 1e5:
            return f"{value:.1e}"
        return f"{value:.3g}"
    return str(value)


def write_results(name: str, tables: list[Table], *, threads: int) -> Path:
    """Print the tables and write them to ``bench/results/<name>.md``."""
    RESULTS.mkdir(exist_ok=True)
    text = f"## {name}\n\nMachine: {machine_line(threads)}\n\n"
    text += "\n".join(t.markdown() for t in tables)
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    print(text)
    return path
