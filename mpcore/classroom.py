"""The classroom edition: student and instructor versions of the walkthroughs, built with nbgrader.

The walkthrough notebooks in ``notebooks/`` *are* the instructor version: every exercise is
solved in place and checked at once by :func:`mpcore.exercises.check`. Cells are marked with
tags (kept in the jupytext sources), which this module turns into nbgrader's cell metadata:

* ``solution:<name>`` -- a code cell whose lines between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` are the student's to write (nbgrader replaces them with
  ``raise NotImplementedError()``);
* ``check:<name>`` -- the check cell of exercise ``<name>``, worth
  ``exercises.EXERCISES[name].points``: nbgrader's "autograder tests" cell, whose score
  ``python -m mpcore grade`` writes (it holds no hidden assertion: student code never scores
  itself);
* ``answer:<name>`` -- a markdown cell with the answer to an inline question, graded by hand
  (:data:`ANSWER_POINTS`); students see "YOUR ANSWER HERE".

:func:`build` writes an nbgrader course directory and runs ``nbgrader generate_assignment``:

.. code-block:: text

    DIR/nbgrader_config.py
    DIR/source/mpcore/*.ipynb     instructor version (solutions, nbgrader metadata)
    DIR/release/mpcore/*.ipynb    student version (generated: never edit by hand)
    DIR/gradebook.db              nbgrader's database (assignment, cells, points)

The folder is built beside ``DIR`` and renamed into place when complete; ``nbgrader_config.py``
finds the course root from its own location, so the folder can be moved or copied. Scores come
from ``python -m mpcore grade DIR`` (:mod:`mpcore.grading.course`), which runs each solution in a
sandbox; the check cells refuse to run under ``nbgrader autograde``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .exercises import EXERCISES

#: The walkthroughs that carry exercises, in order.
WALKTHROUGHS = ("01_sparse_autoencoder", "02_word_embeddings", "03_sequence_classification")
#: nbgrader's assignment name (the folder under source/ and release/).
ASSIGNMENT = "mpcore"
#: Points for each inline question (graded by hand).
ANSWER_POINTS = 1
#: The repository's notebooks folder (present in a source checkout / editable install).
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"

_CONFIG = '''c = get_config()
import os
c.CourseDirectory.course_id = "{assignment}"
# The folder of this file: the course can be moved or copied.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Grade with `python -m mpcore grade .` (student code sandboxed), not `nbgrader autograde`.
# For nbgrader's own execution (validate, and autograde if run anyway): a cell gets 120 s,
# and a check cell a student deleted is put back (so it scores 0, not "ungraded").
c.Execute.timeout = 120
c.OverwriteCells.add_missing_cells = True
# Feedback pages (nbgrader generate_feedback) name each exercise and load nothing from a CDN.
import mpcore.grading
c.HTMLExporter.template_name = "mpcore_feedback"
c.HTMLExporter.extra_template_basedirs = [os.path.join(os.path.dirname(mpcore.grading.__file__), "templates")]
'''


def _nbgrader_cell_metadata(tags: list[str]) -> dict | None:
    """nbgrader metadata for a cell with the tags above, or None for an ordinary cell."""
    for tag in tags:
        kind, _, name = tag.partition(":")
        if kind == "solution":
            return {"solution": True, "grade": False, "locked": False, "grade_id": name}
        if kind == "check":
            if name not in EXERCISES:
                raise ValueError(f"cell tag {tag!r}: no exercise {name!r} in mpcore.exercises.EXERCISES")
            return {"solution": False, "grade": True, "locked": True, "grade_id": f"{name}_check",
                    "points": EXERCISES[name].points}
        if kind == "answer":
            return {"solution": True, "grade": True, "locked": False, "grade_id": name, "points": ANSWER_POINTS}
    return None


def instructor_notebook(path: str | Path):
    """The walkthrough at ``path`` with nbgrader metadata on its exercise cells."""
    nb = nbformat.read(str(path), as_version=4)
    seen = set()
    for cell in nb.cells:
        meta = _nbgrader_cell_metadata(cell.metadata.get("tags", []))
        if meta is None:
            continue
        if meta["grade_id"] in seen:
            raise ValueError(f"{path}: two cells are tagged for {meta['grade_id']!r}")
        seen.add(meta["grade_id"])
        if meta["solution"] and cell.cell_type == "code" and "### BEGIN SOLUTION" not in cell.source:
            raise ValueError(f"{path}: solution cell {meta['grade_id']!r} has no '### BEGIN SOLUTION' block")
        cell.metadata["nbgrader"] = {**meta, "schema_version": 3}
    return nb


def build(out: str | Path, notebooks_dir: str | Path | None = None) -> Path:
    """Write the nbgrader course directory ``out`` (module docstring) and generate the student
    version with ``nbgrader generate_assignment``. Returns the folder of student notebooks."""
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    missing = [n for n in WALKTHROUGHS if not (notebooks_dir / f"{n}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{notebooks_dir}: walkthrough notebooks {', '.join(missing)} not found; the classroom edition is "
            "built from a source checkout of mpcore (pass --notebooks DIR to point at its notebooks/ folder)")
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty: choose a new folder for the course")
    # Built in a temporary folder beside ``out`` and renamed at the end: a failure leaves nothing half-written.
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}-building-", dir=out.parent))
    try:
        source = building / "source" / ASSIGNMENT
        source.mkdir(parents=True)
        (building / "nbgrader_config.py").write_text(_CONFIG.format(assignment=ASSIGNMENT))
        for name in WALKTHROUGHS:
            nbformat.write(instructor_notebook(notebooks_dir / f"{name}.ipynb"), str(source / f"{name}.ipynb"))
        nbgrader(building, "generate_assignment", ASSIGNMENT, "--force")
        if out.exists():
            out.rmdir()
        building.rename(out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return out / "release" / ASSIGNMENT


def nbgrader_path() -> str:
    """$PATH with this Python's scripts folder first: nbgrader runs ``alembic`` from PATH, and in a
    venv that is not activated it would not find it."""
    return str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def nbgrader(course_dir: str | Path, *args: str) -> str:
    """Run ``nbgrader <args>`` in ``course_dir`` (with this Python); its log, or RuntimeError on failure."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, capture_output=True, text=True,
                          env={**os.environ, "PATH": nbgrader_path()})
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stderr
