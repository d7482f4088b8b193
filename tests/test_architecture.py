"""The shape of the package: imports look down, never up, and the view model needs no graphviz.

Every module under ``tinygraph/`` is parsed with ``ast`` (not imported), and each import statement
anywhere in it — at module level or inside a function — becomes an edge of the import graph.
Imports under ``if TYPE_CHECKING:`` are not run and are left out. An edge goes to the module
imported (``from tinygraph.ops import matmul`` → ``tinygraph.ops``, the package's ``__init__``;
``from tinygraph import _scratch`` → ``tinygraph._scratch``), not to the parent packages Python
also initialises on the way: ``tinygraph/__init__.py`` is the facade that imports everything.

Node's operators and ``backward()`` reach the ops and the engine through the one documented late
binding, ``tinygraph.node.bind_engine``, which is a call and not an import, so the graph has no
cycle at all; the test checks that the binding is made in exactly one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tinygraph
from tinygraph import node as node_module

ROOT = Path(tinygraph.__file__).parent
PACKAGE = "tinygraph"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement in ``tree`` (functions included), except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.If) and _is_type_checking(n.test):
            stack.extend(n.orelse)
            continue
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            yield n
        stack.extend(ast.iter_child_nodes(n))


def _resolve(module: str, stmt: ast.Import | ast.ImportFrom) -> tuple[set[str], set[str]]:
    """The tinygraph modules and the outside top-level packages that ``stmt`` (in ``module``) imports."""
    inner: set[str] = set()
    outer: set[str] = set()
    if isinstance(stmt, ast.Import):
        targets = [(a.name, []) for a in stmt.names]
    else:
        base = stmt.module or ""
        if stmt.level:
            is_package = MODULES[module].name == "__init__.py"
            anchor = module.split(".")[: len(module.split(".")) - stmt.level + (1 if is_package else 0)]
            base = ".".join(anchor + ([base] if base else []))
        targets = [(base, [a.name for a in stmt.names])]
    for name, names in targets:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            outer.add(name.split(".")[0])
            continue
        subs = [f"{name}.{n}" for n in names if f"{name}.{n}" in MODULES]
        if subs:
            inner.update(subs)
        if not names or len(subs) < len(names):
            inner.add(name)
    return inner, outer


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    edges: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges[module], outside[module] = set(), set()
        for stmt in _import_nodes(tree):
            inner, outer = _resolve(module, stmt)
            edges[module] |= inner - {module}
            outside[module] |= outer
    return edges, outside


EDGES, OUTSIDE = _graph()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(EDGES.get(m, ()))
    return seen


def test_the_parser_sees_the_imports_it_should():
    assert "tinygraph.registry" in EDGES["tinygraph.ops.elementwise"]
    assert "tinygraph.node" in EDGES["tinygraph.registry"]
    assert "tinygraph._scratch" in EDGES["tinygraph.autodiff"]  # from tinygraph import _scratch
    assert "tinygraph.ops" in EDGES["tinygraph.functional._args"]  # from tinygraph.ops import mean
    assert "graphviz" in OUTSIDE["tinygraph.render.graph"]
    assert "sklearn" in OUTSIDE["tinygraph.data"]  # an import inside a function


def test_the_import_graph_has_no_cycle():
    assert _cycles(EDGES) == []


# The core's layers, bottom first: a module imports only from layers below its own, or from its own
# package (ops/* share ops/axes.py).
LAYERS = [
    (
        "tinygraph._state",
        "tinygraph.errors",
        "tinygraph._malloc",
        "tinygraph._scratch",
        "tinygraph._inplace",
        "tinygraph._inputs",
    ),
    ("tinygraph.node",),
    ("tinygraph.registry", "tinygraph._blas", "tinygraph._im2col"),
    ("tinygraph.ops",),
    ("tinygraph.autodiff", "tinygraph.numpy_functions"),
    ("tinygraph.functional",),
    ("tinygraph.nn",),
]


def _layer(module: str) -> int | None:
    for rank, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return rank
    return None


def _package(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) is not None))
def test_core_modules_import_only_from_the_layers_below(module):
    rank = _layer(module)
    upward = []
    for target in EDGES[module]:
        other = _layer(target)
        if other is None:
            if target != "tinygraph.creation":  # creation (tensor, get_rng) sits on node
                upward.append(target)
        elif other > rank or (other == rank and _package(target) != _package(module)):
            if not (other == rank and target.startswith(_package(module) + ".")):
                upward.append(target)
    assert upward == [], f"{module} imports {upward}, which are not below it"


def test_node_imports_nothing_above_the_bottom_layer():
    assert EDGES["tinygraph.node"] <= set(LAYERS[0])


def test_the_late_binding_is_made_once_by_the_engine():
    callers = []
    for module, path in MODULES.items():
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Call):
                f = n.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if name == "bind_engine":
                    callers.append(module)
    assert callers == ["tinygraph.autodiff"]
    from tinygraph import autodiff, ops, registry

    assert node_module._ops is ops
    assert node_module._apply is registry.apply
    assert node_module._backward is autodiff.backward


VIEW_MODULES = sorted(m for m in MODULES if m.startswith("tinygraph.view"))


@pytest.mark.parametrize("start", ["tinygraph.export", *VIEW_MODULES])
def test_the_view_model_and_the_networkx_export_need_no_graphviz(start):
    reached = _reachable(start)
    assert not [m for m in reached if m.startswith("tinygraph.render")]
    assert not [m for m in reached if "graphviz" in OUTSIDE.get(m, ())]


def test_every_primitive_is_in_both_namespaces_the_rules_compute_with():
    from tinygraph.ops import ARRAY, GRAPH
    from tinygraph.registry import REGISTRY

    primitives = {name: op for name, op in REGISTRY.items() if op.kind == "primitive"}
    assert {"affine", "rnn_affine", "softmax_cross_entropy", "matmul"} <= set(primitives)
    for name, op in primitives.items():
        assert getattr(ARRAY, name) is op.array_fn, name
        assert getattr(GRAPH, name) is op.graph_fn, name
    assert set(vars(ARRAY)) == set(vars(GRAPH)) == set(primitives)


def test_primitives_are_declared_only_in_ops():
    declaring = []
    for module, path in MODULES.items():
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
                for d in n.decorator_list:
                    f = d.func if isinstance(d, ast.Call) else d
                    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                    if name == "primitive":
                        declaring.append(module)
    assert declaring
    assert [m for m in declaring if not m.startswith("tinygraph.ops.")] == []


def test_every_primitive_forward_is_defined_in_ops():
    from tinygraph.registry import REGISTRY

    outside = {
        name: op.array_fn.__module__
        for name, op in REGISTRY.items()
        if op.kind == "primitive" and not op.array_fn.__module__.startswith("tinygraph.ops.")
    }
    assert outside == {}
    assert not [name for name, op in REGISTRY.items() if op.array_fn.__module__.startswith("tinygraph.nn")]


def test_every_fused_primitive_names_a_registered_composite():
    from tinygraph.registry import REGISTRY

    fused = {name: op.fuses for name, op in REGISTRY.items() if op.fuses is not None}
    assert fused == {
        "affine": "linear",
        "softmax_cross_entropy": "cross_entropy",
        "rnn_affine": "rnn_linear",
        "conv2d_gemm": "conv2d",
        "window_max": "max_pool2d",
    }
    for name, composite in fused.items():
        assert REGISTRY[name].array_fn.__module__ == "tinygraph.ops.fused"
        assert REGISTRY[composite].kind == "composite"
