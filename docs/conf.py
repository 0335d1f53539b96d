"""Sphinx configuration: API reference from the docstrings (autodoc) and the MyST notebooks
(myst-nb).

Build (CI does, warnings are errors)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The notebooks are *not* executed here: the test suite executes every one of them
(``tests/docs/test_notebooks.py``), so CI runs each once. Set ``NTK_DOCS_EXECUTE=1`` to execute
them during a local build and get their figures in the HTML.
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if os.environ.get("NTK_DOCS_EXECUTE") == "1":
    os.environ.pop("MPLBACKEND", None)  # the kernels inherit it: Agg would draw no inline figures

project = "ntk-attention"
author = "ntk-attention contributors"
copyright = "2025, ntk-attention contributors"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
]

exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "**/.hypothesis",
    "README.md",
    "benchmarks.md",
]  # measured tables, kept out of the -W build until re-measured on a quiet machine
root_doc = "index"

# MyST: $…$ / $$…$$ maths and amsmath environments in the notebooks and guides.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# The tests execute the notebooks; building the docs only renders them.
nb_execution_mode = "force" if os.environ.get("NTK_DOCS_EXECUTE") == "1" else "off"
nb_execution_timeout = 300
nb_execution_raise_on_error = True

# autodoc: members in source order, signatures as written (jaxtyping annotations included).
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = "ntk-attention"
html_static_path: list[str] = []


# A section underline one character short of its title is a docutils warning (an error under -W)
# although the intent is plain; docstrings are lengthened to their title here instead of failing.
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{3,}$")


def _lengthen_underlines(app, what, name, obj, options, lines):
    for i in range(1, len(lines)):
        title, under = lines[i - 1].rstrip(), lines[i].rstrip()
        if (
            title.strip()
            and _UNDERLINE.match(under.strip())
            and len(under) < len(title)
            and not title.startswith(" ")
        ):
            lines[i] = under[0] * len(title)


def setup(app):
    app.connect("autodoc-process-docstring", _lengthen_underlines)
