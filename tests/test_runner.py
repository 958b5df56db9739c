"""The course runner (tools/run_course.py, behind `make run` and `make notebooks`): it writes only under
runs/<NAME>/, takes parameters as papermill does (command line over YAML), and always ends with a summary."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_course", REPO / "tools" / "run_course.py")
run_course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_course)


def notebook(path: Path, parameters: str, body: str) -> None:
    """Write a two-cell notebook: a parameters cell, then ``body``."""
    nb = new_notebook(cells=[new_code_cell(parameters, metadata={"tags": ["parameters"]}), new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def scratch_checkout(tmp_path: Path) -> Path:
    """A folder laid out like a checkout, with files a careless runner would delete."""
    root = tmp_path / "checkout"
    for name in (".git/HEAD", "README.md", "notebooks/keep.txt", "runs/other/01_data.ipynb", "my_notes.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["..", ".", "/tmp/somewhere", "a/b", "../x", "", "-rf", "runs/.."])
def test_a_run_name_that_is_not_a_plain_folder_name_is_refused_before_anything_is_touched(tmp_path, name):
    """Issue 26, defect 1: `make run NAME=..` deleted the repository; NAME=/some/dir emptied that folder."""
    root = scratch_checkout(tmp_path)
    before = files(root)
    args = run_course.parser().parse_args([f"--name={name}", "--notebooks", "01"])
    with pytest.raises(run_course.UsageError, match="is not a plain folder name"):
        run_course.run(args, folder=root / "notebooks", root=root)
    assert files(root) == before


def test_the_command_line_refuses_a_bad_name_with_one_line_and_status_2():
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "run_course.py"), "--name", "..", "--notebooks", "01"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.startswith("error: NAME='..' is not a plain folder name")
    assert "Traceback" not in done.stderr and (REPO / "README.md").is_file()


DECLARED = {"01_data": {"seed", "batch_size", "artifacts"}, "05_better": {"seed", "epochs", "lr", "artifacts"}}


def test_yaml_names_go_to_the_notebooks_that_declare_them_even_when_only_some_run(tmp_path):
    """Issue 26, defect 4: `make run PARAMS=params/quick.yaml NOTEBOOKS=01` was refused for `epochs`."""
    quick = tmp_path / "quick.yaml"
    quick.write_text("epochs: 1\nseed: 3\n")
    assert run_course.parameters(["01_data"], DECLARED, str(quick), []) == {"01_data": {"seed": 3}}
    both = run_course.parameters(["01_data", "05_better"], DECLARED, str(quick), [])
    assert both == {"01_data": {"seed": 3}, "05_better": {"epochs": 1, "seed": 3}}


def test_the_command_line_beats_the_yaml_file_and_its_sections(tmp_path):
    """Issue 26, defect 5: a notebook's YAML section used to override the command line."""
    yml = tmp_path / "p.yaml"
    yml.write_text("lr: 0.1\nepochs: 3\n05_better:\n  epochs: 2\n  lr: 0.2\n")
    got = run_course.parameters(["05_better"], DECLARED, str(yml), [["epochs", "5"]])
    assert got == {"05_better": {"epochs": 5, "lr": 0.2}}  # section beats top level, command line beats both
    assert run_course.parameters(["05_better"], DECLARED, None, [["lr", "[1, 2]"]]) == {"05_better": {"lr": [1, 2]}}


def test_unknown_names_and_bad_files_are_refused_with_what_is_known(tmp_path):
    with pytest.raises(run_course.UsageError, match=r"Unknown parameter\(s\) \['epoch'\]: no notebook declares"):
        run_course.parameters(["01_data"], DECLARED, None, [["epoch", "3"]])
    yml = tmp_path / "p.yaml"
    yml.write_text("05_better:\n  epoch: 1\n")
    with pytest.raises(run_course.UsageError, match=r"05_better has no parameter\(s\) \['epoch'\]; it takes"):
        run_course.parameters(["01_data"], DECLARED, str(yml), [])
    with pytest.raises(run_course.UsageError, match="is not a file"):
        run_course.parameters(["01_data"], DECLARED, str(tmp_path / "missing.yaml"), [])
    yml.write_text("- a list\n")
    with pytest.raises(run_course.UsageError, match="must hold a mapping"):
        run_course.parameters(["01_data"], DECLARED, str(yml), [])


def test_notebooks_are_chosen_by_number_or_name():
    names = ["01_data", "02_model", "05_better_training"]
    assert run_course.select("1,02 better_training", names) == names
    assert run_course.select(None, names) == names
    with pytest.raises(run_course.UsageError, match="No notebook '9'"):
        run_course.select("9", names)


@pytest.fixture()
def course_folder(tmp_path) -> Path:
    """Four tiny notebooks: one that works, one that raises, one whose kernel dies, one that hangs."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook(folder / "01_fine.ipynb", "x: int = 1\nartifacts: str = ''", "print('x is', x)")
    notebook(folder / "02_raises.ipynb", "y: int = 2", "raise ValueError('boom')")
    notebook(folder / "03_dies.ipynb", "z: int = 3", "import os\nos._exit(1)")
    notebook(folder / "04_hangs.ipynb", "w: int = 4", "import time\ntime.sleep(60)")
    return folder


@pytest.mark.parametrize(
    "chosen, error",
    [
        ("01,02", "error: 02_raises failed: cell 2 raised ValueError: boom"),
        ("03", "error: 03_dies failed: DeadKernelError"),
        ("04", "error: 04_hangs failed: CellTimeoutError"),
    ],
)
def test_a_failed_notebook_shows_its_error_and_the_summary_still_prints(course_folder, capsys, chosen, error):
    """Issue 26, defect 8: a dead kernel or a cell timeout gave a traceback and no summary."""
    args = run_course.parser().parse_args(["--name", "t", "--notebooks", chosen, "--timeout", "5", "-p", "x", "5"])
    status = run_course.run(args, folder=course_folder, root=course_folder.parent)
    out, err = capsys.readouterr()
    assert status == 1 and err.startswith(error)
    assert "Summary" in out and " failed" in out
    if chosen == "01,02":
        ran = json.loads((course_folder.parent / "runs" / "t" / "01_fine.ipynb").read_text())
        assert "x is 5" in "".join(ran["cells"][-1]["outputs"][0]["text"])  # the -p value reached the notebook


def test_an_in_place_run_keeps_no_machine_paths_or_timestamps(course_folder, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MNIST_LAB_ARTIFACTS", str(tmp_path / "artifacts"))
    args = run_course.parser().parse_args(["--in-place", "--notebooks", "01"])
    assert run_course.run(args, folder=course_folder, root=course_folder.parent) == 0
    text = (course_folder / "01_fine.ipynb").read_text()
    assert "papermill" not in text and "iopub" not in text and str(tmp_path) not in text
    assert "x is 1" in text and "Summary" in capsys.readouterr().out
    assert len(list(course_folder.iterdir())) == 4  # the kernel's sockets were not left among the notebooks
