"""Sequence classifier: a recurrent layer (any cell of :mod:`mpcore.cells`), its final hidden state into a
ReLU MLP, then a softmax over the classes. Trained with full backpropagation through time.

Shapes: ``X`` (N, T, C), ``y`` (N,) int in [0, K). Cell params as in
:mod:`mpcore.cells`; the MLP layers are ``W1 (H, M1), b1, W2 (M1, M2), b2, ...`` and the
last pair maps to the K classes.

.. math::
    h_T = \\mathrm{cell}(x_1, \\dots, x_T), \\quad
    u_1 = \\mathrm{relu}(h_T W_1 + b_1), \\dots, \\quad
    p = \\mathrm{softmax}(u_L W_{L+1} + b_{L+1}), \\quad
    L = -\\frac1N \\sum_n \\log p_{n, y_n}
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..cells import get, param_names
from ..layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax, softmax_cross_entropy
from ..recurrent import sequence_backward, sequence_forward


def _xavier(rng, fan_in, fan_out, dtype):
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out)).astype(dtype)


#: Hidden layer sizes of the classifier on top of the last hidden state (the reference report's).
DEFAULT_MLP = (64, 32)


def init_params(cell: str, n_in: int, n_hidden: int, n_classes: int, rng: np.random.Generator,
                mlp=DEFAULT_MLP, dtype=np.float64, forget_bias: float = 1.0) -> dict:
    """Xavier-uniform weights and zero biases for the cell and the MLP ``n_hidden -> mlp... -> n_classes``,
    except the forget-gate bias of a cell that has one (the LSTM's ``b_f``), set to ``forget_bias``.

    With ``b_f = 1`` the forget gate starts near σ(1) ≈ 0.73 instead of 0.5, so at the start of
    training the cell state keeps most of itself from step to step and the gradient reaches
    early time steps (Gers et al. 2000; Jozefowicz et al. 2015 recommend it for every LSTM).
    """
    forget = get(cell).FORGET_GATE
    C = _checks.positive_int("n_in", n_in)
    H = _checks.positive_int("n_hidden", n_hidden)
    K = _checks.positive_int("n_classes", n_classes)
    mlp = tuple(_checks.positive_int("mlp layer size", m) for m in mlp)
    rng = _checks.rng(rng)
    p = {}
    for name in param_names(cell):
        if name.startswith("W_x"):
            p[name] = _xavier(rng, C, H, dtype)
        elif name.startswith("W_h"):
            p[name] = _xavier(rng, H, H, dtype)
        else:
            p[name] = np.full(H, forget_bias if name == f"b_{forget}" else 0.0, dtype=dtype)
    sizes = (H, *mlp, K)
    for k in range(len(sizes) - 1):
        p[f"W{k + 1}"] = _xavier(rng, sizes[k], sizes[k + 1], dtype)
        p[f"b{k + 1}"] = np.zeros(sizes[k + 1], dtype=dtype)
    return p


def n_mlp_layers(params: dict) -> int:
    """Number of affine layers after the recurrent one (hidden ReLU layers + output)."""
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    return L


def _check(params, X, cell):
    names = param_names(cell)
    X = _checks.float_array("X", X, 3, "(N, T, C)")
    missing = [k for k in names + ["W1"] if k not in params]
    if missing:
        raise ValueError(
            f"params for cell {cell!r} lack {missing} (have {sorted(params)}); were they made for another cell?"
        )
    L = n_mlp_layers(params)
    extra = sorted(set(params) - set(names) - {f"{w}{k}" for k in range(1, L + 1) for w in "Wb"})
    if extra:
        raise ValueError(f"params for cell {cell!r} have parameters it does not use, {extra}; "
                         f"were they made for another cell?")
    C, H = np.shape(params[names[0]])
    shapes = {n: ((C, H) if n.startswith("W_x") else (H, H) if n.startswith("W_h") else (H,)) for n in names}
    prev = H
    for k in range(1, L + 1):
        out = np.shape(params[f"W{k}"])[1]
        shapes[f"W{k}"], shapes[f"b{k}"] = (prev, out), (out,)
        prev = out
    _checks.params_match(params, shapes, f"sequence ({cell})")
    if X.shape[2] != C:
        raise ValueError(f"X has {X.shape[2]} channels but the {cell} layer expects C = {C}")
    return X.astype(params[names[0]].dtype, copy=False), cell, L


def _check_labelled(params, X, y, cell):
    X, cell, L = _check(params, X, cell)
    y = _checks.index_array("y", y, 1, "(N,)", np.shape(params[f"b{L}"])[0])
    _checks.same_length("X", X, "y", y)
    return X, y, cell, L


def _forward(params, X, cell, L):
    Hs, rnn_cache = sequence_forward(X, params, cell)
    u = Hs[:, -1]
    caches = []
    for k in range(1, L + 1):
        u, aff = affine_forward(u, params[f"W{k}"], params[f"b{k}"])
        relu = None
        if k < L:
            u, relu = relu_forward(u)
        caches.append((aff, relu))
    return u, (rnn_cache, caches, Hs.shape)


def _backward(dscores, cache, L, need_dh=False):
    rnn_cache, caches, h_shape = cache
    grads = {}
    du = dscores
    for k in range(L, 0, -1):
        aff, relu = caches[k - 1]
        if relu is not None:
            du = relu_backward(du, relu)
        du, grads[f"W{k}"], grads[f"b{k}"] = affine_backward(du, aff)
    dH = np.zeros(h_shape, dtype=du.dtype)
    dH[:, -1] = du  # only the last hidden state feeds the MLP
    _, cell_grads, dh_total = sequence_backward(dH, rnn_cache, need_dX=False, need_dh=need_dh)
    grads.update(cell_grads)
    return grads, dh_total


def loss_and_grads(params: dict, X: np.ndarray, y: np.ndarray, *, cell: str):
    """Mean cross-entropy and its gradient with respect to every parameter (full BPTT).

    Parameters
    ----------
    params : from :func:`init_params` with the same ``cell``.  X : (N, T, C).  y : (N,) int.
    """
    X, y, cell, L = _check_labelled(params, X, y, cell)
    scores, cache = _forward(params, X, cell, L)
    loss, dscores = softmax_cross_entropy(scores, y)
    grads, _ = _backward(dscores, cache, L)
    return loss, {k: grads[k] for k in params}


def hidden_gradient_norms(params: dict, X: np.ndarray, y: np.ndarray, *, cell: str) -> np.ndarray:
    """Mean over examples of :math:`\\lVert \\partial L / \\partial h_t \\rVert` for t = 1..T: (T,).

    Shows vanishing gradients: for a vanilla RNN the norm decays fast as t moves away from T.
    """
    X, y, cell, L = _check_labelled(params, X, y, cell)
    scores, cache = _forward(params, X, cell, L)
    _, dscores = softmax_cross_entropy(scores, y)
    _, dh_total = _backward(dscores * len(y), cache, L, need_dh=True)  # per-example gradients
    return np.linalg.norm(dh_total, axis=2).mean(axis=0)


def predict_proba(params: dict, X: np.ndarray, *, cell: str, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (N, K); rows sum to 1."""
    X, cell, L = _check(params, X, cell)
    out = [softmax(_forward(params, X[s : s + batch_size], cell, L)[0]) for s in range(0, len(X), batch_size)]
    return np.concatenate(out)
