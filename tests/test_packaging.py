"""The repository has one URL, pyproject.toml's ``[project.urls] Repository``; everything that names the repository
uses it: every notebook's set-up cell (which installs the library on Colab or Binder), the README's clone command and
Colab and Binder links, and the site's launch links (built by tools/site_hooks.py from mkdocs.yml)."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from notebook_names import course_notebooks  # tools/notebook_names.py
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
URL = PROJECT["urls"]["Repository"]
NOTEBOOKS = course_notebooks(ROOT / "notebooks")
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


def run_set_up_cell(source: str, monkeypatch, *, installed: bool) -> list[list[str]]:
    """Run a set-up cell as a kernel does (IPython's syntax, ``%pip`` included) where ``mnist_lab`` is installed or
    not; pip only pretends to install it. Return the commands the cell ran."""
    commands: list[list[str]] = []
    state = {"installed": installed}
    find_spec = importlib.util.find_spec

    def pip(command: list[str]) -> subprocess.CompletedProcess:
        commands.append([str(word) for word in command])
        state["installed"] = True
        return subprocess.CompletedProcess(command, 0, "", "")

    shell = SimpleNamespace(
        run_line_magic=lambda magic, line: pip([magic, *shlex.split(line)]),
        system=lambda line: pip(shlex.split(line)),
    )
    monkeypatch.setattr(subprocess, "run", lambda command, *args, **kwargs: pip(command))
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: (object() if state["installed"] else None) if name == "mnist_lab" else find_spec(name),
    )
    exec(TransformerManager().transform_cell(source), {"get_ipython": lambda: shell})
    return commands


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_set_up_cell_installs_from_the_one_url_only_where_the_library_is_missing(path, monkeypatch):
    cells = setup_cells(path)
    assert len(cells) == 1, f"{path.name} has {len(cells)} cells tagged 'setup': it should have one"
    assert run_set_up_cell(cells[0], monkeypatch, installed=True) == []  # a checkout, a wheel: nothing to do
    (command,) = run_set_up_cell(cells[0], monkeypatch, installed=False)  # Colab, Binder
    assert "install" in command, command
    (requirement,) = [Requirement(word) for word in command if "@" in word]
    assert (requirement.name, requirement.url) == (PROJECT["name"], f"git+{URL}")
    # what it installs and how a failed install stops: tests/test_frontends.py


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


def test_the_site_hooks_build_the_launch_links_from_the_one_url():
    """The site's hook, given mkdocs.yml's settings, puts each notebook's Colab and Binder links under its title."""
    spec = importlib.util.spec_from_file_location("site_hooks", ROOT / "tools" / "site_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    config = SimpleNamespace(extra=yaml.safe_load((ROOT / "mkdocs.yml").read_text())["extra"])
    files = SimpleNamespace(get_file_from_path=lambda path: None)
    for path in NOTEBOOKS:
        page = SimpleNamespace(file=SimpleNamespace(src_uri=f"notebooks/{path.name}"), toc=[])
        html = hooks.on_page_content(f"<h1>{path.stem}</h1>", page=page, config=config, files=files)
        links = re.findall(r'href="([^"]+)"', html)
        assert colab(path.stem) in links and binder(path.stem) in links, links
