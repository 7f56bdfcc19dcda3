"""The house rules on imports, read from the source (`ast`) of every module of crm/:

- no module imports another in a circle, counting the imports inside functions too (a
  function-level import hides a cycle from Python's import machinery, not from a reader);
- no circle between crm's packages and top-level modules either (crm.campaigns → crm.delivery
  and back is a circle even when no two modules import each other): data flows one way;
- services never import click, dramatiq, the workers package or a web framework: only the
  ways in do (crm/cli/ the command line, crm/web/ HTTP).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CRM = ROOT / "crm"

WEB_FRAMEWORKS = {"flask", "quart", "fastapi", "starlette", "django", "aiohttp", "werkzeug", "litestar", "bottle",
                  "falcon", "sanic", "tornado", "pyramid", "responder", "uvicorn", "gunicorn"}
FORBIDDEN_IN_SERVICES = {"click", "dramatiq", "workers", *WEB_FRAMEWORKS}
# What each way in may import besides: the glue between a person (or a request) and the services.
WAYS_IN = {"crm/cli/": {"click", "dramatiq", "workers"}, "crm/web/": {"dramatiq", "workers", *WEB_FRAMEWORKS}}

# Circles between packages being removed by another part of the same issue; each entry must
# still be a circle (the test says when it is gone, so that the entry goes too).
KNOWN_PACKAGE_CIRCLES: dict[frozenset[str], str] = {}  # none left: crm.vocabulary broke the last one


def _modules(root: Path = CRM) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(path: Path, name: str) -> Iterator[tuple[str, int]]:
    """Every name ``path`` (module ``name``) imports, anywhere in it, with its line;
    ``from a.b import c`` gives ``a.b.c`` (c may be a module or a name in a.b: `_graph`
    resolves it)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {crm module it imports: line}, each import resolved to the longest module
    name it starts with (``from crm.models import Event`` is crm.models)."""
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        for imported, line in _imported(path, name):
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != "crm":
                graph[name].setdefault(target, line)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _top(name: str) -> str:
    """crm.delivery.engine -> crm.delivery; crm.fields -> crm.fields."""
    return ".".join(name.split(".")[:2])


def _explain(circle: list[str], graph: dict[str, dict[str, int]], modules: dict[str, Path],
             group: Callable[[str], str] = str) -> str:
    """The circle and the imports that make it, with file:line."""
    members = set(circle)
    edges = [f"{source} -> {target} ({modules[source].relative_to(ROOT)}:{line})"
             for source in sorted(graph) if group(source) in members
             for target, line in sorted(graph[source].items())
             if group(target) in members and group(target) != group(source)]
    return f"{' <-> '.join(circle)}:\n    " + "\n    ".join(edges)


def test_no_module_imports_another_in_a_circle() -> None:
    modules = _modules()
    graph = _graph(modules)
    circles = _circles({name: set(targets) for name, targets in graph.items()})
    assert not circles, "\n".join(_explain(c, graph, modules) for c in circles)


def test_no_circle_between_packages() -> None:
    modules = _modules()
    graph = _graph(modules)
    packages: dict[str, set[str]] = {}
    for source, targets in graph.items():
        packages.setdefault(_top(source), set()).update(_top(t) for t in targets if _top(t) != _top(source))
    circles = _circles(packages)
    unknown = [c for c in circles if frozenset(c) not in KNOWN_PACKAGE_CIRCLES]
    assert not unknown, "\n".join(_explain(c, graph, modules, _top) for c in unknown)
    gone = [", ".join(sorted(known)) for known in KNOWN_PACKAGE_CIRCLES if sorted(known) not in circles]
    assert not gone, f"no longer a circle, remove it from KNOWN_PACKAGE_CIRCLES: {gone}"


def test_services_import_no_click_dramatiq_workers_or_web_framework() -> None:
    wrong = []
    for name, path in _modules().items():
        where = path.relative_to(ROOT).as_posix()
        allowed = next((names for prefix, names in WAYS_IN.items() if where.startswith(prefix)), set())
        for imported, line in _imported(path, name):
            top = imported.split(".")[0]
            if top in FORBIDDEN_IN_SERVICES and top not in allowed:
                wrong.append(f"{where}:{line} imports {imported}")
    assert not wrong, "services are called by the ways in, never the other way:\n" + "\n".join(sorted(set(wrong)))


@pytest.mark.parametrize(("source", "expected"), [
    ("import click\n", "x.py:1 imports click"),
    ("def f():\n    from dramatiq import actor\n", "x.py:2 imports dramatiq.actor"),
    ("from workers import campaigns\n", "x.py:1 imports workers.campaigns"),
])
def test_the_import_reader_sees_imports_at_any_depth(tmp_path: Path, source: str, expected: str) -> None:
    (tmp_path / "x.py").write_text(source, encoding="utf-8")
    seen = {f"x.py:{line} imports {name}" for name, line in _imported(tmp_path / "x.py", "x")}
    assert expected in seen


def test_the_circle_finder_finds_a_circle_through_function_level_imports(tmp_path: Path) -> None:
    package = tmp_path / "crm"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a" / "__init__.py").write_text("", encoding="utf-8")
    (package / "a" / "one.py").write_text("from crm.b import two\n", encoding="utf-8")
    (package / "b.py").write_text("def f():\n    from crm.a import one\n", encoding="utf-8")
    (package / "c.py").write_text("from crm.a import one\n", encoding="utf-8")
    modules = _modules(package)
    graph = _graph(modules)
    assert graph["crm.a.one"] == {"crm.b": 1} and graph["crm.b"] == {"crm.a.one": 2}
    assert _circles({name: set(targets) for name, targets in graph.items()}) == [["crm.a.one", "crm.b"]]
