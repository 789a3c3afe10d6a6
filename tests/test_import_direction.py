"""The layers of docs/architecture.md, enforced: each part of comp/ imports only the parts below it.

Read from the source with `ast` (every import, at the top of a module or inside a function), so
a lazy import that runs against the direction is caught as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import comp

ROOT = Path(comp.__file__).parent

# What each part may import from comp (besides itself). A part missing here may import anything:
# the application factory, the CLI and the demo sit on top of everything.
ALLOWED: dict[str, set[str]] = {
    "scoring": set(),  # the engine: the standard library only (tests/scoring/test_scoring_purity.py)
    "exams": set(),  # the exam core: papers, grading, statistics, GIFT; the standard library only
    "codes": set(),
    "idcard": set(),
    "converters": set(),
    "config": set(),
    "extensions": set(),
    # Instrumentation beside the extensions: counters and health checks that every layer may feed,
    # importing nothing of the domain themselves.
    "metrics": {"config"},
    "health": {"database"},
    "labels": set(),
    "i18n": set(),
    "forms": {"converters"},
    "database": {"extensions"},
    "models": {"extensions", "idcard", "codes"},
    "certificates": {"codes"},  # PDF drawing: given what to draw, it reads no database
    "orgtree": {"extensions", "models"},
    "permissions": {"extensions", "models", "orgtree"},
    "services": {
        "extensions",
        "models",
        "scoring",
        "exams",
        "certificates",
        "codes",
        "idcard",
        "converters",
        "labels",
        "orgtree",
        "permissions",
        "metrics",
    },
    "templating": {
        "extensions",
        "models",
        "labels",
        "orgtree",
        "permissions",
        "services",
        "certificates",
        "converters",
    },
    "web": {"extensions", "models", "services", "templating", "orgtree", "permissions", "labels"},
    "blueprints": {
        "extensions",
        "models",
        "services",
        "orgtree",
        "permissions",
        "forms",
        "converters",
        "labels",
        "certificates",
        "scoring",
        "exams",
        "idcard",
        "database",
        "codes",
        "web",
        "metrics",
        "health",
    },
}
# Libraries of the web layer that the domain must not reach for: who is asking is passed in.
WEB_ONLY = ("flask_login", "flask_wtf", "wtforms", "flask_htmx")
NO_WEB = {"scoring", "exams", "codes", "idcard", "certificates", "services"}


def _part(module: str) -> str | None:
    """Return the part of comp a dotted module name belongs to (None outside comp)."""
    parts = module.split(".")
    if parts[0] != "comp":
        return None
    return parts[1] if len(parts) > 1 else ""


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        dotted = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        found.append((dotted.removesuffix(".__init__"), path))
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    """Return (line, module) for every absolute import in the file, `from comp import x` as comp.x."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "comp":
                names += [(node.lineno, f"comp.{alias.name}") for alias in node.names]
            else:
                names.append((node.lineno, node.module))
    return names


MODULES = _modules()


def test_the_walk_sees_the_packages():
    parts = {_part(name) for name, _path in MODULES}
    assert {"scoring", "services", "blueprints", "models", "certificates"} <= parts
    assert len(MODULES) > 100


@pytest.mark.parametrize("name, path", MODULES, ids=[name for name, _path in MODULES])
def test_imports_run_down_the_layers(name, path):
    part = _part(name)
    if part not in ALLOWED:
        return
    wrong = []
    for line, imported in _imports(path):
        target = _part(imported)
        if target is None or target == part:
            if part in NO_WEB and imported.partition(".")[0] in WEB_ONLY:
                wrong.append(f"{path.name}:{line} imports {imported}, a web-layer library")
            continue
        if target not in ALLOWED[part]:
            wrong.append(f"{path.name}:{line} imports {imported}")
    assert not wrong, f"comp.{part} may import only {sorted(ALLOWED[part])}: " + "; ".join(wrong)


def _names_from_flask(path: Path) -> set[str]:
    return {
        alias.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module == "flask"
        for alias in node.names
    }


@pytest.mark.parametrize(
    "name, path", [(n, p) for n, p in MODULES if _part(n) in NO_WEB], ids=[n for n, _p in MODULES if _part(n) in NO_WEB]
)
def test_the_domain_refuses_with_errors_not_http_answers(name, path):
    """A service raises ServiceError or PermissionError; the view decides the HTTP answer."""
    assert not _names_from_flask(path) & {"abort", "redirect", "request", "session", "make_response", "flash"}


def test_services_never_import_the_views():
    for name, path in MODULES:
        if _part(name) == "services":
            assert all(_part(m) != "blueprints" for _line, m in _imports(path)), name


def test_a_feature_package_has_a_service_and_a_template_folder():
    """From a URL to its view, its service and its template: the names match, one step each."""
    blueprints = {p.name for p in (ROOT / "blueprints").iterdir() if (p / "__init__.py").exists()}
    services = {p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists()}
    templates = {p.name for p in (ROOT.parent / "templates").iterdir() if p.is_dir()}
    # Blueprints that only present what other packages compute (the API, the home pages, public pages).
    presenting = {"api", "main", "public", "auth"}
    for blueprint in blueprints - presenting:
        assert blueprint in services, f"comp/blueprints/{blueprint} has no comp/services/{blueprint}"
    for blueprint in blueprints - {"api"}:
        assert blueprint in templates, f"comp/blueprints/{blueprint} has no templates/{blueprint}"
