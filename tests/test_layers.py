"""The library's layers: no import goes up a layer, no module imports a module that imports it
back, and every module stays small. Read from the source (ast), so nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mosim_ray"

LAYERS = [
    ("mosim_ray.config",),
    ("mosim_ray.tasks",),
    ("mosim_ray.data",),
    ("mosim_ray.model",),
    ("mosim_ray.eval",),
    ("mosim_ray.train",),
    ("mosim_ray.envs",),
    ("mosim_ray.sac",),
    ("mosim_ray.actors",),
    ("mosim_ray.schedules",),
    ("mosim_ray.runs",),
    ("mosim_ray.tune",),
    ("mosim_ray.experiments",),
    ("mosim_ray",),
]
"""Lowest first: a module may import from its own layer and the layers before it. The package
itself (``from mosim_ray import WorldModel``) is the facade on top."""
MAX_LINES = 350


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, index = -1, -1
    for i, names in enumerate(LAYERS):
        for name in names:
            exact = name in ("mosim_ray", "mosim_ray.config")
            if module == "mosim_ray" and name != "mosim_ray":
                continue
            inside = module == name or (not exact and module.startswith(name + "."))
            if inside and len(name) > best:
                best, index = len(name), i
    assert index >= 0, f"{module} is in no layer: add it to LAYERS"
    return index


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported mosim_ray module, imported at module level) for every import in a file."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("mosim_ray"):
                out.append((name, id(node) in top))
    return out


def existing(name: str, modules: set[str]) -> str | None:
    """The module an import names (``a.b.C`` is the module ``a.b`` when ``C`` is no module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p) for p in FILES}


def test_no_import_goes_up_a_layer():
    wrong = []
    for path in FILES:
        here = module_name(path)
        for name, _ in imports(path):
            target = existing(name, MODULES)
            if target and layer_of(target) > layer_of(here):
                wrong.append(f"{here} imports {target}")
    assert not wrong, "imports up a layer:\n" + "\n".join(sorted(set(wrong)))


def test_no_module_level_import_cycles():
    graph = {module_name(p): set() for p in FILES}
    for path in FILES:
        for name, top in imports(path):
            target = existing(name, MODULES)
            if top and target and target != module_name(path):
                graph[module_name(path)].add(target)
    cycles = []
    for a, targets in graph.items():
        for b in targets:
            if a in _reachable(graph, b) and not (a.startswith(b + ".") or b.startswith(a + ".")):
                cycles.append(" <-> ".join(sorted((a, b))))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_modules_and_pipelines_stay_small():
    big = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in FILES
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    big += [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in sorted((ROOT / "pipelines").glob("*.py"))
        if (n := len(p.read_text().splitlines())) > 80
    ]
    assert not big, "too long (library modules <= 350 lines, pipelines <= 80):\n" + "\n".join(big)


def test_the_layer_test_can_fail():
    assert layer_of("mosim_ray.runs.cli") > layer_of("mosim_ray.model.world_model")
    assert layer_of("mosim_ray.config") < layer_of("mosim_ray.tasks.spec")
    assert existing("mosim_ray.model.world_model.WorldModel", MODULES) == (
        "mosim_ray.model.world_model"
    )
