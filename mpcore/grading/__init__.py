"""Grading the classroom edition: student code runs sandboxed, never where its score is decided.

* :mod:`.wire` -- the message format between the grader and the student's process (no pickle);
* :mod:`.child` -- the student's side, run inside the sandbox;
* :mod:`.sandbox` -- starts that process under bubblewrap and calls the student's function;
* :mod:`.course` -- grades an nbgrader course's submissions into its gradebook
  (``python -m mpcore grade COURSE``).
"""
