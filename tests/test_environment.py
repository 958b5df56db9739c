"""environment.yml (conda) lists the same packages, at the same lower bounds, as pyproject.toml's dependencies
and its `course` extra (what a student needs; the `dev` extra is for maintainers, who use `make setup`).

Conda does not run here, so this test is what keeps the conda environment honest.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
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


def test_a_built_wheel_holds_every_file_of_the_packages(tmp_path):
    """A wheel built from the project (what pip installs on Colab or Binder) holds every file of its import packages:
    a non-Python file (the drawing pad's draw.js and draw.css) ships only if pyproject's package-data names it, and a
    package only if pyproject's package list finds it. An editable install would hide a file a wheel leaves out. The
    wheel is built from a copy of what it is made of, so the checkout gets no build folder."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", project["readme"], "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    packages = [p for p in ROOT.glob("mnist_lab*") if (p / "__init__.py").is_file()]
    for package in packages:
        shutil.copytree(package, source / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    done = subprocess.run([*build, "-w", tmp_path / "dist", source], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name}
    files = {p.relative_to(source).as_posix() for package in packages for p in (source / package.name).rglob("*")}
    assert {".js", ".css"} <= {Path(f).suffix for f in files}
    assert sorted(f for f in files if (source / f).is_file()) == sorted(shipped)
