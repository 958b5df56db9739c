"""JupyterLab in a real browser: the system Chromium driven by Playwright (no browser download).

Chromium is found through ``$MNIST_LAB_CHROMIUM`` or on the PATH. Without it every browser test is skipped with one
reason, unless ``MNIST_LAB_REQUIRE_BROWSER=1`` (set by CI) turns the skip into a failure. JupyterLab runs on a free
local port with a random token, over temporary copies of the notebooks and a temporary artifacts folder holding two
small models (so the committed notebooks that load them run in seconds), and is stopped after the tests.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import torch
from chromium import CHROMIUM_ARGS, NO_CHROMIUM, browser_required, find_chromium
from nbconvert.preprocessors import TagRemovePreprocessor
from notebook_names import course_notebooks  # tools/notebook_names.py

from mnist_lab import course

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = course_notebooks(REPO / "notebooks")
SCREENSHOTS = REPO / "build" / "screenshots"
#: The small models the notebooks run in the browser load (trained once, here, in a few seconds).
SMALL = {"subset": 10000, "epochs": 2, "val_size": 1000}


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable, or a skip (a failure when ``MNIST_LAB_REQUIRE_BROWSER=1``)."""
    path = find_chromium()
    if path is None:
        if browser_required():
            pytest.fail(NO_CHROMIUM.replace("skipped", "required by MNIST_LAB_REQUIRE_BROWSER=1"), pytrace=False)
        pytest.skip(NO_CHROMIUM)
    return path


def _free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(name: str, out: Path, student: Path, **params) -> None:
    """Write the student edition of notebook ``name`` (in folder ``student``) to ``out`` with ``params`` injected
    (papermill, without running it)."""
    import papermill

    papermill.execute_notebook(
        str(student / f"{name}.ipynb"), str(out), parameters=params, prepare_only=True, progress_bar=False
    )


@pytest.fixture(scope="session")
def workspace(chromium, tmp_path_factory) -> Path:
    """A folder with copies of the committed notebooks, small-parameter copies of the student edition of 01b, 05 and
    12c (what a student runs: no solution cells), and artifacts holding a small MLP and CNN."""
    root = tmp_path_factory.mktemp("lab")
    student = root / "student"
    student.mkdir()
    remove = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    for path in NOTEBOOKS:
        shutil.copy(path, root / path.name)
        nbformat.write(remove.preprocess(nbformat.read(path, as_version=4), {})[0], student / path.name)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models: one thread is fastest, and far faster on a busy machine
    try:
        for kind in ("mlp", "cnn"):
            course.train_model(kind, SMALL, root / "artifacts", device="cpu")
    finally:
        torch.set_num_threads(threads)
    _prepare("01b_loading", root / "small_01b_loading.ipynb", student, subset=2000)
    quick = dict(subset=2000, epochs=2)
    _prepare(
        "05_better_training", root / "small_05_better_training.ipynb", student, artifacts=str(root / "small05"), **quick
    )
    _prepare("12c_unlike_mnist", root / "small_12c_unlike_mnist.ipynb", student)
    return root


@pytest.fixture(scope="session")
def lab(workspace, tmp_path_factory):
    """A JupyterLab server over ``workspace``: ``(base_url, token)``; stopped after the tests."""
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("jupyter")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    # Kernels with one PyTorch thread: the notebooks run here train small models, for which one thread
    # is as fast, and several threads slow down many times over on a busy 2-core machine (CI).
    env["OMP_NUM_THREADS"] = "1"
    env.update(
        MNIST_LAB_ARTIFACTS=str(workspace / "artifacts"),  # the small models: loaded, never trained again
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    # no news and no update check: the tests run offline, and the question would cover the page
    notification = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Render every cell, not only those in view: the tests read outputs that a long notebook has scrolled away
    # (JupyterLab's default windowing leaves them unrendered, with no text to read)
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    jupyter = Path(sys.executable).with_name("jupyter")
    log = open(home / "server.log", "w")
    server = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            "--allow-root",  # CI runs as root
            "--ServerApp.ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={workspace}",
        ],
        cwd=workspace,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; see {home / 'server.log'}") from None
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(chromium):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder of the screenshots (``build/screenshots``), created."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def context(browser):
    """One browser context for the session: JupyterLab's scripts load once, then come from its cache."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


def _new_page(context):
    """Return a new page of ``context`` that collects its console errors in ``page.errors``."""
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def _screenshot(page, request, screenshots: Path) -> None:
    """Save ``build/screenshots/<test name>.png``."""
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    page.screenshot(path=str(screenshots / f"{name}.png"))


@pytest.fixture(scope="module")
def app_page(context, lab):
    """One JupyterLab page for a module's tests, which open notebooks from its file browser: the app
    loads once (a fresh workspace), not once per test."""
    base, token = lab
    page = _new_page(context)
    page.goto(f"{base}/lab?reset&token={token}")
    page.wait_for_selector(".jp-DirListing-itemText", timeout=60_000)
    yield page
    page.close()


@pytest.fixture()
def app(app_page, lab, request, screenshots):
    """``app_page`` for one test, its console errors emptied; after the test, a screenshot, every
    tab closed and the kernels shut down."""
    app_page.errors.clear()
    yield app_page
    _screenshot(app_page, request, screenshots)
    app_page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    app_page.locator(".lm-Menu-itemLabel", has_text="Close All Tabs").click()
    discard = app_page.locator(".jp-Dialog button", has_text="Discard")
    for _ in range(5):  # a notebook that ran asks whether to save it: the copies are thrown away
        try:
            discard.first.click(timeout=1_000)
        except Exception:  # no (more) dialog
            break
    _shutdown_kernels(*lab)


def _shutdown_kernels(base: str, token: str) -> None:
    """Shut down every kernel of the server (each opened notebook starts one)."""
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as r:
        kernels = json.load(r)
    for k in kernels:
        req = urllib.request.Request(f"{base}/api/kernels/{k['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=10).close()
