"""The packages of field_ops import downwards only: core imports no domain, and no two
packages import each other, directly or round a longer loop. Read from the source with
`ast`, so imports inside functions count too."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "field_ops"


def package_imports() -> dict[str, dict[str, list[str]]]:
    """`{package: {imported package: ["file:line", ...]}}` between field_ops's packages."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2:  # field_ops/__init__.py and models.py wire every package together
            continue
        source = parts[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                top, _, rest = module.partition(".")
                target = "seeds" if top == "seeds" else rest.partition(".")[0] if top == "field_ops" else None
                if target and target != source:
                    graph[source][target].append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(graph.get(node, {})):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_core_imports_no_domain():
    arrows = {target: places for target, places in package_imports().get("core", {}).items()}
    assert arrows == {}, f"core imports domains: {arrows}"


def test_no_two_packages_import_each_other_even_round_a_loop():
    graph = package_imports()
    cycle = find_cycle(graph)
    if cycle:
        places = {f"{a} -> {b}": graph[a][b] for a, b in zip(cycle, cycle[1:], strict=False)}
        raise AssertionError(f"import cycle {' -> '.join(cycle)}: {places}")


def test_the_check_sees_a_loop_when_there_is_one():
    graph = {"accounts": {"visits": ["a.py:1"]}, "visits": {"core": ["v.py:1"], "accounts": ["v.py:2"]}}
    assert find_cycle(graph) == ["accounts", "visits", "accounts"]
    assert find_cycle({"visits": {"accounts": ["v.py:2"]}}) is None
