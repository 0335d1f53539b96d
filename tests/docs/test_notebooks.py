"""Every notebook in ``docs/notebooks`` runs top to bottom in a fresh ipykernel and draws figures.

The notebooks are jupytext MyST Markdown. Each runs in its own kernel (x64 is the notebook's own
choice, not the test process's); a cell that raises fails the test. ``SMALL`` overrides a
notebook's sizes for the suite: a cell that assigns them is inserted right after the cell tagged
``parameters``, so the reader sees the defaults and the suite stays quick.
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "docs" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.md"))

# sizes used by the suite, per notebook (name -> Python assignments); absent: the notebook's own
SMALL: dict[str, str] = {
    # one training size (C5 compiles per size) and three of the six C7 variants (one program each)
    "04_out_of_distribution": 'SIZES = [16]\nC7_VARIANTS = ["vanilla", "patching", "adam"]',
    # one width and a shorter horizon: the weights still cross the |w_r| flip (near 2) by t = 100
    "09_regime_map": "WIDTHS = (16,)\nHORIZON = 100\nRECORDS = 5",
}

CELL_TIMEOUT_S = 240  # a hang guard, not a time assertion


def with_parameters(nb, source: str):
    """Insert a code cell ``source`` after the cell tagged ``parameters`` (which must exist)."""
    tagged = [
        i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise ValueError(
            f"notebook: expected exactly one cell tagged 'parameters', found {len(tagged)}"
        )
    nb.cells.insert(
        tagged[0] + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    )
    return nb


def execute(path: pathlib.Path, overrides: str | None = None, cwd: pathlib.Path | None = None):
    """Execute the notebook at ``path`` (jupytext) in a new python3 kernel started in ``cwd``.

    Returns the executed notebook. ``cwd`` defaults to the notebook's folder; the suite passes a
    temporary one so that nothing a notebook writes (e.g. Hypothesis' cache) lands in the
    repository.
    """
    nb = jupytext.read(path)
    if overrides:
        with_parameters(nb, overrides)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    client.execute()
    return nb


@pytest.fixture
def this_python_kernel(tmp_path, monkeypatch):
    """A ``python3`` kernelspec running this interpreter, found before any user or system one."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # ipykernel's inline backend draws the figures only if MPLBACKEND does not force Agg
    monkeypatch.delenv("MPLBACKEND", raising=False)


def images(nb) -> int:
    """Number of PNG figures among the outputs."""
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def test_readme_links_every_notebook_and_the_findings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in [*(f"docs/notebooks/{p.name}" for p in NOTEBOOKS), "docs/findings.md"]:
        assert f"]({target})" in readme, f"README.md does not link {target}"
        assert (ROOT / target).exists()


def test_notebooks_exist():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:1] == ["01_quickstart"], names
    assert set(SMALL) <= set(names), f"SMALL names unknown notebooks: {set(SMALL) - set(names)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, this_python_kernel):
    nb = execute(path, SMALL.get(path.stem), cwd=tmp_path)
    nbformat.write(nb, tmp_path / f"{path.stem}.ipynb")
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert images(nb) >= 1, f"{path.name}: no figure was drawn"


def test_parameters_injection_fails_a_broken_notebook(tmp_path, this_python_kernel):
    """The runner really fails on a raising cell (the check above can fail)."""
    bad = tmp_path / "99_bad.md"
    bad.write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n"
        "```{code-cell} ipython3\n:tags: [parameters]\n\nX = 1\n```\n\n"
        "```{code-cell} ipython3\nimport sys\nassert X == 1, 'override not applied'\n"
        "print(sys.executable)\n```\n"
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="override not applied"):
        execute(bad, "X = 2", cwd=tmp_path)
    outputs = execute(bad, cwd=tmp_path).cells[1].outputs
    assert [o["text"].strip() for o in outputs] == [
        sys.executable
    ]  # the kernel runs this interpreter
