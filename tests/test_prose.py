"""Every sentence true of the outputs beside it: a number written in a notebook's Markdown is printed by a cell of
the same notebook (or written in its code), so re-running a notebook that changes a result fails here until the
prose follows. Small integers (under 100: "two layers", "3×3", "10 digits") and years (citations) are free.

The lesson prose names only what the student runs: no machinery of the course itself (CPU vector units, BLAS,
threads, float paths, database locking, the test tools, the project's history).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notebook_names import course_notebooks  # tools/notebook_names.py

NOTEBOOKS = course_notebooks(Path(__file__).resolve().parents[1] / "notebooks")
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?%)?(?![\w])")
MACHINERY = re.compile(
    r"\b(AVX\S*|BLAS|MKL|OMP_NUM_THREADS|threads?|float paths?|vector units?|SQLite|lock(s|ing)?|FOR UPDATE|"
    r"BEGIN IMMEDIATE|nbval|CI|make (test|bench|notebooks)|records run|benchmark|an earlier (version|recipe)|"
    r"earlier recipe|issue \d+)\b",
    re.IGNORECASE,
)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def markdown_text(source: str) -> str:
    """Return Markdown without code (fenced or inline), link targets and HTML tags: the words a student reads."""
    source = re.sub(r"```.*?```", " ", source, flags=re.S)
    source = re.sub(r"`[^`]*`", " ", source)
    source = re.sub(r"\]\([^)]*\)", "]", source)
    return re.sub(r"<[^>]+>", " ", source)


def checked_numbers(text: str) -> list[str]:
    """Return the numbers of ``text`` the rule applies to: with a decimal point or a % sign, or 100 and more."""
    found = []
    for match in NUMBER.finditer(text):
        whole, decimals, percent = match.group(1), match.group(2), match.group(3)
        value = int(whole.replace(",", ""))
        if not decimals and not percent and (value < 100 or 1900 <= value <= 2030):
            continue
        found.append(whole + (decimals or "") + ("%" if percent else ""))
    return found


def printed_and_coded(notebook: list[dict]) -> str:
    """Return everything a notebook's code cells say: their source and their outputs."""
    parts = []
    for cell in notebook:
        if cell["cell_type"] != "code":
            continue
        parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            parts += ["".join(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


def found_in(number: str, haystack: str) -> bool:
    bare = number.rstrip("%")
    candidates = {number, bare, bare.replace(",", ""), f"{int(bare.replace(',', '')):,}" if "." not in bare else bare}
    return any(re.search(rf"(?<![\d.]){re.escape(c)}(?![\d])", haystack) for c in candidates)


def test_the_number_rule_reads_numbers_as_a_student_does():
    text = "We train 10 epochs on 55,000 images to 98.48% (LeCun, 1998), lr 0.05, `shape (32, 784)`, 3×3 kernels."
    assert checked_numbers(markdown_text(text)) == ["55,000", "98.48%", "0.05"]
    assert found_in("55,000", "print(55000)") and found_in("98.48%", "test accuracy: 98.48%")
    assert not found_in("98.5%", "test accuracy: 98.48%") and not found_in("0.05", "lr 0.055")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_printed_or_coded_by_the_notebook(path):
    notebook = cells(path)
    haystack = printed_and_coded(notebook)
    missing = []
    for index, cell in enumerate(notebook):
        if cell["cell_type"] == "markdown":
            text = markdown_text("".join(cell["source"]))
            missing += [f"cell {index}: {n}" for n in checked_numbers(text) if not found_in(n, haystack)]
    assert not missing, f"{path.name}: numbers in Markdown that no cell prints or writes: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_lessons_do_not_talk_about_the_machinery(path):
    found = []
    for index, cell in enumerate(cells(path)):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and re.search(r"^#+\s*(Exercises|Questionnaire)", source, re.M):
            break  # the lesson ends where the exercises begin
        if cell["cell_type"] == "markdown":
            found += [f"cell {index}: {m.group(0)!r}" for m in MACHINERY.finditer(markdown_text(source))]
    assert not found, f"{path.name}: machinery in the lesson prose (it belongs in docs/instructors.md): {found}"
