"""The package's imports only look down: each module imports from its own floor group or the floors below.

Floors (README, "Layout"): ground (errors, types, validation) <- pure helpers <- store <- tracking;
beside tracking, each using only the store and below: export, plugin, server; on top: CLI,
launcher, demos and the package's front door. Every import counts, including those inside
functions, so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = "tb_runhistory_plugin"
ROOT = pathlib.Path(__file__).resolve().parent.parent / PACKAGE

# module (dotted, relative to the package) or package prefix -> (floor, group). Longest prefix wins.
FLOORS: dict[str, tuple[int, str]] = {
    "errors": (0, "ground"),
    "_types": (0, "ground"),
    "_validate": (0, "ground"),
    "_query": (0, "ground"),
    "_filter": (0, "ground"),
    "_histograms": (1, "helpers"),
    "_charts": (1, "helpers"),
    "_images": (1, "helpers"),
    "_assets": (1, "helpers"),
    "_livelogs": (1, "helpers"),
    "store": (2, "store"),
    "_writer": (3, "tracking"),
    "_lifecycle": (3, "tracking"),
    "_run": (3, "tracking"),
    "_experiment": (3, "tracking"),
    "_context": (3, "tracking"),
    "_files": (3, "tracking"),
    "_mappings": (3, "tracking"),
    "_newrun": (3, "tracking"),
    "_portal": (3, "tracking"),
    "_waiting": (3, "tracking"),
    "_workspace": (3, "tracking"),
    "_reading": (3, "tracking"),
    "_chartlog": (3, "tracking"),
    "export": (3, "export"),
    "plugin": (3, "plugin"),
    "server": (3, "server"),
    "_launcher": (4, "top"),
    "cli": (4, "top"),
    "demos": (4, "top"),
    "": (5, "front door"),  # the package's __init__
}


def module_name(path: pathlib.Path) -> str:
    """The dotted name of a module below the package, '' for the package's own __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def place(module: str) -> tuple[int, str]:
    """The floor and group of a module, by the longest matching prefix."""
    best = None
    for prefix, floor in FLOORS.items():
        if module == prefix or module.startswith(prefix + ".") or prefix == "":
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, floor)
    assert best is not None
    return best[1]


def imports_of(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import of the package's own modules, at any depth in the file."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue  # imports for type annotations only never run
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                target = node.module.removeprefix(PACKAGE).lstrip(".")
            else:
                continue
            names = [alias.name for alias in node.names]
            for name in names:
                # `from . import _writer` imports a module; `from .x import y` imports x.
                candidate = f"{target}.{name}" if target else name
                found.append(
                    (
                        node.lineno,
                        candidate
                        if (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists() or (ROOT / candidate.replace(".", "/")).is_dir()
                        else target,
                    )
                )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.append((node.lineno, alias.name.removeprefix(PACKAGE).lstrip(".")))
    return found


MODULES = sorted(p for p in ROOT.rglob("*.py") if "frontend" not in p.parts)


def test_the_package_has_every_floor():
    names = {module_name(p) for p in MODULES}
    assert {"errors", "store", "_run", "export", "plugin", "server", "cli"} <= {n.split(".")[0] for n in names if n} | names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_look_down(path):
    module = module_name(path)
    floor, group = place(module)
    wrong = []
    for line, target in imports_of(path):
        if not target:
            if module:
                wrong.append(f"line {line}: imports the package's front door")
            continue
        target_floor, target_group = place(target)
        if target_group == group:
            continue
        if target_floor >= floor:
            wrong.append(f"line {line}: {target} ({target_group}, floor {target_floor}) from {group} (floor {floor})")
    assert not wrong, f"{module or '__init__'} imports up or sideways:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules():
    graph = {module_name(p): {t for _, t in imports_of(p)} for p in MODULES}
    # Only module-to-module edges (a package's __init__ re-exporting its children is not a cycle).
    cycles = []
    for a, targets in graph.items():
        for b in targets:
            if b != a and a in graph.get(b, ()) and not (a.startswith(b + ".") or b.startswith(a + ".")) and (a, b)[::-1] not in cycles:
                cycles.append((a, b))
    assert not cycles, f"modules that import each other: {cycles}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reaching_into_another_packages_private_modules(path):
    """store/, export/, plugin/, server/ and demos/ are used through their public modules only."""
    module = module_name(path)
    own_package = module.split(".")[0] if "." in module or (ROOT / module).is_dir() else None
    wrong = []
    for line, target in imports_of(path):
        parts = target.split(".")
        if len(parts) >= 2 and parts[0] != own_package and any(part.startswith("_") for part in parts[1:]):
            wrong.append(f"line {line}: {target}")
    assert not wrong, f"{module} reaches into private modules:\n" + "\n".join(wrong)
