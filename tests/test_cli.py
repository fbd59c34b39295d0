"""The ``bayescalc`` command and the packaged demos.

The demos are found by import (``bayescalc.demos.NAME``), so they work from an
installed wheel: the slow test builds the wheel, installs it into a fresh virtual
environment and runs ``bayescalc demo --list`` and a quick demo there. The fast tests
check the discovery, the options and the errors with the demos' ``main`` stubbed out.
"""

from __future__ import annotations

import inspect
import os
import runpy
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bayescalc import cli, demos
from bayescalc.demos import UnknownDemoError, list_demos, load_demo
from bayescalc.demos._tour import LEGS, Figure, Leg, leg_names, run_tour

ROOT = Path(__file__).resolve().parent.parent
DEMOS = ["bayes_factor_diabetes", "derivatives", "dirac_gan", "gan_ring", "gradient_descent",
         "meanfield_vs_fullrank", "monte_carlo", "posterior_normalization", "quadrature",
         "vi_logistic_regression"]


# --- discovery ---------------------------------------------------------------------------

def test_demos_are_modules_of_the_package():
    assert list_demos() == DEMOS
    for name in DEMOS:
        module = load_demo(name)
        assert module.__name__ == f"bayescalc.demos.{name}"
        assert Path(module.__file__).parent == Path(demos.__file__).parent
        assert module.TITLE and module.FIGURES
        parameters = inspect.signature(module.main).parameters
        assert list(parameters)[:3] == ["out_dir", "quick", "seed"]


def test_discovery_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "intruder.py").write_text("def main(out_dir, quick=False): 1/0\n")
    monkeypatch.chdir(tmp_path)
    assert "intruder" not in list_demos()
    with pytest.raises(UnknownDemoError, match="no demo named 'intruder'; the demos are: "):
        load_demo("intruder")


def test_every_demo_has_its_thin_example_script():
    for name in DEMOS:
        text = (ROOT / "examples" / f"{name}.py").read_text()
        code = [line for line in text.split('"""')[2].splitlines() if line.strip()]
        assert len(code) <= 6, f"examples/{name}.py should only call the packaged demo"
        assert f'"demo", "{name}"' in text


# --- the command line, with the demos' work stubbed out ----------------------------------

@pytest.fixture
def calls(monkeypatch):
    """Replace every demo's main by a stub that records its arguments and saves a PNG."""
    recorded = []
    for name in DEMOS:
        module = load_demo(name)

        def stub(out_dir, quick=False, seed=0, _name=name, _module=module, **options):
            recorded.append((_name, Path(out_dir), quick, seed, options))
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            (Path(out_dir) / f"{next(iter(_module.FIGURES))}.png").write_bytes(b"png")
            print(f"{_name} ran")
            return {"value": 1.0}

        monkeypatch.setattr(module, "main", stub)
    return recorded


