"""The graded assignments: an nbgrader course folder built from the course's notebooks (`make assignments`).

    python tools/make_assignments.py [--course-dir DIR] [--notebooks 01,02]

One assignment per notebook that has exercises, named after it (``02_model``) and holding that notebook, made from
the notebook as the course commits it, with the points and hidden tests of ``tools/assignments.toml``:

- an exercise's answer cell becomes an nbgrader answer cell: its own source, then its worked solution (the
  exercise's code cells in the Solutions section) between ``### BEGIN SOLUTION`` and ``### END SOLUTION``. The
  students' copy keeps ``answer = None`` (or the function to complete) and a ``# YOUR CODE HERE`` line;
- its check cell becomes a read-only graded test cell worth the exercise's points: the check, ``assert is_right``,
  then the hidden tests between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, which the students' copy
  leaves out;
- an open exercise (no answer or check cell) gets a cell for the student's code (the worked solution in the
  instructor's copy) and a written answer that the instructor grades by hand ("YOUR ANSWER HERE"; the answer key,
  the solution's ``# Answer:`` comment, in the instructor's copy);
- the Solutions section and the questionnaire's answers are left out; every other cell is read-only.

The course folder (default build/assignments/) is nbgrader's: this tool writes the instructor's copies into
``source/<assignment>/`` and an ``nbgrader_config.py``, then runs ``nbgrader generate_assignment`` for each, which
writes the students' copies into ``release/``; nbgrader's other commands (collect, autograde, generate_feedback)
fill the rest. The file ``.mnist-lab-assignments`` lists what this tool wrote, with digests. A folder that holds
files but no such list is refused, and so is a source notebook changed since the tool wrote it (exit status 2);
an ``nbgrader_config.py`` changed since is left as it is. The tool deletes nothing. An assignment whose notebook
did not change is left as it is; one that changed is made again (nbgrader replaces its ``release/`` folder), unless
the gradebook holds submissions of it: that is refused, as nbgrader cannot change an assignment under them.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/, for notebook_names
import notebook_names  # noqa: E402  (the course's notebook names, shared by the tools)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SPEC = REPO / "tools" / "assignments.toml"
COURSE = REPO / "build" / "assignments"
#: The list of files this tool wrote into a course folder, with their SHA-256 digests.
MARKER = ".mnist-lab-assignments"
#: What the students' copy shows where a solution was: one comment line, not nbgrader's NotImplementedError.
CODE_STUB = "# YOUR CODE HERE"
HIDDEN_FUNCTION = "_hidden_tests"
CONFIG = f"""\
# nbgrader's settings for the mnist-lab assignments, written by tools/make_assignments.py (make assignments).
# A build rewrites this file only while it is as written. Settings of your own (the course id, the exchange) can go
# in ~/.jupyter/nbgrader_config.py, which nbgrader reads too, or here: the build then leaves this file as it is.
c = get_config()  # noqa: F821

# The students' copy of an answer cell keeps `answer = None` (or the function to complete) and this line.
c.ClearSolutions.code_stub = {{"python": {json.dumps(CODE_STUB)}}}

# Autograding runs each notebook from the top, its training included: up to 15 minutes a cell.
c.Execute.timeout = 900

# Needed by release_assignment, collect and the other exchange commands (a JupyterHub), not on one machine:
# c.CourseDirectory.course_id = "mnist-lab"
"""
HEADER = """\
**Graded assignment.** Write each answer in the cell under its exercise: replace `None` (or complete the
function) where it says `# YOUR CODE HERE`, run that cell, then run the check under it, which says whether the
answer is right. When the assignment is graded, the notebook runs from the top and the check cells run hidden
tests as well. An open exercise has a cell for your code and one for your written answer, which your instructor
reads. The other cells are read-only, and the worked solutions are not part of this copy."""


class UsageError(ValueError):
    """A course folder or a points-and-tests file that the build must not use: one line, exit status 2."""


@dataclass
class Exercise:
    """Exercise ``number`` of a notebook: the indices of its cells, and its worked solution."""

    number: int
    question: int | None = None  # the markdown cell "**k.** ..."
    answer: int | None = None  # the cell tagged "answer"
    check: int | None = None  # the cell tagged "check"
    solution: list[str] = field(default_factory=list)  # its code cells in the Solutions section
    notes: list[str] = field(default_factory=list)  # its markdown cells there, other than "### Exercise k"

    @property
    def graded(self) -> bool:
        return self.answer is not None and self.check is not None


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """Return the course's notebooks in ``folder`` (``01_data.ipynb``, ...), in order."""
    return notebook_names.course_notebooks(folder)


