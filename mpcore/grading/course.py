"""Grade an nbgrader course's submissions without running student code where scores are decided.

``python -m mpcore grade COURSE [--student NAME]`` (see :func:`grade`). For every student in
``COURSE/submitted/`` and every exercise of :data:`mpcore.exercises.EXERCISES`:

1. the submitted notebook is read as data (JSON, never executed here); the exercise's solution
   cell is the one whose nbgrader ``grade_id`` is the exercise's name;
2. that cell alone runs in a sandboxed process (:mod:`mpcore.grading.sandbox`), with numpy and
   the helpers the exercise allows; this process calls the student's function through it and
   compares every value with mpcore's reference and with finite differences
   (:func:`mpcore.exercises.run`);
3. the score (all of the exercise's points when every comparison passes, else 0) and the
   feedback lines go into nbgrader's ``gradebook.db`` and into
   ``autograded/<student>/mpcore/<notebook>.ipynb`` -- the instructor's notebook with the
   student's solutions and answers in place, outputs cleared, the feedback as the check cells'
   output -- so ``nbgrader formgrade`` (the inline questions), ``generate_feedback`` and ``export``
   work as usual.

A submission that cannot be read (invalid JSON, a missing notebook, a deleted or duplicated
solution cell) costs that student the affected exercises, with the reason in the feedback; a
solution that hangs, crashes or exhausts memory costs that exercise. Nothing a student submits
stops the grading of the others.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import classroom, exercises
from . import sandbox as S

#: A submitted notebook larger than this is not read (a notebook with outputs cleared is ~100 kB).
MAX_NOTEBOOK_BYTES = 50 << 20


@dataclass
class ExerciseGrade:
    """One exercise of one student: its score, its points, and the feedback lines."""

    name: str
    notebook: str
    score: float
    points: int
    feedback: list[str]
    seconds: float = 0.0
    failure: str | None = None  # why the student's code could not be checked (not a wrong answer)


@dataclass
class StudentGrades:
    student: str
    exercises: list[ExerciseGrade] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # notebooks that could not be read, and why

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exercises)


class GradingError(Exception):
    """The course cannot be graded at all (no course folder, no sandbox, no gradebook)."""


def _read_submission(path: Path) -> tuple[dict | None, str | None]:
    """The submitted notebook as JSON data, or (None, why it cannot be read)."""
    if not path.is_file():
        return None, f"{path.name} was not submitted"
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None, f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
    try:
        nb = json.loads(path.read_bytes())
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
        return nb, None
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        return None, f"{path.name} is not a readable notebook ({str(e)[:200]})"


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src if isinstance(src, str) else ""


def _cells_with_grade_id(nb: dict, grade_id: str, cell_type: str) -> list[str]:
    """Sources of the cells of ``cell_type`` whose nbgrader grade_id is ``grade_id``."""
    found = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != cell_type:
            continue
        meta = cell.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(nbg, dict) and nbg.get("grade_id") == grade_id:
            found.append(_source(cell))
    return found


def solution_source(nb: dict, name: str) -> tuple[str | None, str | None]:
    """The student's solution cell for exercise ``name``: (source, None) or (None, why not)."""
    sources = _cells_with_grade_id(nb, name, "code")
    if not sources:
        return None, f"{name}: no solution cell (its cell was deleted, or its metadata changed)"
    if len(set(sources)) > 1:
        return None, (f"{name}: {len(sources)} different cells claim to be this exercise's solution (a duplicated "
                      "cell?): keep one")
    return sources[0], None


def grade_exercise(name: str, source: str, *, sandbox: bool, hidden: list[Path], timeout: float = S.TIMEOUT_S,
                   solution: str | None = None) -> ExerciseGrade:
    """Run exercise ``name`` on the solution ``source`` in a sandboxed process (module docstring);
    ``solution``, the instructor's cell, lets the feedback name a known mistake."""
    ex = exercises.EXERCISES[name]
    t0 = time.perf_counter()
    fn = S.StudentFunction(source, name, ex.helpers, sandbox=sandbox, hidden=hidden, timeout=timeout)
    try:
        with fn:
            passed, lines = exercises.run(name, fn, solution)
    except S.StudentError as e:
        passed, lines = False, [f"{name}: your solution cell raised {e.type_name}: {e}"]
    except S.SandboxFailure:
        passed, lines = False, [f"{name}: {fn.failure}"]
    failure = fn.failure
    return ExerciseGrade(name, ex.notebook, float(ex.points if passed else 0), ex.points, lines,
                         time.perf_counter() - t0, failure)


