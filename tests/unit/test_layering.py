"""Layering of the product's packages, read from the source with ast (nothing imported):
no import cycles between modules (a lazy import inside a function counts too: it only
hides the cycle until that function runs; imports for type checkers only do not), and
no module reaching into another package's private (_name) symbols."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from privacybot.settings import PROJECT_ROOT

PACKAGES = ("casework", "privacybot", "webhook", "actions", "knowledge")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def _owner(name: str) -> str | None:
    """The product module a dotted name lives in, or None (the standard library, a
    third-party package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for each import in `module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if owner := _owner(alias.name):
                    yield owner, None
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in MODULES:
                yield submodule, None
            elif owner := _owner(base):
                yield owner, alias.name


def _graph() -> dict[str, set[str]]:
    return {
        module: {target for target, _ in _imports(module) if target != module} for module in MODULES
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_graph_sees_the_imports() -> None:
    graph = _graph()
    assert "privacybot.settings" in graph["webhook.state"]  # module level
    assert "casework.db" in graph["casework.retention"]  # inside a function
    assert "webhook.health" not in graph["webhook.state"]  # for type checkers only
    assert len(MODULES) > 40


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_packages_do_not_import_each_others_private_names() -> None:
    reaching_in = [
        f"{module} imports {name} from {target}"
        for module in MODULES
        for target, name in _imports(module)
        if name and name.startswith("_") and target.split(".")[0] != module.split(".")[0]
    ]
    assert reaching_in == []


def test_casework_is_given_its_settings_and_imports_no_other_package() -> None:
    """casework is the shared records layer: whoever calls it passes the database URL
    and keys, so reading a URL never loads privacybot's settings (or makes dev secrets)."""
    outside = {
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if module.split(".")[0] == "casework"
        for target in targets
        if target.split(".")[0] != "casework"
    }
    assert outside == set()
