"""The course runner (tools/run_course.py, behind `make run` and `make notebooks`): it writes only under
runs/<NAME>/, takes parameters as papermill does (command line over YAML), never shows or keeps a password, replaces
a committed notebook only with a whole run of it, and always ends with a summary of what this run did."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook
from papermill.cli import papermill as papermill_cli

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


def test_notebooks_are_chosen_by_number_or_name(tmp_path):
    names = ["01_data", "02_model", "05_better_training"]
    assert run_course.select("1,02 better_training", names) == names
    assert run_course.select(None, names) == names
    with pytest.raises(run_course.UsageError, match="no notebook '9'"):
        run_course.select("9", names)
    halves = ["03_autograd", "03b_backprop", "04_training"]
    assert run_course.select("03", halves) == ["03_autograd"]
    assert run_course.select("03b,backprop", halves) == ["03b_backprop"]
    assert run_course.select("3b 3", halves) == ["03b_backprop", "03_autograd"]  # one digit, as for "1"
    with pytest.raises(run_course.UsageError, match="no notebook '3c'"):
        run_course.select("3c", halves)
    for name in [*reversed(halves), "draft", "3_short"]:
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert run_course.course_notebooks(tmp_path) == halves


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


# Issue 31, item 2: `-p` values are read as papermill's own `-p` reads them.
PAPERMILL_VALUES = ["1e-3", "010", "true", "True", "False", "None", "abc", "-2", "0.5", "cuda:0", "1_000"]


def papermills_own(tmp_path: Path, values: list[str]) -> dict:
    """Return the parameters that papermill's own command line (`papermill in out -p NAME VALUE ...`) injects."""
    notebook(tmp_path / "in.ipynb", "", "")
    options = [x for i, value in enumerate(values) for x in ("-p", f"v{i}", value)]
    done = CliRunner().invoke(
        papermill_cli, [str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), "--prepare-only", *options]
    )
    assert done.exit_code == 0, done.output
    return nbformat.read(tmp_path / "out.ipynb", as_version=4).metadata.papermill.parameters


def test_p_values_are_read_as_papermills_own_p_reads_them(tmp_path):
    """Issue 31, item 2: `-p lr 1e-3` was refused (YAML 1.1 reads 1e-3 as a string) and `-p seed 010` gave 8."""
    declared = {"nb": {f"v{i}" for i in range(len(PAPERMILL_VALUES))}}
    overrides = [[f"v{i}", value] for i, value in enumerate(PAPERMILL_VALUES)]
    ours = run_course.parameters(["nb"], declared, None, overrides)["nb"]
    assert ours == papermills_own(tmp_path, PAPERMILL_VALUES)
    assert ours["v0"] == 0.001 and ours["v1"] == 10 and ours["v2"] == "true" and ours["v5"] is None


def test_a_list_in_brackets_is_a_list_of_values_read_the_same_way_and_the_help_says_so(tmp_path):
    declared = {"nb": {"hidden", "sigmas", "empty"}}
    overrides = [["hidden", "[256, 128]"], ["sigmas", " [1e-3, 010, None, 0.5]"], ["empty", "[]"]]
    got = run_course.parameters(["nb"], declared, None, overrides)["nb"]
    assert got == {"hidden": [256, 128], "sigmas": [0.001, 10, None, 0.5], "empty": []}
    assert papermills_own(tmp_path, ["[256, 128]"]) == {"v0": "[256, 128]"}  # what the docstring says papermill does
    with pytest.raises(run_course.UsageError, match=r"-p hidden '\[256, 128' is not a list: write it as"):
        run_course.parameters(["nb"], declared, None, [["hidden", "[256, 128"]])
    helps = " ".join(run_course.parser().format_help().split())
    assert "read as papermill's -p reads it" in helps and '-p hidden "[256, 128]"' in helps
    assert "papermill's own ``-p`` passes it on as a string" in " ".join(run_course.__doc__.split())


def test_yaml_file_values_stay_yaml(tmp_path):
    yml = tmp_path / "p.yaml"
    yml.write_text("lr: 1.0e-3\nseed: 010\n")  # YAML 1.1: 010 is octal
    assert run_course.parameters(["05_better"], DECLARED, str(yml), []) == {"05_better": {"lr": 0.001, "seed": 8}}


