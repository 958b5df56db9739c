"""The course as a student meets it: JupyterLab in headless Chromium (see conftest.py).

Each test saves a screenshot under build/screenshots/. Run with `make test-browser`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from chromium import NO_CHROMIUM, browser_required, find_chromium
from notebook_names import course_notebooks  # tools/notebook_names.py
from playwright.sync_api import TimeoutError as PlaywrightTimeout

NOTEBOOKS = course_notebooks(Path(__file__).resolve().parents[2] / "notebooks")

if find_chromium() is None and not browser_required():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)  # one line for the whole module

NOTEBOOK_TIMEOUT = 180_000  # ms for a notebook to run through


def open_from_file_browser(page, name: str) -> None:
    """Open notebook ``name`` by double-clicking it in JupyterLab's file browser; wait until its
    kernel is idle."""
    page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$")).dblclick()
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=name).wait_for(timeout=30_000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell", timeout=60_000)
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=60_000)


def dialogs(page) -> list[str]:
    """Return the text of every dialog open on the page."""
    return [d.inner_text() for d in page.query_selector_all(".jp-Dialog")]


def menu(page, top: str, item: str) -> None:
    """Click ``item`` in the menu bar's ``top`` menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def run_all(page, timeout: int = NOTEBOOK_TIMEOUT) -> None:
    """Clear the saved outputs, run every cell through the Run menu, wait until the last one has finished, and check
    that every code cell ran: a visible one shows its number, a solution (input collapsed, no number shown) has
    its output back."""
    cells = "[...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]"
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => {cells}.every(c => !c.querySelector('.jp-OutputArea-child'))", timeout=10_000)
    menu(page, "Run", "Run All Cells")
    state = (
        f"{cells}.map(c => [c.querySelector('.jp-InputPrompt').textContent.trim(),"
        " !!c.querySelector('.jp-InputPlaceholder'), !!c.querySelector('.jp-OutputArea-child')])"
    )
    ran = "s => s.every(([p, hidden, out]) => hidden ? out : /^\\[\\d+\\]:$/.test(p))"
    busy = f"{state}.some(([p]) => p === '[*]:')"
    stderr = "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]'"
    stopped = f"[...document.querySelectorAll({stderr})].some(e => /Error|Traceback/.test(e.textContent))"
    page.wait_for_function(f"() => {busy}", timeout=10_000)
    try:  # until every cell ran, or Run All stopped at an error
        page.wait_for_function(f"() => ({ran})({state}) || !{busy} && {stopped}", timeout=timeout)
    except PlaywrightTimeout:
        pass  # the assertion below says which cells did not run
    shown = page.evaluate(f"() => {state}")
    skipped = [i for i, (p, hidden, out) in enumerate(shown) if not (out if hidden else re.fullmatch(r"\[\d+\]:", p))]
    assert not skipped, f"code cells {skipped} did not run ({shown}); errors shown: {error_outputs(page)}"


def outputs(page, mime: str) -> list[str]:
    """Return the text of every rendered output of type ``mime``."""
    return [o.inner_text() for o in page.query_selector_all(f'.jp-OutputArea-output[data-mime-type="{mime}"]')]


def error_outputs(page) -> list[str]:
    """Return the error tracebacks shown in the notebook (errors render as stderr)."""
    return [t for t in outputs(page, "application/vnd.jupyter.stderr") if re.search(r"Error|Traceback", t)]


def rendered_images(page) -> list[int]:
    """Return the natural width of every image output (0 for an image that did not load)."""
    return page.eval_on_selector_all(
        '.jp-OutputArea-output[data-mime-type="image/png"] img',
        "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)",
    )


def progress_texts(page) -> list[str]:
    """Return every progress bar the outputs show (``epoch 1: 100%|██████████| 1719/1719 [...]``): one text output
    per bar, updated in place while it runs."""
    texts = page.eval_on_selector_all(".jp-OutputArea-output", "els => els.map(e => e.innerText)")
    return [line for t in texts for line in t.splitlines() if re.search(r"\d+%\|", line)]


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_every_committed_notebook_opens_cleanly(app, name):
    page = app
    open_from_file_browser(page, f"{name}.ipynb")
    assert dialogs(page) == []
    text = page.eval_on_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook", "e => e.textContent")
    assert "Error displaying widget" not in text and "model not found" not in text
    bars = re.findall(r"(\d+)%\|[^|\n]*\|\s*(\d+)/(\d+)", text)  # saved progress bars: text, finished
    assert all(pct == "100" and n == total for pct, n, total in bars), bars
    if bars:
        page.get_by_text(re.compile(r"100%\|")).first.scroll_into_view_if_needed()  # for the screenshot
    assert page.errors == [], page.errors


