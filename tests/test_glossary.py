"""docs/glossary.md links each term to the notebook and section that define it (issue 32): each row must name a
notebook that exists, a section heading that notebook has, and a term that notebook's text uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROW = re.compile(
    r"^\| (?P<term>.+?) \| (?P<meaning>.+) \| \[(?P<nb>\d\d[a-z]?)\]\((?P<link>[^)]+)\): (?P<section>.+) \|$"
)


def glossary_rows() -> list[dict]:
    lines = (REPO / "docs" / "glossary.md").read_text().splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| Term |")]
    rows = [ROW.match(line) for line in table]
    bad = [line for line, row in zip(table, rows) if not row]
    assert not bad, f"rows not in the form '| term | meaning | [NN](link): section |': {bad}"
    return [row.groupdict() for row in rows]


def markdown_of(link: str) -> str:
    notebook = json.loads((REPO / "docs" / link).resolve().read_text())
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")


def key_words(term: str) -> list[str]:
    """The words of a term that its notebook must use: 'dtype (`float32`, `int64`)' -> ['dtype']."""
    head = re.sub(r"\s*\(.*", "", term).replace("`", "").replace("\\|", "|")
    return [head.split(",")[0].strip().lower()]


def test_the_glossary_lists_each_term_once():
    terms = [row["term"].lower() for row in glossary_rows()]
    assert len(terms) > 100
    assert len(set(terms)) == len(terms), "a term is listed twice"


@pytest.mark.parametrize("row", glossary_rows(), ids=lambda row: row["term"][:40])
def test_each_term_points_to_the_section_that_defines_it(row):
    link = row["link"]
    assert link.startswith(f"../notebooks/{row['nb']}_") and (REPO / "docs" / link).resolve().is_file(), link
    text = markdown_of(link)
    headings = {h.strip() for h in re.findall(r"^#{2,4} (.+)$", text, flags=re.M)}
    assert row["section"] in headings, f"{link} has no section '{row['section']}'"
    for word in key_words(row["term"]):
        assert word in text.lower(), f"{link} never says '{word}'"


def test_the_site_lists_the_glossary():
    from tools import build_site

    assert "glossary" in build_site.GUIDES
