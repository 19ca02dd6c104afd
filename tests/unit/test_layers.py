"""Dependencies point inward (ARCHITECTURE.md section 2), checked on the source.

Every import statement of domain/, adapters/, projections/ and verifier/ is read with `ast`
(including imports inside functions and `if TYPE_CHECKING:` blocks, relative
imports, and `importlib.import_module("...")` with a literal name) and checked
against the layer's rules. A fresh interpreter then imports the verifier and the
proof modules and lists what they really load, parent packages included.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# import name -> folder, as in pyproject's [tool.setuptools.package-dir]
PACKAGES = {
    "ebox.domain": "domain",
    "ebox.adapters": "adapters",
    "ebox.projections": "projections",
    "ebox.api": "api",
    "ebox.verifier": "verifier",
    "ebox.cli": "cli",
    "ebox.migrations": "migrations",
    "ebox.witness": "witness",
    "ebox.monitor": "monitor",
}

SQL = (
    "sqlalchemy",
    "sqlalchemy_utils",
    "eventsourcing_sqlalchemy",
    "alembic",
    "psycopg2",
    "psycopg",
)
HTTP = ("fastapi", "starlette", "uvicorn")
CLI = ("typer",)


@dataclass(frozen=True)
class Rule:
    folder: str  # relative to the repository root
    forbidden: tuple[str, ...]  # module prefixes the folder must not import
    only_ebox: tuple[str, ...] | None = None  # if set, the only ebox modules it may import
    why: str = ""


RULES = [
    Rule(
        "domain",
        (
            *SQL,
            *HTTP,
            *CLI,
            "ebox.adapters",
            "ebox.projections",
            "ebox.api",
            "ebox.cli",
            "ebox.verifier",
        ),
        why="the domain knows nothing of SQL, HTTP, the CLI or the outer layers",
    ),
    Rule(
        "adapters",
        (*HTTP, *CLI, "ebox.projections", "ebox.api", "ebox.cli", "ebox.verifier"),
        why=(
            "adapters (storage, secrets, wiring) serve the domain and the projections: they may"
            " use SQL, not the layers above; an adapter that needs a projection module shows"
            " that module is misplaced"
        ),
    ),
    Rule(
        "domain/proofs",
        (*SQL, *HTTP, *CLI, "eventsourcing"),
        only_ebox=("ebox.domain.proofs",),
        why="the proof machinery stands alone: the verifier imports it without the rest",
    ),
    Rule(
        "projections",
        (*HTTP, *CLI, "ebox.api", "ebox.cli"),
        why="projections (followers of the log) build on the adapters, below the API and CLI",
    ),
    Rule(
        "verifier",
        (*SQL, *HTTP, *CLI, "eventsourcing"),
        only_ebox=("ebox.domain.proofs", "ebox.verifier"),
        why="the offline verifier uses the domain's pure proof modules only",
    ),
    Rule(
        "monitor",
        (*SQL, *CLI, "eventsourcing"),
        only_ebox=("ebox.domain.proofs", "ebox.monitor"),
        why="the monitor follows a remote log by its public tiles: the pure proof modules only",
    ),
    Rule(
        "witness",
        (*SQL, *CLI, "eventsourcing"),
        only_ebox=("ebox.domain.proofs", "ebox.witness"),
        why="the witness runs apart from the ledger: the pure proof modules and HTTP only",
    ),
]


def module_name(path: Path) -> str:
    """The import name of a source file: domain/proofs/merkle.py -> ebox.domain.proofs.merkle."""
    relative = path.relative_to(REPO).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    for name, folder in PACKAGES.items():
        folder_parts = folder.split("/")
        if parts[: len(folder_parts)] == folder_parts:
            return ".".join([name, *parts[len(folder_parts) :]])
    raise ValueError(f"{path} is in no package of the ebox layout")


def is_ebox_module(name: str) -> bool:
    """Whether `name` is a module or package of this repository (per PACKAGES)."""
    for package, folder in PACKAGES.items():
        if name == package or name.startswith(package + "."):
            rest = name[len(package) :].lstrip(".").split(".") if name != package else []
            base = REPO / folder / Path(*rest) if rest else REPO / folder
            return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()
    return False


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line} imports {self.module}"


def imports_of(path: Path) -> Iterator[Import]:
    """Every module the file imports, as absolute names."""
    yield from imports_in(path.read_text(encoding="utf-8"), path, module_name(path))


def imports_in(source: str, path: Path, this: str) -> Iterator[Import]:
    """Every module the source of module `this` (at `path`) imports, as absolute names."""
    tree = ast.parse(source, filename=str(path))
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                source_module = f"{base}.{node.module}" if node.module else base
            else:
                source_module = node.module or ""
            for alias in node.names:
                # `from ebox.domain import proofs` imports the module ebox.domain.proofs
                submodule = f"{source_module}.{alias.name}"
                module = submodule if is_ebox_module(submodule) else source_module
                yield Import(path, node.lineno, module)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Import(path, node.lineno, first.value)


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def breaks(rule: Rule, module: str) -> bool:
    """Whether importing `module` from the rule's folder breaks the rule."""
    if any(_within(module, prefix) for prefix in rule.forbidden):
        return True
    return (
        rule.only_ebox is not None
        and _within(module, "ebox")
        and not any(_within(module, allowed) for allowed in rule.only_ebox)
    )


