"""Executed notebooks keep finished progress bars as text, not views of widgets that are gone."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from mnist_lab import widget_outputs
from mnist_lab.widget_outputs import VIEW


def executed(source: str, tmp_path) -> nbformat.NotebookNode:
    """Return a one-cell notebook running ``source``, executed headlessly as papermill does."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


BARS = """
from mnist_lab.train import _progress
for epoch, stop in ((1, 50), (2, 20)):
    bar = _progress(50, f"epoch {epoch}", True)
    for _ in range(stop):
        bar.update(1)
    bar.close()
print("done")
"""


def test_progress_bars_become_their_final_text_and_the_widget_state_goes(tmp_path):
    nb = executed(BARS, tmp_path)
    views = [o for o in nb.cells[0].outputs if VIEW in o.get("data", {})]
    assert len(views) == 2 and "0%|" in views[0].data["text/plain"]  # what JupyterLab would show: frozen at 0%
    assert "widgets" in nb.metadata
    assert widget_outputs.freeze_widget_outputs(nb) == 2
    texts = [o.data["text/plain"] for o in nb.cells[0].outputs if o.output_type == "display_data"]
    assert len(texts) == 2 and texts[0].startswith("epoch 1: 100%|██████████| 50/50 [00:00<00:00, ")
    assert texts[1].startswith("epoch 2:  40%|████      | 20/50 [00:00<")
    assert nb.cells[0].outputs[-1].text == "done\n"
    assert "widgets" not in nb.metadata
    nbformat.validate(nb)


def test_other_widgets_keep_their_static_picture_and_lose_the_view():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pad")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                "image/png": "iVBORw0KGgo=",
                "text/plain": "DrawingPad",
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            data={
                VIEW: {"model_id": "def", "version_major": 2, "version_minor": 0},
                "text/plain": "IntSlider(value=3)",
            },
        ),
    ]
    assert widget_outputs.freeze_widget_outputs(nb) == 2
    assert [set(o.data) for o in nb.cells[0].outputs] == [{"image/png", "text/plain"}]