def test_demo_list_prints_every_name_and_title(capsys):
    assert cli.main(["demo", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == DEMOS
    assert all(load_demo(name).TITLE in line for name, line in zip(DEMOS, lines, strict=True))


def test_demo_runs_with_options(calls, tmp_path, capsys):
    assert cli.main(["demo", "derivatives", "--quick", "--seed", "3", "--out",
                     str(tmp_path)]) == 0
    assert calls == [("derivatives", tmp_path / "derivatives", True, 3, {})]
    assert "1 figure(s) in" in capsys.readouterr().out


def test_demo_own_options_reach_main(calls, tmp_path):
    assert cli.main(["demo", "gan_ring", "--optimizer", "extraadam", "--out",
                     str(tmp_path)]) == 0
    assert calls[-1][4] == {"optimizer": "extraadam"} and calls[-1][2] is False
    with pytest.raises(SystemExit):
        cli.main(["demo", "gan_ring", "--optimizer", "sgd", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        cli.main(["demo", "derivatives", "--optimizer", "adam", "--out", str(tmp_path)])


def test_unknown_demo_prints_the_list_and_fails(capsys):
    assert cli.main(["demo", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "no demo named 'nosuch'" in err
    assert all(name in err for name in DEMOS)
    assert cli.main(["demo"]) == 2
    assert "derivatives" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["demo", "derivatives"], ["tour", "--quick"]])
def test_unwritable_out_is_a_clear_error(command, stub_legs, tmp_path, capsys):
    calls = stub_legs
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli.main([*command, "--out", str(blocker / "sub"), *(
        ["--jobs", "1"] if command[0] == "tour" else [])]) == 2
    err = capsys.readouterr().err
    assert "cannot write to the output folder" in err and str(blocker) in err
    assert "Traceback" not in err and calls == []


def test_thin_example_scripts_call_the_packaged_demo(calls, tmp_path, monkeypatch):
    for name in DEMOS:
        monkeypatch.setattr(sys, "argv", [f"{name}.py", "--quick", "--out", str(tmp_path)])
        runpy.run_path(str(ROOT / "examples" / f"{name}.py"), run_name="__main__")
    assert [(c[0], c[1], c[2]) for c in calls] == [(n, tmp_path / n, True) for n in DEMOS]


@pytest.fixture
def stub_legs(calls, monkeypatch):
    """Legs named like the real ones, each running every demo (stubbed) once."""
    from bayescalc.demos._tour import _leg, run_demo

    def make(name, names):
        def leg(out_dir, *, quick, seed=0):
            runs = [run_demo(demo, out_dir, quick=quick, seed=seed) for demo in names]
            return _leg(f"leg {name}", "summary", runs, 0.0)
        leg.__name__ = name
        return leg

    names = leg_names()
    split = [DEMOS[i::len(names)] for i in range(len(names))]
    monkeypatch.setattr("bayescalc.demos._tour.LEGS",
                        [make(n, s) for n, s in zip(names, split, strict=True)])
    return calls


def test_tour_runs_every_leg_and_writes_the_report(stub_legs, tmp_path, capsys):
    calls = stub_legs
    assert cli.main(["tour", "--out", str(tmp_path), "--seed", "2", "--no-progress",
                     "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert sorted(c[0] for c in calls) == DEMOS and all(c[3] == 2 for c in calls)
    assert all(c[2] is False for c in calls)            # the default tour: full runs
    for number, name in enumerate(leg_names(), start=1):
        assert f"== {number}. leg {name}" in out
    assert (tmp_path / "index.html").is_file() and "open" in out
    calls.clear()
    first = leg_names()[0]
    assert cli.main(["tour", "--quick", "--only", first, "--out", str(tmp_path),
                     "--no-progress", "--jobs", "1"]) == 0
    assert calls and all(c[2] is True for c in calls)
    assert len(calls) < len(DEMOS)


def test_default_tour_folder_is_bayescalc_tour():
    assert cli.DEFAULT_TOUR_OUT == Path("bayescalc-tour")
    assert cli._parser().parse_args(["tour"]).out == Path("bayescalc-tour")


def test_a_leg_is_one_function_in_one_list(tmp_path, monkeypatch):
    """The extension point the evidence and VI legs will use."""
    def extra(out_dir, *, quick, seed=0):
        path = Path(out_dir) / "extra" / "figure.png"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"png")
        return Leg(title="An extra leg", summary="It ran.", numbers={"x": 1.5},
                   figures=(Figure(path, "What to see."),))

    monkeypatch.setattr("bayescalc.demos._tour.LEGS", [extra])
    legs = run_tour(tmp_path, quick=True, progress=False, echo=lambda text: None)
    assert [leg.title for leg in legs] == ["An extra leg"]
    html = (tmp_path / "index.html").read_text()
    assert 'src="extra/figure.png"' in html and "What to see." in html and "1.5" in html
    assert len(LEGS) >= 4


def _slow_leg(out_dir, *, quick, seed=0):
    import time

    time.sleep(0.5)                                  # finishes after the next leg
    return _fake_leg("slow", out_dir, seed)


def _fast_leg(out_dir, *, quick, seed=0):
    return _fake_leg("fast", out_dir, seed)


def _fake_leg(name, out_dir, seed):
    path = Path(out_dir) / name / "figure.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"png")
    return Leg(title=f"leg {name}", summary=f"pid {os.getpid()}", numbers={"seed": seed},
               figures=(Figure(path, "What to see."),))


@pytest.mark.slow
def test_legs_run_in_parallel_and_report_in_order(tmp_path, monkeypatch):
    """(The quick tour of tests/test_examples.py runs the real legs with jobs=2.)"""
    monkeypatch.setattr("bayescalc.demos._tour.LEGS", [_slow_leg, _fast_leg])
    legs = run_tour(tmp_path, quick=True, seed=4, jobs=2, progress=False,
                    echo=lambda text: None)
    assert [leg.title for leg in legs] == ["leg slow", "leg fast"]
    assert all(leg.numbers == {"seed": 4} for leg in legs)
    assert all(leg.summary != f"pid {os.getpid()}" for leg in legs)   # in worker processes
    html = (tmp_path / "index.html").read_text()
    assert html.index("leg slow") < html.index("leg fast")


# --- from an installed wheel -------------------------------------------------------------

def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


@pytest.mark.slow
def test_wheel_installs_and_runs_demos(tmp_path):
    """Build the wheel, install it (no dependencies, nothing downloaded) into a fresh
    venv that sees this environment's packages, and run the command from elsewhere."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("bayescalc-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = _venv_python(venv)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(python), "-c", purelib],
                          check=True, capture_output=True, text=True).stdout.strip()
    # this environment's dependencies (torch, numpy, ...), after the venv's own packages
    Path(site, "shared-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", site, str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    where = subprocess.run([str(python), "-c", "import bayescalc; print(bayescalc.__file__)"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    command = [str(python), "-m", "bayescalc"]
    listing = subprocess.run([*command, "demo", "--list"], cwd=elsewhere, env=env,
                             check=True, capture_output=True, text=True).stdout
    assert [line.split()[0] for line in listing.splitlines()] == DEMOS
    run = subprocess.run([*command, "demo", "quadrature", "--quick", "--out", "figs"],
                         cwd=elsewhere, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (elsewhere / "figs" / "quadrature").glob("*.png")) == [
        "log_space_evidence.png", "quadrature_convergence.png"]
    script = venv / "bin" / "bayescalc"
    if script.exists():
        assert subprocess.run([str(script), "demo", "--list"], cwd=elsewhere, env=env,
                              capture_output=True, text=True).returncode == 0
