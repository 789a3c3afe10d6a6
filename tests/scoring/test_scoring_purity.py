"""comp/scoring stays pure: standard library only, no float, small documented functions."""

import ast
import dataclasses
import inspect
import sys
from pathlib import Path

import pytest

import comp.scoring
from comp.scoring import output, types

PACKAGE = Path(comp.scoring.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # Relative imports stay inside comp.scoring by construction.
            names.append("comp.scoring" if node.level else node.module)
    return names


def _allowed(name: str) -> bool:
    top = name.partition(".")[0]
    return (
        name == "comp.scoring" or name.startswith("comp.scoring.") or (top != "comp" and top in sys.stdlib_module_names)
    )


def test_the_package_has_modules():
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_the_standard_library(path):
    foreign = [name for name in _imported(_tree(path)) if not _allowed(name)]
    assert foreign == [], f"{path.name} imports {foreign}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_never_uses_float(path):
    tree = _tree(path)
    names = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "float"]
    literals = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
    assert (names, literals) == ([], []), f"{path.name}: float at lines {names + literals}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_and_functions_stay_small(path):
    tree = _tree(path)
    assert len(path.read_text(encoding="utf-8").splitlines()) < 300
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= 30, f"{path.name}:{node.name} has {length} lines"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_public_functions_have_a_one_line_docstring(path):
    tree = _tree(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node)
            assert doc and "\n" not in doc.strip(), f"{path.name}:{node.name}"


def test_every_dataclass_is_frozen():
    classes = [
        c
        for module in (types, output)
        for _, c in inspect.getmembers(module, inspect.isclass)
        if dataclasses.is_dataclass(c) and c.__module__ == module.__name__
    ]
    assert len(classes) >= 12
    assert [c.__name__ for c in classes if not c.__dataclass_params__.frozen] == []


def test_the_package_reexports_what_it_lists():
    assert all(hasattr(comp.scoring, name) for name in comp.scoring.__all__)
