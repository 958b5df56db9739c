"""Build the course's static site into ``build/site/``: `make site` calls this.

    python tools/build_site.py [--site-dir build/site]

The site is built offline from the files in the repository: the README as the home page, one page per committed
notebook with its outputs, and the guides in ``docs/``. The files are first staged in ``build/site-src/`` as they lie
in the repository, so that a relative link works the same on GitHub and on the site; the notebooks are staged without
saved widget state, which only a widget library from a CDN could display. MkDocs (mkdocs-material, mkdocs-jupyter)
renders them with the hooks of ``tools/site_hooks.py``. Open ``build/site/index.html``, or serve the folder:
``python -m http.server -d build/site``.

The site has its own folder, which MkDocs empties before each build: a folder that exists and holds anything but a
site this tool built (it leaves ``.mnist-lab-site`` in each) is refused, and so is one that is, holds or lies in the
repository's sources (the repository, ``docs/``, ``notebooks/``) or the staging folder. A refusal touches nothing
and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/, for notebook_names
import notebook_names  # noqa: E402  (the course's notebook names, shared by the tools)

REPO = Path(__file__).resolve().parent.parent
STAGE = REPO / "build" / "site-src"
SITE = REPO / "build" / "site"
#: The guides in docs/, in the order of the site's menu.
GUIDES = ["glossary", "results", "reproducibility", "performance", "instructors", "contributing"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: The file that marks a folder as a site this tool built, so that a later build may empty it (MkDocs keeps files
#: whose names start with a dot).
MARKER = ".mnist-lab-site"


class UsageError(ValueError):
    """A site folder that the build must not write into: reported in one line, exit status 2."""


def course_notebooks(folder: Path = REPO / "notebooks") -> list[Path]:
    """Return the course's notebooks (``01_data.ipynb`` ...) in order."""
    return notebook_names.course_notebooks(folder)


def without_widgets(path: Path, out: Path) -> None:
    """Write notebook ``path`` to ``out`` without saved widget state and widget views (their text or picture stays)."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("data", {}).pop(WIDGET_VIEW, None)
            cell.outputs = [o for o in cell.outputs if "data" not in o or o["data"]]
    nbformat.write(nb, out)


def stage(folder: Path = STAGE) -> list:
    """Copy the README, docs/ and the notebooks into ``folder`` as they lie in the repository; return the menu."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / "README.md", folder / "README.md")
    shutil.copytree(REPO / "docs", folder / "docs")
    notebooks = course_notebooks()
    for path in notebooks:
        without_widgets(path, folder / "notebooks" / path.name)
    guides = [f"docs/{name}.md" for name in GUIDES if (folder / "docs" / f"{name}.md").is_file()]
    others = sorted(p.relative_to(folder).as_posix() for p in (folder / "docs").glob("*.md"))
    return [
        {"Home": "README.md"},
        {"Notebooks": [f"notebooks/{p.name}" for p in notebooks]},
        {"Guides": guides + [g for g in others if g not in guides]},
    ]


def _overlaps(a: Path, b: Path) -> bool:
    """Whether folder ``a`` is ``b``, lies in it, or holds it."""
    return a == b or a in b.parents or b in a.parents


def check_site_dir(site_dir: Path, stage_dir: Path = STAGE) -> Path:
    """Return ``site_dir`` resolved, or refuse it when building there could delete or mix up files that are not a
    site this tool built: the repository or a folder holding it, ``docs/``, ``notebooks/`` or the staging folder (or
    a folder in or around them), a file, a folder that holds anything and no marker."""
    site = site_dir.expanduser().resolve()
    if site == REPO or site in REPO.parents:
        raise UsageError(
            f"--site-dir {site_dir} is or holds the repository: MkDocs would empty it. Choose a new folder."
        )
    for sources in (REPO / "docs", REPO / "notebooks", stage_dir.resolve()):
        if _overlaps(site, sources):
            raise UsageError(
                f"--site-dir {site_dir} is, holds or lies in {sources}, which the site is built from: choose "
                "another folder (default: build/site)."
            )
    if site.exists() and not site.is_dir():
        raise UsageError(f"--site-dir {site_dir} is a file, not a folder: choose a folder for the site.")
    if site.is_dir() and any(site.iterdir()) and not (site / MARKER).is_file():
        raise UsageError(
            f"--site-dir {site_dir} holds files and is not a site that this tool built (it has no {MARKER}); "
            "MkDocs would empty it. Choose an empty or new folder, or move those files away yourself."
        )
    return site


def build(site_dir: Path = SITE, stage_dir: Path = STAGE) -> Path:
    """Stage the files in ``stage_dir`` and build the site into ``site_dir`` (refused by ``check_site_dir`` when
    it is not the site's own folder); return it."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    site_dir = check_site_dir(site_dir, stage_dir)
    nav = stage(stage_dir)
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / MARKER).write_text("The course's site, built by tools/build_site.py: a build empties this folder.\n")
    with contextlib.chdir(REPO):  # mkdocs.yml's relative paths (the hooks, mkdocs-jupyter's cache) start here
        config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(stage_dir), site_dir=str(site_dir), nav=nav)
        mkdocs_build(config)
    return site_dir


def main(argv: list[str] | None = None) -> int:
    """Build the site; print where it is, its page count and the seconds it took."""
    p = argparse.ArgumentParser(prog="build_site.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--site-dir",
        type=Path,
        default=SITE,
        help="the site's own folder: new, empty or a site built here before (default: build/site)",
    )
    args = p.parse_args(argv)
    from mkdocs.exceptions import MkDocsException

    handler = logging.StreamHandler()  # MkDocs' warnings (a broken link), as its command line shows them
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    start = time.perf_counter()
    try:
        site = build(args.site_dir)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SystemExit, MkDocsException) as exc:  # Abort: strict mode turns each warning above into a failure
        print(f"error: the site was not built: {exc}", file=sys.stderr)
        return 1
    pages = [p for p in site.rglob("*.html") if "assets" not in p.relative_to(site).parts and p.name != "404.html"]
    print(f"Site: {len(pages)} pages in {site} ({time.perf_counter() - start:.1f} s)")
    print(f"  open {site / 'index.html'}, or serve it: python -m http.server -d {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
