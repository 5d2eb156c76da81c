"""LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

.. math::
    i = \\sigma(x_t W_{xi} + h_{t-1} W_{hi} + b_i), \\quad
    f = \\sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f), \\quad
    o = \\sigma(x_t W_{xo} + h_{t-1} W_{ho} + b_o),

    \\tilde c = \\tanh(x_t W_{xc} + h_{t-1} W_{hc} + b_c), \\quad
    c_t = f \\odot c_{t-1} + i \\odot \\tilde c, \\quad h_t = o \\odot \\tanh(c_t)

Parameters ``W_x{i,f,o,c}`` (C, H), ``W_h{i,f,o,c}`` (H, H), ``b_{i,f,o,c}`` (H,). State: ``(h, c)``.
"""

from __future__ import annotations

import numpy as np

from ..layers import sigmoid
from ._bptt import forward_buffers, step_grads, steps_back

GATES = ("i", "f", "o", "c")
STATE = ("h", "c")
FORGET_GATE = "f"  # its bias starts at +1 (see mpcore.models.sequence.init_params)


def step_forward(x_t, state, p):
    """One step: x_t (N, C), state (h_{t-1}, c_{t-1}) -> ((h_t, c_t), cache)."""
    h_prev, c_prev = state
    i = sigmoid(x_t @ p["W_xi"] + h_prev @ p["W_hi"] + p["b_i"])
    f = sigmoid(x_t @ p["W_xf"] + h_prev @ p["W_hf"] + p["b_f"])
    o = sigmoid(x_t @ p["W_xo"] + h_prev @ p["W_ho"] + p["b_o"])
    c_tilde = np.tanh(x_t @ p["W_xc"] + h_prev @ p["W_hc"] + p["b_c"])
    c_t = f * c_prev + i * c_tilde
    tanh_c = np.tanh(c_t)
    h_t = o * tanh_c
    return (h_t, c_t), (x_t, h_prev, c_prev, p, i, f, o, c_tilde, tanh_c)


def step_backward(dstate, cache):
    """Backward of one step: (dh_t, dc_t) -> (dx_t, (dh_{t-1}, dc_{t-1}), grads).

    ``dc_t`` is the cell-state gradient arriving from step t+1; the cell state passes it back
    through time multiplied only by the forget gate, :math:`dc_{t-1} = dc_t \\odot f_t`.
    """
    dh_t, dc_t = dstate
    x_t, h_prev, c_prev, p, i, f, o, c_tilde, tanh_c = cache
    do = dh_t * tanh_c
    dc = dc_t + dh_t * o * (1.0 - tanh_c**2)
    da = {  # pre-activation gradients
        "i": dc * c_tilde * i * (1.0 - i),
        "f": dc * c_prev * f * (1.0 - f),
        "o": do * o * (1.0 - o),
        "c": dc * i * (1.0 - c_tilde**2),
    }
    dh_prev = sum(da[g] @ p[f"W_h{g}"].T for g in GATES)
    dx, grads = step_grads(p, x_t, {g: (h_prev, da[g]) for g in GATES})
    return dx, (dh_prev, dc * f), grads


# -- fast loops over all T steps (layout: see mpcore.recurrent) ---------------------------------


def forward(XW, W_h, Hs):
    """XW (4, T, N, H): input projections of the gates i, f, o, c~; W_h (4, H, H). Fills Hs[1:];
    returns (acts (T, 4, N, H) the activated gates, C (T+1, N, H) cell states, tanh(C[1:]))."""
    acts, tanh_C = forward_buffers(XW, Hs.dtype, 1)
    C = np.zeros_like(Hs)  # c_0 = 0
    A = np.empty_like(acts[0])  # (4, N, H): pre-activations of i, f, o, c~ at one step
    ic = np.empty_like(Hs[0])
    for t in range(XW.shape[1]):
        np.matmul(Hs[t], W_h, out=A)
        A += XW[:, t]
        a = acts[t]
        sigmoid(A[:3], out=a[:3])
        np.tanh(A[3], out=a[3])
        np.multiply(a[1], C[t], out=C[t + 1])
        np.multiply(a[0], a[3], out=ic)
        C[t + 1] += ic  # c_t = f c_{t-1} + i c~
        np.tanh(C[t + 1], out=tanh_C[t])
        np.multiply(a[2], tanh_C[t], out=Hs[t + 1])  # h_t = o tanh(c_t)
    return acts, C, tanh_C


def backward(dH, W_h, Hs, aux, dA, dh_total):
    """Fill dA (4, T, N, H) with the pre-activation gradients, from step T back to 1.

    The factors that do not depend on the incoming gradient are computed for all steps before
    the loop -- ``da_g = dc K_g`` for g in (i, f, c~), ``da_o = dh K_o``, ``dc += dh Q`` -- so
    each step is five elementwise passes and one matmul. Returns h_{t-1} (1, T, N, H).
    """
    acts, C, tanh_C = aux
    i, f, o, c_tilde = (acts[:, k] for k in range(4))  # each (T, N, H)
    K = dA  # the factors, written into dA; the loop multiplies them by dc or dh in place
    for k, (gate, other) in enumerate(((i, c_tilde), (f, C[:-1]), (o, tanh_C))):  # σ' = σ (1 - σ)
        np.subtract(1.0, gate, out=K[k])
        K[k] *= gate
        K[k] *= other
    np.multiply(c_tilde, c_tilde, out=K[3])  # tanh' = 1 - tanh²
    np.subtract(1.0, K[3], out=K[3])
    K[3] *= i
    Q = np.multiply(tanh_C, tanh_C)
    np.subtract(1.0, Q, out=Q)
    Q *= o
    W_hT = W_h.transpose(0, 2, 1)
    _, T, N, H = dA.shape
    dh = np.zeros((N, H), dtype=dA.dtype)
    dc = np.zeros((N, H), dtype=dA.dtype)
    tmp = np.empty((N, H), dtype=dA.dtype)
    back = np.empty((4, N, H), dtype=dA.dtype)
    for t in steps_back(dH, dh, dh_total):
        np.multiply(dh, Q[t], out=tmp)
        dc += tmp  # dc_t = dc_{t+1} f_{t+1} + dh_t o (1 - tanh² c_t)
        dA[:2, t] *= dc  # da_i, da_f = dc K
        dA[2, t] *= dh  # da_o = dh K_o
        dA[3, t] *= dc  # da_c~ = dc K_c~
        dc *= f[t]  # dc_{t-1}: the cell state carries the gradient back through time
        np.matmul(dA[:, t], W_hT, out=back)
        np.sum(back, axis=0, out=dh)  # dh_{t-1} = Σ_g da_g W_hg^T
    return Hs[None, :-1]
