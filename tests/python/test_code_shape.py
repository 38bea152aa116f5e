"""Python modules stay small enough to read: no file over MAX_FILE_LINES lines and no function
over MAX_FUNCTION_LINES lines, in the package, its scripts and its tests."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
ROOTS = ("scripts", "tests")


def _python_files() -> list[Path]:
    files = [p for root in ROOTS for p in (REPO / root).rglob("*.py")]
    return sorted(p for p in files if ".egg-info" not in str(p) and "__pycache__" not in str(p))


def test_no_python_file_is_too_long() -> None:
    too_long = {
        str(p.relative_to(REPO)): n
        for p in _python_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert too_long == {}, f"split these files (over {MAX_FILE_LINES} lines): {too_long}"


def test_no_function_is_too_long() -> None:
    too_long = {}
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(REPO)}:{node.lineno} {node.name}"] = length
    assert too_long == {}, f"split these functions (over {MAX_FUNCTION_LINES} lines): {too_long}"


def test_the_shape_checks_see_the_code() -> None:
    files = _python_files()
    assert any(p.name == "cli.py" for p in files) and len(files) > 20