def select(spec: str | None, paths: list[Path]) -> list[Path]:
    """Return the notebooks that ``spec`` picks ("01,02", "2b" or "02_model"); all of them when it is empty."""
    by_name = {p.stem: p for p in paths}
    try:
        return [by_name[name] for name in notebook_names.pick(spec, list(by_name))]
    except ValueError as error:
        raise UsageError(f"--notebooks: {error}.") from None


def exercises(nb) -> dict[int, Exercise]:
    """Return the exercises of notebook ``nb`` by number, read from the course's conventions: the "**k.**" cells of
    the Exercises section, the cells tagged answer, check and solution with metadata "exercise": k."""
    found: dict[int, Exercise] = {}
    section = None
    for i, cell in enumerate(nb.cells):
        source, k = cell.source, cell.metadata.get("exercise")
        heading = re.match(r"##\s+(\w+)", source) if cell.cell_type == "markdown" else None
        section = heading.group(1) if heading else section
        question = re.match(r"\*\*(\d+)\.\*\*", source) if cell.cell_type == "markdown" else None
        if question and section == "Exercises" and "solution" not in notebook_names.tags(cell):
            found.setdefault(int(question.group(1)), Exercise(int(question.group(1)))).question = i
        if k is None:
            continue
        exercise = found.setdefault(int(k), Exercise(int(k)))
        for role in ("answer", "check"):
            if role in notebook_names.tags(cell):
                if getattr(exercise, role) is not None:
                    raise UsageError(f"exercise {k} has two cells tagged {role!r}: an exercise has one of each.")
                setattr(exercise, role, i)
        if "solution" in notebook_names.tags(cell) and cell.cell_type == "code":
            exercise.solution.append(source.strip())
        elif "solution" in notebook_names.tags(cell) and not re.fullmatch(r"###\s*Exercise\s+\d+\s*", source.strip()):
            exercise.notes.append(source.strip())
    for exercise in found.values():
        if (exercise.answer is None) != (exercise.check is None):
            raise UsageError(f"exercise {exercise.number} has an answer cell or a check cell, not both.")
    return dict(sorted(found.items()))


