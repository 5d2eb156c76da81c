"""Checks for the exercises in the notebooks (the classroom edition, ``python -m mpcore classroom``).

Each exercise is a function the student completes in a notebook; ``check(name, function)`` runs
it on small float64 inputs with a fixed seed and compares

* every output with mpcore's own implementation (the *reference*), and
* every gradient it returns with central finite differences of the student's own function
  (so a wrong gradient is caught even when it "matches" a wrong value),

then prints one line per quantity -- which one is wrong and by how much -- and returns True when
all agree to a relative error below :data:`TOLERANCE`. A function that still raises
``NotImplementedError`` gets a short note instead; nothing raises, so "Run all" always reaches
the end of the notebook (the notebooks themselves use mpcore's implementation throughout).

    >>> from mpcore import exercises
    >>> exercises.check("softmax_cross_entropy", my_softmax_cross_entropy)   # doctest: +SKIP
    softmax_cross_entropy: loss matches mpcore (relative error 0.0e+00) ✓
    ...
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import cells, data, recurrent
from .gradcheck import numerical_gradient, relative_error
from .layers import affine_backward, affine_forward, embedding_backward, softmax, softmax_cross_entropy
from .models import autoencoder
from .train import momentum_update

#: Largest relative error that passes (float64, central differences with h = 1e-5).
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Exercise:
    """One exercise: its notebook, what it asks, its points, the comparison it runs, and the
    mpcore functions a solution may call (the grader serves them to the sandboxed student code)."""

    notebook: str
    title: str
    points: int
    compare: Callable  # student function -> list of Comparison
    helpers: dict = None  # {"dotted.name": function} the solution cell may use besides numpy


@dataclass(frozen=True)
class Comparison:
    """One quantity the student computed, against the reference: its relative error and, when
    the error has a recognisable cause, a hint (never the reference's values)."""

    what: str
    error: float
    hint: str | None = None
    got: object = None  # the student's value (kept to recognise known mistakes; never printed)
    measure: str = "relative error"  # what ``error`` is, for the feedback line


def _vs(what: str, got, want) -> Comparison:
    """Compare the student's ``got`` with ``want`` (reference or finite differences)."""
    try:
        g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    except (TypeError, ValueError):
        return Comparison(what, float("inf"), f"is a {type(got).__name__}, not an array of numbers")
    if g.shape != w.shape:
        return Comparison(what, float("inf"), diagnose(g, w), g)
    err = relative_error(g, w)
    err = err if np.isfinite(err) else float("inf")
    return Comparison(what, err, None if err < TOLERANCE else diagnose(g, w), g)


def diagnose(g: np.ndarray, w: np.ndarray) -> str | None:
    """The likely cause of a wrong answer ``g`` for the right answer ``w``, in words, or None.

    Recognised: the wrong shape (or the transposed one), NaN/inf, all zeros, the opposite sign,
    the right direction scaled by N or 1/N (a sum for a mean, a factor missing or counted twice),
    the transposed matrix, and how many entries are right when only some are.
    """
    if g.shape != w.shape:
        if g.ndim == 2 and g.shape == w.shape[::-1]:
            return f"has the transposed shape {g.shape}; expected {w.shape}"
        return f"has shape {g.shape}; expected {w.shape}"
    if not np.all(np.isfinite(g)):
        return f"holds {np.count_nonzero(~np.isfinite(g))} NaN or inf values (an overflow? a log of 0?)"
    if not np.any(w):
        return None
    if not np.any(g):
        return "is all zeros"
    if relative_error(g, -w) < TOLERANCE:
        return "has the opposite sign"
    k = float(np.vdot(g, w) / np.vdot(w, w))
    if k > 0 and abs(k - 1) > 1e-3 and relative_error(g, k * w) < TOLERANCE:
        for n in range(2, 1001):
            if abs(k - n) < 1e-6 * n:
                return f"is {n}x too large (a sum where the mean belongs, or a factor counted twice?)"
            if abs(1 / k - n) < 1e-6 * n:
                return f"is {n}x too small (a mean where the sum belongs, or a factor missing?)"
        return f"points the right way but is scaled by {k:.3g}"
    if g.ndim == 2 and g.shape[0] == g.shape[1] and relative_error(g, w.T) < TOLERANCE:
        return "is the transpose of the right matrix"
    right = np.isclose(g, w, rtol=1e-6, atol=1e-9 * float(np.abs(w).max()))
    if right.any():
        return f"has {np.count_nonzero(right)} of its {right.size} entries right, the others wrong"
    return None


def _fd(f, x):
    """Central-difference gradient of the scalar ``f()`` with respect to ``x`` (changed in place and restored)."""
    return numerical_gradient(f, x)


# -- Part 1: the sparse autoencoder ----------------------------------------------------------------


def _kl_sparsity(fn):
    rng = np.random.default_rng(0)
    rho, rho_hat = 0.05, rng.uniform(0.01, 0.5, 7)
    kl, dkl = fn(rho, rho_hat.copy())
    ref_kl, ref_dkl = autoencoder.sparsity_penalty(rho, rho_hat)
    x = rho_hat.copy()
    return [_vs("penalty Σ KL(ρ‖ρ̂_j) vs mpcore", kl, ref_kl),
            _vs("gradient dKL/dρ̂ vs mpcore", dkl, ref_dkl),
            _vs("gradient dKL/dρ̂ vs finite differences", dkl, _fd(lambda: fn(rho, x)[0], x))]


def _small_autoencoder():
    rng = np.random.default_rng(1)
    return autoencoder.init_params(6, 4, rng), rng.uniform(0.1, 0.9, (9, 6))


def _autoencoder_cost(fn):
    params, X = _small_autoencoder()
    hyper = dict(lam=1e-2, beta=3.0, rho=0.1)
    J, grads = fn({k: v.copy() for k, v in params.items()}, X, **hyper)
    ref_J, ref_grads = autoencoder.loss_and_grads(params, X, **hyper)
    out = [_vs("cost J vs mpcore", J, ref_J)]
    p = {k: v.copy() for k, v in params.items()}
    for k in params:
        out.append(_vs(f"gradient d J/d {k} vs mpcore", grads[k], ref_grads[k]))
        out.append(_vs(f"gradient d J/d {k} vs finite differences", grads[k], _fd(lambda: fn(p, X, **hyper)[0], p[k])))
    return out


def _zca_whiten(fn):
    rng = np.random.default_rng(2)
    Y = rng.standard_normal((200, 5)) @ rng.standard_normal((5, 5))  # correlated columns
    Y -= Y.mean(axis=1, keepdims=True)
    out = []
    for eps in (0.1, 1e-3):
        ref = Y @ data.zca_matrix(Y, eps)
        out.append(_vs(f"whitened patches, ε = {eps:g}, vs mpcore", fn(Y.copy(), eps), ref))
    return out


def _course_preprocess(fn):
    rng = np.random.default_rng(8)
    rgb = rng.uniform(0.2, 0.6, (12, 3, 6, 6))
    rgb[:4, :, 2, 3] = 1.0  # bright pixels beyond 3 standard deviations: the clipping matters
    rgb[4:6, :, 1, 1] = 0.0
    return [_vs("preprocessed patches vs mpcore (data.preprocess_patches)", fn(rgb.copy()),
                data.preprocess_patches(rgb))]


def _compute_numerical_gradient(fn):
    rng = np.random.default_rng(9)
    theta, v = rng.standard_normal((3, 4)), rng.standard_normal(5)

    def J_cubic(t):  # Σ θ³/3 + Σ sin θ, gradient θ² + cos θ
        return float(np.sum(np.asarray(t) ** 3) / 3 + np.sum(np.sin(t)))

    def J_logsumexp(t):  # log Σ exp θ, gradient softmax(θ)
        return float(np.log(np.sum(np.exp(t))))

    def J_exp(t):  # Σ exp(3θ) / 3, gradient exp(3θ): curved enough that a one-sided difference is visibly off
        return float(np.sum(np.exp(3 * np.asarray(t))) / 3)

    return [_vs("gradient of Σθ³/3 + Σ sin θ (θ a 3 × 4 array) vs the exact gradient",
                fn(J_cubic, theta.copy()), theta**2 + np.cos(theta)),
            _vs("gradient of log Σ exp θ vs the exact gradient", fn(J_logsumexp, v.copy()), softmax(v[None])[0]),
            _vs("gradient of Σ exp(3θ)/3 vs the exact gradient", fn(J_exp, v.copy()), np.exp(3 * v))]


# -- Part 2: the language model --------------------------------------------------------------------


def _softmax_cross_entropy(fn):
    rng = np.random.default_rng(3)
    scores, y = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
    loss, dscores = fn(scores.copy(), y)
    ref_loss, ref_d = softmax_cross_entropy(scores, y)
    s = scores.copy()
    big = scores + 800.0  # a softmax that is not shifted overflows here
    return [_vs("loss vs mpcore", loss, ref_loss),
            _vs("dL/dscores vs mpcore", dscores, ref_d),
            _vs("dL/dscores vs finite differences", dscores, _fd(lambda: fn(s, y)[0], s)),
            _vs("loss for scores + 800 (numerical stability) vs mpcore", fn(big, y)[0],
                softmax_cross_entropy(big, y)[0])]


def _embedding_backward(fn):
    rng = np.random.default_rng(4)
    V, D = 8, 3
    idx = np.array([[1, 4, 1], [4, 4, 7], [0, 2, 1]])  # words 1 and 4 occur several times
    dout = rng.standard_normal((3, 3, D))
    dR = np.asarray(fn(dout.copy(), idx, V), dtype=np.float64)
    ref = embedding_backward(dout, (idx, V))
    out = [_vs("dR (all rows) vs mpcore", dR, ref)]
    if dR.shape == ref.shape:
        repeated = [v for v in range(V) if np.count_nonzero(idx == v) > 1]
        out.append(_vs(f"dR rows of the repeated words {repeated} vs mpcore", dR[repeated], ref[repeated]))
    return out


def _top_k(fn):
    rng = np.random.default_rng(5)
    proba = rng.dirichlet(np.ones(9), size=4)
    got = np.asarray(fn(proba.copy(), 3))
    ref = np.argsort(-proba, axis=1)[:, :3]
    what, measure = "indices of the 3 most probable words, most probable first", "share of indices wrong"
    if got.shape != ref.shape:
        return [Comparison(what, 1.0, diagnose(got, ref), got, measure)]
    hint = "lists the least probable words first" if np.array_equal(got, np.argsort(proba, axis=1)[:, :3]) else None
    return [Comparison(what, float(np.mean(got != ref)), hint, got, measure)]


def _affine_forward(fn):
    rng = np.random.default_rng(11)
    x, W, b, dout = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3), \
        rng.standard_normal((4, 3))
    out, cache = fn(x.copy(), W.copy(), b.copy())
    result = [_vs("out = x W + b vs mpcore", out, affine_forward(x, W, b)[0])]
    try:  # the cache is what the backward pass needs: mpcore's affine_backward must work from it
        dx, dW, db = affine_backward(dout, cache)
        grads = {"dx": np.asarray(dx, dtype=np.float64), "dW": np.asarray(dW, dtype=np.float64),
                 "db": np.asarray(db, dtype=np.float64)}
    except Exception as e:
        return result + [Comparison("mpcore's affine_backward on your cache", float("inf"),
                                    f"could not be computed ({type(e).__name__}): the cache must be the tuple (x, W)")]
    xs, Ws, bs = x.copy(), W.copy(), b.copy()

    def L():  # the scalar whose gradient dout is: Σ dout ⊙ out
        return float(np.sum(np.asarray(fn(xs, Ws, bs)[0]) * dout))

    for name, arr in (("dx", xs), ("dW", Ws), ("db", bs)):
        result.append(_vs(f"{name} from affine_backward on your cache vs finite differences", grads[name], _fd(L, arr)))
    return result


