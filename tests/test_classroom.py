"""The classroom edition: the exercise checks, and nbgrader itself run on the generated course.

The exercise tests run the walkthroughs' own solution cells (the instructor version) and the
same cells with one planted bug each. The nbgrader tests build the course with
``python -m mpcore classroom``, execute the student notebooks, and autograde two submissions:
the instructor version (full marks) and one with planted bugs (exactly those points lost).
"""

from __future__ import annotations

import shutil

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from mpcore import cells, classroom, cli, exercises
from mpcore.models import autoencoder

#: One bug per exercise, the kind students make: (the solution's line, the buggy line).
PLANTED_BUGS = {
    "kl_sparsity": ("dkl = -rho / rho_hat + (1 - rho) / (1 - rho_hat)",
                    "dkl = rho / rho_hat - (1 - rho) / (1 - rho_hat)"),  # sign
    "autoencoder_cost": ('"W1": X.T @ delta1 + lam * W1', '"W1": X.T @ delta1'),  # weight decay forgotten
    "zca_whiten": ("np.sqrt(s + epsilon * s.mean())", "np.sqrt(s + epsilon)"),  # ε not scaled
    "softmax_cross_entropy": ("return loss, p / N", "return loss, p"),  # the 1/N forgotten
    "embedding_backward": ("np.add.at(dR, idx, dout)", "dR[idx] += dout"),  # repeated words dropped
    "top_k": ("np.argsort(-proba, axis=1)", "np.argsort(proba, axis=1)"),  # least probable first
    "rnn_step_backward": ("da = dh_t * (1 - h_t**2)", "da = dh_t * (1 - h_prev**2)"),
    "lstm_step_backward": ("return dx, (dh_prev, dc * f), grads", "return dx, (dh_prev, dc), grads"),
    "gru_step_backward": ("dh_t * z + drh * r + ", "dh_t * z + "),  # the path through r h_{t-1} dropped
    "bptt": ("((dH[:, t] + dh_next,), caches[t])", "((dH[:, t],), caches[t])"),  # recurrence dropped
}
#: What the check must name as wrong for each planted bug.
BUG_SHOWS_IN = {
    "kl_sparsity": "gradient dKL/dρ̂ vs mpcore", "autoencoder_cost": "d J/d W1 vs mpcore",
    "zca_whiten": "whitened patches", "softmax_cross_entropy": "dL/dscores vs mpcore",
    "embedding_backward": "rows of the repeated words", "top_k": "indices", "rnn_step_backward": "dh_(t-1) vs mpcore",
    "lstm_step_backward": "dc_(t-1) vs mpcore", "gru_step_backward": "dh_(t-1) vs mpcore", "bptt": "dW_hh",
}


def walkthrough_cells(kind: str) -> dict:
    """{exercise name: (notebook, cell source)} of the walkthroughs' cells tagged ``kind:<name>``."""
    found = {}
    for nb_name in classroom.WALKTHROUGHS:
        nb = nbformat.read(str(classroom.NOTEBOOKS_DIR / f"{nb_name}.ipynb"), as_version=4)
        for cell in nb.cells:
            for tag in cell.metadata.get("tags", []):
                k, _, name = tag.partition(":")
                if k == kind:
                    assert name not in found, f"two cells tagged {tag}"
                    found[name] = (nb_name, cell.source)
    return found


SOLUTIONS = walkthrough_cells("solution")


def define(name: str, source: str):
    """Execute a solution cell as the notebook would and return the function it defines."""
    namespace = {"np": np, "cells": cells, "autoencoder": autoencoder}
    exec(compile(source, f"<solution {name}>", "exec"), namespace)
    return namespace[name]


def test_every_exercise_has_a_solution_and_a_check_in_its_notebook():
    checks = walkthrough_cells("check")
    assert set(SOLUTIONS) == set(checks) == set(exercises.EXERCISES)
    for name, ex in exercises.EXERCISES.items():
        assert SOLUTIONS[name][0].startswith(ex.notebook) and checks[name][0].startswith(ex.notebook)
        assert f'exercises.check("{name}", {name})' in checks[name][1]
        assert "### BEGIN HIDDEN TESTS" in checks[name][1]
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
        assert f"{name}_passed, " not in student  # the hidden assertion is stripped too
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


def test_autograding_gives_full_marks_to_the_solution_and_finds_each_planted_bug(course):
    planted = ["kl_sparsity", "embedding_backward", "lstm_step_backward", "bptt"]
    source = course / "source" / classroom.ASSIGNMENT
    for student in ("instructor", "buggy"):
        (course / "submitted" / student).mkdir(parents=True)
        shutil.copytree(source, course / "submitted" / student / classroom.ASSIGNMENT)
    for name in planted:  # the student edits the solution cell
        path = course / "submitted" / "buggy" / classroom.ASSIGNMENT / f"{SOLUTIONS[name][0]}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        (cell,) = [c for c in nb.cells if f"solution:{name}" in c.metadata.get("tags", [])]
        cell.source = cell.source.replace(*PLANTED_BUGS[name])
        nbformat.write(nb, str(path))
    classroom.nbgrader(course, "autograde", classroom.ASSIGNMENT, "--create", "--force")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {(student, g.name[: -len("_check")]): (g.auto_score, g.max_score)
                  for student in ("instructor", "buggy")
                  for nb in gradebook.find_submission(classroom.ASSIGNMENT, student).notebooks
                  for g in nb.grades if g.name.endswith("_check")}
    assert {n for _, n in scores} == set(exercises.EXERCISES)
    for name, ex in exercises.EXERCISES.items():
        assert scores[("instructor", name)] == (ex.points, ex.points), name
        expected = 0 if name in planted else ex.points
        assert scores[("buggy", name)] == (expected, ex.points), name
