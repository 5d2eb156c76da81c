"""Recurrent cells -- vanilla RNN, LSTM, GRU -- with backpropagation through time.

Each cell has a **step pair** (one time step, written exactly as the equations, for reading)
and a **sequence pair** (all T steps, written for speed). Tests check that both agree.

Shapes: ``X`` (N, T, C) inputs, hidden state ``h`` (N, H), rows are examples; weights are
``(in, out)`` so a product reads ``x_t @ W_x* + h @ W_h*``. The course writes ``W x + U h``
with column vectors: its ``W`` is our ``W_x*`` transposed, its ``U`` our ``W_h*`` transposed.
Sequences start from zero state (``h_0 = c_0 = 0``).

Parameter names (d2l): RNN ``W_xh, W_hh, b_h``; LSTM ``W_x{i,f,o,c}, W_h{i,f,o,c}, b_{i,f,o,c}``;
GRU ``W_x{z,r,h}, W_h{z,r,h}, b_{z,r,h}``.

Speed: the input projection ``X W_x + b`` of all steps is one
matmul before the loop; gates are kept **gate-major** ``(G, N, H)`` so every gate is one
contiguous block (a fused ``(N, 4H)`` buffer sliced by columns makes elementwise work 3-8x
slower); the backward loop stores pre-activation gradients and the weight gradients are one
big matmul after it.
"""

from __future__ import annotations

import numpy as np

from .layers import sigmoid

CELL_GATES = {"rnn": ("h",), "lstm": ("i", "f", "o", "c"), "gru": ("z", "r", "h")}


def cell_param_names(cell: str) -> list[str]:
    """Names of a cell's parameters, e.g. ``["W_xh", "W_hh", "b_h"]`` for ``"rnn"``."""
    if cell not in CELL_GATES:
        raise ValueError(f"unknown cell {cell!r}: expected one of {sorted(CELL_GATES)}")
    return [f"{k}{g}" for g in CELL_GATES[cell] for k in ("W_x", "W_h", "b_")]


def _stack(p, cell):
    """Gate-major stacks: W_x (G, C, H), W_h (G, H, H), b (G, 1, H)."""
    gates = CELL_GATES[cell]
    W_x = np.stack([p[f"W_x{g}"] for g in gates])
    W_h = np.stack([p[f"W_h{g}"] for g in gates])
    b = np.stack([p[f"b_{g}"] for g in gates])[:, None, :]
    return W_x, W_h, b


def _unstack(cell, dW_x, dW_h, db):
    grads = {}
    for k, g in enumerate(CELL_GATES[cell]):
        grads[f"W_x{g}"], grads[f"W_h{g}"], grads[f"b_{g}"] = dW_x[k], dW_h[k], db[k]
    return grads


# ============================================================================================
# Vanilla RNN
# ============================================================================================


def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    """One step of the tanh RNN.

    x_t (N, C), h_prev (N, H), W_xh (C, H), W_hh (H, H), b_h (H,) -> h_t (N, H), cache.

    Notes
    -----
    .. math:: h_t = \\tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)
    """
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, (x_t, h_prev, W_xh, W_hh, h_t)


def rnn_step_backward(dh_t, cache):
    """Backward of one RNN step: returns (dx_t, dh_prev, dW_xh, dW_hh, db_h).

    .. math:: da = dh_t \\odot (1 - h_t^2),\\; dh_{t-1} = da\\, W_{hh}^T
    """
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_t * (1.0 - h_t**2)
    return da @ W_xh.T, da @ W_hh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


# ============================================================================================
# LSTM
# ============================================================================================


def lstm_step_forward(x_t, h_prev, c_prev, p):
    """One LSTM step. x_t (N, C), h_prev, c_prev (N, H), p: the 12 LSTM params -> h_t, c_t, cache.

    Notes
    -----
    .. math::
        i = \\sigma(x_t W_{xi} + h_{t-1} W_{hi} + b_i), \\quad
        f = \\sigma(x_t W_{xf} + h_{t-1} W_{hf} + b_f), \\quad
        o = \\sigma(x_t W_{xo} + h_{t-1} W_{ho} + b_o),

        \\tilde c = \\tanh(x_t W_{xc} + h_{t-1} W_{hc} + b_c), \\quad
        c_t = f \\odot c_{t-1} + i \\odot \\tilde c, \\quad h_t = o \\odot \\tanh(c_t)
    """
    i = sigmoid(x_t @ p["W_xi"] + h_prev @ p["W_hi"] + p["b_i"])
    f = sigmoid(x_t @ p["W_xf"] + h_prev @ p["W_hf"] + p["b_f"])
    o = sigmoid(x_t @ p["W_xo"] + h_prev @ p["W_ho"] + p["b_o"])
    c_tilde = np.tanh(x_t @ p["W_xc"] + h_prev @ p["W_hc"] + p["b_c"])
    c_t = f * c_prev + i * c_tilde
    tanh_c = np.tanh(c_t)
    h_t = o * tanh_c
    return h_t, c_t, (x_t, h_prev, c_prev, p, i, f, o, c_tilde, tanh_c)


