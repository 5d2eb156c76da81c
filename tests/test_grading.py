"""Grading the classroom edition: student code runs sandboxed and never decides its own score.

The course is built with ``python -m mpcore classroom`` and graded with ``python -m mpcore grade``
(nbgrader's gradebook, then nbgrader's own ``generate_feedback`` and ``export``). Students:

* ``honest`` -- the instructor's solutions: full marks, graded *after* the attackers, whose
  attacks target its files;
* ``buggy`` -- one planted bug in every exercise: each loses exactly its points, and the
  feedback names the wrong quantity (and, where it can tell, the cause);
* ``attacker_a`` -- one attack per exercise that would *gain* the points if it worked (it does
  work without the sandbox: shown by grading the same submission with ``sandbox=False``);
* ``attacker_b`` -- submissions that break things: invalid JSON, a duplicated solution cell,
  hangs (one ignoring SIGINT), killing its parent;
* ``partial`` -- submitted notebook 01 only.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from classroom_cases import BUG_SHOWS_IN, PLANTED_BUGS, SOLUTIONS

import mpcore
from mpcore import classroom, cli, exercises
from mpcore.grading import course as G
from mpcore.grading import sandbox as S

pytestmark = pytest.mark.skipif(S.sandbox_available() is not None, reason=f"no sandbox: {S.sandbox_available()}")

TIMEOUT = 8.0  # seconds per exercise in these tests (the checks themselves take well under 1 s)
MARKER = "mpcore-orphan-marker"


def submit(course: Path, student: str, solutions: dict[str, str] | None = None, notebooks=classroom.WALKTHROUGHS):
    """Copy the instructor's notebooks to ``submitted/student`` and replace solution cells."""
    folder = course / "submitted" / student / classroom.ASSIGNMENT
    folder.mkdir(parents=True)
    for nb_name in notebooks:
        shutil.copy(course / "source" / classroom.ASSIGNMENT / f"{nb_name}.ipynb", folder)
    for name, source in (solutions or {}).items():
        path = folder / f"{SOLUTIONS[name][0]}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == name]
        cell.source = source
        nbformat.write(nb, str(path))
    return folder


