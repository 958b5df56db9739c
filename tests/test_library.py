"""The package a student imports stays small enough to read in an evening: at most 1,000 code lines (blank lines,
comments and docstrings left out), no function over 40, and none of the maintainers' machinery in it."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mnist_lab"


def code_lines(source: str) -> tuple[set[int], ast.Module]:
    """Return the numbers of the lines that hold code (not blank, not only a comment, not in a docstring)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
                if isinstance(first.value.value, str):
                    docstrings.update(range(first.lineno, first.end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return lines, tree


def measure() -> tuple[dict[str, int], dict[str, int]]:
    """Return code lines per module and per function (``module.function``)."""
    modules, functions = {}, {}
    for path in sorted(PACKAGE.glob("*.py")):
        lines, tree = code_lines(path.read_text())
        modules[path.stem] = len(lines)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[f"{path.stem}.{node.name}"] = len([n for n in lines if node.lineno <= n <= node.end_lineno])
    return modules, functions


def test_the_counter_counts_code_only():
    source = '"""Doc\nstring."""\n\n# a comment\nx = 1  # trailing\n\n\n'
    source += 'def f():\n    """Doc."""\n    return (\n        x\n    )\n'
    assert sorted(code_lines(source)[0]) == [5, 8, 10, 11, 12]


def test_the_package_is_at_most_1000_code_lines():
    modules, _ = measure()
    assert sum(modules.values()) <= 1000, f"{sum(modules.values())} code lines: {modules}"


def test_no_function_is_over_40_code_lines():
    _, functions = measure()
    longest = max(functions, key=functions.get)
    assert functions[longest] <= 40, f"{longest} has {functions[longest]} code lines"


def test_the_maintainers_machinery_is_outside_the_package():
    """The runner, YAML handling, summaries and the student edition live in tools/, not in what students import."""
    imported = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert not imported & {"papermill", "nbformat", "nbconvert", "yaml", "sqlalchemy", "jupyter_client"}
    assert not (PACKAGE / "__main__.py").exists()
