"""No import cycles among the project's modules (issue #12).

A cycle makes the order of imports matter and hides which module owns a piece: a function-level
import (`def f(): from views.projects import …`) only postpones the cycle, so every import
counts — at the top of a module and inside its functions alike. Importing a package's
submodule runs the package's __init__ first; that implicit edge to a parent package is not a
cycle anyone wrote, and is left out.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "settings", "commands", "domain", "importers", "models", "reads", "reminders", "services",
            "views")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name → file of every module of the project's packages."""
    modules = {}
    for name in PACKAGES:
        single = root / f"{name}.py"
        if single.exists():
            modules[name] = single
            continue
        for path in sorted((root / name).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[dotted] = path
    return modules


def _imported(module: str, path: Path, node: ast.AST) -> list[str]:
    """The dotted names one import statement may bring in (a module or a name inside one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its file, its parent packages left out."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        for name in _imported(module, path, node):
            target = _nearest_module(name, modules)
            if target and target != module and not module.startswith(target + "."):
                found.add(target)
    return found


def _nearest_module(name: str, modules: dict[str, Path]) -> str | None:
    """`models.actual.Actual` → models.actual; `views.auth` → views.auth; outside the project: None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    """Each group of modules that import one another, directly or round about (Tarjan's
    strongly connected components with more than one member), sorted."""
    modules = project_modules(root)
    graph = {m: imports_of(m, p, modules) for m, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(groups)


def test_no_import_cycles_among_the_project_modules():
    assert import_cycles() == []


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    """The check itself: two modules of one package, one importing the other inside a function."""
    package = tmp_path / "views"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from views.b import shown\n")
    (package / "b.py").write_text("def shown():\n    from views import a\n    return a\n")
    (package / "c.py").write_text("from . import b\n")
    assert import_cycles(tmp_path) == [["views.a", "views.b"]]


if __name__ == "__main__":
    for cycle in import_cycles():
        print(" ↔ ".join(cycle))
