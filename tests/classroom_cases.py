"""The walkthroughs' exercise cells and one planted bug per exercise (test_classroom, test_grading)."""

from __future__ import annotations

import nbformat
import numpy as np

from mpcore import cells, classroom
from mpcore.models import autoencoder

#: One bug per exercise, the kind students make: (the solution's line, the buggy line).
PLANTED_BUGS = {
    "course_preprocess": ("3 * Y.std()", "3 * rgb.std()"),  # the std of the raw RGB (the reference report's bug)
    "compute_numerical_gradient": ("(2 * h)", "h"),  # a one-sided difference's denominator on a central one
    "affine_forward": ("return out, (x, W)", "return out, (W, x)"),  # a cache backward cannot use
    "momentum_step": ("dW = -lr * grad + alpha * dW_prev", "dW = -lr * grad + alpha * grad"),
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
