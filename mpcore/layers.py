"""Feed-forward layers as forward/backward pairs (cs231n style).

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes the upstream
gradient ``dout`` (same shape as ``out``) and the cache, and returns gradients with respect to
each input in order. Pure functions: nothing is stored between calls and no argument is
modified.

Convention: **rows are examples**. ``x`` is (N, D), a weight matrix is (D, H) so that a layer
computes ``x @ W + b``. (The course writes column vectors, ``W x + b`` with W of shape (H, D);
our ``W`` is its transpose.)
"""

from __future__ import annotations

import numpy as np


def sigmoid(z, out=None):
    """Logistic sigmoid :math:`\\sigma(z) = 1 / (1 + e^{-z})`, elementwise, optionally into ``out``.

    Written as in-place ``exp`` / ``reciprocal`` passes, which beat ``scipy.special.expit`` at the
    models' shapes (``benchmarks/bench_kernels.py``; numbers in ``benchmarks/RESULTS.md``). For
    z < -709, :math:`e^{-z}` overflows to inf and the result is exactly 0, the correctly rounded
    value, so that overflow is silenced.
    """
    with np.errstate(over="ignore"):
        out = np.negative(z, out=out)
        np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)


def affine_forward(x, W, b):
    """Affine map.

    Parameters
    ----------
    x : (N, D) inputs.  W : (D, H) weights.  b : (H,) biases.

    Returns
    -------
    out : (N, H);  cache : (x, W).

    Notes
    -----
    .. math:: \\text{out} = x W + b
    """
    return x @ W + b, (x, W)


def affine_backward(dout, cache):
    """Gradients of the affine map: ``dx = dout W^T``, ``dW = x^T dout``, ``db = sum_n dout``.

    Returns ``(dx (N, D), dW (D, H), db (H,))``.
    """
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def sigmoid_forward(z):
    """Sigmoid layer (see :func:`sigmoid`). Cache: the output."""
    s = sigmoid(z)
    return s, s


def sigmoid_backward(dout, cache):
    """:math:`\\partial \\sigma / \\partial z = \\sigma (1 - \\sigma)`."""
    s = cache
    ds = 1.0 - s  # three in-place passes: no temporaries on the hot path
    ds *= s
    ds *= dout
    return ds


def relu_forward(z):
    """:math:`\\max(0, z)`. Cache: the mask ``z > 0``."""
    mask = z > 0
    return z * mask, mask


def relu_backward(dout, cache):
    """Gradient passes where the input was positive."""
    return dout * cache


def log_softmax(scores):
    """Row-wise :math:`s - \\log\\sum_j e^{s_j}`, shifted by the row max so exp cannot overflow."""
    z = scores - scores.max(axis=1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z


def softmax(scores):
    """Row-wise softmax of (N, V) scores, computed as exp(log_softmax) for stability."""
    return np.exp(log_softmax(scores))


def softmax_cross_entropy(scores, y):
    """Mean cross-entropy of a softmax over classes, and its gradient.

    Parameters
    ----------
    scores : (N, V) unnormalised log-probabilities.  y : (N,) int labels in [0, V).

    Returns
    -------
    loss : float;  dscores : (N, V).

    Notes
    -----
    .. math::
        p = \\mathrm{softmax}(s), \\quad L = -\\frac{1}{N}\\sum_n \\log p_{n, y_n},
        \\quad \\frac{\\partial L}{\\partial s} = \\frac{1}{N}(p - \\mathrm{onehot}(y))
    """
    N = scores.shape[0]
    rows = np.arange(N)
    z = scores - scores.max(axis=1, keepdims=True)  # shift: exp cannot overflow
    p = np.exp(z)
    total = p.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(total[:, 0]) - z[rows, y])  # -log p_y = log sum_j e^{z_j} - z_y
    p /= total
    p[rows, y] -= 1.0
    p /= N
    return float(loss), p


def embedding_forward(idx, R):
    """Look up rows of the embedding matrix.

    Parameters
    ----------
    idx : (N, K) int word indices in [0, V).  R : (V, D) embedding matrix.

    Returns
    -------
    out : (N, K, D) with ``out[n, k] = R[idx[n, k]]``;  cache : (idx, V).
    """
    return R[idx], (idx, R.shape[0])


def embedding_backward(dout, cache):
    """Gradient of the lookup: every occurrence of a word adds its row gradient.

    A word used twice in one batch must receive **both** gradients (``dR[idx] += dout`` would
    keep only one of them), so rows are summed per word with one ``np.bincount`` over the
    flat (word, dimension) positions -- faster than ``np.add.at(dR, idx, dout)``, which computes
    the same sum (``benchmarks/bench_kernels.py``; numbers in ``benchmarks/RESULTS.md``).

    .. math:: \\frac{\\partial L}{\\partial R_v} = \\sum_{(n, k):\\, idx_{nk} = v} dout_{nk}

    Returns ``dR`` (V, D).
    """
    idx, V = cache
    D = dout.shape[-1]
    flat = (idx[..., None] * D + np.arange(D)).ravel()  # position of each entry in dR.ravel()
    dR = np.bincount(flat, weights=dout.ravel(), minlength=V * D)
    return dR.reshape(V, D).astype(dout.dtype, copy=False)