def _momentum_step(fn):
    rng = np.random.default_rng(10)
    A, B = rng.standard_normal((6, 4)), rng.standard_normal(6)
    lr, alpha = 0.05, 0.4  # the course's momentum
    W, dW = rng.standard_normal(4), np.zeros(4)
    got_W, got_dW, want_W, want_dW = [], [], [], []
    for _ in range(5):  # five steps of J = ½‖A W − B‖², each from the right state
        grad = A.T @ (A @ W - B)
        new_W, new_dW = fn(W.copy(), dW.copy(), grad.copy(), lr, alpha)
        got_W.append(np.asarray(new_W, dtype=np.float64))
        got_dW.append(np.asarray(new_dW, dtype=np.float64))
        momentum_update(W, dW, grad, lr, alpha)
        want_W.append(W.copy())
        want_dW.append(dW.copy())
    try:
        got_W, got_dW = np.stack(got_W), np.stack(got_dW)
    except ValueError:
        return [Comparison("W and ΔW after each of 5 steps", float("inf"), "has shapes that differ from step to step")]
    return [_vs("ΔW(n) after each of 5 steps vs the course's rule", got_dW, np.stack(want_dW)),
            _vs("W after each of 5 steps vs the course's rule", got_W, np.stack(want_W))]


# -- Part 3: recurrent networks --------------------------------------------------------------------


