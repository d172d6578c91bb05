"""The layer rules of docs/architecture.md, checked on the source: no module imports from a
higher layer (lazy imports inside functions included), Ray only in pipelines, print only in cli."""

import ast
import re
from pathlib import Path

import inpaint_data

PACKAGE = Path(inpaint_data.__file__).parent
#: Layer of each top-level module or subpackage of inpaint_data; a module may import its own
#: layer and the ones below. docs/architecture.md draws the same map.
LAYERS = {"__init__": 0, "errors": 0, "fileio": 0, "storage": 0, "metrics": 0, "set_metrics": 0, "report": 0,
          "protocols": 0,
          "models": 1,
          "maskgen": 2, "edges": 2,
          "datasets": 3, "inference": 3, "highres": 3,
          "pipelines": 4,
          "cli": 5, "__main__": 5}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield path, parts, ast.parse(path.read_text())


def _imports(parts: tuple[str, ...], tree: ast.AST):
    package = ["inpaint_data", *parts[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.module


def _layer(parts) -> int:
    return LAYERS[parts[0]]


def test_every_module_has_a_layer():
    assert {parts[0] for _, parts, _ in _modules()} <= set(LAYERS)


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for path, parts, tree in _modules():
        for name in _imports(parts, tree):
            target = name.split(".")[1:] if name.startswith("inpaint_data") else None
            if target and _layer(target or ["__init__"]) > _layer(parts):
                upward.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not upward, upward


def test_ray_is_imported_only_in_pipelines():
    found = [f"{path.relative_to(PACKAGE)}: {name}" for path, parts, tree in _modules()
             for name in _imports(parts, tree) if name.split(".")[0] == "ray" and parts[0] != "pipelines"]
    assert not found, found


def test_only_the_cli_prints():
    found = [str(path.relative_to(PACKAGE)) for path, parts, tree in _modules() if parts[0] != "cli"
             for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"]
    assert not found, found


def test_the_map_is_the_one_docs_architecture_shows():
    """Each row of the layer table in docs/architecture.md, `| N: name | `module`, ... | ... |`,
    gives the layer of the modules it names: the same map as LAYERS, nothing more or less."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    shown = {}
    for line in doc.splitlines():
        row = re.match(r"\| (\d): [^|]+\| ([^|]+)\|", line)
        if row:
            for module in re.findall(r"`([\w]+)`", row[2]):
                shown[module] = int(row[1])
    assert shown == LAYERS
