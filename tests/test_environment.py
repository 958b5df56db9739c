"""environment.yml (conda) lists the same packages, at the same lower bounds, as pyproject.toml.

Conda does not run here, so this test is what keeps the conda environment honest.
"""

from __future__ import annotations

import re

import tomllib
import yaml

from mnist_lab import runtime

ROOT = runtime.repo_root()
CONDA_NAMES = {"torch": "pytorch"}  # conda-forge names that differ from PyPI's


def requirement(text: str) -> tuple[str, str]:
    """Return ``(name, lower bound)`` of a requirement such as ``torch>=2.4,<3``."""
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:>=\s*([^,;\s#]+))?", text)
    return match.group(1).lower(), match.group(2) or ""


def test_environment_yml_lists_what_pyproject_requires():
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