def _step_case(cell):
    """Small float64 inputs for one step of ``cell``: x_t, state, params, and a random upstream gradient."""
    rng = np.random.default_rng(6)
    C, H, N = 3, 4, 2
    p = {k: rng.standard_normal(shape) * 0.5 for k, shape in
         ((f"W_x{g}", (C, H)) for g in cells.get(cell).GATES)}
    p.update({f"W_h{g}": rng.standard_normal((H, H)) * 0.5 for g in cells.get(cell).GATES})
    p.update({f"b_{g}": rng.standard_normal(H) * 0.1 for g in cells.get(cell).GATES})
    x = rng.standard_normal((N, C))
    state = tuple(rng.standard_normal((N, H)) * 0.5 for _ in cells.get(cell).STATE)
    upstream = tuple(rng.standard_normal((N, H)) for _ in cells.get(cell).STATE)
    return x, state, p, upstream


def _step_backward(cell, fn):
    module = cells.get(cell)
    x, state, p, upstream = _step_case(cell)
    _, cache = module.step_forward(x, state, p)
    dx, dstate_prev, grads = fn(upstream, cache)
    ref_dx, ref_dstate, ref_grads = module.step_backward(upstream, cache)

    def L():  # the scalar whose gradient the upstream (dh_t, dc_t) is: Σ upstream ⊙ new state
        new_state, _ = module.step_forward(x, state, p)
        return sum(float(np.sum(u * s)) for u, s in zip(upstream, new_state))

    out = [_vs("dx_t vs mpcore", dx, ref_dx), _vs("dx_t vs finite differences", dx, _fd(L, x))]
    for name, d, ref, s in zip(module.STATE, dstate_prev, ref_dstate, state):
        out.append(_vs(f"d{name}_(t-1) vs mpcore", d, ref))
        out.append(_vs(f"d{name}_(t-1) vs finite differences", d, _fd(L, s)))
    for k in p:
        out.append(_vs(f"d{k} vs mpcore", grads[k], ref_grads[k]))
    return out


