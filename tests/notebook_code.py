"""The code a notebook defines, loaded for a test: what the student reads is what is tested.

A notebook that is the only user of what it teaches keeps it only in its cells (README, Layout: the library
keeps what later notebooks reuse). ``definitions("11_tuning")`` runs, in a fresh module, the imports, functions,
classes and UPPER_CASE constants (values that call nothing) of the notebook's code cells, solutions and set-up left out,
in the notebook's order, and nothing else: no parameters, no training, no figures.
"""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    if not isinstance(node, ast.Assign) or any(isinstance(n, ast.Call) for n in ast.walk(node.value)):
        return False  # a constant calls nothing: `P = course.start(...)` is not one
    return all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)


def definitions(notebook: str) -> types.ModuleType:
    """Return a module holding what notebook ``notebook`` (e.g. "11_tuning") defines."""
    path = NOTEBOOKS / f"{notebook}.ipynb"
    module = types.ModuleType(f"notebook_{notebook}", f"The definitions of {path.name}.")
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code" or {"solution", "setup"} & set(cell["metadata"].get("tags", [])):
            continue  # solutions, and the set-up cell (an IPython %pip line, not Python)
        kept = [node for node in ast.parse("".join(cell["source"])).body if _is_definition(node)]
        exec(compile(ast.Module(kept, type_ignores=[]), str(path), "exec"), module.__dict__)
    return module