def lstm_step_backward(dh_t, dc_t, cache):
    """Backward of one LSTM step.

    ``dc_t`` is the cell-state gradient arriving from step t+1 (``dc_{t+1} * f_{t+1}``): it must
    flow back through time. Returns (dx_t, dh_prev, dc_prev, grads) with grads keyed like p.
    """
    x_t, h_prev, c_prev, p, i, f, o, c_tilde, tanh_c = cache
    do = dh_t * tanh_c
    dc = dc_t + dh_t * o * (1.0 - tanh_c**2)
    da = {  # pre-activation gradients
        "i": dc * c_tilde * i * (1.0 - i),
        "f": dc * c_prev * f * (1.0 - f),
        "o": do * o * (1.0 - o),
        "c": dc * i * (1.0 - c_tilde**2),
    }
    dx = sum(da[g] @ p[f"W_x{g}"].T for g in da)
    dh_prev = sum(da[g] @ p[f"W_h{g}"].T for g in da)
    grads = {}
    for g in da:
        grads[f"W_x{g}"], grads[f"W_h{g}"], grads[f"b_{g}"] = x_t.T @ da[g], h_prev.T @ da[g], da[g].sum(0)
    return dx, dh_prev, dc * f, grads


# ============================================================================================
# GRU (the course's form: the reset gate multiplies h_{t-1} *before* the recurrent matmul)
# ============================================================================================


def gru_step_forward(x_t, h_prev, p):
    """One GRU step. x_t (N, C), h_prev (N, H), p: the 9 GRU params -> h_t (N, H), cache.

    Notes
    -----
    .. math::
        z = \\sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z), \\quad
        r = \\sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r),

        \\tilde h = \\tanh(x_t W_{xh} + (r \\odot h_{t-1}) W_{hh} + b_h), \\quad
        h_t = z \\odot h_{t-1} + (1 - z) \\odot \\tilde h

    ``torch.nn.GRU`` instead applies r after the matmul, ``r * (h W_hh + b)``: a different model.
    """
    z = sigmoid(x_t @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])
    r = sigmoid(x_t @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])
    rh = r * h_prev
    h_tilde = np.tanh(x_t @ p["W_xh"] + rh @ p["W_hh"] + p["b_h"])
    h_t = z * h_prev + (1.0 - z) * h_tilde
    return h_t, (x_t, h_prev, p, z, r, rh, h_tilde)


def gru_step_backward(dh_t, cache):
    """Backward of one GRU step: (dx_t, dh_prev, grads). Note ``dW_hh = (r h_{t-1})^T da_h``."""
    x_t, h_prev, p, z, r, rh, h_tilde = cache
    da_h = dh_t * (1.0 - z) * (1.0 - h_tilde**2)
    drh = da_h @ p["W_hh"].T
    da_z = dh_t * (h_prev - h_tilde) * z * (1.0 - z)
    da_r = drh * h_prev * r * (1.0 - r)
    dh_prev = dh_t * z + drh * r + da_z @ p["W_hz"].T + da_r @ p["W_hr"].T
    dx = da_z @ p["W_xz"].T + da_r @ p["W_xr"].T + da_h @ p["W_xh"].T
    grads = {
        "W_xz": x_t.T @ da_z, "W_hz": h_prev.T @ da_z, "b_z": da_z.sum(0),
        "W_xr": x_t.T @ da_r, "W_hr": h_prev.T @ da_r, "b_r": da_r.sum(0),
        "W_xh": x_t.T @ da_h, "W_hh": rh.T @ da_h, "b_h": da_h.sum(0),
    }
    return dx, dh_prev, grads


# ============================================================================================
# Whole sequences (fast path)
# ============================================================================================


def sequence_forward(X, p, cell):
    """Run a cell over whole sequences from zero state.

    Parameters
    ----------
    X : (N, T, C) inputs.  p : dict with the cell's params.  cell : "rnn", "lstm" or "gru".

    Returns
    -------
    H : (N, T, H) hidden states h_1..h_T;  cache for :func:`sequence_backward`.
    """
    N, T, C = X.shape
    W_x, W_h, b = _stack(p, cell)
    G, _, Hd = W_x.shape
    dtype = np.result_type(X, W_x)
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2), dtype=dtype).reshape(T * N, C)
    XW = (np.matmul(X_tm, W_x) + b).reshape(G, T, N, Hd)  # input projection of every step
    Hs = np.zeros((T + 1, N, Hd), dtype=dtype)  # Hs[t] = h_t, Hs[0] = h_0 = 0
    acts = np.empty((T, G, N, Hd), dtype=dtype)  # activated gates of each step
    if cell == "rnn":
        for t in range(T):
            np.tanh(XW[0, t] + Hs[t] @ W_h[0], out=Hs[t + 1])
            acts[t, 0] = Hs[t + 1]
        extra = None
    elif cell == "lstm":
        Cs = np.zeros((T + 1, N, Hd), dtype=dtype)
        tanh_C = np.empty((T, N, Hd), dtype=dtype)
        for t in range(T):
            A = XW[:, t] + np.matmul(Hs[t], W_h)  # (4, N, H): i, f, o, c~
            a = acts[t]
            sigmoid(A[:3], out=a[:3])
            np.tanh(A[3], out=a[3])
            np.multiply(a[1], Cs[t], out=Cs[t + 1])
            Cs[t + 1] += a[0] * a[3]  # c_t = f c_{t-1} + i c~
            np.tanh(Cs[t + 1], out=tanh_C[t])
            np.multiply(a[2], tanh_C[t], out=Hs[t + 1])  # h_t = o tanh(c_t)
        extra = (Cs, tanh_C)
    elif cell == "gru":
        RH = np.empty((T, N, Hd), dtype=dtype)
        for t in range(T):
            h = Hs[t]
            a = acts[t]
            sigmoid(XW[:2, t] + np.matmul(h, W_h[:2]), out=a[:2])  # z, r
            np.multiply(a[1], h, out=RH[t])  # r h_{t-1}
            np.tanh(XW[2, t] + RH[t] @ W_h[2], out=a[2])  # h~
            np.multiply(a[0], h - a[2], out=Hs[t + 1])
            Hs[t + 1] += a[2]  # h_t = z h_{t-1} + (1 - z) h~ = z (h_{t-1} - h~) + h~
        extra = RH
    else:
        raise ValueError(f"unknown cell {cell!r}: expected one of {sorted(CELL_GATES)}")
    H_out = Hs[1:].transpose(1, 0, 2)
    return H_out, (cell, X_tm, W_x, W_h, Hs, acts, extra, (N, T, C))


