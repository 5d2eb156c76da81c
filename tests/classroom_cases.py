"""The walkthroughs' exercise cells and one planted bug per exercise (test_classroom, test_grading)."""

from __future__ import annotations

import nbformat
import numpy as np

from mpcore import cells, classroom, exercises
from mpcore.models import autoencoder

#: One bug per exercise, the kind students make: (the solution's line, the buggy line).
PLANTED_BUGS = {name: (good, bad) for name, (good, bad, _) in exercises.KNOWN_MISTAKES.items()}
#: What the check must name as wrong for each planted bug.
BUG_SHOWS_IN = {
    "course_preprocess": "preprocessed patches", "compute_numerical_gradient": "exact gradient",
    "affine_forward": "affine_backward on your cache", "momentum_step": "ΔW(n)",
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
