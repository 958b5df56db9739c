"""Every front end a student has shows the best it can: a progress bar is one text output that updates in place
(JupyterLab, Colab, VS Code, a headless run's saved notebook); the drawing pad's output carries the live widget and
a picture of it; the notebooks' set-up cell installs just the course's package and stops with a clear message when
that fails. None of it keys on a variable that only one server sets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from notebook_names import course_notebooks  # tools/notebook_names.py

from mnist_lab import draw

NOTEBOOKS = course_notebooks(Path(__file__).resolve().parents[1] / "notebooks")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def run_cells(tmp_path: Path, *sources: str) -> dict:
    """Execute a notebook of these cells with papermill, as a headless run does; return the saved notebook."""
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3",
                               progress_bar=False, cwd=str(tmp_path))  # fmt: skip
    return json.loads((tmp_path / "out.ipynb").read_text())


def test_a_progress_bar_is_one_text_output_that_ends_finished(tmp_path, monkeypatch):
    """Issue 31, defect 9: the bars went live only where JPY_SESSION_NAME was set (jupyter_server alone sets it)."""
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    train = """
import torch
from mnist_lab import data, models, train
x, y = torch.rand(300, 1, 28, 28), torch.randint(0, 10, (300,))
loader = data.TensorLoader(x, y, 16, shuffle=True)
history = train.fit(models.MLP([8]), loader, epochs=2, lr=0.1, device="cpu", progress=True, verbose=False)
"""
    outputs = run_cells(tmp_path, train)["cells"][0]["outputs"]
    bars = ["".join(o["data"]["text/plain"]) for o in outputs if o["output_type"] == "display_data"]
    assert len(bars) == 2 and all("100%|" in b and "19/19" in b for b in bars), outputs
    assert bars[0].startswith("epoch 1: ") and bars[1].startswith("epoch 2: ")
    assert not [o for o in outputs if o["output_type"] == "stream"] and WIDGET_VIEW not in json.dumps(outputs)


def test_the_drawing_pad_carries_the_live_widget_and_its_picture_in_one_output(monkeypatch):
    for session in (None, "12c_unlike_mnist.ipynb"):  # without and with the variable that jupyter_server sets
        if session is None:
            monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
        else:
            monkeypatch.setenv("JPY_SESSION_NAME", session)
        bundle = draw.DrawingPad(strokes=draw.example_strokes(4))._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert {WIDGET_VIEW, "image/png", "text/plain"} <= set(data)
        assert data["text/plain"] == "DrawingPad with 2 strokes" and len(data["image/png"]) > 100


def test_a_headless_run_saves_the_state_of_every_widget_it_shows(tmp_path):
    """A saved widget view whose model is not in the notebook shows "model not found" in JupyterLab."""
    nb = run_cells(tmp_path, "from mnist_lab import draw\ndraw.DrawingPad(strokes=draw.example_strokes(7))")
    shown = [o["data"][WIDGET_VIEW]["model_id"] for o in nb["cells"][0]["outputs"] if WIDGET_VIEW in o.get("data", {})]
    saved = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    assert shown and all(model in saved for model in shown)
    assert saved[shown[0]]["state"]["strokes"] == draw.example_strokes(7)


def setup_cell(path: Path) -> str:
    cell = nbformat.read(path, as_version=4).cells[1]
    assert "setup" in cell.metadata.get("tags", [])
    return cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_setup_cell_installs_just_the_package_and_stops_clearly_when_that_fails(path, monkeypatch):
    """Issue 31, defect 9: the cell installed the course extra (JupyterLab, ipykernel, ipywidgets) into Colab's own
    kernel, quietly, and a failed install showed only as a ModuleNotFoundError cells later."""
    import importlib.util

    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        return SimpleNamespace(returncode=1, stdout="", stderr="ERROR: Could not find a version that satisfies ...")

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)  # as on Colab: not installed yet
    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(RuntimeError, match=r"(?s)Installing the course's library failed.*Could not find a version"):
        exec(setup_cell(path), {})
    (command,) = calls
    assert command[1:4] == ["-m", "pip", "install"] and command[-1].startswith("mnist-lab @ git+https://")
    assert "[" not in command[-1]  # no extra: Colab's own JupyterLab, ipykernel and ipywidgets stay as they are
