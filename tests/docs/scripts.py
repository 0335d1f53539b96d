"""The generator scripts of ``scripts/`` as modules, for the documentation tests."""

from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_script(name: str):
    """``scripts/<name>.py`` imported as a module named ``name`` (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