def attacks(course: Path) -> dict[str, str]:
    """attacker_a's solution cells: each gains the exercise's points if the attack works."""
    pkg = Path(mpcore.__file__).resolve().parent
    source_03 = course / "source" / classroom.ASSIGNMENT / "03_sequence_classification.ipynb"
    victim = course / "submitted" / "honest" / classroom.ASSIGNMENT / "01_sparse_autoencoder.ipynb"
    source_02 = course / "source" / classroom.ASSIGNMENT / "02_word_embeddings.ipynb"
    return {
        "course_preprocess": "from mpcore import data\n\ndef course_preprocess(rgb):\n"
                             "    return data.preprocess_patches(rgb)\n",
        "compute_numerical_gradient": "from mpcore.gradcheck import numerical_gradient\n\n"
                                      "def compute_numerical_gradient(J, theta, h=1e-5):\n"
                                      "    return numerical_gradient(lambda: J(theta), theta, h)\n",
        "affine_forward": f"import json\nnb = json.load(open({str(source_02)!r}))\n"
                          "exec(next(''.join(c['source']) for c in nb['cells'] if 'def affine_forward' in "
                          "''.join(c['source'])))\n",
        "momentum_step": "from mpcore.train import momentum_update\n\n"
                         "def momentum_step(W, dW_prev, grad, lr, alpha):\n    W, dW = W.copy(), dW_prev.copy()\n"
                         "    momentum_update(W, dW, grad, lr, alpha)\n    return W, dW\n",
        # mpcore's own implementation of the exercise, imported or captured under another name
        "lstm_step_backward": "from mpcore.cells import lstm\n\ndef lstm_step_backward(dstate, cache):\n"
                              "    return lstm.step_backward(dstate, cache)\n",
        "rnn_step_backward": "from mpcore.cells.rnn import step_backward as _ref\n\n"
                             "def rnn_step_backward(dstate, cache):\n    return _ref(dstate, cache)\n",
        "gru_step_backward": "import importlib\nimport mpcore.cells.gru as g\ng = importlib.reload(g)\n\n"
                             "def gru_step_backward(dstate, cache):\n    return g.step_backward(dstate, cache)\n",
        # exec of a library file's source, read by absolute path
        "kl_sparsity": f"import numpy as np\nns = {{'np': np}}\nsrc = open({str(pkg / 'models' / 'autoencoder.py')!r})"
                       ".read()\nexec('\\n'.join(l for l in src.splitlines() if not l.startswith('from .')), ns)\n\n"
                       "def kl_sparsity(rho, rho_hat):\n    return ns['sparsity_penalty'](rho, rho_hat)\n",
        # the instructor's solution, read from source/ by absolute path
        "bptt": f"import json\nnb = json.load(open({str(source_03)!r}))\n"
                "exec(next(''.join(c['source']) for c in nb['cells'] if 'def bptt' in ''.join(c['source'])))\n",
        # the checker's arithmetic patched from the student's side, with a wrong answer
        "zca_whiten": "import numpy\nnumpy.linalg.norm = lambda *a, **k: 0.0\n\n"
                      "def zca_whiten(Y, epsilon):\n    return Y\n",
        # writes outside the scratch folder: another student's notebook and the gradebook
        "autoencoder_cost": f"for path in ({str(victim)!r}, {str(course / 'gradebook.db')!r}):\n"
                            "    try:\n        open(path, 'w').write('{}')\n    except OSError:\n        pass\n\n"
                            "def autoencoder_cost(params, X, lam, beta, rho):\n    raise ValueError('no')\n",
        # a process that outlives the exercise (double fork, new session)
        "softmax_cross_entropy": f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', "
                                 f"'import time; time.sleep(300)', {MARKER!r}], start_new_session=True)\n\n"
                                 "def softmax_cross_entropy(scores, y):\n    return 0.0, scores\n",
        # memory exhaustion
        "embedding_backward": "import numpy as np\n\ndef embedding_backward(dout, idx, V):\n"
                              "    return np.ones(1 << 32)\n",
        # the answer of the reference, if the reference can be imported in the solution's function
        "top_k": "def top_k(proba, k):\n    from mpcore import exercises\n    import numpy as np\n"
                 "    return np.argsort(-proba, axis=1)[:, :k] if exercises else None\n",
    }


BREAKERS = {
    "top_k": "import time\n\ndef top_k(proba, k):\n    time.sleep(600)\n",
    "rnn_step_backward": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, "
                         "signal.SIG_IGN)\nwhile True:\n    pass\n",
    "lstm_step_backward": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(0, signal.SIGKILL)\n",
}


def _scores(course: Path) -> dict:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in G.students(course):
            for nb in gb.find_submission(classroom.ASSIGNMENT, student).notebooks:
                for g in nb.grades:
                    if g.name.endswith("_check"):
                        out[(student, g.name[: -len("_check")])] = g.score
    return out


def _orphans():
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if MARKER.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("grading") / "course"
    assert cli.main(["classroom", "--out", str(course)]) == 0
    submit(course, "honest")
    victim_bytes = (course / "submitted" / "honest" / classroom.ASSIGNMENT / "01_sparse_autoencoder.ipynb").read_bytes()
    buggy = {name: SOLUTIONS[name][1].replace(*PLANTED_BUGS[name]) for name in exercises.EXERCISES}
    submit(course, "buggy", buggy)
    submit(course, "attacker_a", attacks(course))
    folder = submit(course, "attacker_b", BREAKERS)
    (folder / "01_sparse_autoencoder.ipynb").write_text('{"cells": [')  # invalid JSON
    path = folder / "02_word_embeddings.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    i = ids.index("embedding_backward")
    twin = nbformat.from_dict({**json.loads(json.dumps(nb.cells[i])), "id": "duplicated-cell"})
    twin.source = twin.source.replace("np.add.at(dR, idx, dout)", "dR[idx] += dout")
    nb.cells.insert(i + 1, twin)
    nbformat.write(nb, str(path))
    submit(course, "partial", notebooks=classroom.WALKTHROUGHS[:1])
    lines = []
    results = {r.student: r for r in G.grade(course, timeout=TIMEOUT, log=lines.append)}
    return course, results, lines, victim_bytes