def test_the_value_reaches_the_notebook_as_papermill_would_pass_it(tmp_path, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook(folder / "01_lr.ipynb", "lr: float = 0.1", "print('lr is', repr(lr))")
    args = run_course.parser().parse_args(["--name", "t", "-p", "lr", "1e-3"])
    assert run_course.run(args, folder=folder, root=tmp_path) == 0
    assert "lr is 0.001" in (tmp_path / "runs" / "t" / "01_lr.ipynb").read_text()


# Issue 31, item 3: a password is never printed nor written into an executed notebook.
PASSWORD = "s3cr/t@pw"  # in a URL: percent-encoded
URL = "postgresql://user:s3cr%2Ft%40pw@db.example:5432/db"


@pytest.fixture()
def tuning_folder(tmp_path) -> Path:
    """A notebook that shows its storage and (as a digest) the PGPASSWORD it got, and one that fails with it."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shows = "import hashlib, os\nprint('storage is', storage)\n"
    shows += "print('password digest', hashlib.sha256(os.environ.get('PGPASSWORD', '').encode()).hexdigest())"
    notebook(folder / "11b_search.ipynb", "storage: str = ''", shows)
    fails = "import os\nraise ValueError('no database at postgresql://user:' + os.environ['PGPASSWORD'] + '@db/x')"
    notebook(folder / "12_fails.ipynb", "storage: str = ''", fails)
    return folder


def test_a_postgresql_password_goes_to_the_kernel_as_pgpassword_and_nowhere_else(tuning_folder, capsys, monkeypatch):
    """Issue 31, item 3: the README's `storage=postgresql://user:pw@host/db` was printed on the `==>` line and kept
    by papermill in the executed notebook."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    args = run_course.parser().parse_args(["--name", "t", "--notebooks", "11b", "-p", "storage", URL])
    assert run_course.run(args, folder=tuning_folder, root=tuning_folder.parent) == 0
    out, err = capsys.readouterr()
    executed = (tuning_folder.parent / "runs" / "t" / "11b_search.ipynb").read_text()
    for text in (out, err, executed):
        assert "s3cr" not in text  # neither the password nor its percent-encoded form
    assert "==> 11b_search  {'storage': 'postgresql://user@db.example:5432/db'}" in out
    assert "storage is postgresql://user@db.example:5432/db" in executed
    assert f"password digest {hashlib.sha256(PASSWORD.encode()).hexdigest()}" in executed  # the kernel had it
    assert "PGPASSWORD" not in os.environ  # the runner's own environment is as it was


def test_a_password_in_an_error_is_masked(tuning_folder, capsys):
    args = run_course.parser().parse_args(["--name", "t", "--notebooks", "12", "-p", "storage", URL])
    assert run_course.run(args, folder=tuning_folder, root=tuning_folder.parent) == 1
    out, err = capsys.readouterr()
    assert "s3cr" not in out + err and "no database at postgresql://user:***@db/x" in err


@pytest.mark.parametrize(
    "where, value",
    [
        ("-p", "mysql://user:s3cr3t@db.example/db"),
        ("-p", "postgresql://db.example/db?password=s3cr3t"),
        ("-p", "postgresql://user:s3cr/3t@db.example/db"),  # a / that is not percent-encoded
        ("yaml", "redis://:s3cr3t@db.example:6379/0"),
    ],
)
def test_any_other_password_is_refused_before_anything_runs(tuning_folder, tmp_path, where, value):
    yml = tmp_path / "p.yaml"
    yml.write_text(f"storage: {value}\n")
    options = ["-p", "storage", value] if where == "-p" else ["--params", str(yml)]
    args = run_course.parser().parse_args(["--name", "t", "--notebooks", "11b", *options])
    with pytest.raises(run_course.UsageError, match="password file or environment variable") as refused:
        run_course.run(args, folder=tuning_folder, root=tuning_folder.parent)
    assert "s3cr" not in str(refused.value) and "***" in str(refused.value)
    assert not (tuning_folder.parent / "runs").exists()


@pytest.mark.parametrize(
    "text, shown",
    [
        (
            "==> 10  {'storage': 'postgresql://u:pw@h/db', 'w': 1}",
            "==> 10  {'storage': 'postgresql://u:***@h/db', 'w': 1}",
        ),
        ("redis://:p@ss@h:6379", "redis://:***@h:6379"),
        ("x?password=pw&y=1", "x?password=***&y=1"),
        ("postgresql://u@h:5432/db and a@b.c", "postgresql://u@h:5432/db and a@b.c"),
    ],
)
def test_mask_hides_the_password_and_nothing_else(text, shown):
    assert run_course.mask(text) == shown


# Issue 31, items 4 and 12: the summary shows only this run's results, and the machine that took the time.
@pytest.fixture()
def headline_folder(tmp_path) -> Path:
    """Notebooks 02 (writes nothing) and 06 (writes metrics.json unless told to fail first), and an artifacts folder
    that an earlier run left with all three headline files."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook(folder / "02_model.ipynb", "artifacts: str = ''", "print('no metrics here')")
    writes = "import json, pathlib\nif fail:\n    raise RuntimeError('failed early')\n"
    writes += "pathlib.Path(artifacts, 'metrics.json').write_text(json.dumps({'test_accuracy': 0.5}))"
    notebook(folder / "06_evaluation.ipynb", "artifacts: str = ''\nfail: bool = False", writes)
    old = tmp_path / "runs" / "t" / "artifacts"
    old.mkdir(parents=True)
    for name, accuracy in (("metrics.json", 0.1234), ("cnn_metrics.json", 0.4321), ("tuning_winner.json", 0.2222)):
        (old / name).write_text(json.dumps({"test_accuracy": accuracy}))
    return folder


@pytest.mark.parametrize(
    "options, shown",
    [
        (["--notebooks", "02"], []),
        (["--notebooks", "06"], ["MLP test accuracy           50.00%"]),
        (["--notebooks", "06", "-p", "fail", "True"], []),
    ],
)
def test_the_summary_shows_only_the_accuracies_that_this_run_wrote(headline_folder, capsys, options, shown):
    """Issue 31, item 4: after `--notebooks 02`, a metrics.json left with 0.1234 printed "MLP test accuracy 12.34%"."""
    args = run_course.parser().parse_args(["--name", "t", *options])
    run_course.run(args, folder=headline_folder, root=headline_folder.parent)
    out = capsys.readouterr().out
    assert [line.strip() for line in out.splitlines() if "test accuracy" in line] == [s.strip() for s in shown]
    assert "12.34%" not in out and "43.21%" not in out and "22.22%" not in out
    artifacts = headline_folder.parent / "runs" / "t" / "artifacts"
    assert {p.name for p in artifacts.iterdir()} == {"metrics.json", "cnn_metrics.json", "tuning_winner.json"}  # kept


def test_each_headline_file_is_written_by_the_notebook_named_for_it():
    for name, (writer, _) in run_course.HEADLINES.items():
        assert f'artifact(P, \\"{name}\\")' in (run_course.NOTEBOOKS / f"{writer}.ipynb").read_text(), (name, writer)


def test_the_summary_names_the_machine_beside_the_total(headline_folder, capsys):
    """Issue 31, item 12: a headline time travels with its machine."""
    args = run_course.parser().parse_args(["--name", "t", "--notebooks", "02"])
    run_course.run(args, folder=headline_folder, root=headline_folder.parent)
    total = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("total"))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert f"({cpus} CPUs), {platform.system()} {platform.machine()}" in total
    if Path("/proc/cpuinfo").is_file():
        model = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name"))
        assert f"on {model.split(':', 1)[1].strip()} (" in total


def test_the_machine_without_cpuinfo_and_with_a_gpu(tmp_path, monkeypatch):
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{smi.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(platform, "processor", lambda: "")
    described = run_course.machine(tmp_path / "no-cpuinfo")
    assert described.startswith("an unknown CPU (") and described.endswith(", GPU: NVIDIA H100 80GB HBM3")


# Issue 31, item 7: an in-place run replaces a committed notebook only with a whole run of it.
def test_a_failed_in_place_run_leaves_the_committed_notebook_as_it_was(course_folder, monkeypatch, tmp_path, capsys):
    """A cell that raises (a papermill failure), or KeyboardInterrupt in the kernel (Ctrl-C reaches it too)."""
    monkeypatch.setenv("MNIST_LAB_ARTIFACTS", str(tmp_path / "artifacts"))
    notebook(course_folder / "05_interrupted.ipynb", "v: int = 5", "raise KeyboardInterrupt")
    before = files(course_folder)
    for chosen, error in (("02", "cell 2 raised ValueError: boom"), ("05", "cell 2 raised KeyboardInterrupt: ")):
        args = run_course.parser().parse_args(["--in-place", "--notebooks", chosen])
        assert run_course.run(args, folder=course_folder, root=course_folder.parent) == 1
        assert files(course_folder) == before  # unchanged, and no temporary file left beside it
        err = capsys.readouterr().err
        failed = next((course_folder.parent / "runs" / "in-place").glob(f"{chosen}_*.ipynb"))  # kept to read
        assert error in err and f"its executed notebook: {failed}" in err
        assert error.split()[3].strip(":") in failed.read_text()  # its traceback, to read


def test_ctrl_c_in_the_runner_during_an_in_place_run_leaves_the_committed_notebook_as_it_was(
    course_folder, monkeypatch
):
    def interrupted(source, output, **kwargs):
        Path(output).write_text('{"cells": [')  # half a notebook, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(run_course.papermill, "execute_notebook", interrupted)
    before = files(course_folder)
    with pytest.raises(KeyboardInterrupt):
        run_course.run(
            run_course.parser().parse_args(["--in-place", "--notebooks", "01"]), course_folder, course_folder.parent
        )
    assert files(course_folder) == before
