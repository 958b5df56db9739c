"""Outside the checkout: a wheel of the project, installed into a fresh environment, runs a notebook copied alone
into an empty folder (what a student does who downloads one notebook, or opens it in Colab)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.integration


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory) -> Path:
    """A new virtual environment holding only the project's wheel. Its dependencies (torch and the rest, several GB)
    are not installed again: a path file points at this environment's site-packages for them, whose editable
    ``mnist_lab`` it does not see (a path file adds a folder, not the path files inside it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp / "dist", REPO)
    (wheel,) = (tmp / "dist").glob("mnist_lab-*.whl")
    run(sys.executable, "-m", "venv", "--without-pip", tmp / "env")
    python = tmp / "env" / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", site, wheel)
    return python


def test_the_wheel_holds_the_package_and_its_files(fresh_python, tmp_path):
    where = run(fresh_python, "-c", "import mnist_lab.draw as d; print(d.__file__)", cwd=tmp_path).stdout.strip()
    assert where.startswith(str(fresh_python.parents[1])), where  # the wheel's copy, not the checkout's
    package = Path(where).parent
    assert (package / "draw.js").is_file() and (package / "draw.css").is_file()
    checkout = run(fresh_python, "-c", "from mnist_lab import runtime; print(runtime.checkout())", cwd=tmp_path)
    assert checkout.stdout.strip() == "None"


def test_a_notebook_copied_alone_into_an_empty_folder_runs(fresh_python, tmp_path):
    shutil.copy(REPO / "notebooks" / "04_training.ipynb", tmp_path / "04_training.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNIST_LAB_", "MPLBACKEND"))}
    env["MNIST_LAB_DATA"] = str(REPO / "data")  # the files `make data` fetched: no download in a test
    quick = ["-k", "python3", "-p", "subset", "2000", "-p", "epochs", "1"]  # a short training
    run(fresh_python, "-m", "papermill", "04_training.ipynb", "ran.ipynb", *quick, cwd=tmp_path, env=env)
    ran = json.loads((tmp_path / "ran.ipynb").read_text())
    assert not [o for c in ran["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    figures = list((tmp_path / "artifacts" / "figures").glob("*.png"))  # beside the notebook, as in Colab
    assert figures and sorted(p.name for p in tmp_path.iterdir()) == ["04_training.ipynb", "artifacts", "ran.ipynb"]