def test_the_solutions_score_full_marks_and_each_planted_bug_loses_exactly_its_points(graded):
    course, results, _, _ = graded
    scores = _scores(course)
    for name, ex in exercises.EXERCISES.items():
        assert scores[("honest", name)] == ex.points, name
        assert scores[("buggy", name)] == 0, name
    feedback = {g.name: "\n".join(g.feedback) for g in results["buggy"].exercises}
    for name, shows_in in BUG_SHOWS_IN.items():
        wrong = [line for line in feedback[name].splitlines() if "✗" in line]
        assert any(shows_in in line for line in wrong), (name, feedback[name])
    # the likely cause, where the check can tell, and the known mistake each planted bug is
    for name, (_, _, description) in exercises.KNOWN_MISTAKES.items():
        assert f"{name}: this is a known mistake: {description}" in feedback[name], feedback[name]
    assert "this is a known mistake" not in "\n".join(g.feedback[0] for g in results["attacker_a"].exercises)
    assert "it has the opposite sign" in feedback["kl_sparsity"]
    assert "it is 6x too large" in feedback["softmax_cross_entropy"]
    assert "it lists the least probable words first" in feedback["top_k"]


def test_no_attack_gains_a_point_or_touches_another_student(graded):
    course, results, _, victim_bytes = graded
    scores = _scores(course)
    for name in exercises.EXERCISES:
        assert scores[("attacker_a", name)] == 0, (name, results["attacker_a"].exercises)
    # the attacks' targets are intact, and the victim, graded after the attacker, has full marks
    assert (course / "submitted" / "honest" / classroom.ASSIGNMENT / "01_sparse_autoencoder.ipynb").read_bytes() \
        == victim_bytes
    assert results["honest"].score == sum(ex.points for ex in exercises.EXERCISES.values())
    assert _orphans() == []
    feedback = {g.name: "\n".join(g.feedback) for g in results["attacker_a"].exercises}
    assert "No module named 'mpcore'" in feedback["lstm_step_backward"]
    assert "FileNotFoundError" in feedback["bptt"] and "FileNotFoundError" in feedback["kl_sparsity"]
    assert "MemoryError" in feedback["embedding_backward"] or "memory" in feedback["embedding_backward"]


def test_the_attacks_are_real_they_gain_points_without_the_sandbox(graded, tmp_path):
    course = graded[0]
    gained = {}
    for name in ("lstm_step_backward", "rnn_step_backward", "kl_sparsity", "bptt", "top_k",
                 "compute_numerical_gradient", "affine_forward", "momentum_step"):
        source = attacks(course)[name]
        gained[name] = G.grade_exercise(name, source, sandbox=False, hidden=[], timeout=TIMEOUT).score
    assert gained == {name: exercises.EXERCISES[name].points for name in gained}
    _kill_orphans()


def _kill_orphans():
    import os
    import signal

    for pid in _orphans():
        os.kill(int(pid), signal.SIGKILL)


