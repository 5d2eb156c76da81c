"""Vanilla (Elman) RNN cell.

.. math:: h_t = \\tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)

Parameters ``W_xh`` (C, H), ``W_hh`` (H, H), ``b_h`` (H,). State: ``(h,)``.
"""

from __future__ import annotations

import numpy as np

from ._bptt import step_grads, steps_back

GATES = ("h",)
STATE = ("h",)
FORGET_GATE = None


def step_forward(x_t, state, p):
    """One step: x_t (N, C), state (h_{t-1},) -> ((h_t,), cache)."""
    (h_prev,) = state
    h_t = np.tanh(x_t @ p["W_xh"] + h_prev @ p["W_hh"] + p["b_h"])
    return (h_t,), (x_t, h_prev, p, h_t)


def step_backward(dstate, cache):
    """Backward of one step: (dh_t,) -> (dx_t, (dh_{t-1},), grads).

    .. math:: da = dh_t \\odot (1 - h_t^2), \\quad dh_{t-1} = da\\, W_{hh}^T
    """
    (dh_t,) = dstate
    x_t, h_prev, p, h_t = cache
    da = dh_t * (1.0 - h_t**2)
    dx, grads = step_grads(p, x_t, {"h": (h_prev, da)})
    return dx, (da @ p["W_hh"].T,), grads


# -- fast loops over all T steps (layout: see mpcore.recurrent) ---------------------------------


def forward(XW, W_h, Hs):
    """XW (1, T, N, H): input projections ``x_t W_xh + b_h``; W_h (1, H, H). Fills Hs[1:] with
    h_1..h_T; returns the backward's aux (nothing: h_t is all it needs)."""
    for t in range(XW.shape[1]):
        np.tanh(XW[0, t] + Hs[t] @ W_h[0], out=Hs[t + 1])
    return None


def backward(dH, W_h, Hs, aux, dA, dh_total):
    """Fill dA (1, T, N, H) with the pre-activation gradients, from step T back to 1.

    Returns what W_h multiplied, h_{t-1} for every step: (1, T, N, H)."""
    D = 1.0 - Hs[1:] * Hs[1:]  # tanh'(a_t) for every step at once
    W_hhT = W_h[0].T
    dh = np.zeros_like(dH[0])
    for t in steps_back(dH, dh, dh_total):
        np.multiply(dh, D[t], out=dA[0, t])
        np.matmul(dA[0, t], W_hhT, out=dh)  # dh_{t-1} = da_t W_hh^T
    return Hs[None, :-1]
