"""Modules a newcomer can read in one sitting (docs/architecture.md): no product module over
400 lines, no product function over 60 lines unless its docstring says why ("Over 60 lines
on purpose: ..."). Migrations are generated and left out."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("crm", "prefcenter", "vibes_integration", "scripts")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
REASON = "Over 60 lines on purpose"


def product_modules() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def function_lengths(source: str) -> list[tuple[str, int, int, str]]:
    """(name, first line, length in lines, docstring) of every function, decorators included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found.append((node.name, first, node.end_lineno - first + 1, ast.get_docstring(node)))
    return found


def test_the_product_is_read_from_its_packages():
    assert len(product_modules()) > 200


def test_no_product_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in product_modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_product_function_is_over_60_lines_without_its_reason():
    long = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for path in product_modules()
        for name, line, length, doc in function_lengths(path.read_text())
        if length > MAX_FUNCTION_LINES and REASON not in (doc or "")
    ]
    assert long == []


def test_the_length_check_sees_a_long_function_and_its_reason():
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    assert function_lengths(f"def f():\n{body}\n")[0][2] == 62
    reasoned = f'def f():\n    """{REASON}: one loop."""\n{body}\n'
    assert REASON in function_lengths(reasoned)[0][3]