def _notebooks(course: Path) -> dict[str, Path]:
    return {name: course / "source" / classroom.ASSIGNMENT / f"{name}.ipynb" for name in classroom.WALKTHROUGHS}


def grade_student(course: Path, student: str, *, sandbox: bool = True, timeout: float = S.TIMEOUT_S) -> StudentGrades:
    """Grade every exercise of one student's submission (scores not yet recorded: see :func:`record`)."""
    import mpcore

    hidden = [course, Path(mpcore.__file__).resolve().parent, classroom.NOTEBOOKS_DIR]
    result = StudentGrades(student)
    folder = course / "submitted" / student / classroom.ASSIGNMENT
    for nb_name in classroom.WALKTHROUGHS:
        instructor = json.loads(_notebooks(course)[nb_name].read_text())
        nb, problem = _read_submission(folder / f"{nb_name}.ipynb")
        if problem:
            result.problems.append(problem)
        for name, ex in exercises.EXERCISES.items():
            if ex.notebook != nb_name[:2]:
                continue
            source, why = (None, problem) if nb is None else solution_source(nb, name)
            if source is None:
                result.exercises.append(ExerciseGrade(name, ex.notebook, 0.0, ex.points, [f"{name}: {why}"]))
                continue
            solution = (_cells_with_grade_id(instructor, name, "code") or [None])[0]
            result.exercises.append(grade_exercise(name, source, sandbox=sandbox, hidden=hidden, timeout=timeout,
                                                   solution=solution))
    return result


_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def mathml(markdown: str) -> str:
    """``markdown`` with its ``$...$`` and ``$$...$$`` TeX as MathML, which browsers render
    without MathJax (so the feedback page loads nothing from a CDN). TeX that latex2mathml
    cannot read is left as it is."""
    from latex2mathml.converter import convert

    def one(m):
        display = m.group(1) is not None
        try:
            html = convert((m.group(1) if display else m.group(2)).strip(), display="block" if display else "inline")
        except Exception:  # noqa: BLE001 -- a student's TeX may be anything
            return m.group(0)
        return f"\n\n<div class=\"math\">{html}</div>\n\n" if display else html

    return _MATH.sub(one, markdown)


def _title(grade_id: str) -> str:
    """What the feedback page calls a graded cell: its exercise, or its question."""
    name = grade_id.removesuffix("_check")
    if name in exercises.EXERCISES:
        return f"Exercise: {exercises.EXERCISES[name].title}"
    return "Question: " + grade_id.removeprefix("question_").replace("_", " ")


