"""The repository has one URL, pyproject.toml's ``[project.urls] Repository``; everything that names the repository
uses it: every notebook's set-up cell (which installs the library on Colab or Binder), the README's clone command and
Colab and Binder links, and the site's configuration (mkdocs.yml), whose hooks build each page's launch links."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
URL = PROJECT["urls"]["Repository"]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if re.fullmatch(r"\d\d_\w+", p.stem))
#: Addresses that name a GitHub repository, and the part of each that names it (owner/name).
REPOSITORY_MENTIONS = [
    r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/",
    r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/",
    r"git\+https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?[\"'@#\s]",
    r"git clone https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?\s",
]


def colab(name: str) -> str:
    """Return the Colab address of notebook ``name`` (``01_data``)."""
    return f"https://colab.research.google.com/github/{URL.removeprefix('https://github.com/')}/blob/main/notebooks/{name}.ipynb"


def binder(name: str) -> str:
    """Return the Binder address of notebook ``name`` (``01_data``)."""
    return f"https://mybinder.org/v2/gh/{URL.removeprefix('https://github.com/')}/main?labpath=notebooks%2F{name}.ipynb"


def repositories_named(text: str) -> set[str]:
    """Return every ``owner/name`` that a launch link, an install line or a clone command in ``text`` names."""
    return {m.group(1) for pattern in REPOSITORY_MENTIONS for m in re.finditer(pattern, text)}


def setup_cells(path: Path) -> list[str]:
    """Return the sources of the cells of notebook ``path`` tagged ``setup``."""
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if "setup" in c.get("metadata", {}).get("tags", [])]


def test_the_one_url_is_a_github_repository_and_the_package_is_mit():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", URL)
    assert PROJECT["requires-python"] == ">=3.11"
    assert PROJECT["license"] == {"text": "MIT"}
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_installs_the_library_from_the_one_url(path):
    cells = setup_cells(path)
    assert len(cells) == 1, f"{path.name} has {len(cells)} cells tagged 'setup': it should have one"
    assert f'"mnist-lab[course] @ git+{URL}"' in cells[0]
    assert repositories_named(cells[0]) == {URL.removeprefix("https://github.com/")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_readme_opens_the_notebook_on_colab_and_binder(path):
    readme = (ROOT / "README.md").read_text()
    assert f"(notebooks/{path.name})" in readme
    assert f"({colab(path.stem)})" in readme
    assert f"({binder(path.stem)})" in readme


def test_the_readme_names_only_the_one_repository_and_existing_notebooks():
    readme = (ROOT / "README.md").read_text()
    assert repositories_named(readme) == {URL.removeprefix("https://github.com/")}
    assert f"git clone {URL} " in readme
    named = set(re.findall(r"notebooks(?:/|%2F)(\w+)\.ipynb", readme))
    assert named == {p.stem for p in NOTEBOOKS}


def test_the_site_is_configured_with_the_one_url():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["extra"]["repository"] == URL
    assert config["extra"]["branch"] == "main"
    assert "repo_url" not in config  # mkdocs-material would fetch the repository's facts from GitHub on every page
