"""MkDocs hooks of the course's site (mkdocs.yml names this file; tools/build_site.py builds the site).

- A link to a file of the repository that is not on the site (``LICENSE``, ``tools/run_course.py``) goes to that
  file on GitHub, so that the README reads the same there and here; a link to nothing still fails the build.
- On a notebook's page: the solution cells (tagged ``solution``) are folded in a ``<details>`` until clicked (the
  Solutions section's title and each exercise's heading stay in view), links to other notebooks go to their
  pages, and the Colab, Binder and download links stand under the title.
- MathJax comes from the site itself (``assets/mathjax``, copied from the jupyter-server-mathjax package), with the
  web fonts that package ships: a page makes no request outside the site.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
MARKDOWN_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
#: MathJax's HTML-CSS output with the STIX web fonts that jupyter-server-mathjax ships (its default, TeX, is not
#: there), and its blank test font taken from the system (by default an ``about:blank`` URL, which Chromium refuses
#: with an error in the console).
MATHJAX_FONTS = (
    'MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null, '
    'styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local(\'MathJax_Blank\')"}}}});'
)


def _relative(target: str) -> bool:
    """Whether ``target`` is a link within the site or the repository (not ``https:``, ``mailto:``, ``#``, ``/``)."""
    return bool(target) and not re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target, re.I)


def _resolve(path: str, page) -> str:
    """Return relative link ``path`` of ``page`` as a path from the site's (and the repository's) top folder."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path))


def _on_github(path: str, config) -> str:
    """Return the address of repository file or folder ``path`` on GitHub."""
    kind = "tree" if (REPO / path).is_dir() else "blob"
    return f"{config.extra['repository']}/{kind}/{config.extra['branch']}/{path}"


def _outside_site(target: str, page, files, config) -> str | None:
    """Return the GitHub address for relative link ``target`` of ``page`` when it names a repository file that is not
    on the site; else ``None`` (leave the link as it is)."""
    path, _, anchor = target.partition("#")
    resolved = _resolve(path, page)
    if files.get_file_from_path(resolved) is not None or resolved.startswith("..") or not (REPO / resolved).exists():
        return None
    return _on_github(resolved, config) + (f"#{anchor}" if anchor else "")


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Send links to repository files that are not on the site to GitHub (not images: a page shows only the site's)."""

    def replace(match: re.Match) -> str:
        target, image = match.group(2), match.group(1).startswith("!")
        new = _outside_site(target, page, files, config) if _relative(target) and not image else None
        return match.group(1) + (new or target) + match.group(3)

    return MARKDOWN_LINK.sub(replace, markdown)


def _launch_links(soup, page, config):
    """Return the paragraph of Colab, Binder and download links for notebook ``page``."""
    path = page.file.src_uri  # notebooks/NN_name.ipynb, as in the repository
    repo, branch = config.extra["repository"], config.extra["branch"]
    github = repo.removeprefix("https://github.com/")
    links = {
        "Open in Colab": f"https://colab.research.google.com/github/{github}/blob/{branch}/{path}",
        "Launch on Binder": f"https://mybinder.org/v2/gh/{github}/{branch}?labpath={quote(path, safe='')}",
        "Download the notebook": posixpath.basename(path),
    }
    p = soup.new_tag("p", attrs={"class": "launch-links"})
    p.append("Run it yourself: ")
    for i, (text, href) in enumerate(links.items()):
        if i:
            p.append(" · ")
        a = soup.new_tag("a", href=href)
        a.string = text
        p.append(a)
    return p


def _flatten(toc):
    """Yield the entries of a table of contents, each before its children."""
    for item in toc:
        yield item
        yield from _flatten(item.children)


def _toc_like_headings(page, soup) -> None:
    """Give the page's table of contents the ids and titles of the notebook's headings. mkdocs-jupyter builds it from a
    Markdown copy of the notebook, whose ids leave out a heading's code ("what-do-and-change" for "What do
    `model.eval()` and ... change?"), so its links would miss the headings."""
    items = list(_flatten(page.toc))
    headings = soup.find_all(re.compile(r"^h[1-6]$"), id=True)
    headings = [h for h in headings if h.find_parent(class_="jp-MarkdownCell") is not None]
    if [i.level for i in items] != [int(h.name[1]) for h in headings]:
        return  # not the same headings: leave it (the site's test reports the links that miss)
    for item, heading in zip(items, headings):
        item.id = heading["id"]
        item.title = heading.get_text().removesuffix("¶").strip()


def _only_headings(cell) -> bool:
    """Whether a solution cell is a Markdown cell of headings and a line of guidance, with nothing to fold: the
    Solutions section's title and each exercise's heading (the answer key's heading shares a cell with its answers)."""
    if not {"jp-MarkdownCell", "jp-RenderedMarkdown"} & set(cell.get("class", [])):
        return False  # mkdocs-jupyter puts the tag's class on the cell or on its rendered Markdown
    return not cell.find(["ol", "ul", "pre", "table", "img"]) and bool(cell.find(re.compile(r"^h[1-6]$")))


def on_page_content(html: str, page, config, files) -> str:
    """On a notebook's page: fold the solutions, point links at pages, align the table of contents with the headings,
    add the launch links and MathJax's fonts."""
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for cell in soup.select("div.celltag_solution"):
        if cell.find_parent("div", class_="celltag_solution") is not None:
            continue  # mkdocs-jupyter's template nests the cell's div in one more with the same classes
        if _only_headings(cell):
            continue  # "## Solutions", "### Exercise 2": the section's signposts stay in view
        details = soup.new_tag("details", attrs={"class": "solution"})
        summary = soup.new_tag("summary")
        summary.string = "Solution (click to show)"
        cell.wrap(details)
        details.insert(0, summary)
    for a in soup.select("a[href]"):
        href = a["href"]
        if not _relative(href):
            continue
        path, _, anchor = href.partition("#")
        target = files.get_file_from_path(_resolve(path, page))
        if target is not None and target.is_documentation_page():
            a["href"] = target.url_relative_to(page.file) + (f"#{anchor}" if anchor else "")
        else:
            a["href"] = _outside_site(href, page, files, config) or href
    _toc_like_headings(page, soup)
    title = soup.find("h1")
    if title is not None:
        title.insert_after(_launch_links(soup, page, config))
    mathjax = soup.find("script", src=re.compile(r"MathJax\.js"))
    if mathjax is not None:
        fonts = soup.new_tag("script", attrs={"type": "text/x-mathjax-config"})
        fonts.string = MATHJAX_FONTS
        mathjax.insert_after(fonts)
    return str(soup)


def on_post_build(config) -> None:
    """Copy MathJax (from the installed jupyter-server-mathjax package) into the site's ``assets/mathjax``."""
    import jupyter_server_mathjax

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = Path(config.site_dir) / "assets" / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