def _bptt(fn):
    rng = np.random.default_rng(7)
    N, T, C, H = 2, 5, 3, 4
    p = {"W_xh": rng.standard_normal((C, H)) * 0.5, "W_hh": rng.standard_normal((H, H)) * 0.5,
         "b_h": rng.standard_normal(H) * 0.1}
    X, dH = rng.standard_normal((N, T, C)), rng.standard_normal((N, T, H))
    dX, grads = fn(X.copy(), {k: v.copy() for k, v in p.items()}, dH.copy())
    _, cache = recurrent.sequence_forward(X, p, "rnn")
    ref_dX, ref_grads, _ = recurrent.sequence_backward(dH, cache)
    out = [_vs("dX (every step) vs mpcore", dX, ref_dX)]
    out += [_vs(f"d{k} (summed over steps) vs mpcore", grads[k], ref_grads[k]) for k in p]
    return out


EXERCISES = {
    "course_preprocess": Exercise("01", "the course's patch preprocessing", 2, _course_preprocess),
    "compute_numerical_gradient": Exercise("01", "a gradient checker (central differences)", 2,
                                           _compute_numerical_gradient),
    "kl_sparsity": Exercise("01", "the KL sparsity penalty and its gradient", 2, _kl_sparsity),
    "autoencoder_cost": Exercise("01", "the autoencoder's cost and backward pass", 3, _autoencoder_cost,
                                 {"autoencoder.sparsity_penalty": autoencoder.sparsity_penalty}),
    "zca_whiten": Exercise("01", "ZCA whitening", 2, _zca_whiten),
    "softmax_cross_entropy": Exercise("02", "softmax cross-entropy and its gradient", 2, _softmax_cross_entropy),
    "embedding_backward": Exercise("02", "the embedding gradient with repeated words", 2, _embedding_backward),
    "top_k": Exercise("02", "the k most probable next words", 1, _top_k),
    "affine_forward": Exercise("02", "a forward pass that returns its cache", 1, _affine_forward),
    "momentum_step": Exercise("02", "one step of SGD with momentum", 1, _momentum_step),
    "rnn_step_backward": Exercise("03", "one backward step of the vanilla RNN", 2,
                                  lambda fn: _step_backward("rnn", fn)),
    "lstm_step_backward": Exercise("03", "one backward step of the LSTM", 3, lambda fn: _step_backward("lstm", fn)),
    "gru_step_backward": Exercise("03", "one backward step of the GRU (optional)", 2,
                                  lambda fn: _step_backward("gru", fn)),
    "bptt": Exercise("03", "backpropagation through time for the RNN", 3, _bptt,
                     {"cells.rnn.step_forward": cells.rnn.step_forward,
                      "cells.rnn.step_backward": cells.rnn.step_backward}),
}


