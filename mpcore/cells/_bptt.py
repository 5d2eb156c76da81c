"""Scaffolding the cells share around their own math: the buffers a forward loop fills, the
backward loop's per-step bookkeeping, and a step's input and weight gradients."""

from __future__ import annotations

import numpy as np


def forward_buffers(XW, dtype, n_extra: int) -> tuple:
    """Empty buffers for a forward loop over XW (G, T, N, H): the activated gates (T, G, N, H),
    then ``n_extra`` per-step arrays (T, N, H) for what the backward needs besides them."""
    G, T, N, H = XW.shape
    return (np.empty((T, G, N, H), dtype=dtype), *(np.empty((T, N, H), dtype=dtype) for _ in range(n_extra)))


def steps_back(dH, dh, dh_total):
    """Time steps T-1, ..., 0 for a backward loop over ``dH`` (T, N, H).

    Before yielding step t it adds ``dH[t]``, the gradient reaching h_t from outside the
    recurrence (the loss), to the running gradient ``dh`` (N, H), which the loop body must
    then overwrite **in place** with dh_{t-1}; and it records the total in ``dh_total[t]``
    when ``dh_total`` is given (the per-step gradient norms of the vanishing-gradient figure).
    """
    for t in range(len(dH) - 1, -1, -1):
        dh += dH[t]
        if dh_total is not None:
            dh_total[t] = dh
        yield t


def step_grads(p, x_t, gates) -> tuple:
    """What a step's pre-activation gradients give beyond the recurrence: ``(dx_t, grads)``.

    ``gates`` maps each gate g to ``(h_in, da_g)``: ``h_in`` is what ``W_h<g>`` multiplied
    (h_{t-1} or a gated version of it), ``da_g`` (N, H) the gradient of g's pre-activation.

    .. math:: dx_t = \\sum_g da_g W_{xg}^T, \\quad dW_{xg} = x_t^T da_g, \\quad
        dW_{hg} = h_{in}^T da_g, \\quad db_g = \\sum_n da_g
    """
    dx = sum(da @ p[f"W_x{g}"].T for g, (_, da) in gates.items())
    grads = {}
    for g, (h_in, da) in gates.items():
        grads[f"W_x{g}"], grads[f"W_h{g}"], grads[f"b_{g}"] = x_t.T @ da, h_in.T @ da, da.sum(0)
    return dx, grads
