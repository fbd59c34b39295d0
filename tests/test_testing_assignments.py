"""The course assignments: the solution passes every grader, the scaffold fails each part
with a verdict (not a traceback), and the two files keep the same functions."""

import inspect
import runpy
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCAFFOLD = ROOT / "examples" / "assignments" / "gan_assignment.py"
SOLUTION = ROOT / "examples" / "assignments" / "solutions" / "gan_assignment.py"


def _load(path):
    return runpy.run_path(str(path), run_name="assignment")


def test_gan_solution_passes_and_trains(tmp_path, capsys):
    solution = _load(SOLUTION)
    verdicts = solution["main"](tmp_path)
    assert verdicts and all(v.ok for v in verdicts.values()), verdicts
    assert (tmp_path / "gan_assignment.png").is_file()
    out = capsys.readouterr().out
    assert "All parts pass" in out
    distances = {line.split()[0]: float(line.split()[-1]) for line in out.splitlines()
                 if "distance to the equilibrium" in line}
    # simultaneous GDA spirals out (|1 - η λ| > 1); the two others spiral in
    assert distances["simultaneous"] > np.hypot(1, 1) > distances["extragradient"]
    assert distances["optimistic"] < np.hypot(1, 1)


def test_gan_scaffold_fails_every_part_with_a_verdict(tmp_path, capsys):
    scaffold = _load(SCAFFOLD)
    verdicts = scaffold["main"](tmp_path)
    assert len(verdicts) == 5 and not any(v.ok for v in verdicts.values())
    assert all("NotImplementedError: TODO" in v.message for v in verdicts.values())
    assert "Fix the FAIL parts" in capsys.readouterr().out
    assert not (tmp_path / "gan_assignment.png").exists()


def test_scaffold_and_solution_have_the_same_functions():
    scaffold, solution = _load(SCAFFOLD), _load(SOLUTION)

    def signatures(namespace):
        return {name: str(inspect.signature(obj)) for name, obj in namespace.items()
                if inspect.isfunction(obj) and obj.__module__ == "assignment"}

    assert signatures(scaffold) == signatures(solution)
    assert "NotImplementedError" not in SOLUTION.read_text()