def test_broken_submissions_cost_only_their_exercises(graded):
    course, results, lines, _ = graded
    scores = _scores(course)
    b = {g.name: g for g in results["attacker_b"].exercises}
    for name, ex in exercises.EXERCISES.items():
        intact = ("softmax_cross_entropy", "affine_forward", "momentum_step", "gru_step_backward", "bptt")
        expected = ex.points if name in intact else 0
        assert scores[("attacker_b", name)] == expected, (name, b[name].feedback)
    assert "not a readable notebook" in b["zca_whiten"].feedback[0]
    assert "duplicated" in b["embedding_backward"].feedback[0]
    assert f"did not finish within {TIMEOUT:g} s" in b["top_k"].feedback[0]
    assert f"did not finish within {TIMEOUT:g} s" in b["rnn_step_backward"].feedback[0]
    assert b["top_k"].seconds < TIMEOUT + 5 and b["rnn_step_backward"].seconds < TIMEOUT + 5
    # each failure is reported by student and exercise
    assert any(line.startswith("    attacker_b/03: ") and "did not finish" in line for line in lines)
    assert any("attacker_b: 01_sparse_autoencoder.ipynb is not a readable notebook" in line for line in lines)
    partial = {name: s for (student, name), s in scores.items() if student == "partial"}
    for name, ex in exercises.EXERCISES.items():
        assert partial[name] == (ex.points if ex.notebook == "01" else 0), name


def test_nbgrader_feedback_and_export_read_the_grades(graded):
    course = graded[0]
    classroom.nbgrader(course, "generate_feedback", classroom.ASSIGNMENT, "--student", "buggy", "--force")
    html = (course / "feedback" / "buggy" / classroom.ASSIGNMENT / "02_word_embeddings.html").read_text()
    assert "dR rows of the repeated words" in html and "embedding_backward: score 0 of 2" in html
    # each graded cell named by its exercise; math as MathML; nothing loaded from another host
    assert f'">Exercise: {exercises.EXERCISES["embedding_backward"].title}</a>' in html
    assert "<math" in html and not re.search(r"<script[^>]*mathjax", html, re.I)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    classroom.nbgrader(course, "export", "--to", str(course / "grades.csv"))
    rows = {r.split(",")[3]: r.split(",") for r in (course / "grades.csv").read_text().splitlines()[1:]}
    total = sum(ex.points for ex in exercises.EXERCISES.values())
    assert float(rows["honest"][7]) == total and float(rows["buggy"][7]) == 0
    # the autograded notebook holds the student's solution, no outputs but the feedback
    nb = nbformat.read(str(course / "autograded" / "buggy" / classroom.ASSIGNMENT / "02_word_embeddings.ipynb"), 4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "embedding_backward"]
    assert "dR[idx] += dout" in cell.source
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and all(o.output_type == "stream" for o in outputs)


def test_grading_refuses_without_a_sandbox_unless_asked(graded, monkeypatch, capsys):
    course = graded[0]
    monkeypatch.setattr(S.shutil, "which", lambda name: None)
    assert "bubblewrap is not installed" in S.sandbox_available()
    assert cli.main(["grade", str(course), "--student", "honest"]) == 2
    assert "--no-sandbox" in capsys.readouterr().err
    assert cli.main(["grade", str(course), "--student", "nobody"]) == 2
    assert "no submission for 'nobody'" in capsys.readouterr().err
    assert cli.main(["grade", str(course), "--student", "partial", "--no-sandbox"]) == 0
    total = sum(ex.points for ex in exercises.EXERCISES.values())
    first = sum(ex.points for ex in exercises.EXERCISES.values() if ex.notebook == "01")
    assert f"partial: {first} of {total} points" in capsys.readouterr().out


