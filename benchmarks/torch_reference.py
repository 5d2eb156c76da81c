"""The three mpcore models written with torch ops (autograd), for the benchmark and for the
optional gradient comparison in tests/test_torch_reference.py. torch is never a dependency.

Same equations, same parameter names and shapes as mpcore (rows are examples), so weights move
between the two unchanged. The GRU is the course's (reset gate before the recurrent matmul),
written out by hand because ``torch.nn.GRU`` is a different model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def autoencoder_loss(p, X, lam, beta, rho):
    a = torch.sigmoid(X @ p["W1"] + p["b1"])
    X_hat = torch.sigmoid(a @ p["W2"] + p["b2"])
    N = X.shape[0]
    rho_hat = a.mean(0)
    kl = (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
    return 0.5 * ((X_hat - X) ** 2).sum() / N + 0.5 * lam * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum()) + beta * kl


def language_model_loss(p, contexts, targets):
    e = p["R"][contexts].reshape(contexts.shape[0], -1)
    h = torch.sigmoid(e @ p["W1"] + p["b1"])
    return F.cross_entropy(h @ p["W2"] + p["b2"], targets)


def _fuse(p, gates):
    W_x = torch.cat([p[f"W_x{g}"] for g in gates], dim=1)
    W_h = torch.cat([p[f"W_h{g}"] for g in gates], dim=1)
    b = torch.cat([p[f"b_{g}"] for g in gates])
    return W_x, W_h, b


def _rnn(p, X):
    XW = X @ p["W_xh"] + p["b_h"]
    h = X.new_zeros(X.shape[0], p["W_hh"].shape[0])
    for t in range(X.shape[1]):
        h = torch.tanh(XW[:, t] + h @ p["W_hh"])
    return h


def _lstm(p, X):
    W_x, W_h, b = _fuse(p, "ifoc")
    XW = X @ W_x + b
    H = p["W_hi"].shape[0]
    h = X.new_zeros(X.shape[0], H)
    c = X.new_zeros(X.shape[0], H)
    for t in range(X.shape[1]):
        A = XW[:, t] + h @ W_h
        i, f, o = torch.sigmoid(A[:, : 3 * H]).chunk(3, dim=1)
        c = f * c + i * torch.tanh(A[:, 3 * H :])
        h = o * torch.tanh(c)
    return h


def _gru(p, X):
    W_x, W_h, b = _fuse(p, "zr")
    XW = X @ W_x + b
    XWh = X @ p["W_xh"] + p["b_h"]
    h = X.new_zeros(X.shape[0], p["W_hz"].shape[0])
    for t in range(X.shape[1]):
        z, r = torch.sigmoid(XW[:, t] + h @ W_h).chunk(2, dim=1)
        h_tilde = torch.tanh(XWh[:, t] + (r * h) @ p["W_hh"])
        h = z * h + (1 - z) * h_tilde
    return h


def _mgu(p, X):
    XWf = X @ p["W_xf"] + p["b_f"]
    XWh = X @ p["W_xh"] + p["b_h"]
    h = X.new_zeros(X.shape[0], p["W_hf"].shape[0])
    for t in range(X.shape[1]):
        f = torch.sigmoid(XWf[:, t] + h @ p["W_hf"])
        h_tilde = torch.tanh(XWh[:, t] + (f * h) @ p["W_hh"])
        h = (1 - f) * h + f * h_tilde
    return h


#: The last hidden state h_T of each cell of ``mpcore.cells.CELLS``, written with torch ops.
LAST_HIDDEN = {"rnn": _rnn, "lstm": _lstm, "gru": _gru, "mgu": _mgu}


def sequence_loss(p, X, y, cell):
    u = LAST_HIDDEN[cell](p, X)
    L = 0
    while f"W{L + 1}" in p:
        L += 1
    for k in range(1, L + 1):
        u = u @ p[f"W{k}"] + p[f"b{k}"]
        if k < L:
            u = torch.relu(u)
    return F.cross_entropy(u, y)
