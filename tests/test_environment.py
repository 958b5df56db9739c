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