def check_call(source: str) -> str | None:
    """Return the call whose result a check cell names ``is_right`` (``check_x(answer, ...)``), or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["is_right"]:
            return ast.unparse(node.value)
    return None


def same_call(a: str | None, b: str | None) -> bool:
    """Whether two calls are the same code, however they are laid out."""
    try:
        return a is not None and b is not None and ast.unparse(ast.parse(a)) == ast.unparse(ast.parse(b))
    except SyntaxError:
        return False


def load_spec(path: Path = SPEC) -> dict:
    """Return the points and hidden tests of ``path`` (tools/assignments.toml)."""
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from exc


def entry_problems(where: str, entry: dict, call: str) -> list[str]:
    """Return what is wrong with the table ``where`` of the spec for an exercise whose check cell makes ``call``."""
    problems = []
    if not same_call(entry.get("check"), call):
        problems.append(
            f"{where} is stale: its check is {entry.get('check')!r}, but the check cell now calls {call!r}. "
            "Read its hidden tests again, then copy the new call into `check`."
        )
    points = entry.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        problems.append(f"{where}: points = {points!r}: give a number of points, 0 or more.")
    hidden = entry.get("hidden")
    if not isinstance(hidden, str) or not hidden.strip():
        problems.append(f"{where}: no hidden tests: give `hidden`, code that asserts the right answer.")
    elif "mnist_lab_checks" in hidden:
        problems.append(f"{where}: its hidden tests use mnist_lab_checks: work the right value out without it.")
    else:
        try:
            ast.parse(hidden)
        except SyntaxError as exc:
            problems.append(f"{where}: its hidden tests are not valid Python: {exc}")
    return problems


def spec_problems(spec: dict, notebooks: dict[str, object], every_notebook: bool = True) -> list[str]:
    """Return what keeps ``spec`` from grading ``notebooks`` (name: notebook): an autograded exercise without an
    entry, an entry for no such exercise or with another check call (stale), a bad entry. With ``every_notebook``,
    ``notebooks`` is the whole course and a table for a notebook that is not there is stale too."""
    problems = []
    for name, nb in notebooks.items():
        try:
            graded = {k: e for k, e in exercises(nb).items() if e.graded}
        except UsageError as exc:
            problems.append(f"{name}: {exc}")
            continue
        entries = spec.get(name, {})
        for k, exercise in graded.items():
            call = check_call(nb.cells[exercise.check].source)
            where = f'["{name}".{k}] in {SPEC.name}'
            if call is None:
                problems.append(f"{name} exercise {k}: its check cell has no line `is_right = check_...(answer, ...)`.")
            elif str(k) not in entries:
                problems.append(f'{name} exercise {k}: {SPEC.name} has no ["{name}".{k}] (its check: {call}).')
            else:
                problems += entry_problems(where, entries[str(k)], call)
        stale = [key for key in entries if not key.isdigit() or int(key) not in graded]
        problems += [
            f'["{name}".{key}] in {SPEC.name} is stale: {name} has no autograded exercise {key}.' for key in stale
        ]
    if every_notebook:
        tables = [key for key, value in spec.items() if isinstance(value, dict) and key not in notebooks]
        problems += [f'["{key}"] in {SPEC.name} is stale: there is no notebook {key}.' for key in tables]
    return problems


def _nbgrader(grade_id: str, *, solution=False, points=None, locked=False) -> dict:
    """Return nbgrader's cell metadata: an answer (``solution``), a graded cell (``points``) or a read-only cell."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked, "schema_version": 3}
    meta["solution"] = solution
    return meta | ({"points": points} if points is not None else {})


def _answer_key(exercise: Exercise) -> str:
    """Return the answer that an open exercise's worked solution states (its ``# Answer:`` comment and notes)."""
    said, lines = [], "\n".join(exercise.solution).splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("# Answer:"):
            said.append(line.strip()[len("# Answer:") :].strip())
            more = itertools.takewhile(lambda rest: rest.strip().startswith("#"), lines[i + 1 :])
            said += [rest.strip()[1:].strip() for rest in more]
            break
    text = " ".join(said) or "the worked solution's code above shows the answer."
    return "\n\n".join([f"**Answer key** (the students' copy says YOUR ANSWER HERE): {text}", *exercise.notes])


def _solution_region(code: str) -> str:
    return f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"


def _hidden_region(code: str) -> str:
    """Return the hidden tests ``code``, run in a function of their own so their names do not touch the notebook's."""
    body = textwrap.indent(textwrap.dedent(code).strip(), "    ")
    return f"### BEGIN HIDDEN TESTS\ndef {HIDDEN_FUNCTION}():\n{body}\n\n\n{HIDDEN_FUNCTION}()\n### END HIDDEN TESTS"


def graded_cells(nb, exercise: Exercise, entry: dict) -> None:
    """Turn the answer and check cells of ``exercise`` (in ``nb``) into nbgrader's answer and test cells."""
    k, answer, check = exercise.number, nb.cells[exercise.answer], nb.cells[exercise.check]
    answer.source = answer.source.rstrip() + "\n" + _solution_region("\n\n".join(exercise.solution))
    answer.metadata["nbgrader"] = _nbgrader(f"exercise-{k}-answer", solution=True)
    assertion = f'assert is_right, "exercise {k} is not right yet: the check above says why"'
    check.source = "\n".join([check.source.rstrip(), assertion, _hidden_region(entry["hidden"])])
    check.metadata["nbgrader"] = _nbgrader(f"exercise-{k}-check", points=entry["points"], locked=True)


def open_cells(exercise: Exercise, points: float) -> list:
    """Return the two cells an open exercise gets: one for the student's code, one for the written answer."""
    k, v4 = exercise.number, nbformat.v4
    code = v4.new_code_cell(_solution_region("\n\n".join(exercise.solution)), id=f"exercise-{k}-code")
    code.metadata["nbgrader"] = _nbgrader(f"exercise-{k}-code", solution=True)
    written = v4.new_markdown_cell(_answer_key(exercise), id=f"exercise-{k}-written")
    written.metadata["nbgrader"] = _nbgrader(f"exercise-{k}-written", solution=True, points=points)
    return [code, written]


