"""The course's notebook names, in one place: which files are notebooks, and what ``--notebooks`` picks.

A notebook is ``NN_<name>.ipynb``; a notebook split in two keeps ``NN_`` for its first part and its second part
takes a letter, ``NNb_<name>.ipynb`` (docs/contributing.md). The runner, the assignments tool, the site and the
tests all read the course through :func:`course_notebooks`.
"""

from __future__ import annotations

import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAME = re.compile(r"\d\d[a-z]?_\w+")  # 05_better_training, 05b_ablation


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """Return the course's notebooks in ``folder`` (``01_data.ipynb``, ...), in order."""
    return sorted(p for p in folder.glob("*.ipynb") if NAME.fullmatch(p.stem))


def tags(cell: dict) -> list[str]:
    """Return a notebook cell's tags (``["solution"]``, ...; ``[]`` when it has none)."""
    return cell.get("metadata", {}).get("tags", [])


def pick(spec: str | None, names: list[str]) -> list[str]:
    """Return the names that ``spec`` picks, in its order, or all of ``names`` when it is empty.

    ``spec`` lists notebooks by comma or space: a full name (``05_better_training``), the part after the number
    (``better_training``) or the number (``05``, ``5``, ``05b``, ``5b``; ``05`` is not ``05b``). A ``ValueError``
    names an item that picks nothing and the choices.
    """
    if not spec:
        return list(names)
    picked: list[str] = []
    for item in filter(None, re.split(r"[,\s]+", spec)):
        number = "0" + item if re.fullmatch(r"\d[a-z]?", item) else item
        match = [n for n in names if item in (n, n.split("_", 1)[1]) or n.split("_", 1)[0] == number]
        if not match:
            raise ValueError(f"no notebook {item!r}: choose among {', '.join(names)} (or their numbers)")
        picked += [n for n in match if n not in picked]
    return picked
