"""The course's site (`make site`) in the system Chromium, served on localhost as a reader meets it.

Every notebook, the README and every guide in docs/ has a page; on every page each image loads, no request leaves
the site or fails, the console stays free of errors, and every link within the site reaches a file that exists
(and an anchor on it that exists). On a notebook's page the solutions are folded until clicked, math is typeset,
and the Colab and Binder links are built from the repository's one URL. The site is built first when it is missing
or older than any of its sources.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from notebook_names import course_notebooks  # tools/notebook_names.py

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "build" / "site"
SOURCES = ["README.md", "mkdocs.yml", "docs", "notebooks", "tools/build_site.py", "tools/site_hooks.py"]
NOTEBOOKS = course_notebooks(REPO / "notebooks")
GUIDES = sorted((REPO / "docs").glob("*.md"))
#: The pages the site must have: the README as its home, one per notebook, one per guide.
PAGES = ["index.html"] + [f"notebooks/{p.stem}.html" for p in NOTEBOOKS] + [f"docs/{p.stem}.html" for p in GUIDES]
URL = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
GITHUB = URL.removeprefix("https://github.com/")

#: In the page: open every folded solution, wait for every image and for MathJax; return what the test checks.
INSPECT = """async () => {
  document.querySelectorAll("details").forEach((d) => (d.open = true));
  const images = Array.from(document.images);
  await Promise.all(images.map((i) => i.complete ? null : new Promise((r) => { i.onload = i.onerror = r; })));
  if (window.MathJax && MathJax.Hub) await new Promise((r) => MathJax.Hub.Queue(r));
  return {
    images: images.map((i) => ({src: i.src.slice(0, 120), width: i.naturalWidth})),
    links: Array.from(document.querySelectorAll("a[href], link[href]"), (a) => a.href),
    math: document.querySelectorAll(".MathJax, .MathJax_Display").length,
    mathErrors: document.querySelectorAll(".MathJax_Error, merror").length,
  };
}"""


def _sources_time() -> float:
    """Return the newest modification time among the site's sources."""
    times = []
    for name in SOURCES:
        path = REPO / name
        times += [p.stat().st_mtime for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()]
    return max(times)


@pytest.fixture(scope="module")
def site() -> Path:
    """The built site, built first (tools/build_site.py) when it is missing or older than its sources."""
    index = SITE / "index.html"
    if not index.is_file() or index.stat().st_mtime < _sources_time():
        done = subprocess.run(
            [sys.executable, str(REPO / "tools" / "build_site.py")], cwd=REPO, capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.fail(f"make site failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        """Log nothing: the test reports what failed."""


@pytest.fixture(scope="module")
def base(site) -> str:
    """The address of the site, served by a thread of this process on a free local port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site_context(browser):
    """A browser context of its own (nothing cached from other tests)."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    yield context
    context.close()


class _Ids(HTMLParser):
    """Collects the ``id`` and ``name`` attributes of an HTML page: the anchors a link may point at."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.ids.update(value for key, value in attrs if key in ("id", "name") and value)


@functools.cache
def _anchors(path: Path) -> frozenset[str]:
    """Return the anchors of page ``path``."""
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


def _broken(link: str, base: str, site: Path) -> str | None:
    """Return why ``link`` (an absolute address on the site) is broken, or None when its file (and anchor) exist."""
    parts = urlsplit(link)
    path = site / unquote(parts.path.removeprefix(urlsplit(base).path))
    if path.is_dir():
        path = path / "index.html"
    if not path.is_file():
        return f"{link}: no file {path.relative_to(site)}"
    if parts.fragment and path.suffix == ".html" and unquote(parts.fragment) not in _anchors(path):
        return f"{link}: no anchor #{parts.fragment} in {path.relative_to(site)}"
    return None


def _visit(context, url: str) -> tuple:
    """Open ``url`` in a new page; return ``(page, problems)``, where problems collects requests outside the site,
    failed requests, error responses and console errors as they happen."""
    page, problems = context.new_page(), []
    origin = urljoin(url, "/")
    page.on("request", lambda r: None if r.url.startswith((origin, "data:", "blob:")) else problems.append(r.url))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url, wait_until="networkidle")
    return page, problems


@pytest.mark.parametrize("name", PAGES)
def test_page(name, site, base, site_context):
    """The page exists; its images load; no request leaves the site or fails; no console error; no broken link."""
    assert (site / name).is_file(), f"the site has no page {name}"
    page, problems = _visit(site_context, base + name)
    try:
        seen = page.evaluate(INSPECT)
        page.wait_for_load_state("networkidle")
    finally:
        page.close()
    assert problems == [], f"{name}: requests outside the site, failures or console errors"
    assert [i for i in seen["images"] if i["width"] == 0] == [], f"{name}: images that did not load"
    internal = {link.split("?")[0] for link in seen["links"] if link.startswith(base)}
    assert [why for link in sorted(internal) if (why := _broken(link, base, site))] == []
    assert seen["mathErrors"] == 0
    if name.startswith("notebooks/"):
        notebook = json.loads((REPO / "notebooks" / Path(name).with_suffix(".ipynb").name).read_text())
        markdown = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
        if "$" in markdown:
            assert seen["math"] > 0, f"{name}: its math was not typeset"
        stem = Path(name).stem
        assert f"https://colab.research.google.com/github/{GITHUB}/blob/main/notebooks/{stem}.ipynb" in seen["links"]
        assert f"https://mybinder.org/v2/gh/{GITHUB}/main?labpath=notebooks%2F{stem}.ipynb" in seen["links"]


def test_the_site_has_no_other_pages(site):
    built = {p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.parts[len(site.parts)] != "assets"}
    assert built - {"404.html"} == set(PAGES)


def signpost(cell: dict) -> bool:
    """Whether a solution cell is only the Solutions section's title or an exercise's heading (with a line of
    guidance): Markdown with a heading and no list, code or table."""
    source = "".join(cell["source"])
    lines = source.splitlines()
    has_heading = any(line.startswith("#") for line in lines)
    has_more = any(re.match(r"\s*(\d+\.|[*-]|```|\|)", line) for line in lines)
    return cell["cell_type"] == "markdown" and has_heading and not has_more


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_is_folded_and_its_headings_stay_in_view(path, site):
    notebook = json.loads(path.read_text())
    solutions = [c for c in notebook["cells"] if "solution" in c["metadata"].get("tags", [])]
    html = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    assert html.count('<details class="solution">') == sum(not signpost(c) for c in solutions)
    assert '<details class="solution" open' not in html
    if any(signpost(c) for c in solutions):
        assert re.search(r"<h2[^>]*>Solutions", html)  # the section's title is not folded away


def test_a_solution_is_hidden_until_clicked(site, base, site_context):
    with_solutions = [p for p in NOTEBOOKS if "celltag_solution" in (site / "notebooks" / f"{p.stem}.html").read_text()]
    if not with_solutions:
        pytest.skip("no notebook has a solution cell")
    page, problems = _visit(site_context, f"{base}notebooks/{with_solutions[0].stem}.html")
    try:
        solution = page.locator("details.solution").first
        code = solution.locator(".jp-InputArea").first
        assert solution.get_attribute("open") is None
        assert not code.is_visible()
        solution.locator("summary").click()
        code.wait_for(state="visible", timeout=5_000)
        assert solution.get_attribute("open") is not None
    finally:
        page.close()
    assert problems == []
