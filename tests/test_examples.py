"""Every example script runs with its short settings and writes its figures.

Each script in examples/ defines ``main(out_dir, quick=False)`` returning a dict of the
numbers it reports; the quick run is what `bayescalc tour` shows.
"""

import pytest

from bayescalc import cli


@pytest.mark.parametrize("name", cli.list_demos())
def test_example_runs_quick_and_saves_figures(name, tmp_path):
    summary = cli.load_demo(name).main(out_dir=tmp_path, quick=True)
    assert isinstance(summary, dict) and summary, f"{name}.main must return its numbers"
    assert list(tmp_path.glob("*.png")), f"{name} saved no figure"
