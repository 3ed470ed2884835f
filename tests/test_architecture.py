"""The package layout of DESIGN.md section 3, pinned: what lives where and who imports whom.

import-linter (``lint-imports``, run by scripts/test.sh) checks the layer and forbidden-import
contracts in pyproject.toml; this file checks what those contracts cannot say.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "dashboard", "report", "charts", "queries", "stats", "pipelines", "synthetic")


def test_no_two_modules_import_each_other() -> None:
    """A circle of two (a imports b, b imports a) couples both modules for good; the fix is a
    third module holding what they share (e.g. ``dashboard.warehouse``, ``cli.csv_input``)."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if module < imported and module in graph.find_modules_directly_imported_by(imported):
                circles.append((module, imported))
    assert circles == []


def test_dashboard_holds_only_the_streamlit_app() -> None:
    """The command line, the report and the statistics live in their own packages."""
    python_files = {p.relative_to(ROOT / "dashboard").as_posix() for p in (ROOT / "dashboard").rglob("*.py")}
    assert not any(name.startswith(("commands/", "report/")) for name in python_files)
    assert "cli.py" not in python_files and "serve.py" not in python_files
    assert not any("charts" in name or "chart_style" in name for name in python_files)


def test_statistics_package_runs_no_sql() -> None:
    """``stats`` is pure: no module there mentions a DuckDB connection or a SQL statement."""
    offending = [
        p.name for p in (ROOT / "stats").glob("*.py")
        if any(word in p.read_text() for word in ("duckdb", "con.sql(", ".execute("))
    ]
    assert offending == []


def test_every_package_is_installed_by_pyproject() -> None:
    """A package missing from setuptools' include list works in a checkout and fails when installed."""
    text = (ROOT / "pyproject.toml").read_text()
    missing = [pkg for pkg in PACKAGES if f'"{pkg}*"' not in text]
    assert missing == []


def test_grimp_sees_every_package() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert {m.split(".")[0] for m in graph.modules} == set(PACKAGES)
    assert list(itertools.islice(graph.modules, 1))
