"""The documentation site builds with warnings as errors.

A broken cross-reference, a docstring that docutils cannot parse, a page in no toctree
or an example that fails in the gallery fails this test. It takes one to two minutes
(the gallery runs every example in its quick mode), so it is marked slow; ``make test``
and ``.ci/run`` run it after the default suite.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_docs_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("pydata_sphinx_theme")
    out = tmp_path / "html"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "BAYESCALC_GALLERY_OUT": str(tmp_path / "gallery-figures")}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
        env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-5000:]
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    for page in ("index.html", "getting-started.html", "reference.html", "benchmarks.html",
                 "changelog.html", "contributing.html", "course-kit.html", "diff.html",
                 "minmax.html", "auto_examples/index.html",
                 "generated/bayescalc.diff.derivative.html",
                 "generated/bayescalc.testing.check_kl.html"):
        assert page in pages, f"the site has no {page}"
    # the gallery shows every demo's figures
    gallery = (out / "auto_examples" / "derivatives.html").read_text(encoding="utf-8")
    assert "sphx_glr_derivatives_001.png" in gallery and "Secant lines" in gallery
    for image in (out / "_images").glob("sphx_glr_*.png"):
        assert image.stat().st_size > 1000
    # rendered math: MathJax is on the pages that use it
    assert "mathjax" in (out / "generated" / "bayescalc.diff.derivative.html").read_text(
        encoding="utf-8").lower()
