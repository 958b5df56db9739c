"""environment.yml (conda) lists the same packages, at the same lower bounds, as pyproject.toml's dependencies
and its `course` extra (what a student needs; the `dev` extra is for maintainers, who use `make setup`).

Conda does not run here, so this test is what keeps the conda environment honest.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # conda-forge names that differ from PyPI's


def requirement(text: str) -> tuple[str, str]:
    """Return ``(name, lower bound)`` of a requirement such as ``torch>=2.4,<3``."""
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:>=\s*([^,;\s#]+))?", text)
    return match.group(1).lower(), match.group(2) or ""


def test_environment_yml_lists_what_a_student_needs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["course"])
    wanted = {CONDA_NAMES.get(name, name): bound for name, bound in wanted.items()}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for entry in env["dependencies"]:
        entries = entry["pip"] if isinstance(entry, dict) else [entry]
        for item in entries:
            if not item.startswith("-e"):
                listed.__setitem__(*requirement(item))
    listed.pop("python", None)
    listed.pop("pip", None)

    assert listed == wanted
    assert {"-e ."} <= {e for entry in env["dependencies"] if isinstance(entry, dict) for e in entry["pip"]}


def test_every_file_of_the_package_ships_in_a_wheel():
    """A non-Python file in mnist_lab/ (the drawing pad's draw.js and draw.css) is installed only if
    pyproject's package-data names it: an editable install would hide a file a wheel leaves out."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["mnist_lab"]
    files = [p for p in (ROOT / "mnist_lab").iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert {p.suffix for p in files} >= {".js", ".css"}
    assert [p.name for p in files if not any(p.match(pattern) for pattern in patterns)] == []


def test_course_and_dev_extras_do_not_overlap():
    """A package is in the extra of whoever needs it: a student's (course) or a maintainer's (dev), not both;
    `make setup` installs both."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    course = {requirement(r)[0] for r in extras["course"]}
    dev = {requirement(r)[0] for r in extras["dev"]}
    assert set(extras) == {"course", "dev"}
    assert course & dev == set()
    assert "course,dev" in (ROOT / "Makefile").read_text()
