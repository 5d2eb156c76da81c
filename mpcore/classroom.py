"""The classroom edition: student and instructor versions of the walkthroughs, built with nbgrader.

The walkthrough notebooks in ``notebooks/`` *are* the instructor version: every exercise is
solved in place and checked at once by :func:`mpcore.exercises.check`. Cells are marked with
tags (kept in the jupytext sources), which this module turns into nbgrader's cell metadata:

* ``solution:<name>`` -- a code cell whose lines between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` are the student's to write (nbgrader replaces them with
  ``raise NotImplementedError()``);
* ``check:<name>`` -- the autograded cell of exercise ``<name>``, worth
  ``exercises.EXERCISES[name].points``; its ``### BEGIN HIDDEN TESTS`` block (the assertion)
  is stripped from the student version and restored when grading;
* ``answer:<name>`` -- a markdown cell with the answer to an inline question, graded by hand
  (:data:`ANSWER_POINTS`); students see "YOUR ANSWER HERE".

:func:`build` writes an nbgrader course directory and runs ``nbgrader generate_assignment``:

.. code-block:: text

    DIR/nbgrader_config.py
    DIR/source/mpcore/*.ipynb     instructor version (solutions, nbgrader metadata)
    DIR/release/mpcore/*.ipynb    student version (generated: never edit by hand)
    DIR/gradebook.db              nbgrader's database (assignment, cells, points)
"""

from __future__ import annotations

import subprocess
import sys
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
c.CourseDirectory.course_id = "mpcore"
c.CourseDirectory.root = {root!r}
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
    source = out / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(_CONFIG.format(root=str(out)))
    for name in WALKTHROUGHS:
        nbformat.write(instructor_notebook(notebooks_dir / f"{name}.ipynb"), str(source / f"{name}.ipynb"))
    nbgrader(out, "generate_assignment", ASSIGNMENT, "--force")
    return out / "release" / ASSIGNMENT


def nbgrader(course_dir: str | Path, *args: str) -> str:
    """Run ``nbgrader <args>`` in ``course_dir`` (with this Python); its log, or RuntimeError on failure."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stderr
