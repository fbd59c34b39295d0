"""Sphinx configuration of the bayescalc documentation site.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` (what the test
suite does, warnings as errors). The pages are MyST markdown; the API reference comes
from the numpydoc docstrings (autodoc + autosummary); the example gallery runs every
``examples/*.py`` in its quick mode with sphinx-gallery and shows the figures each
saves, with their captions.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))           # document this checkout's bayescalc

import bayescalc  # noqa: E402

project = "bayescalc"
author = "The bayescalc developers"
copyright = "The bayescalc developers"
release = version = bayescalc.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "auto_examples/*.ipynb", "**.ipynb_checkpoints",
                    "auto_examples/**/*.py", "auto_examples/**/*.zip",
                    "auto_examples/**/*.json", "auto_examples/**/*.md5"]
suppress_warnings = [
    "config.cache",               # sphinx-gallery's callables in the config
]

# --- MyST: the user-guide pages are the markdown files in docs/ ---------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "deflist", "colon_fence"]
myst_heading_anchors = 3

# --- API reference -----------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options: dict = {}
autosummary_ignore_module_all = False
autodoc_typehints = "none"            # the numpydoc Parameters sections say it
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# --- the example gallery -----------------------------------------------------------------
_FIGURES_OUT = Path(os.environ.get("BAYESCALC_GALLERY_OUT")
                    or tempfile.mkdtemp(prefix="bayescalc-gallery-"))


def _gallery_argv(gallery_conf, script_vars):
    """The demos run in their quick mode, writing their figures under _FIGURES_OUT."""
    if "assignments" in Path(script_vars["src_file"]).parts:
        return []
    return ["--quick", "--out", str(_FIGURES_OUT)]


class _DemoFigures:
    """A sphinx-gallery image scraper for the PNGs a demo saves (it never uses pyplot).

    After each code block it picks up the new PNGs of that demo, copies them to the
    gallery's image paths and shows each with its caption from the demo's ``FIGURES``.
    """

    def __init__(self):
        self.seen = set()

    def __repr__(self):                 # a stable repr keeps Sphinx's environment cache
        return "_DemoFigures()"

    def __call__(self, block, block_vars, gallery_conf):
        from bayescalc.demos import list_demos, load_demo

        name = Path(block_vars["src_file"]).stem
        if name not in list_demos():
            return ""
        captions = load_demo(name).FIGURES
        folder = _FIGURES_OUT / name
        new = [p for p in sorted(folder.glob("*.png")) if p not in self.seen]
        order = [p for stem in captions for p in new if p.stem == stem]
        order += [p for p in new if p not in order]
        rst = []
        for png, target in zip(order, block_vars["image_path_iterator"], strict=False):
            self.seen.add(png)
            shutil.copyfile(png, target)
            relative = Path(target).relative_to(gallery_conf["src_dir"]).as_posix()
            caption = captions.get(png.stem, png.stem).replace("*", r"\*")
            rst.append(f"\n.. figure:: /{relative}\n   :alt: {png.stem}\n\n   {caption}\n")
        return "\n".join(rst)


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",            # run every example
    "ignore_pattern": r"(solutions|expected)",  # not the solutions, not the expected output
    "reset_argv": _gallery_argv,
    "image_scrapers": (_DemoFigures(),),
    "plot_gallery": "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": (),
    "min_reported_time": 1e9,
    "show_memory": False,
    "show_signature": False,
}

# --- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"bayescalc {version}"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path: list[str] = []
html_show_sourcelink = False
