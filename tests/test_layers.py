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


# -- the seam: above backends/ and the path layer, nothing but the Backend interface ---------------------

ABOVE_THE_SEAM = sorted(name for name in MODULES if "." in name and name.split(".")[1] not in (
    "backends", "s3", "errors", "uri", "entries", "names", "units", "cache", "persist", "cancel", "prefetch",
    "guard", "path", "storage_path", "server", "demo", "__init__", "checksum"))
CONCRETE_PATH_CLASSES = {"S3Path", "LocalPath", "StoragePath", "PosixPath", "PureS3Path", "PurePosixPath"}
STORE_NAMES = {"get_store", "client_for", "get_client", "S3Store", "Stores", "S3Client"}


def seam_violations(path: pathlib.Path) -> list[str]:
    """isinstance/issubclass on a concrete path class, and any reach into a store, an SDK client or a
    backend's own module, in one module's source."""
    found = []
    current = module_name(path)
    for imported, names in imports_of(path, module_level_only=False):
        if imported.startswith(("tfm_jupyter.s3", "tfm_jupyter.backends.")) or imported in ("boto3", "botocore"):
            found.append(f"imports {imported} {names}")
        found.extend(f"imports {imported}.{name}" for name in names if name in STORE_NAMES | CONCRETE_PATH_CLASSES)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("isinstance", "issubclass"):
            classes = node.args[1] if len(node.args) > 1 else None
            named = {getattr(n, "id", getattr(n, "attr", None)) for n in ast.walk(classes)} if classes else set()
            found.extend(f"{current}:{node.lineno} isinstance on {name}" for name in named & CONCRETE_PATH_CLASSES)
        if isinstance(node, ast.Attribute) and node.attr in STORE_NAMES:
            found.append(f"{current}:{node.lineno} reaches .{node.attr}")
    return found


def test_the_seam_has_modules_to_check():
    assert {"tfm_jupyter.transfer", "tfm_jupyter.synchronize", "tfm_jupyter.search", "tfm_jupyter.commands",
            "tfm_jupyter.completion", "tfm_jupyter.magics", "tfm_jupyter.browser.jobs", "tfm_jupyter.data.fs",
            "tfm_jupyter.meter"} <= set(ABOVE_THE_SEAM)


@pytest.mark.parametrize("name", ABOVE_THE_SEAM)
def test_above_the_seam_only_the_backend_interface_is_spoken(name):
    assert seam_violations(MODULES[name]) == []


def test_the_seam_check_sees_a_violation(tmp_path):
    """The check itself can fail: a module that branches on S3Path and asks the store is caught."""
    bad = PACKAGE / "browser" / "_seam_probe.py"
    try:
        bad.write_text("from ..path import S3Path\nfrom ..s3.stores import get_store\n\n"
                       "def f(p):\n    return isinstance(p, S3Path) and get_store()\n")
        assert len(seam_violations(bad)) >= 3
    finally:
        bad.unlink()
