"""The layering the README promises, checked on the source: no import cycles between our modules,
and no module importing another's private names."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tfm_jupyter"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: pathlib.Path, *, module_level_only: bool):
    """(imported module, names) of every import, or only of those run when the module is imported."""
    tree = ast.parse(path.read_text())
    current, is_package = module_name(path), path.name == "__init__.py"
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            yield absolute(current, is_package, node), [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_no_import_cycles_between_our_modules():
    graph = {}
    for name, path in MODULES.items():
        targets = set()
        for imported, names in imports_of(path, module_level_only=True):
            for candidate in [imported, *(f"{imported}.{n}" for n in names)]:
                if candidate in MODULES and candidate != name:
                    targets.add(candidate)
        graph[name] = targets - {n for n in targets if name.startswith(n + ".")}  # a package's own __init__
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(name):
    reached = [f"{imported}.{n}" for imported, names in imports_of(MODULES[name], module_level_only=False)
               if imported.startswith("tfm_jupyter") and imported != name
               for n in names if n.startswith("_") and not n.startswith("__")]
    assert reached == []
