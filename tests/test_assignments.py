"""The graded assignments (tools/make_assignments.py, `make assignments`): nbgrader assignments made from the course's
notebooks and tools/assignments.toml, graded by nbgrader's own commands.

The fast tests read every notebook: each autograded exercise has points and hidden tests, none of them stale; the
instructor's copy holds the solutions and hidden tests and locks every other cell; the students' copy, as nbgrader's
preprocessors make it, holds neither. The integration test builds one notebook's assignment, grades three submissions
with ``nbgrader autograde`` (the solutions, the release untouched, a typical mistake), reads the scores from
nbgrader's gradebook and the mistake's name from ``nbgrader generate_feedback``'s HTML. It needs MNIST (make data).
"""

from __future__ import annotations

import contextlib
import copy
import html
import importlib.util
import io
import json
import re
import subprocess
import sys
import tomllib
import urllib.parse
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_assignments", REPO / "tools" / "make_assignments.py")
make_assignments = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = make_assignments  # its dataclass looks its module up there
spec.loader.exec_module(make_assignments)

NOTEBOOKS = {p.stem: nbformat.read(p, as_version=4) for p in make_assignments.course_notebooks()}
WITH_EXERCISES = [name for name, nb in NOTEBOOKS.items() if make_assignments.exercises(nb)]
SPEC = make_assignments.load_spec()
#: The notebook whose assignment the integration test grades (a fast one), and the typical mistake it submits: its
#: exercise 1's answer without the biases, which the check names.
GRADED = "02_model"
MISTAKE = {
    "exercise": 1,
    "call": "check_parameter_count(answer, hidden=[300, 100])",
    "answer": "answer = 784 * 300 + 300 * 100 + 100 * 10  # the weights of the three layers",
}