@pytest.mark.parametrize("name", ["06_evaluation", "12c_unlike_mnist"])
def test_a_committed_notebook_runs_with_no_error_in_the_console(app, name):
    """Run All on a committed notebook that loads the models (the small ones of the workspace): its saved outputs
    are replaced by live ones, and nothing is logged as an error (a saved widget view used to log "widget model
    not found")."""
    page = app
    open_from_file_browser(page, f"{name}.ipynb")
    run_all(page)
    assert error_outputs(page) == [] and dialogs(page) == []
    assert page.errors == [], page.errors


def test_01b_runs_from_the_run_menu_with_its_figure(app):
    page = app
    open_from_file_browser(page, "small_01b_loading.ipynb")  # subset=2000: the loader comparison on 2,000 digits
    run_all(page)
    assert error_outputs(page) == []
    widths = rendered_images(page)
    assert len(widths) >= 1 and all(w > 0 for w in widths), widths
    assert dialogs(page) == [] and page.errors == []


def test_a_small_05_runs_and_its_live_progress_bars_reach_100(app):
    page = app
    open_from_file_browser(page, "small_05_better_training.ipynb")
    run_all(page)
    assert error_outputs(page) == []
    bars = progress_texts(page)
    assert bars and all("100%|" in b for b in bars), bars
    page.get_by_text(re.compile(r"100%\|")).first.scroll_into_view_if_needed()  # for the screenshot
    assert all(w > 0 for w in rendered_images(page))
    assert dialogs(page) == [] and page.errors == []


# ------------------------------------------------------------------------------- drawing


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = -90, turn: float = 370) -> list:
    """Return points of an ellipse drawn from angle ``start`` (degrees, clockwise on screen) over ``turn``."""
    angles = [math.radians(start + turn * i / 36) for i in range(37)]
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


#: My own drawings, as mouse paths on the 280×280 pad (one list of points per stroke).
HAND = {
    0: [_ellipse(140, 140, 55, 85)],
    1: [[(150, 50), (145, 120), (138, 230)]],
    2: [[(85, 95), (110, 60), (160, 55), (190, 90), (180, 130), (90, 220), (200, 215)]],
    3: [[(90, 70), (140, 50), (185, 80), (150, 130), (120, 135), (190, 160), (180, 215), (130, 230), (85, 205)]],
    4: [[(110, 50), (90, 150), (200, 150)], [(170, 80), (165, 240)]],
    5: [[(190, 55), (110, 55), (100, 130), (160, 120), (195, 165), (170, 220), (95, 215)]],
    6: [[(175, 50), (120, 100), (95, 170), (125, 225), (180, 205), (170, 150), (110, 160)]],
    7: [[(80, 60), (200, 60), (120, 230)]],
    8: [[(180, 80), (140, 50), (100, 80), (180, 170), (140, 230), (100, 170), (180, 80)]],
    9: [[(185, 80), (140, 50), (95, 85), (120, 135), (185, 100), (175, 240)]],
}


def draw_digit(page, digit: int) -> dict[str, int]:
    """Clear the pad, draw ``HAND[digit]`` with the mouse, and return what each model reads
    (``{"MLP-mnist": d, "CNN-mnist": d, "MLP-shrunk": d, ...}``)."""
    page.click(".mnist-lab-pad .mnist-lab-clear")
    page.wait_for_selector(".mnist-lab-empty", timeout=20_000)
    canvas = page.locator(".mnist-lab-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 280
    for stroke in HAND[digit]:
        points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            page.mouse.move(bx, by, steps=max(1, int(math.hypot(bx - ax, by - ay) / 6)))
        page.mouse.up()
    n = len(HAND[digit])
    page.wait_for_function(
        "n => { const r = document.querySelector('.mnist-lab-reading'); return r && r.dataset.strokes == n; }",
        arg=n,
        timeout=20_000,
    )
    return {
        el.get_attribute("data-key"): int(el.get_attribute("data-digit"))
        for el in page.query_selector_all(".mnist-lab-reading")
    }


def test_drawn_digits_are_read_a_1_and_a_0_right(app, screenshots):
    """Draws a 1 and a 0 (both models must read them), then 2-9, whose readings are only recorded
    (build/screenshots/drawn_digits.json and drawn_<digit>.png), for people to look at."""
    page = app
    open_from_file_browser(page, "small_12c_unlike_mnist.ipynb")
    run_all(page)
    assert error_outputs(page) == []
    page.wait_for_selector(".mnist-lab-canvas", timeout=30_000)
    readings = {}
    for digit in (1, 0, *range(2, 10)):
        readings[digit] = draw_digit(page, digit)
        page.locator(".mnist-lab-pad").locator("xpath=../..").screenshot(path=str(screenshots / f"drawn_{digit}.png"))
    (screenshots / "drawn_digits.json").write_text(json.dumps(readings, indent=1))
    for digit in (1, 0):
        assert readings[digit]["MLP-mnist"] == digit and readings[digit]["CNN-mnist"] == digit, readings[digit]
    assert all(len(r) == 4 for r in readings.values())
    assert page.errors == []