def test_the_course_folder_can_be_moved_and_is_never_half_written(graded, tmp_path, capsys):
    moved = tmp_path / "moved"
    shutil.copytree(graded[0], moved)
    shutil.rmtree(moved / "autograded")
    assert cli.main(["grade", str(moved), "--student", "partial"]) == 0
    assert (moved / "autograded" / "partial" / classroom.ASSIGNMENT / "01_sparse_autoencoder.ipynb").is_file()
    # an existing course is never overwritten; a failed build leaves nothing behind
    assert cli.main(["classroom", "--out", str(moved)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert cli.main(["classroom", "--out", str(tmp_path / "new"), "--notebooks", str(tmp_path / "none")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved", "new"] and not any((tmp_path / "new").iterdir())


def test_check_refuses_to_score_under_nbgrader_autograde(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(RuntimeError, match="python -m mpcore grade"):
        exercises.check("top_k", lambda proba, k: np.argsort(-proba, axis=1)[:, :k])


def test_the_wire_format_refuses_what_it_cannot_read_safely():
    import os

    from mpcore.grading import wire

    r, w = os.pipe()
    value = {"a": (np.arange(6.0).reshape(2, 3), 1, 2.5, None, "s", [True]), "b": np.int32(3)}
    wire.send(w, value)
    got = wire.receive(r)
    assert np.array_equal(got["a"][0], value["a"][0]) and got["a"][1:] == (1, 2.5, None, "s", [True]) and got["b"] == 3
    with pytest.raises(wire.WireError, match="dtype object"):
        wire.encode(np.array([object()]))
    with pytest.raises(wire.WireError, match="type function"):
        wire.encode(lambda: 0)
    wire.send(w, np.zeros(1000))
    with pytest.raises(wire.WireError, match="at most 100"):
        wire.receive(r, max_bytes=100)
    os.close(w)
    os.close(r)


@pytest.mark.parametrize("got, hint", [
    (lambda w: -w, "has the opposite sign"), (lambda w: 4 * w, "is 4x too large"),
    (lambda w: w / 9, "is 9x too small"), (lambda w: w.T, "has the transposed shape (3, 2)"),
    (lambda w: 0 * w, "is all zeros"), (lambda w: w[:1], "has shape (1, 3); expected (2, 3)"),
    (lambda w: np.where(w > 0, w, 1.0), "has 4 of its 6 entries right"), (lambda w: w + np.nan, "NaN or inf"),
])
def test_hints_name_the_likely_cause_without_the_reference_values(got, hint):
    w = np.array([[1.5, -2.25, 0.25], [3.75, 0.5, -1.125]])
    c = exercises._vs("dW vs mpcore", got(w), w)
    assert c.error >= exercises.TOLERANCE and hint in c.hint
    assert not any(f"{v:g}" in c.hint for v in w.ravel() if abs(v) > 1)  # the values are not shown


def test_the_sandbox_limits(tmp_path):
    src = "import os\n\ndef f(path):\n    return sorted(os.listdir(path))\n"
    with S.StudentFunction(src, "f") as f:
        # a private scratch folder: empty but for the way to the Python installation, when that lies under /tmp
        assert set(f("/tmp")) <= {p.relative_to("/tmp").parts[0] for p in S._readable_roots()
                                  if p.is_relative_to("/tmp")}
        with pytest.raises(S.StudentError, match="No such file"):
            f(str(tmp_path))  # nothing of the grader's files
    big = "def f():\n    return bytearray(3 << 30)\n"
    with S.StudentFunction(big, "f") as f, pytest.raises((S.StudentError, S.SandboxFailure)) as e:
        f()
    assert "memory" in (getattr(e.value, "type_name", "") + str(e.value)).lower()
    net = "import socket\n\ndef f():\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
    with S.StudentFunction(net, "f") as f, pytest.raises(S.StudentError, match="OSError|unreachable"):
        f()
    assert sys.executable  # the grader is still here


def test_the_course_builds_and_grades_with_the_venv_not_activated(graded, tmp_path):
    """`<venv>/bin/python -m mpcore classroom` / `grade` with a PATH that lacks the venv's scripts
    (nbgrader runs `alembic` from PATH); grading an untouched submission prints no warning."""
    import subprocess

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    built = subprocess.run([sys.executable, "-m", "mpcore", "classroom", "--out", str(tmp_path / "c")], env=env,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    submit(tmp_path / "c", "someone")
    graded_run = subprocess.run([sys.executable, "-m", "mpcore", "grade", str(tmp_path / "c")], env=env,
                                capture_output=True, text=True)
    assert graded_run.returncode == 0, graded_run.stderr[-2000:]
    total = sum(ex.points for ex in exercises.EXERCISES.values())
    assert f"someone: {total} of {total} points" in graded_run.stdout
    assert "warn" not in graded_run.stderr.lower() and "changed" not in graded_run.stderr.lower(), graded_run.stderr
