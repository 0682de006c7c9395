"""The package's shape: imports point down the floors of docs/architecture.rst, without cycles.

Also: the library never imports the command line or the fake server; only the
seam imports httplib2 or oauthlib's signing; every module the architecture
page names exists.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.kit import ROOT

PACKAGE = ROOT / "flattr"

#: The floors, lowest first; a module may import from its own floor or below.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("flattr._version", "flattr._redact", "flattr.errors", "flattr._catalog", "flattr._extras"),
    ("flattr.models", "flattr._validate"),
    ("flattr._http",),
    ("flattr._xmlstream", "flattr._xml", "flattr._responses"),
    ("flattr.tokenstore", "flattr.auth", "flattr.client", "flattr.v2", "flattr._autosubmit"),
    ("flattr.feeds",),
    ("flattr.testing",),
    ("flattr.cli", "flattr.__main__"),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _floor(module: str) -> int:
    if module == "flattr":
        return len(FLOORS) - 2  # the package's face may load anything but the CLI, lazily
    for rank, prefixes in enumerate(FLOORS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} is on no floor: add it to FLOORS and to docs/architecture.rst")


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    """The flattr modules ``module`` imports (outside ``if TYPE_CHECKING:`` blocks)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt], *, nested: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("flattr"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                if base.startswith("flattr"):
                    for alias in node.names:
                        candidate = f"{base}.{alias.name}"
                        found.add(candidate if candidate in MODULES else base)
            if top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if (
                    isinstance(inner, list)
                    and inner
                    and isinstance(inner[0], ast.stmt | ast.excepthandler)
                ):
                    visit(
                        [n for n in inner if isinstance(n, ast.stmt)]
                        + [s for h in inner if isinstance(h, ast.excepthandler) for s in h.body],
                        nested=True,
                    )

    visit(tree.body, nested=False)
    found.discard(module)
    return {name for name in found if name in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    for target in _imports(module, top_level_only=False):
        assert _floor(target) <= _floor(module), f"{module} imports {target} from a floor above it"


def test_the_import_graph_has_no_cycles() -> None:
    graph = {m: _imports(m, top_level_only=True) for m in MODULES}
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for target in sorted(graph[node]):
            walk(target, [*path, node])
        done.add(node)

    for module in sorted(graph):
        walk(module, [])


LIBRARY = [m for m in MODULES if _floor(m) < _floor("flattr.testing") and m != "flattr"]


@pytest.mark.parametrize("module", LIBRARY)
def test_the_library_never_imports_the_cli_or_the_fake(module: str) -> None:
    for target in _imports(module, top_level_only=False):
        top = ".".join(target.split(".")[:2])
        assert top not in ("flattr.cli", "flattr.testing"), f"{module} imports {target}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_seam_imports_httplib2_or_signs(module: str) -> None:
    if module.startswith("flattr._http") or module.startswith("flattr.testing"):
        return  # the seam itself; the fake verifies signatures as a server
    source = MODULES[module].read_text()
    assert not re.search(r"^\s*(import|from) httplib2", source, re.M), module
    assert not re.search(r"^\s*from oauthlib\.oauth1", source, re.M), module
    assert "Authorization" not in source or module.startswith("flattr.cli"), module


def test_every_module_the_architecture_page_names_exists() -> None:
    page = (ROOT / "docs" / "architecture.rst").read_text()
    dotted = set(re.findall(r"``(flattr(?:\.[A-Za-z_0-9]+)+)``", page))
    paths = set(re.findall(r"``(flattr/[A-Za-z_0-9/]+\.py)``", page))
    named = {
        re.sub(r"\.[A-Z][A-Za-z]*$", "", name) for name in dotted
    }  # flattr.Transport -> flattr
    assert named and paths
    for name in named:
        assert name in MODULES, f"docs/architecture.rst names {name}, which does not exist"
    for path in paths:
        assert (ROOT / path).is_file(), f"docs/architecture.rst names {path}, which does not exist"
    for folder in re.findall(r"``(tests/[a-z0-9_]+)/``", page):
        assert (ROOT / folder).is_dir(), folder
