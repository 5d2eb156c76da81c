"""The classroom edition: the exercise checks, and nbgrader itself run on the generated course.

The exercise tests run the walkthroughs' own solution cells (the instructor version) and the
same cells with one planted bug each. The nbgrader tests build the course with
``python -m mpcore classroom`` and execute the student notebooks; grading itself (sandboxed,
with attacks) is tested in ``test_grading.py``.
"""

from __future__ import annotations

import nbformat
import pytest
from classroom_cases import BUG_SHOWS_IN, PLANTED_BUGS, SOLUTIONS, define, walkthrough_cells
from nbclient import NotebookClient

from mpcore import classroom, cli, exercises


def test_every_exercise_has_a_solution_and_a_check_in_its_notebook():
    checks = walkthrough_cells("check")
    assert set(SOLUTIONS) == set(checks) == set(exercises.EXERCISES)
    for name, ex in exercises.EXERCISES.items():
        assert SOLUTIONS[name][0].startswith(ex.notebook) and checks[name][0].startswith(ex.notebook)
        assert f'exercises.check("{name}", {name})' in checks[name][1]
        assert "### BEGIN HIDDEN TESTS" not in checks[name][1]  # scores come from `mpcore grade`, not the kernel
    answers = walkthrough_cells("answer")
    for nb_name in classroom.WALKTHROUGHS:  # the minimum: 3 graded exercises, 2 inline questions
        assert sum(nb == nb_name for nb, _ in SOLUTIONS.values()) >= 3
        assert sum(nb == nb_name for nb, _ in answers.values()) >= 2


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_the_walkthrough_solution_passes(name, capsys):
    assert exercises.check(name, define(name, SOLUTIONS[name][1])) is True
    out = capsys.readouterr().out
    assert "✗" not in out and f"{name}: all checks pass" in out


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_a_planted_bug_fails_and_the_message_says_which_quantity(name, capsys):
    good, bad = PLANTED_BUGS[name]
    source = SOLUTIONS[name][1]
    assert source.count(good) == 1, f"the planted bug's line is not in the {name} solution"
    assert exercises.check(name, define(name, source.replace(good, bad))) is False
    wrong = [line for line in capsys.readouterr().out.splitlines() if "✗" in line]
    assert any(BUG_SHOWS_IN[name] in line for line in wrong), wrong
    # given the instructor's solution (as the grader is), the feedback names the mistake; not for the solution itself
    passed, lines = exercises.run(name, define(name, source.replace(good, bad)), source)
    assert not passed and f"{name}: this is a known mistake: {exercises.KNOWN_MISTAKES[name][2]}" in lines
    passed, lines = exercises.run(name, define(name, source), source)
    assert passed and not any("known mistake" in line for line in lines)


def test_unfinished_and_crashing_exercises_do_not_stop_the_notebook(capsys):
    def unfinished(*args):
        raise NotImplementedError()

    def crashing(scores, y):
        return scores[:, 99], None

    assert exercises.check("top_k", unfinished) is False
    assert "top_k: not implemented yet" in capsys.readouterr().out
    assert exercises.check("softmax_cross_entropy", crashing) is False
    assert "raised IndexError" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown exercise 'nope'"):
        exercises.check("nope", unfinished)


def test_bad_tags_are_reported(tmp_path):
    def notebook_with(source, tag):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": [tag]})]
        path = tmp_path / "nb.ipynb"
        nbformat.write(nb, str(path))
        return path

    with pytest.raises(ValueError, match="no exercise 'nope'"):
        classroom.instructor_notebook(notebook_with("x = 1", "check:nope"))
    with pytest.raises(ValueError, match="has no '### BEGIN SOLUTION' block"):
        classroom.instructor_notebook(notebook_with("x = 1", "solution:top_k"))


def test_classroom_without_the_walkthroughs_says_what_is_missing(tmp_path, capsys):
    assert cli.main(["classroom", "--out", str(tmp_path / "c"), "--notebooks", str(tmp_path)]) == 2
    assert "01_sparse_autoencoder" in capsys.readouterr().err


# -- nbgrader, for real ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    assert cli.main(["classroom", "--out", str(out)]) == 0
    return out


def _release(course, name):
    return nbformat.read(str(course / "release" / classroom.ASSIGNMENT / f"{name}.ipynb"), as_version=4)


def test_the_student_version_holds_no_solution(course):
    for name, (nb_name, source) in SOLUTIONS.items():
        student = "\n".join(c.source for c in _release(course, nb_name).cells)
        solution = source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        for line in filter(None, (s.strip() for s in solution.splitlines())):
            assert line not in student, f"{name}: solution line {line!r} is in the student notebook"
    for nb_name in classroom.WALKTHROUGHS:
        release = _release(course, nb_name)
        grade_ids = [c.metadata.get("nbgrader", {}).get("grade_id", "") for c in release.cells]
        answers = [c for c, g in zip(release.cells, grade_ids) if g.startswith("question")]
        assert answers and all(c.source.strip() == "YOUR ANSWER HERE" for c in answers)
        assert sum("raise NotImplementedError()" in c.source for c in release.cells) >= 3


def test_the_student_notebooks_run_top_to_bottom(course):
    for nb_name in classroom.WALKTHROUGHS:
        nb = _release(course, nb_name)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(course / "release" / classroom.ASSIGNMENT)}}).execute()
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{nb_name}: {[e.ename + ': ' + e.evalue for e in errors]}"
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        for name, ex in exercises.EXERCISES.items():
            if ex.notebook == nb_name[:2]:
                assert f"{name}: not implemented yet" in printed