#: Mistakes students make, per exercise: (a line of the instructor's solution, the same line
#: with the mistake, what the mistake is). The grader recognises them by running the instructor's
#: solution with the mistake and comparing its values with the student's; the tests plant them.
KNOWN_MISTAKES = {
    "course_preprocess": ("3 * Y.std()", "3 * rgb.std()", "the clipping range comes from the standard deviation "
                          "of the RGB values, not of the mean-removed luminance"),
    "compute_numerical_gradient": ("(2 * h)", "h", "the central difference (J(θ + h) − J(θ − h)) is divided by h "
                                   "instead of 2h"),
    "zca_whiten": ("np.sqrt(s + epsilon * s.mean())", "np.sqrt(s + epsilon)",
                   "ε is added as it is, not scaled by the mean eigenvalue s̄"),
    "kl_sparsity": ("dkl = -rho / rho_hat + (1 - rho) / (1 - rho_hat)",
                    "dkl = rho / rho_hat - (1 - rho) / (1 - rho_hat)",
                    "the derivative of the KL term has the opposite sign"),
    "autoencoder_cost": ('"W1": X.T @ delta1 + lam * W1', '"W1": X.T @ delta1',
                         "the weight-decay term λ W1 is missing from dJ/dW1"),
    "affine_forward": ("return out, (x, W)", "return out, (W, x)", "the cache holds (W, x); affine_backward unpacks "
                       "(x, W)"),
    "softmax_cross_entropy": ("return loss, p / N", "return loss, p",
                              "the gradient of the *mean* cross-entropy needs the factor 1/N"),
    "embedding_backward": ("np.add.at(dR, idx, dout)", "dR[idx] += dout", "`dR[idx] += dout` keeps only one "
                           "contribution of a word that occurs several times; np.add.at adds them all"),
    "momentum_step": ("dW = -lr * grad + alpha * dW_prev", "dW = -lr * grad + alpha * grad",
                      "the momentum term multiplies the gradient instead of the previous step ΔW(n−1)"),
    "top_k": ("np.argsort(-proba, axis=1)", "np.argsort(proba, axis=1)", "the words are sorted least probable first"),
    "rnn_step_backward": ("da = dh_t * (1 - h_t**2)", "da = dh_t * (1 - h_prev**2)",
                          "tanh' is taken at h_(t-1) instead of h_t: 1 − h_t²"),
    "lstm_step_backward": ("return dx, (dh_prev, dc * f), grads", "return dx, (dh_prev, dc), grads",
                           "dc_(t-1) misses the forget gate: dc_(t-1) = dc_t ⊙ f_t"),
    "gru_step_backward": ("dh_t * z + drh * r + ", "dh_t * z + ",
                          "dh_(t-1) misses the path through the candidate: (dã W_hhᵀ) ⊙ r"),
    "bptt": ("((dH[:, t] + dh_next,), caches[t])", "((dH[:, t],), caches[t])",
             "the gradient coming back from step t+1 is not added to dh_t"),
}