def test_notebooks_are_picked_as_the_runner_picks_them():
    paths = [REPO / "notebooks" / f"{name}.ipynb" for name in ("03_autograd", "03b_backprop")]
    assert make_assignments.select("3b", paths) == paths[1:]
    assert make_assignments.select("03,backprop", paths) == paths
    with pytest.raises(make_assignments.UsageError, match="no notebook '3c'"):
        make_assignments.select("3c", paths)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def students_copy(source):
    """Return the students' copy of an instructor's copy, made by the preprocessors of nbgrader's
    generate_assignment that change sources, with the course's code stub."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb, resources = ClearSolutions(code_stub={"python": make_assignments.CODE_STUB}).preprocess(
        copy.deepcopy(source), {}
    )
    return ClearHiddenTests().preprocess(nb, resources)[0]


def fitting_spec(names: list[str]) -> dict:
    """Return a spec that fits notebooks ``names`` as they are today: tools/assignments.toml's entries where they fit,
    a stand-in entry (1 point, a trivial hidden test) for any other autograded exercise. The tests of the tool's
    workings use it, so that they hold while tools/assignments.toml waits for an exercise changed in a notebook (the
    test above names each such entry)."""
    spec = {"open_points": SPEC["open_points"]}
    for name in names:
        for k, exercise in make_assignments.exercises(NOTEBOOKS[name]).items():
            if exercise.graded:
                call = make_assignments.check_call(NOTEBOOKS[name].cells[exercise.check].source)
                entry = SPEC.get(name, {}).get(str(k), {})
                if not make_assignments.same_call(entry.get("check"), call):
                    entry = {"check": call, "points": 1, "hidden": "assert answer is not None or True"}
                spec.setdefault(name, {})[str(k)] = entry
    return spec


def write_spec(spec: dict, path: Path) -> Path:
    """Write ``spec`` as TOML (JSON's strings are TOML's basic strings); return ``path``."""
    lines = [f"open_points = {spec['open_points']}"]
    for name, entries in spec.items():
        for k, entry in entries.items() if isinstance(entries, dict) else ():
            lines += ["", f'["{name}".{k}]'] + [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    path.write_text("\n".join(lines) + "\n")
    assert tomllib.loads(path.read_text()) == spec
    return path


def test_there_are_assignments_to_build():
    assert len(WITH_EXERCISES) >= 2 and GRADED in WITH_EXERCISES


def test_every_autograded_exercise_has_points_and_hidden_tests_and_no_entry_is_stale():
    assert make_assignments.spec_problems(SPEC, NOTEBOOKS) == []


def test_a_missing_stale_or_bad_entry_is_named(tmp_path):
    nb, other = NOTEBOOKS[GRADED], "02b_loss"  # other: a second notebook with an autograded exercise 1
    spec = fitting_spec([GRADED, other])
    assert make_assignments.spec_problems(spec, {GRADED: nb, other: NOTEBOOKS[other]}, every_notebook=False) == []
    entries = spec[GRADED]
    del entries["1"]
    spec[other]["1"]["check"] = "check_cross_entropy(answer, logits=[1.0, 0.0], label=0)"  # the notebook changed
    spec[other]["1"]["hidden"] = "from mnist_lab_checks import check_cross_entropy"
    entries["9"] = {"check": "check_x(answer)", "points": 1, "hidden": "assert True"}  # no such exercise
    problems = make_assignments.spec_problems({**spec, "99_gone": {}}, {GRADED: nb, other: NOTEBOOKS[other]})
    text = "\n".join(problems)
    assert len(problems) == 5, text
    assert f'{GRADED} exercise 1: assignments.toml has no ["{GRADED}".1]' in text
    assert f'["{other}".1] in assignments.toml is stale: its check is' in text
    assert "its hidden tests use mnist_lab_checks" in text
    assert f'["{GRADED}".9] in assignments.toml is stale: {GRADED} has no autograded exercise 9' in text
    assert '["99_gone"] in assignments.toml is stale: there is no notebook 99_gone' in text

    twice = copy.deepcopy(nb)
    answer = next(c for c in twice.cells if "answer" in c.metadata.get("tags", []))
    twice.cells.append(copy.deepcopy(answer))
    assert make_assignments.spec_problems(fitting_spec([GRADED]), {GRADED: twice}, every_notebook=False) == [
        f"{GRADED}: exercise {answer.metadata['exercise']} has two cells tagged 'answer': an exercise has one of each."
    ]

    spec = fitting_spec([GRADED])
    spec[GRADED]["7"] = spec[GRADED].pop("1")
    course = tmp_path / "course"
    with pytest.raises(make_assignments.UsageError, match=f"{GRADED} exercise 1"):
        make_assignments.build(course, [REPO / "notebooks" / f"{GRADED}.ipynb"], write_spec(spec, tmp_path / "a.toml"))
    assert not course.exists()


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_the_instructors_copy_grades_each_exercise_and_locks_the_rest(name):
    from nbgrader.nbgraderformat import MetadataValidator

    nb = NOTEBOOKS[name]
    found = make_assignments.exercises(nb)
    spec = fitting_spec([name])
    source = make_assignments.assignment(nb, spec.get(name, {}), spec["open_points"])
    MetadataValidator().validate_nb(source)  # nbgrader's own check: ids, points, cell kinds
    assert not [c for c in source.cells if "solution" in c.metadata.get("tags", [])]
    by_id = {nbgrader_meta(c)["grade_id"]: c for c in source.cells}
    assert len(by_id) == len(source.cells)  # every cell is nbgrader's, each with its own id
    editable = {gid for gid, c in by_id.items() if nbgrader_meta(c)["solution"]}
    graded = [k for k, e in found.items() if e.graded]
    open_ = [k for k, e in found.items() if not e.graded and e.question is not None]
    assert editable == {f"exercise-{k}-answer" for k in graded} | {
        f"exercise-{k}-{part}" for k in open_ for part in ("code", "written")
    }
    assert all(nbgrader_meta(c)["locked"] for gid, c in by_id.items() if gid not in editable)
    for k in graded:
        answer, check = by_id[f"exercise-{k}-answer"].source, by_id[f"exercise-{k}-check"]
        assert answer.startswith(nb.cells[found[k].answer].source.rstrip() + "\n### BEGIN SOLUTION\n")
        assert all(solution in answer for solution in found[k].solution) and found[k].solution
        assert nbgrader_meta(check)["points"] == spec[name][str(k)]["points"]
        assert "\nassert is_right, " in check.source and "### BEGIN HIDDEN TESTS\n" in check.source
    for k in open_:
        assert nbgrader_meta(by_id[f"exercise-{k}-written"])["points"] == SPEC["open_points"]
        assert by_id[f"exercise-{k}-written"].source.startswith("**Answer key**")


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_the_students_copy_keeps_the_stubs_and_leaves_out_solutions_and_hidden_tests(name):
    nb = NOTEBOOKS[name]
    found = make_assignments.exercises(nb)
    spec = fitting_spec([name])
    release = students_copy(make_assignments.assignment(nb, spec.get(name, {}), spec["open_points"]))
    by_id = {nbgrader_meta(c)["grade_id"]: c for c in release.cells}
    text = "\n".join(c.source for c in release.cells)
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", make_assignments.HIDDEN_FUNCTION, "NotImplementedError"):
        assert marker not in text
    for k, exercise in found.items():
        if exercise.graded:
            stub = nb.cells[exercise.answer].source.rstrip() + "\n" + make_assignments.CODE_STUB
            assert by_id[f"exercise-{k}-answer"].source == stub
            assert by_id[f"exercise-{k}-check"].source.startswith(nb.cells[exercise.check].source.rstrip())
        elif exercise.question is not None:
            assert by_id[f"exercise-{k}-code"].source == make_assignments.CODE_STUB
            assert by_id[f"exercise-{k}-written"].source == "YOUR ANSWER HERE"
    lesson = [c.source for c in nb.cells if not {"solution", "answer", "check"} & set(c.metadata.get("tags", []))]
    kept = [c.source for c in release.cells if nbgrader_meta(c)["grade_id"].startswith("cell-")]
    assert kept == lesson  # the lesson, the questionnaire and the hints are there as they are; nothing else is


def test_a_course_folder_with_other_files_or_an_edited_source_is_refused(tmp_path):
    paths, spec = [REPO / "notebooks" / f"{GRADED}.ipynb"], write_spec(fitting_spec([GRADED]), tmp_path / "a.toml")
    crowded = tmp_path / "crowded"
    crowded.mkdir()
    (crowded / "grades.csv").write_text("mine")
    with pytest.raises(make_assignments.UsageError, match="not a course folder that this tool made"):
        make_assignments.build(crowded, paths, spec, run_nbgrader=False)
    assert [p.name for p in crowded.iterdir()] == ["grades.csv"]
    for sources in (REPO, REPO / "notebooks", REPO / "tools" / "x"):
        with pytest.raises(make_assignments.UsageError, match="lies in the course's sources"):
            make_assignments.build(sources, paths, spec, run_nbgrader=False)

    course = tmp_path / "course"
    make_assignments.build(course, paths, spec, run_nbgrader=False)
    made = course / "source" / GRADED / f"{GRADED}.ipynb"
    assert made.is_file() and (course / "nbgrader_config.py").is_file()
    assert make_assignments.build(course, paths, spec, run_nbgrader=False)  # unchanged: rebuilt
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + 'c.CourseDirectory.course_id = "course101"\n')
    made.write_text(made.read_text().replace("YOUR", "OUR"))
    edited = made.read_text(), config.read_text()
    with pytest.raises(make_assignments.UsageError, match="changed since this tool wrote it"):
        make_assignments.build(course, paths, spec, run_nbgrader=False)
    assert (made.read_text(), config.read_text()) == edited
    made.unlink()  # the instructor moves it away: the build makes it again and keeps their settings
    lines = make_assignments.build(course, paths, spec, run_nbgrader=False)
    assert made.is_file() and config.read_text() == edited[1]
    assert any("nbgrader_config.py was changed since this tool wrote it: left as it is" in line for line in lines)


def test_the_guides_nbgitpuller_links_pull_the_one_repository():
    url = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    guide = (REPO / "docs" / "instructors.md").read_text()
    links = re.findall(r"https://[\w.-]+/hub/user-redirect/git-pull\?[^\s)`\"]+", guide)
    assert links
    for link in links:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        assert query["repo"] == [url] and query["branch"] == ["main"]
        target = Path(query["urlpath"][0].removeprefix("lab/tree/"))
        assert target.parts[0] == url.rsplit("/", 1)[1]  # nbgitpuller clones into a folder named after it
        assert (REPO / Path(*target.parts[1:])).exists(), link


def nbgrader(course: Path, *args: str, env: dict) -> str:
    """Run an nbgrader command in ``course``; return its log, or fail with it."""
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert not [line for line in log.splitlines() if "| ERROR]" in line], log
    return log


def submit(course: Path, student: str, nb) -> None:
    folder = course / "submitted" / student / GRADED
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{GRADED}.ipynb")


def said_by_the_check(answer: int) -> str:
    """Return the line the exercise's check prints for ``answer`` (with its usual mistake)."""
    from mnist_lab_checks import check_parameter_count

    with contextlib.redirect_stdout(io.StringIO()) as out:
        check_parameter_count(answer, hidden=[300, 100])
    return out.getvalue().strip()


