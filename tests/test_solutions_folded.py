"""Every answer stays out of the student's way until asked for (issue 32): the Solutions section comes after the
questionnaire, every cell in it is tagged ``solution`` (so ``make student`` drops it and the site folds it), each
worked solution's code and outputs are folded in JupyterLab, and the questionnaire's answer key is folded too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from notebook_names import course_notebooks, tags  # tools/notebook_names.py

NOTEBOOKS = course_notebooks(Path(__file__).resolve().parents[1] / "notebooks")


def heading(cell: dict) -> str:
    """Return the first line of a Markdown cell ('' for code)."""
    source = "".join(cell["source"])
    return source.splitlines()[0].strip() if cell["cell_type"] == "markdown" and source else ""


def folded(cell: dict, *parts: str) -> bool:
    """Return whether JupyterLab shows each of ``parts`` ("source", "outputs") of ``cell`` collapsed."""
    jupyter = cell.get("metadata", {}).get("jupyter", {})
    return all(jupyter.get(f"{part}_hidden") is True for part in parts)


def test_the_course_has_notebooks():
    assert len(NOTEBOOKS) >= 24


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_follow_the_questionnaire_and_are_tagged_and_folded(path):
    cells = json.loads(path.read_text())["cells"]
    titles = [heading(c) for c in cells]
    assert "## Questionnaire" in titles and "## Solutions" in titles, f"{path.name}: no questionnaire or solutions"
    start = titles.index("## Solutions")
    assert titles.index("## Questionnaire") < start, f"{path.name}: solutions come before the questionnaire"
    untagged = [i for i, c in enumerate(cells) if i >= start and "solution" not in tags(c)]
    assert not untagged, f"{path.name}: cells {untagged} in Solutions are not tagged solution"
    unfolded = [
        i
        for i, c in enumerate(cells)
        if "solution" in tags(c) and c["cell_type"] == "code" and not folded(c, "source", "outputs")
    ]
    assert not unfolded, f"{path.name}: solution code cells {unfolded} are not folded (source and outputs)"
    keys = [i for i, t in enumerate(titles) if t.startswith("### Answers to the questionnaire")]
    assert len(keys) == 1 and keys[0] > start, f"{path.name}: no answer key in Solutions"
    assert folded(cells[keys[0]], "source"), f"{path.name}: the answer key (cell {keys[0]}) is not folded"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_exercise_cell_names_its_exercise(path):
    """The assignments tool and the site find an exercise's answer, check and solution by its number."""
    cells = json.loads(path.read_text())["cells"]
    unnumbered = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code"
        and {"answer", "check", "solution"} & set(tags(c))
        and not isinstance(c["metadata"].get("exercise"), int)
    ]
    assert not unnumbered, f"{path.name}: exercise cells {unnumbered} have no exercise number"
    answers = {c["metadata"]["exercise"] for c in cells if "answer" in tags(c)}
    solved = {c["metadata"]["exercise"] for c in cells if "solution" in tags(c) and c["cell_type"] == "code"}
    assert answers and answers <= solved, f"{path.name}: exercises {sorted(answers - solved)} have no solution"