def known_mistake(name: str, results: list, solution: str) -> str | None:
    """The known mistake (:data:`KNOWN_MISTAKES`) whose values match the student's ``results``
    on every quantity that failed, or None. ``solution`` is the instructor's solution cell
    (trusted code: it runs here)."""
    if name not in KNOWN_MISTAKES or not any(c.error >= TOLERANCE for c in results):
        return None
    good, bad, description = KNOWN_MISTAKES[name]
    if good not in solution:
        return None
    namespace = {"np": np, "autoencoder": autoencoder, "cells": cells}
    exec(compile(solution.replace(good, bad), f"<{name} with a known mistake>", "exec"), namespace)
    mistaken = EXERCISES[name].compare(namespace[name])
    for student, wrong in zip(results, mistaken):
        if student.error >= TOLERANCE:
            try:
                same = relative_error(student.got, wrong.got) < TOLERANCE if student.got is not None else \
                    wrong.got is None and student.hint == wrong.hint  # the same failure, with no values
            except (TypeError, ValueError):
                same = False
            if not same:
                return None
    return description


#: nbgrader sets this while ``nbgrader autograde`` runs the notebooks (NBGRADER_EXECUTION=autograde).
_NBGRADER_AUTOGRADE = ("NBGRADER_EXECUTION", "autograde")


def run(name: str, fn, solution: str | None = None) -> tuple[bool, list[str]]:
    """Run exercise ``name``'s comparisons on ``fn``: (passed, one line per quantity).

    ``fn`` is the student's function, or a :class:`mpcore.grading.sandbox.StudentFunction` that
    runs it in a sandboxed process. With the instructor's ``solution`` cell (the grader has it),
    a wrong answer that matches a :data:`KNOWN_MISTAKES` entry is named. Never raises for what
    the student's code does.
    """
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}: expected one of {sorted(EXERCISES)}")
    try:
        results = EXERCISES[name].compare(fn)
    except NotImplementedError:
        return False, [f"{name}: not implemented yet -- the rest of the notebook uses mpcore's own implementation."]
    except Exception as e:  # a student's bug: say what happened, do not stop the notebook
        if type(e).__name__ == "SandboxFailure":
            return False, [f"{name}: {e}"]
        return False, [f"{name}: your function raised {getattr(e, 'type_name', type(e).__name__)}: {e}"]
    passed, lines = True, []
    for c in results:
        ok = bool(np.isfinite(c.error) and c.error < TOLERANCE)
        passed &= ok
        share = c.measure.startswith("share") and np.isfinite(c.error)
        verdict = "✓" if ok else ("✗ (should be 0%)" if share else f"✗ (should be below {TOLERANCE:g})") + \
            (f": it {c.hint}" if c.hint else "")
        value = f"{c.error:.0%}" if share else f"{c.error:.1e}"
        lines.append(f"{name}: {c.what}: {c.measure} {value} {verdict}")
    mistake = known_mistake(name, results, solution) if solution and not passed else None
    if mistake:
        lines.append(f"{name}: this is a known mistake: {mistake}")
    lines.append(f"{name}: {'all checks pass' if passed else 'NOT YET: fix the lines marked ✗'}")
    return passed, lines


def check(name: str, fn) -> bool:
    """Run exercise ``name``'s comparisons on the student's ``fn``; print them; True if all pass.

    This is the student's immediate feedback, in the notebook's own process. Grades are never
    decided here: ``python -m mpcore grade`` runs each solution in a sandboxed process instead
    (:mod:`mpcore.grading`), so under ``nbgrader autograde`` -- which would let the student's
    code decide its own score -- this refuses and the exercise scores 0.
    """
    if os.environ.get(_NBGRADER_AUTOGRADE[0]) == _NBGRADER_AUTOGRADE[1]:
        raise RuntimeError(f"{name}: grade with `python -m mpcore grade COURSE`, not `nbgrader autograde` (which "
                           "runs the student's code in the process that scores it)")
    passed, lines = run(name, fn)
    print("\n".join(lines))
    return passed