@pytest.mark.integration
def test_nbgrader_grades_the_solutions_the_untouched_release_and_a_typical_mistake(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    exercise = make_assignments.exercises(NOTEBOOKS[GRADED])[MISTAKE["exercise"]]
    call = make_assignments.check_call(NOTEBOOKS[GRADED].cells[exercise.check].source)
    assert make_assignments.same_call(call, MISTAKE["call"]), f"{GRADED}'s exercise 1 changed: update MISTAKE"
    course = tmp_path / "course"
    assert make_assignments.main(["--course-dir", str(course), "--notebooks", GRADED]) == 0

    release = nbformat.read(course / "release" / GRADED / f"{GRADED}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / GRADED / f"{GRADED}.ipynb", as_version=4)
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if nbgrader_meta(c)["solution"]}
    assert all(c.metadata.get("editable") is False for c in release.cells if not nbgrader_meta(c)["solution"])
    assert "HIDDEN TESTS" not in json.dumps(release.cells) and "BEGIN SOLUTION" not in json.dumps(release.cells)
    solutions = copy.deepcopy(release)
    for cell in solutions.cells:
        cell.source = answers.get(nbgrader_meta(cell)["grade_id"], cell.source)
    mistake = copy.deepcopy(solutions)
    for cell in mistake.cells:
        if nbgrader_meta(cell)["grade_id"] == f"exercise-{MISTAKE['exercise']}-answer":
            cell.source = MISTAKE["answer"]
    for student, nb in (("solutions", solutions), ("untouched", release), ("mistake", mistake)):
        submit(course, student, nb)

    env = dict(make_assignments.nbgrader_env(), MNIST_LAB_ARTIFACTS=str(tmp_path / "artifacts"))
    monkeypatch.setenv("PATH", env["PATH"])  # the Gradebook below runs alembic too
    nbgrader(course, "autograde", GRADED, env=env)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assignment = gb.find_assignment(GRADED)
        auto = {g.name: g.max_score for g in assignment.notebooks[0].grade_cells if g.name.endswith("-check")}
        by_hand = [g.name for g in assignment.notebooks[0].grade_cells if g.name.endswith("-written")]
        assert auto and sum(auto.values()) + len(by_hand) * SPEC["open_points"] == assignment.max_score

        def scores(student):
            return {name: gb.find_grade(name, GRADED, GRADED, student).score for name in auto}

        assert scores("solutions") == auto  # full marks on every autograded exercise
        assert gb.find_submission(GRADED, "solutions").needs_manual_grade == bool(by_hand)  # written answers wait
        assert gb.find_submission(GRADED, "untouched").score == 0
        assert not gb.find_submission(GRADED, "untouched").needs_manual_grade  # nothing written: nothing to read
        wrong = f"exercise-{MISTAKE['exercise']}-check"
        assert scores("mistake") == {**auto, wrong: 0}  # only the mistaken exercise scores 0
        assert 0 < gb.find_submission(GRADED, "mistake").score < sum(auto.values())  # partial marks
        for name in by_hand:  # the grader gives the written answers full marks, as in the formgrader
            grade = gb.find_grade(name, GRADED, GRADED, "solutions")
            grade.manual_score = grade.max_score
        gb.db.commit()
        assert gb.find_submission(GRADED, "solutions").score == assignment.max_score

    nbgrader(course, "generate_feedback", GRADED, env=env)
    feedback = {s: (course / "feedback" / s / GRADED / f"{GRADED}.html").read_text() for s in ("mistake", "untouched")}
    assert html.escape(said_by_the_check(784 * 300 + 300 * 100 + 100 * 10), quote=False) in feedback["mistake"]
    assert "counts the weights only" in said_by_the_check(784 * 300 + 300 * 100 + 100 * 10)  # the mistake, named
    assert "No answer yet: replace None with the parameter count" in feedback["untouched"]

    # Built again: unchanged, the students' copy stays as it is; changed under its submissions, it is refused.
    notebook, handed_out = [REPO / "notebooks" / f"{GRADED}.ipynb"], course / "release" / GRADED / f"{GRADED}.ipynb"
    before = handed_out.stat().st_mtime_ns
    assert "(unchanged" in make_assignments.build(course, notebook)[0]
    more_points = tmp_path / "assignments.toml"
    more_points.write_text((REPO / "tools" / "assignments.toml").read_text().replace("points = 1", "points = 2"))
    with pytest.raises(make_assignments.UsageError, match="holds submissions of the assignment"):
        make_assignments.build(course, notebook, more_points)
    assert handed_out.stat().st_mtime_ns == before
