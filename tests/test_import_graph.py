"""The house rules of the layout and the import graph, over every module under rules/ and transcribe_guard/.

- ``rules/`` holds at its top the rule modules (``transcribe_*.py``, each with its ``lambda_handler``) and
  only they, with ``__init__.py``; the shared code lives in its sub-packages.

- A rule module (``rules/transcribe_*.py``) imports shared code, never another rule module.
- No import cycle, anywhere in either package.

The graph is read from the source with ``ast`` (nothing is imported): ``import a.b``, ``from a import b``
and relative ``from .x import y`` are resolved to the project module they name (``from pkg import name``
is an edge to ``pkg.name`` when that is a module, else to ``pkg``), and ``import_module("...")`` with a
constant name counts as an import too, and a module that calls ``pkgutil.iter_modules`` (the registry's
discovery) imports every rule module it can find. Lazy imports count: imports inside functions and
``if TYPE_CHECKING:`` blocks are edges like module-level ones, for both checks, so a cycle cannot hide
in a function body. Only imports of ``rules`` and ``transcribe_guard`` modules are edges. Importing
``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``; those implicit edges are left out (a package
whose ``__init__`` imports one of its own submodules would otherwise be a cycle), but each ``__init__``
is a module of the graph with its own imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rules.catalog.registry import RULES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rules", "transcribe_guard")
TRIGGER_HANDLER = "rules.engine.trigger.lambda_handler"


def module_names(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every .py file under the packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is a project module (``rules.x.Y`` -> ``rules.x``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports, wherever in the file the import statement is."""
    is_package = path.name == "__init__.py"
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()

    def add(name: str) -> None:
        target = _resolve(name, modules)
        if target is not None and target != module:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package_parts[:len(package_parts) - (node.level - 1)] if node.level > 1 else package_parts
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    add(f"{base}.{alias.name}")
                else:
                    add(base)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "id", None) == "import_module" or getattr(node.func, "attr", None) == "import_module")):
            add(node.args[0].value)
        elif isinstance(node, ast.Call) and "iter_modules" in (getattr(node.func, "id", None),
                                                               getattr(node.func, "attr", None)):
            found.update(name for name in modules if is_rule_module(name) and name != module)  # discovery imports them all
    return found


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    modules = module_names(root, packages)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def is_rule_module(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 2 and parts[0] == "rules" and parts[1].startswith("transcribe_")


def rule_imports_rule(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{name} imports {target}" for name, targets in graph.items() if is_rule_module(name)
                  for target in targets if is_rule_module(target))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that starts and ends with the same module, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name)
            if cycle:
                return cycle
    return None


SUBPACKAGES = {"catalog", "engine", "inventory", "policy"}


def _defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


def test_rules_shows_only_the_rules_at_its_top_and_the_shared_code_in_subpackages() -> None:
    top = {path.name for path in (ROOT / "rules").iterdir() if path.name != "__pycache__"}
    rule_files = {name for name in top if name.startswith("transcribe_") and name.endswith(".py")}
    assert len(rule_files) == len(RULES)  # each one discovered by the registry
    assert top - rule_files == {"__init__.py"} | SUBPACKAGES
    for package in SUBPACKAGES:
        assert (ROOT / "rules" / package / "__init__.py").is_file(), package
    assert not [name for name in rule_files if not _defines(ROOT / "rules" / name, "lambda_handler")]


def test_every_lambda_handler_is_a_rule_module_at_the_top_of_rules() -> None:
    text = (ROOT / "transcribe_guard" / "templates" / "functions.yaml").read_text(encoding="utf-8")
    handlers = [line.split("Handler:", 1)[1].strip() for line in text.splitlines() if "Handler:" in line]
    # Two functions that are no rule: the ledger's collector, engine code the rules' package holds,
    collector = "rules.engine.collector.lambda_handler"
    assert handlers.count(collector) == 1 and _defines(ROOT / "rules" / "engine" / "collector.py", "lambda_handler")
    handlers.remove(collector)
    # and the optional event trigger (EnableEventTriggers), shared engine code
    # that starts the rules' evaluations and is no rule itself.
    assert handlers.count(TRIGGER_HANDLER) == 1 and _defines(ROOT / "rules" / "engine" / "trigger.py", "lambda_handler")
    handlers.remove(TRIGGER_HANDLER)
    assert len(handlers) == len(RULES)
    for handler in handlers:
        package, module, function = handler.split(".")
        assert (package, function) == ("rules", "lambda_handler") and is_rule_module(f"{package}.{module}"), handler
        assert _defines(ROOT / "rules" / f"{module}.py", function), handler


