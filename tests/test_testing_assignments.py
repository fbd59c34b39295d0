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


VI_SCAFFOLD = ROOT / "examples" / "assignments" / "vi_assignment.py"
VI_SOLUTION = ROOT / "examples" / "assignments" / "solutions" / "vi_assignment.py"


def test_vi_solution_passes_and_fits(tmp_path, capsys):
    verdicts = _load(VI_SOLUTION)["main"](tmp_path)
    assert verdicts and all(v.ok for v in verdicts.values()), verdicts
    assert (tmp_path / "vi_assignment.png").is_file()
    out = capsys.readouterr().out
    assert "All parts pass" in out
    gaps = [float(line.split("=")[-1].split()[0]) for line in out.splitlines()
            if "log Z - ELBO" in line]
    # KL(q || p) >= 0; a Gaussian on the logit scale of a Beta posterior leaves ~0.01 nats
    # (bayescalc.vi.fit's own gap is ~0.0095); the MC error of the gap is ~1e-3.
    assert len(gaps) == 1 and -0.003 < gaps[0] < 0.05


def test_vi_scaffold_fails_every_part_with_a_verdict(tmp_path, capsys):
    verdicts = _load(VI_SCAFFOLD)["main"](tmp_path)
    assert len(verdicts) == 2 and not any(v.ok for v in verdicts.values())
    assert all("NotImplementedError: TODO" in v.message for v in verdicts.values())
    assert "Fix the FAIL parts" in capsys.readouterr().out


def test_vi_scaffold_and_solution_have_the_same_public_functions():
    def signatures(namespace):
        return {name: str(inspect.signature(obj)) for name, obj in namespace.items()
                if inspect.isfunction(obj) and obj.__module__ == "assignment"
                and not name.startswith("_")}

    assert signatures(_load(VI_SCAFFOLD)) == signatures(_load(VI_SOLUTION))
    assert "NotImplementedError" not in VI_SOLUTION.read_text()
