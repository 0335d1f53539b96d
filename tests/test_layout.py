"""The house's shape: README's Layout names what is on disk, no library module over 500 lines, no
line over 100 characters, a short top level, scripts never import tests, no tracker history in
library code."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("ntk_attention", "verification")
SOURCES = (*LIBRARIES, "tests", "scripts", "benchmarks")
MAX_MODULE_LINES = 500
MAX_LINE = 100


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def _entries(package: str) -> set[str]:
    """Modules and packages directly inside ``package`` (``name.py`` / ``name/``)."""
    out = set()
    for p in (ROOT / package).iterdir():
        if p.suffix == ".py":
            out.add(p.name)
        elif p.is_dir() and (p / "__init__.py").exists():
            out.add(p.name + "/")
    return out


def readme_layout() -> dict[str, set[str]]:
    """The entries README's Layout block names under each top-level package: on a line indented
    by two spaces, the words before the description that end in ``.py`` or ``/``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    named, top = {}, None
    for line in block.splitlines():
        if re.match(r"^[a-z_]+/", line):
            top = line.split()[0].rstrip("/")
            named[top] = set()
        elif top and re.match(r"^  [a-z_]", line):
            words = re.split(r"\s{2,}", line.strip())[0].split()
            named[top] |= {w for w in words if w.endswith((".py", "/"))}
    return named


@pytest.mark.parametrize("package", LIBRARIES)
def test_readme_layout_matches_the_tree(package):
    named = readme_layout()
    assert package in named, f"README's Layout has no {package}/ block"
    on_disk = _entries(package)
    assert named[package] == on_disk, (
        f"{package}/: README names {sorted(named[package] - on_disk)} that are not on disk and "
        f"misses {sorted(on_disk - named[package])}"
    )


def test_verification_top_level_has_at_most_15_entries():
    assert len(_entries("verification")) <= 15, sorted(_entries("verification"))


def test_no_library_module_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _python_files(*LIBRARIES)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_line_over_100_characters():
    long = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in _python_files(*SOURCES)
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > MAX_LINE
    ]
    assert not long, f"{len(long)} lines over {MAX_LINE} characters, e.g. {long[:10]}"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("folder", (*LIBRARIES, "scripts", "benchmarks"))
def test_nothing_outside_tests_imports_tests(folder):
    bad = [
        str(p.relative_to(ROOT))
        for p in _python_files(folder)
        if any(m == "tests" or m.startswith("tests.") for m in _imports(p))
    ]
    assert not bad, bad


def test_no_tracker_history_in_library_code():
    pattern = re.compile(r"\b[Ii]ssue \d+|\bhardening/|\bHardening \(")
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()[:60]}"
        for p in _python_files(*LIBRARIES)
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, hits