def _autograded_notebook(course: Path, nb_name: str, submitted: dict | None, grades: dict[str, ExerciseGrade]):
    """The instructor's notebook with this student's solutions and answers in place, no outputs,
    and each check cell's output the feedback of its exercise."""
    import nbformat

    nb = nbformat.read(str(_notebooks(course)[nb_name]), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if grade_id is not None and meta.get("solution"):  # the student's text, as submitted
            sources = _cells_with_grade_id(submitted, grade_id, cell.cell_type) if submitted is not None else []
            cell.source = sources[-1] if sources else ""
        if cell.cell_type == "markdown":
            cell.source = mathml(cell.source)
        if grade_id is None:
            continue
        if meta.get("grade"):
            cell.metadata["mpcore"] = {"title": _title(grade_id)}
        if grade_id.endswith("_check") and grade_id[: -len("_check")] in grades:
            g = grades[grade_id[: -len("_check")]]
            text = "\n".join(g.feedback) + f"\n{g.name}: score {g.score:g} of {g.points}\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nb


def record(course: Path, grades: StudentGrades) -> None:
    """Write one student's scores to ``gradebook.db`` and the autograded notebooks to ``autograded/``."""
    import nbformat
    from nbgrader.api import Gradebook

    by_name = {g.name: g for g in grades.exercises}
    folder = course / "submitted" / grades.student / classroom.ASSIGNMENT
    timestamp = None
    if (folder / "timestamp.txt").is_file():
        timestamp = (folder / "timestamp.txt").read_text()[:100].strip() or None
    # nbgrader 0.9's own add_submission makes SQLAlchemy 2 warn ("not in session"); nothing is wrong
    warnings.filterwarnings("ignore", message="Object of type <Submitted")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=classroom.ASSIGNMENT) as gb:
        gb.update_or_create_student(grades.student)
        try:
            gb.update_or_create_submission(classroom.ASSIGNMENT, grades.student,
                                           **({"timestamp": timestamp} if timestamp else {}))
        except (ValueError, TypeError):  # an unreadable timestamp.txt: grade without it
            gb.update_or_create_submission(classroom.ASSIGNMENT, grades.student)
        for nb_name in classroom.WALKTHROUGHS:
            submitted, problem = _read_submission(folder / f"{nb_name}.ipynb")
            for grade in gb.find_submission_notebook(nb_name, classroom.ASSIGNMENT, grades.student).grades:
                if grade.name.endswith("_check") and grade.name[: -len("_check")] in by_name:
                    grade.auto_score = by_name[grade.name[: -len("_check")]].score
                    grade.needs_manual_grade = grade.manual_score is not None
                elif submitted is None:  # an inline question of a notebook that was not submitted
                    grade.auto_score, grade.needs_manual_grade = 0.0, False
                else:  # an inline question: graded by hand in formgrade
                    grade.auto_score, grade.needs_manual_grade = None, True
            gb.db.commit()
            out = course / "autograded" / grades.student / classroom.ASSIGNMENT
            out.mkdir(parents=True, exist_ok=True)
            nb = _autograded_notebook(course, nb_name, submitted, by_name)
            tmp = out / f".{nb_name}.ipynb.tmp"
            nbformat.write(nb, str(tmp))
            os.replace(tmp, out / f"{nb_name}.ipynb")


def students(course: Path) -> list[str]:
    """The students with a submission folder, sorted."""
    submitted = course / "submitted"
    return sorted(p.name for p in submitted.iterdir() if (p / classroom.ASSIGNMENT).is_dir()) \
        if submitted.is_dir() else []


def grade(course: str | os.PathLike, student: str | None = None, *, sandbox: bool = True,
          timeout: float = S.TIMEOUT_S, log=print) -> list[StudentGrades]:
    """Grade ``student`` (default: every student in ``submitted/``) and record the scores.

    :class:`GradingError` when the course cannot be graded (no gradebook, no submissions, no
    sandbox and ``sandbox=True``). ``log`` receives one line per student and per problem.
    """
    course = Path(course).resolve()
    if not (course / "gradebook.db").is_file() or not all(p.is_file() for p in _notebooks(course).values()):
        raise GradingError(f"{course} is not an mpcore course folder (made by `python -m mpcore classroom`): "
                           "it needs gradebook.db and source/mpcore/")
    names = students(course)
    if student is not None:
        if student not in names:
            raise GradingError(f"no submission for {student!r} in {course / 'submitted'}/ (found: "
                               f"{', '.join(names) or 'none'})")
        names = [student]
    if not names:
        raise GradingError(f"no submissions in {course / 'submitted'}/<student>/{classroom.ASSIGNMENT}/")
    if sandbox and (why := S.sandbox_available()):
        raise GradingError(f"no sandbox: {why}. Student code must not run unsandboxed where it is graded; "
                           "to grade anyway (trusted submissions only), pass --no-sandbox")
    os.environ["PATH"] = classroom.nbgrader_path()  # the gradebook may run `alembic`
    results = []
    for i, name in enumerate(names, 1):
        t0 = time.perf_counter()
        grades = grade_student(course, name, sandbox=sandbox, timeout=timeout)
        record(course, grades)
        results.append(grades)
        log(f"[{i}/{len(names)}] {name}: {grades.score:g} of {grades.points} points "
            f"({time.perf_counter() - t0:.1f} s)")
        for problem in grades.problems:
            log(f"    {name}: {problem}")
        for g in grades.exercises:
            if g.failure:
                log(f"    {name}/{g.notebook}: {g.failure}")
    return results