def assignment(nb, entries: dict, open_points: float):
    """Return the instructor's copy of notebook ``nb`` as an nbgrader assignment (the module's docstring says how),
    with ``entries`` (exercise number: its table of the spec) and ``open_points`` for each open exercise."""
    nb = copy.deepcopy(nb)
    found = exercises(nb)
    for exercise in found.values():
        if exercise.graded:
            graded_cells(nb, exercise, entries[str(exercise.number)])
    after = {e.question: open_cells(e, open_points) for e in found.values() if not e.graded and e.question is not None}
    cells = []
    for i, cell in enumerate(nb.cells):
        if "solution" in notebook_names.tags(cell):
            continue
        if "nbgrader" not in cell.metadata:
            cell.metadata["nbgrader"] = _nbgrader(f"cell-{cell.get('id') or i}", locked=True)
        cells += [cell, *after.get(i, [])]
    header = nbformat.v4.new_markdown_cell(HEADER, id="assignment-header")
    header.metadata["nbgrader"] = _nbgrader("assignment-header", locked=True)
    nb.cells = cells[:1] + [header] + cells[1:]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_course_dir(course: Path) -> dict[str, str]:
    """Return the list of files this tool wrote into ``course`` (path: digest), or refuse a folder it must not use:
    one in or around the repository's sources, a file, a folder that holds files and no such list."""
    course = course.expanduser().resolve()
    sources = [REPO / d for d in ("notebooks", "docs", "tools", "tests", "mnist_lab", "mnist_lab_checks")]
    if course == REPO or course in REPO.parents or any(course == s or s in course.parents for s in sources):
        raise UsageError(f"--course-dir {course} is, holds or lies in the course's sources: choose another folder.")
    if course.exists() and not course.is_dir():
        raise UsageError(f"--course-dir {course} is a file: choose a folder for the assignments.")
    marker = course / MARKER
    if marker.is_file():
        return json.loads(marker.read_text())["files"]
    if course.is_dir() and any(course.iterdir()):
        raise UsageError(
            f"--course-dir {course} holds files and is not a course folder that this tool made (it has no {MARKER}): "
            "choose an empty or new folder."
        )
    return {}


