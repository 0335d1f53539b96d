"""The import graph of ``verification`` and ``ntk_attention``, read from the source (ast): no cycle,
no ``verification`` import inside ``ntk_attention``, and the leaves and claims import only what
docs/theory.md's layout allows."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("verification", "ntk_attention")
# leaf packages: every module in them imports only leaves
LEAF_PACKAGES = ("verification.rules", "verification.config", "verification.training")
LEAF_MODULES = (
    "verification.contract",
    "verification.files",
    "verification.data",
    "verification.data._datasets",
    "verification.data._sources",
    "verification.data._windows",
)


def _leaves() -> tuple[str, ...]:
    inside = [m for m in _modules() if m.startswith(tuple(p + "." for p in LEAF_PACKAGES))]
    return (*LEAF_PACKAGES, *sorted(inside), *LEAF_MODULES)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from a import b`` counts ``a.b`` when that is a
    module)."""
    modules = _modules() if modules is None else modules
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, path.name == "__init__.py")
                found = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            else:
                continue
            for target in found:
                while target and target not in modules:  # `import a.b.c` of a non-module attribute
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first repeated at the end), or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == "open":
                return stack[stack.index(m) :] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = "done"
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_find_cycle_finds_a_constructed_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_ntk_attention_never_imports_verification():
    graph = import_graph()
    bad = {
        m: sorted(t for t in ts if t.startswith("verification"))
        for m, ts in graph.items()
        if m.startswith("ntk_attention")
    }
    assert not {m: ts for m, ts in bad.items() if ts}


def test_leaves_import_only_leaves():
    graph, leaves = import_graph(), set(_leaves())
    for leaf in sorted(leaves):
        inner = {t for t in graph[leaf] if t.startswith("verification")}
        assert inner <= leaves, f"{leaf} imports {sorted(inner - leaves)}"


@pytest.mark.parametrize(
    "module", sorted(m for m in _modules() if m.startswith("verification.claims.c"))
)
def test_claims_never_import_each_other_the_pipeline_or_the_report(module):
    inner = {t for t in import_graph()[module] if t.startswith("verification")}
    allowed = set(_leaves()) | {"verification.claims._common", "verification.claims"}
    claim = ".".join(module.split(".")[:3])  # the claim package a part belongs to
    inner = {t for t in inner if t != claim and not t.startswith(claim + ".")}
    assert inner <= allowed, f"{module} imports {sorted(inner - allowed)}"


def test_no_project_import_inside_a_function():
    """Imports inside functions are kept for heavy optional dependencies (matplotlib, scipy)
    only."""
    bad = []
    for name, path in _modules().items():
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").split(".")[0] in PACKAGES
                ):
                    bad.append(f"{name}.{fn.name}: from {node.module}")
                elif isinstance(node, ast.Import) and any(
                    a.name.split(".")[0] in PACKAGES for a in node.names
                ):
                    bad.append(f"{name}.{fn.name}: import {node.names[0].name}")
    assert not [b for b in bad if b.startswith("verification.")], bad
