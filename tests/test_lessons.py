"""The library follows the lessons (DESIGN.md): each helper a notebook uses names, in its docstring (or its
module's, for a module saved from one notebook), a notebook that shows it."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest
from notebook_names import course_notebooks  # tools/notebook_names.py

import mnist_lab

#: Modules that keep what no lesson needs to see (DESIGN.md): paths, seeding, devices, parameter checks.
NOT_LESSONS = {"params", "runtime"}
LESSON_MODULES = [
    importlib.import_module(f"mnist_lab.{info.name}")
    for info in pkgutil.iter_modules(mnist_lab.__path__)
    if info.name not in NOT_LESSONS
]
NOTEBOOKS = {
    path.stem.split("_")[0]: "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
    for path in course_notebooks(Path(__file__).resolve().parents[1] / "notebooks")
}


def named_notebooks(text: str) -> set[str]:
    """Return the numbers in "notebook 03", "notebooks 05 and 07", "notebook 03's" of ``text``."""
    return {
        n
        for group in re.findall(r"[Nn]otebooks? (\d\d[a-z]?(?:(?:, | and )\d\d[a-z]?)*)", text)
        for n in re.findall(r"\d\d[a-z]?", group)
    }


def helpers_the_notebooks_use():
    """Yield ``(module, name, object, notebooks that use it)`` for each public function or class of the lesson
    modules that a notebook mentions."""
    for module in LESSON_MODULES:
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if obj.__module__ != module.__name__:
                continue  # imported, not defined here
            used = rf"\.{name}\b|\b{name}\(|import [\w, ]*\b{name}\b"  # models.MLP, fit(...), import fit
            users = {nb for nb, text in NOTEBOOKS.items() if re.search(used, text)}
            if users:
                yield module, name, obj, users


def test_named_notebooks_reads_lists():
    assert named_notebooks("Notebooks 05 and 07 read it; notebook 03's rule; notebook 08.") == {"03", "05", "07", "08"}
    assert named_notebooks("no notebook here, 03") == set()
    assert named_notebooks("notebooks 03 and 03b, then notebook 08b's CNN") == {"03", "03b", "08b"}


@pytest.mark.parametrize(
    "module,name,obj,users", list(helpers_the_notebooks_use()), ids=lambda v: getattr(v, "__name__", None)
)
def test_each_helper_names_a_notebook_that_shows_it(module, name, obj, users):
    own, of_module = named_notebooks(inspect.getdoc(obj) or ""), named_notebooks(module.__doc__ or "")
    unknown = (own | of_module) - set(NOTEBOOKS)
    assert not unknown, f"{module.__name__}.{name}'s docstrings name notebooks {sorted(unknown)}, which do not exist"
    assert own & users or of_module & users, (
        f"{module.__name__}.{name} is used by notebooks {sorted(users)}, but neither its docstring nor its module's "
        f"names one of them (they name {sorted(own | of_module)})"
    )


def test_the_lesson_helpers_are_found():
    found = {f"{module.__name__.split('.')[-1]}.{name}" for module, name, _, _ in helpers_the_notebooks_use()}
    assert {"models.MLP", "models.CNN", "train.fit", "train.evaluate", "draw.rasterize_strokes"} <= found
    assert len(found) > 40
