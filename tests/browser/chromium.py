"""Finding the system Chromium for the browser tests (no browser is downloaded)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_APPS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
#: Flags that keep Chromium headless and quiet on a closed network (no background connections).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = "no Chromium found (install it: docs/contributing.md; or set MNIST_LAB_CHROMIUM), browser tests skipped"


def find_chromium() -> str | None:
    """Return the Chromium to use: ``$MNIST_LAB_CHROMIUM``, else the first Chromium or Chrome found;
    ``None`` when there is none (or the variable names no file)."""
    if os.environ.get("MNIST_LAB_CHROMIUM"):
        path = os.environ["MNIST_LAB_CHROMIUM"]
        return path if Path(path).is_file() else None
    for name in CHROMIUM_NAMES:
        if shutil.which(name):
            return shutil.which(name)
    return next((app for app in MAC_APPS if Path(app).is_file()), None)


def browser_required() -> bool:
    """Whether a missing Chromium is a failure (``MNIST_LAB_REQUIRE_BROWSER=1``, set by CI)."""
    return os.environ.get("MNIST_LAB_REQUIRE_BROWSER") == "1"