def sequence_backward(dH, cache):
    """Backpropagation through time.

    Parameters
    ----------
    dH : (N, T, H) gradient of the loss with respect to every hidden state h_1..h_T (for a
        classifier on the last state, zeros except ``dH[:, -1]``).

    Returns
    -------
    dX : (N, T, C);  grads : dict of the cell's params;  dh_total : (N, T, H), the full
        gradient :math:`\\partial L / \\partial h_t` at each step (what vanishes over time).
    """
    cell, X_tm, W_x, W_h, Hs, acts, extra, (N, T, C) = cache
    G, _, Hd = W_x.shape
    dtype = Hs.dtype
    dH_tm = dH.transpose(1, 0, 2)
    dA = np.empty((G, T, N, Hd), dtype=dtype)  # pre-activation gradients of every step
    dh_total = np.empty((T, N, Hd), dtype=dtype)
    dh = np.zeros((N, Hd), dtype=dtype)
    W_hT = W_h.transpose(0, 2, 1)
    if cell == "rnn":
        for t in range(T - 1, -1, -1):
            dh += dH_tm[t]
            dh_total[t] = dh
            h = acts[t, 0]
            np.multiply(dh, 1.0 - h * h, out=dA[0, t])
            dh = dA[0, t] @ W_hT[0]
        H_in = Hs[:-1]
    elif cell == "lstm":
        Cs, tanh_C = extra
        dc = np.zeros((N, Hd), dtype=dtype)
        for t in range(T - 1, -1, -1):
            dh += dH_tm[t]
            dh_total[t] = dh
            i, f, o, c_tilde = acts[t]
            tc = tanh_C[t]
            dc += dh * o * (1.0 - tc * tc)
            dA[0, t] = dc * c_tilde * i * (1.0 - i)
            dA[1, t] = dc * Cs[t] * f * (1.0 - f)
            dA[2, t] = dh * tc * o * (1.0 - o)
            dA[3, t] = dc * i * (1.0 - c_tilde * c_tilde)
            dc *= f  # dc_{t-1} = dc_t f_t: the cell state carries gradient back through time
            dh = np.matmul(dA[:, t], W_hT).sum(axis=0)
        H_in = Hs[:-1]
    else:  # gru
        RH = extra
        for t in range(T - 1, -1, -1):
            dh += dH_tm[t]
            dh_total[t] = dh
            z, r, h_tilde = acts[t]
            h_prev = Hs[t]
            np.multiply(dh * (1.0 - z), 1.0 - h_tilde * h_tilde, out=dA[2, t])
            drh = dA[2, t] @ W_hT[2]
            np.multiply(dh * (h_prev - h_tilde), z * (1.0 - z), out=dA[0, t])
            np.multiply(drh * h_prev, r * (1.0 - r), out=dA[1, t])
            dh = dh * z + drh * r + np.matmul(dA[:2, t], W_hT[:2]).sum(axis=0)
        H_in = np.stack([Hs[:-1], Hs[:-1], RH])  # what each gate's W_h multiplies
    dA_flat = dA.reshape(G, T * N, Hd)
    dW_x = np.matmul(X_tm.T, dA_flat)  # (G, C, H): one matmul over all steps
    H_flat = H_in.reshape(-1, T * N, Hd)
    dW_h = np.matmul(H_flat.transpose(0, 2, 1), dA_flat)  # (G, H, H)
    db = dA_flat.sum(axis=1)
    dX = np.matmul(dA_flat, W_x.transpose(0, 2, 1)).sum(axis=0).reshape(T, N, C).transpose(1, 0, 2)
    return dX, _unstack(cell, dW_x, dW_h, db), dh_total.transpose(1, 0, 2)
