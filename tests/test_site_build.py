"""The site's build (tools/build_site.py, behind `make site`) writes only into the site's own folder: a folder that
holds anything but a site it built, or the repository's sources, is refused before anything is touched."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_site", REPO / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_site)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture()
def untouched(monkeypatch):
    """Make staging (the build's first write, before MkDocs) fail the test: a refusal must come before it."""

    def stage(folder):
        raise AssertionError(f"the build went on: it staged the files in {folder}")

    monkeypatch.setattr(build_site, "stage", stage)


@pytest.mark.parametrize(
    "site_dir, reason",
    [
        (".", "is or holds the repository"),
        ("..", "is or holds the repository"),
        ("/", "is or holds the repository"),
        ("docs", "is, holds or lies in"),
        ("notebooks", "is, holds or lies in"),
        ("docs/site", "is, holds or lies in"),
        ("build", "is, holds or lies in"),  # it holds the staging folder build/site-src
        ("build/site-src", "is, holds or lies in"),
        ("mnist_lab", "holds files and is not a site that this tool built"),
    ],
)
def test_a_site_dir_that_is_or_holds_the_sources_is_refused(untouched, monkeypatch, capsys, site_dir, reason):
    """Issue 31, item 7: `--site-dir docs` would have let MkDocs wipe the sources."""
    monkeypatch.chdir(REPO)
    assert build_site.main(["--site-dir", site_dir]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --site-dir {site_dir} {reason}") and err.count("\n") == 1


def test_a_folder_of_other_files_or_a_file_is_refused_and_kept(untouched, tmp_path, capsys):
    """Issue 31, item 7: a folder holding keep.txt lost it to MkDocs' clean-up of the site folder."""
    (tmp_path / "mine" / "sub").mkdir(parents=True)
    (tmp_path / "mine" / "keep.txt").write_text("mine")
    (tmp_path / "mine" / "sub" / "notes.md").write_text("mine too")
    (tmp_path / "a-file").write_text("not a folder")
    before = files(tmp_path)
    assert build_site.main(["--site-dir", str(tmp_path / "mine")]) == 2
    assert "holds files and is not a site that this tool built" in capsys.readouterr().err
    assert build_site.main(["--site-dir", str(tmp_path / "a-file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert files(tmp_path) == before


def test_a_new_or_empty_folder_or_a_site_built_before_is_accepted(tmp_path):
    assert build_site.check_site_dir(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert build_site.check_site_dir(tmp_path / "empty") == tmp_path / "empty"
    (tmp_path / "built").mkdir()
    (tmp_path / "built" / "index.html").write_text("<html></html>")
    (tmp_path / "built" / build_site.MARKER).write_text("")
    assert build_site.check_site_dir(tmp_path / "built") == tmp_path / "built"


def test_the_site_builds_into_a_new_folder_marks_it_and_builds_there_again(tmp_path):
    """One real MkDocs build (about 10 s), staged in a temporary folder, then a second one over it."""
    site = build_site.build(tmp_path / "site", stage_dir=tmp_path / "stage")
    assert (site / "index.html").is_file() and (site / "notebooks" / "01_data.html").is_file()
    assert (site / build_site.MARKER).is_file()
    (site / "stale.html").write_text("left by an older build")
    assert build_site.build(site, stage_dir=tmp_path / "stage") == site
    assert (site / "index.html").is_file() and not (site / "stale.html").exists()
