"""What an executed notebook keeps of its widgets: text, not views of models that are gone.

A notebook run headlessly (papermill, ``make run``, ``make notebooks``) saves every widget as a
*view* (``application/vnd.jupyter.widget-view+json``) of a model whose state goes into the
notebook's metadata. JupyterLab does not restore that state by default, so the saved views show
the text captured when the widget first appeared (a tqdm bar frozen at 0%) and the browser logs
"widget model not found" for each. ``freeze_widget_outputs`` replaces each tqdm bar's view by
its final text (``epoch 1: 100%|██████████| 1719/1719 [00:01<00:00, 1520.09it/s]``), keeps other
widgets' static fallbacks (the drawing pad's PNG), and drops the stale state. A student running the notebook
live still gets live widgets; only saved outputs change.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def _model(state: dict, ref: str) -> dict:
    """Return the saved model named by ``ref`` (a model id, or ``IPY_MODEL_<id>``), ``{}`` if absent."""
    return state.get(ref.removeprefix("IPY_MODEL_"), {})


def progress_text(state: dict, model_id: str) -> str | None:
    """Return the final text of the tqdm bar saved as widget ``model_id``, or ``None`` if it is not one.

    tqdm's notebook bar is an HBox of (HTML description, progress bar, HTML counts); the progress
    model holds the final count; the HTML parts hold what was last drawn, which is the final text
    when the bar was closed with ``leave=True`` (green) or unfinished (red).
    """
    from tqdm import tqdm

    box = _model(state, model_id)
    children = [_model(state, ref) for ref in box.get("state", {}).get("children", [])]
    if box.get("model_name") != "HBoxModel" or len(children) != 3:
        return None
    left, bar, right = children
    if (left.get("model_name"), right.get("model_name")) != ("HTMLModel", "HTMLModel") or bar.get("model_name") not in (
        "FloatProgressModel",
        "IntProgressModel",
    ):
        return None
    left, right = (html.unescape(c["state"].get("value", "")).replace("\u2007", " ") for c in (left, right))
    n, total = int(bar["state"].get("value", 0)), int(bar["state"].get("max", 0))
    if bar["state"].get("bar_style") in ("success", "danger"):  # redrawn when closed: the final text
        return f"{left}|{tqdm.format_meter(n, total or None, 0, bar_format='{bar:10}')}|{right}"
    desc = re.sub(r"\s*\d+%$", "", left).rstrip(": ")  # closed unfinished-looking (leave=False): rebuild it
    meter = tqdm.format_meter(n, total or None, 0, prefix=desc, bar_format="{l_bar}{bar:10}| {n_fmt}/{total_fmt}")
    return meter + (" [done]" if total and n >= total else " [stopped]")


def freeze_widget_outputs(nb: nbformat.NotebookNode) -> int:
    """Replace widget views in ``nb`` by text or their static fallback, drop the saved widget state;
    return how many views were replaced."""
    state = nb.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if VIEW not in data:
                outputs.append(out)
                continue
            replaced += 1
            text = progress_text(state, data[VIEW].get("model_id", ""))
            if text is not None:
                outputs.append(nbformat.v4.new_output("display_data", data={"text/plain": text}))
                continue
            del data[VIEW]
            if set(data) - {"text/plain"}:  # a widget with a static fallback (an image) keeps it
                outputs.append(out)
        if "outputs" in cell:
            cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return replaced


def freeze_widget_outputs_file(path: str | Path) -> int:
    """Apply ``freeze_widget_outputs`` to the notebook file at ``path`` in place; return the count."""
    nb = nbformat.read(str(path), as_version=4)
    replaced = freeze_widget_outputs(nb)
    nbformat.write(nb, str(path))
    return replaced
