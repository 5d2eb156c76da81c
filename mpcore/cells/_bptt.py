"""What every cell's backward loop does at each step before its own math."""

from __future__ import annotations


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


def gate_grads(gate: str, x_t, h_in, da) -> dict:
    """One gate's weight gradients in a step: ``W_x<gate>``: x_t^T da, ``W_h<gate>``: h_in^T da
    (h_in: what W_h<gate> multiplied, h_{t-1} or a gated version of it), ``b_<gate>``: Σ_n da."""
    return {f"W_x{gate}": x_t.T @ da, f"W_h{gate}": h_in.T @ da, f"b_{gate}": da.sum(0)}