def violations(rule: Rule) -> list[str]:
    return [
        str(imported)
        for path in sorted((REPO / rule.folder).rglob("*.py"))
        for imported in imports_of(path)
        if breaks(rule, imported.module)
    ]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.folder)
def test_layers_import_only_inward(rule: Rule) -> None:
    assert (REPO / rule.folder).is_dir(), f"{rule.folder}/ is missing from the repository"
    found = violations(rule)
    assert not found, f"{rule.folder}/: {rule.why}:\n  " + "\n  ".join(found)


def test_the_import_reader_sees_every_kind_of_import() -> None:
    """The checker itself: absolute, relative, from-package, nested and dynamic imports."""
    source = (
        "import sqlalchemy.orm\n"
        "from . import canonical\n"
        "from ..chain import ChainedAggregate\n"
        "from ebox.domain import proofs\n"
        "from ebox import projections\n"
        "def later():\n"
        "    from fastapi import FastAPI\n"
        "    importlib.import_module('ebox.cli.main')\n"
    )
    path = REPO / "domain" / "proofs" / "sample.py"
    found = {imported.module for imported in imports_in(source, path, module_name(path))}
    assert found == {
        "sqlalchemy.orm",
        "ebox.domain.proofs.canonical",
        "ebox.domain.chain",
        "ebox.domain.proofs",
        "ebox.projections",
        "fastapi",
        "ebox.cli.main",
    }
    rule = next(rule for rule in RULES if rule.folder == "domain/proofs")
    allowed = {"ebox.domain.proofs.canonical", "ebox.domain.proofs"}
    assert {module for module in found if not breaks(rule, module)} == allowed


# Run in a fresh interpreter, outside the repository, against the installed package.
_IMPORT_PROBE = """
import importlib, json, pkgutil, sys
import ebox.domain.proofs, ebox.verifier
for package in (ebox.domain.proofs, ebox.verifier):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_verifier_and_the_proofs_import_without_the_frameworks(tmp_path: Path) -> None:
    """What `import ebox.verifier` really loads, parent packages included."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    verifier = next(rule for rule in RULES if rule.folder == "verifier")
    # Importing ebox.domain.proofs runs the parent packages first: ebox and ebox.domain.
    parents = {"ebox", "ebox.domain"}
    wrong = [module for module in loaded if module not in parents and breaks(verifier, module)]
    assert not wrong, f"importing ebox.verifier and ebox.domain.proofs also loads {wrong}"


# --------------------------------------------------------------------------- the import graph


def import_graph() -> dict[str, set[str]]:
    """Each module of the repository -> the repository's modules it imports (any kind of import)."""
    graph: dict[str, set[str]] = {}
    for folder in PACKAGES.values():
        for path in sorted((REPO / folder).rglob("*.py")):
            if "versions" in path.relative_to(REPO).parts:
                continue  # Alembic revisions are loaded by file, never imported
            this = module_name(path)
            graph.setdefault(this, set()).update(
                imported.module
                for imported in imports_of(path)
                if is_ebox_module(imported.module) and imported.module != this
            )
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import() -> None:
    """The checker itself: a cycle closed inside a function counts; a chain does not."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_package_imports_itself_back() -> None:
    """No import cycles, lazy ones included: a cycle makes the import order matter and
    hides which module is the base and which builds on it."""
    graph = import_graph()
    assert {"ebox.projections.runner", "ebox.adapters.stores"} <= set(graph)  # both layers covered
    found = cycles(graph)
    assert not found, "import cycles:\n  " + "\n  ".join(" <-> ".join(c) for c in found)


def test_projections_import_no_api() -> None:
    """Projections sit below the API: nothing under projections/ imports ebox.api."""
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if _within(module, "ebox.projections")
        for target in sorted(targets)
        if _within(target, "ebox.api")
    ]
    assert not wrong, "\n  ".join(wrong)


def test_only_the_cli_and_the_api_import_the_verifier() -> None:
    """The offline verifier is a leaf that the ledger's own code never leans on."""
    allowed = ("ebox.verifier", "ebox.cli", "ebox.api")
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if not any(_within(module, prefix) for prefix in allowed)
        for target in sorted(targets)
        if _within(target, "ebox.verifier")
    ]
    assert not wrong, "\n  ".join(wrong)