def test_the_graph_covers_every_module_and_sees_the_known_edges() -> None:
    """A guard for the two checks below: a parser that found no edges would pass them vacuously."""
    graph = import_graph()
    assert sum(is_rule_module(name) for name in graph) == len(RULES)
    assert {"rules", "rules.catalog.registry", "transcribe_guard.cli", "transcribe_guard.simulator"} <= set(graph)
    # module-level absolute imports, function-level imports, and import_module("...")
    assert "rules.engine.base" in graph["rules.transcribe_job_pii_redaction"]
    assert "rules.catalog.registry" in graph["transcribe_guard.cli"]  # inside cmd_scan & co.
    assert "rules.policy.evaluation" in graph["rules.policy.iam_probe"]
    # the registry imports every rule, by discovery (it is catalog code, not a rule)
    assert {name for name in graph["rules.catalog.registry"] if is_rule_module(name)} == {
        name for name in graph if is_rule_module(name)}


def test_no_rule_module_imports_another_rule_module() -> None:
    assert rule_imports_rule(import_graph()) == []


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("importer", [
    "from rules.transcribe_b import X\n",
    "import rules.transcribe_b\n",
    "from rules import transcribe_b\n",
    "from . import transcribe_b\n",
    "from .transcribe_b import X\n",
    "def handler():\n    from rules.transcribe_b import X\n",
    "from importlib import import_module\nB = import_module('rules.transcribe_b')\n",
])
def test_a_rule_importing_a_rule_is_found_however_it_is_written(tmp_path: Path, importer: str) -> None:
    _write(tmp_path, {"rules/__init__.py": "", "rules/transcribe_a.py": importer, "rules/transcribe_b.py": "X = 1\n",
                      "rules/engine/__init__.py": "", "rules/engine/base.py": "from rules import transcribe_b\n"})
    graph = import_graph(tmp_path, ("rules",))
    # shared code may import rules (the registry does); only rule -> rule is reported
    assert rule_imports_rule(graph) == ["rules.transcribe_a imports rules.transcribe_b"]


def test_a_cycle_through_a_lazy_relative_import_is_reported_with_its_path(tmp_path: Path) -> None:
    _write(tmp_path, {"transcribe_guard/__init__.py": "",
                      "transcribe_guard/cli.py": "from transcribe_guard.evidence import collect\n",
                      "transcribe_guard/evidence.py": "def collect():\n    from .cli import run_scan\n"})
    graph = import_graph(tmp_path, ("transcribe_guard",))
    assert find_cycle(graph) == ["transcribe_guard.cli", "transcribe_guard.evidence", "transcribe_guard.cli"]
    _write(tmp_path, {"transcribe_guard/evidence.py": "def collect():\n    from .scan import run_scan\n",
                      "transcribe_guard/scan.py": "def run_scan(): ...\n"})
    assert find_cycle(import_graph(tmp_path, ("transcribe_guard",))) is None


def third_party_imports(path: Path) -> set[str]:
    """The top-level names of every absolute import in ``path``, wherever the statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_rich_is_cli_only_never_in_the_lambda_code() -> None:
    from transcribe_guard import package

    assert "rich" in third_party_imports(ROOT / "transcribe_guard" / "progress.py")  # the walker sees it
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "rules").rglob("*.py") if "rich" in third_party_imports(p))
    assert users == []
    assert "rich" not in package.PACKAGES
    lambda_pins = (ROOT / "transcribe_guard" / "requirements-lambda.txt").read_text(encoding="utf-8")
    assert "rich" not in [line.split("==")[0].strip() for line in lambda_pins.splitlines()]
