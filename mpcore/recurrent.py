"""A recurrent layer over whole sequences: what every cell of :mod:`mpcore.cells` shares.

Shapes: ``X`` (N, T, C) inputs, hidden state ``h`` (N, H), rows are examples; weights are
``(in, out)`` so a product reads ``x_t @ W_x* + h @ W_h*``. The course writes ``W x + U h``
with column vectors: its ``W`` is our ``W_x*`` transposed, its ``U`` our ``W_h*`` transposed.
Sequences start from zero state (``h_0 = c_0 = 0``).

Layout, chosen for speed: everything is **gate-major** -- a cell's G gates are stacked on a
leading axis, ``W_x`` (G, C, H), ``W_h`` (G, H, H), ``b`` (G, 1, H) -- so every gate's block is
contiguous (a fused ``(N, G·H)`` buffer sliced by columns makes the elementwise work up to 2x
slower: measured in ``benchmarks/``). ``XW`` (G, T, N, H) holds the input projection
``x_t W_x + b`` of every step, one matmul before the loop; ``Hs`` (T+1, N, H) holds h_0..h_T.
A cell's backward loop writes the pre-activation gradients ``dA`` (G, T, N, H); after it the
weight gradients are one matmul each over all steps:

.. math::
    \\frac{\\partial L}{\\partial W_x} = \\sum_t x_t^T\\, da_t, \\qquad
    \\frac{\\partial L}{\\partial W_h} = \\sum_t h_{t-1}^T\\, da_t, \\qquad
    \\frac{\\partial L}{\\partial b} = \\sum_t \\sum_n da_{t,n}
"""

from __future__ import annotations

import numpy as np

from . import cells


def stack(p: dict, cell: str):
    """The cell's parameters, gate-major: W_x (G, C, H), W_h (G, H, H), b (G, 1, H)."""
    gates = cells.get(cell).GATES
    W_x = np.stack([p[f"W_x{g}"] for g in gates])
    W_h = np.stack([p[f"W_h{g}"] for g in gates])
    b = np.stack([p[f"b_{g}"] for g in gates])[:, None, :]
    return W_x, W_h, b


def unstack(cell: str, dW_x, dW_h, db) -> dict:
    """Inverse of :func:`stack` for gradients: a dict keyed like the cell's parameters."""
    grads = {}
    for k, g in enumerate(cells.get(cell).GATES):
        grads[f"W_x{g}"], grads[f"W_h{g}"], grads[f"b_{g}"] = dW_x[k], dW_h[k], db[k]
    return grads


def sequence_forward(X, p, cell):
    """Run ``cell`` over whole sequences from zero state.

    Parameters
    ----------
    X : (N, T, C) inputs.  p : dict with the cell's params.  cell : a name in ``cells.CELLS``.

    Returns
    -------
    H : (N, T, H) hidden states h_1..h_T;  cache for :func:`sequence_backward`.
    """
    module = cells.get(cell)
    N, T, C = X.shape
    W_x, W_h, b = stack(p, cell)
    G, _, H = W_x.shape
    dtype = np.result_type(X, W_x)
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2), dtype=dtype).reshape(T * N, C)
    XW = np.matmul(X_tm, W_x).reshape(G, T, N, H)
    XW += b[:, None]  # x_t W_x + b for every step and gate
    Hs = np.zeros((T + 1, N, H), dtype=dtype)  # Hs[t] = h_t, Hs[0] = h_0 = 0
    aux = module.forward(XW, W_h, Hs)
    return Hs[1:].transpose(1, 0, 2), (cell, X_tm, W_x, W_h, Hs, aux, (N, T, C))


def sequence_backward(dH, cache, *, need_dX: bool = True, need_dh: bool = True):
    """Backpropagation through time.

    Parameters
    ----------
    dH : (N, T, H) gradient of the loss with respect to every hidden state h_1..h_T (for a
        classifier on the last state, zeros except ``dH[:, -1]``).
    need_dX, need_dh : skip the input gradient / the per-step gradients when not needed.

    Returns
    -------
    dX : (N, T, C) or None;  grads : dict of the cell's params;  dh_total : (N, T, H) or None,
        the full gradient :math:`\\partial L / \\partial h_t` at each step (what vanishes over time).
    """
    cell, X_tm, W_x, W_h, Hs, aux, (N, T, C) = cache
    G, _, H = W_x.shape
    dtype = Hs.dtype
    dH_tm = np.ascontiguousarray(dH.transpose(1, 0, 2), dtype=dtype)
    dA = np.empty((G, T, N, H), dtype=dtype)  # pre-activation gradients of every step
    dh_total = np.empty((T, N, H), dtype=dtype) if need_dh else None
    inputs = cells.get(cell).backward(dH_tm, W_h, Hs, aux, dA, dh_total)
    dA_flat = dA.reshape(G, T * N, H)
    dW_x = np.matmul(X_tm.T, dA_flat)  # (G, C, H): one matmul over all steps
    H_in = inputs.reshape(-1, T * N, H)  # what each gate's W_h multiplied: (1 or G, T·N, H)
    dW_h = np.matmul(H_in.transpose(0, 2, 1), dA_flat)  # (G, H, H)
    db = dA_flat.sum(axis=1)
    dX = None
    if need_dX:
        dX = np.matmul(dA_flat, W_x.transpose(0, 2, 1)).sum(axis=0).reshape(T, N, C).transpose(1, 0, 2)
    dh = dh_total.transpose(1, 0, 2) if need_dh else None
    return dX, unstack(cell, dW_x, dW_h, db), dh
