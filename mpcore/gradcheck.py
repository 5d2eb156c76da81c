"""Central finite differences, to check analytic gradients (run in float64): a small relative
error supports a gradient on the inputs tried; it does not prove it."""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored exactly afterwards;
    ``f`` takes no arguments and reads ``x`` (for example through a params dict).

    .. math:: \\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h}
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    """:math:`\\lVert a - b \\rVert / \\max(\\lVert a \\rVert + \\lVert b \\rVert, 10^{-300})`."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def check_gradients(loss_and_grads, params: dict, h: float = 1e-5) -> dict:
    """Relative error between analytic and numerical gradients, for every parameter.

    ``loss_and_grads(params) -> (loss, grads)``. Works on float64 copies, so the caller's
    arrays are never touched. Returns ``{name: relative error}``.
    """
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    _, grads = loss_and_grads(p)
    return {
        k: relative_error(grads[k], numerical_gradient(lambda: loss_and_grads(p)[0], p[k], h))
        for k in p
    }
