"""Minimal gated unit (Zhou et al. 2016): a GRU with one gate that both resets and updates.

.. math::
    f = \\sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f), \\quad
    \\tilde h = \\tanh(x_t W_{xh} + (f \\odot h_{t-1}) W_{hh} + b_h), \\quad
    h_t = (1 - f) \\odot h_{t-1} + f \\odot \\tilde h

Parameters ``W_x{f,h}`` (C, H), ``W_h{f,h}`` (H, H), ``b_{f,h}`` (H,). State: ``(h,)``.
"""

from __future__ import annotations

import numpy as np

from ..layers import sigmoid
from ._bptt import forward_buffers, step_grads, steps_back

GATES = ("f", "h")
STATE = ("h",)
FORGET_GATE = None  # f = 1 *replaces* the state here, unlike the LSTM's f: no +1 bias


def step_forward(x_t, state, p):
    """One step: x_t (N, C), state (h_{t-1},) -> ((h_t,), cache)."""
    (h_prev,) = state
    f = sigmoid(x_t @ p["W_xf"] + h_prev @ p["W_hf"] + p["b_f"])
    fh = f * h_prev
    h_tilde = np.tanh(x_t @ p["W_xh"] + fh @ p["W_hh"] + p["b_h"])
    h_t = (1.0 - f) * h_prev + f * h_tilde
    return (h_t,), (x_t, h_prev, p, f, fh, h_tilde)


def step_backward(dstate, cache):
    """Backward of one step: (dh_t,) -> (dx_t, (dh_{t-1},), grads).

    .. math::
        da_h = dh_t f (1 - \\tilde h^2), \\quad d(fh) = da_h W_{hh}^T, \\quad
        da_f = (dh_t (\\tilde h - h_{t-1}) + d(fh)\\, h_{t-1})\\, f (1 - f)
    """
    (dh_t,) = dstate
    x_t, h_prev, p, f, fh, h_tilde = cache
    da_h = dh_t * f * (1.0 - h_tilde**2)
    dfh = da_h @ p["W_hh"].T
    da_f = (dh_t * (h_tilde - h_prev) + dfh * h_prev) * f * (1.0 - f)
    dh_prev = dh_t * (1.0 - f) + dfh * f + da_f @ p["W_hf"].T
    dx, grads = step_grads(p, x_t, {"f": (h_prev, da_f), "h": (fh, da_h)})
    return dx, (dh_prev,), grads


# -- fast loops over all T steps (layout: see mpcore.recurrent) ---------------------------------


def forward(XW, W_h, Hs):
    """XW (2, T, N, H): input projections of f and h~; W_h (2, H, H). Fills Hs[1:]; returns
    (acts (T, 2, N, H) the activated gates, FH (T, N, H) = f_t h_{t-1}, what W_hh multiplied)."""
    acts, FH = forward_buffers(XW, Hs.dtype, 1)
    for t in range(XW.shape[1]):
        h, a = Hs[t], acts[t]
        sigmoid(XW[0, t] + h @ W_h[0], out=a[0])  # f
        np.multiply(a[0], h, out=FH[t])
        np.tanh(XW[1, t] + FH[t] @ W_h[1], out=a[1])  # h~
        np.subtract(a[1], h, out=Hs[t + 1])
        Hs[t + 1] *= a[0]
        Hs[t + 1] += h  # h_t = h_{t-1} + f (h~ - h_{t-1})
    return acts, FH


def backward(dH, W_h, Hs, aux, dA, dh_total):
    """Fill dA (2, T, N, H) with the pre-activation gradients, from step T back to 1.
    Returns what each gate's W_h multiplied: (h_{t-1}, f_t h_{t-1}), (2, T, N, H)."""
    acts, FH = aux
    f, h_tilde = acts[:, 0], acts[:, 1]
    H_prev = Hs[:-1]
    df = f * (1.0 - f)
    K_h = f * (1.0 - h_tilde * h_tilde)
    K_f_dh = (h_tilde - H_prev) * df  # da_f = dh K_f_dh + d(fh) K_f_dfh
    K_f_dfh = H_prev * df
    keep = 1.0 - f
    W_hfT, W_hhT = W_h[0].T, W_h[1].T
    _, T, N, H = dA.shape
    dh = np.zeros((N, H), dtype=dA.dtype)
    dfh = np.empty((N, H), dtype=dA.dtype)
    tmp = np.empty((N, H), dtype=dA.dtype)
    for t in steps_back(dH, dh, dh_total):
        np.multiply(dh, K_h[t], out=dA[1, t])
        np.matmul(dA[1, t], W_hhT, out=dfh)  # gradient of f h_{t-1}
        np.multiply(dh, K_f_dh[t], out=dA[0, t])
        np.multiply(dfh, K_f_dfh[t], out=tmp)
        dA[0, t] += tmp
        np.matmul(dA[0, t], W_hfT, out=tmp)
        dh *= keep[t]
        dfh *= f[t]
        dh += dfh
        dh += tmp  # dh_{t-1} = dh (1 - f) + d(fh) f + da_f W_hf^T
    return np.stack([H_prev, FH])