def handed_in(course: Path, names: list[str]) -> list[str]:
    """Return the assignments among ``names`` that the gradebook of ``course`` holds submissions of."""
    if not names or not (course / "gradebook.db").is_file():
        return []
    from nbgrader.api import Gradebook, MissingEntry

    found = []
    with _scripts_on_path(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for name in names:
            with contextlib.suppress(MissingEntry):
                found += [name] if gb.find_assignment(name).submissions else []
    return found


@contextlib.contextmanager
def _scripts_on_path():
    """Put this Python's scripts folder first on PATH for a while: nbgrader's gradebook runs ``alembic``."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = nbgrader_env()["PATH"]
    try:
        yield
    finally:
        os.environ["PATH"] = before


def write_course(course: Path, built: dict[str, object]) -> tuple[list[str], list[str]]:
    """Write the assignments ``built`` (name: notebook) and nbgrader_config.py into ``course``; return notes on
    files left as they are, and the assignments whose students' copy is to be made (new, changed, or missing).
    Nothing is written when a source notebook was changed since this tool wrote it, or when an assignment to be
    made again has submissions in the gradebook (nbgrader cannot change it under them)."""
    course, wrote = course.expanduser().resolve(), check_course_dir(course)
    files = {f"source/{name}/{name}.ipynb": nbformat.writes(nb).encode() for name, nb in built.items()}
    edited = [
        rel for rel in files if (course / rel).exists() and _digest((course / rel).read_bytes()) != wrote.get(rel)
    ]
    if edited:
        raise UsageError(
            f"{', '.join(edited)} in {course} changed since this tool wrote it (or it did not write it): move the "
            "file away to rebuild it from the course's notebook."
        )
    notes, config = [], course / "nbgrader_config.py"
    if not config.exists() or _digest(config.read_bytes()) == wrote.get(config.name):
        files[config.name] = CONFIG.encode()
    else:
        notes.append(f"{config} was changed since this tool wrote it: left as it is.")
    new_config = config.name in files and wrote.get(config.name) != _digest(files[config.name])
    to_make = [
        name for name in built
        if new_config or wrote.get(f"source/{name}/{name}.ipynb") != _digest(files[f"source/{name}/{name}.ipynb"])
        or not (course / "release" / name / f"{name}.ipynb").is_file()
    ]  # fmt: skip
    graded = handed_in(course, to_make)
    if graded:
        raise UsageError(
            f"{', '.join(graded)}: the gradebook in {course} holds submissions of the assignment as it was built, "
            "and nbgrader cannot change an assignment under them. Grade it as it is, or build the new one into a "
            "new course folder (--course-dir)."
        )
    for rel, data in files.items():
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        (course / rel).write_bytes(data)
        wrote[rel] = _digest(data)
    (course / MARKER).write_text(json.dumps({"files": wrote}, indent=1, sort_keys=True) + "\n")
    return notes, to_make


def nbgrader_env() -> dict[str, str]:
    """Return the environment for an nbgrader command: this Python's scripts folder first on PATH, where nbgrader
    finds ``alembic``, which it runs to open the gradebook (a virtual environment that is not activated)."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}


def generate(course: Path, name: str) -> None:
    """Run ``nbgrader generate_assignment`` for assignment ``name`` in ``course``: the students' copy in release/
    and the assignment in the gradebook. Raise RuntimeError with nbgrader's log when it fails."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"]
    done = subprocess.run(command, cwd=course, capture_output=True, text=True, env=nbgrader_env())
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{done.stdout}{done.stderr}")


def summary(nb, entries: dict, open_points: float) -> str:
    """Return one line on what an assignment grades."""
    found = exercises(nb).values()
    graded = [e for e in found if e.graded]
    auto = sum(entries[str(e.number)]["points"] for e in graded)
    by_hand = [e for e in found if not e.graded and e.question is not None]
    return (
        f"autograded exercises: {len(graded)} ({auto:g} points); "
        f"open exercises, graded by hand: {len(by_hand)} ({open_points * len(by_hand):g} points)"
    )


def build(course: Path, paths: list[Path], spec_path: Path = SPEC, run_nbgrader: bool = True) -> list[str]:
    """Build the assignments of the notebooks ``paths`` that have exercises into ``course``; return what was done,
    one line per assignment. Refuse (UsageError) a spec that does not fit the notebooks, or the folder."""
    spec, notebooks = load_spec(spec_path), {p.stem: nbformat.read(p, as_version=4) for p in paths}
    problems = spec_problems(spec, notebooks, every_notebook=set(paths) == set(course_notebooks()))
    if problems:
        raise UsageError(f"{spec_path} does not fit the notebooks:\n  " + "\n  ".join(problems))
    open_points = spec.get("open_points", 1)
    with_exercises = {name: nb for name, nb in notebooks.items() if exercises(nb)}
    built = {name: assignment(nb, spec.get(name, {}), open_points) for name, nb in with_exercises.items()}
    lines, to_make = write_course(course, built)
    for name, nb in with_exercises.items():
        if run_nbgrader and name in to_make:
            generate(course, name)
        unchanged = "" if name in to_make else " (unchanged: its students' copy is as it was)"
        lines.append(f"{name}: {summary(nb, spec.get(name, {}), open_points)}{unchanged}")
    lines += [f"{name}: no exercises, no assignment" for name in notebooks if name not in with_exercises]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Build the assignments; print one line per assignment, where they are and the seconds it took."""
    p = argparse.ArgumentParser(prog="make_assignments.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--course-dir", type=Path, default=COURSE, help="the nbgrader course folder (build/assignments)")
    p.add_argument("--notebooks", default=None, help="only these notebooks, by name or number: 01,02")
    args = p.parse_args(argv)
    start = time.perf_counter()
    try:
        lines = build(args.course_dir, select(args.notebooks, course_notebooks()))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    course = args.course_dir.expanduser().resolve()
    print("\n".join(lines))
    print(f"Assignments in {course} ({time.perf_counter() - start:.1f} s): the instructor's copies in source/, the")
    print("students' in release/. Next: docs/instructors.md, 'Graded assignments'.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
