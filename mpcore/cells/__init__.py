"""The recurrent cells, one module each, and the one table that lists them.

Every cell module has the same parts:

``GATES``
    gate names; the parameters are ``W_x<g>`` (C, H), ``W_h<g>`` (H, H), ``b_<g>`` (H,) per gate.
``STATE``
    the names of the state it carries from step to step: ``("h",)`` or ``("h", "c")``.
``FORGET_GATE``
    the gate whose bias starts at +1 (the LSTM's ``"f"``), or None.
``step_forward(x_t, state, p) -> (state, cache)`` and ``step_backward(dstate, cache) -> (dx_t, dstate_prev, grads)``
    one time step, written exactly like the equations: for reading and for the tests.
``forward(XW, W_h, Hs) -> aux`` and ``backward(dH, W_h, Hs, aux, dA, dh_total) -> H_in``
    the loops over all T steps, written for speed, called by :mod:`mpcore.recurrent`, which
    owns everything the cells share (input projection, weight gradients).

To add a cell: write its module and add one line to ``CELLS``.
"""

from __future__ import annotations

from . import gru, lstm, mgu, rnn

CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru, "mgu": mgu}


def get(cell: str):
    """The module of ``cell`` ("rnn", "lstm", "gru" or "mgu"); ValueError for any other name."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: expected one of {list(CELLS)}")
    return CELLS[cell]


def param_names(cell: str) -> list[str]:
    """Names of a cell's parameters, e.g. ``["W_xh", "W_hh", "b_h"]`` for ``"rnn"``."""
    return [f"{k}{g}" for g in get(cell).GATES for k in ("W_x", "W_h", "b_")]
