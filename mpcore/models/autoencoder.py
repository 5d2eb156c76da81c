"""Sparse autoencoder: sigmoid encoder and decoder, Tikhonov weight decay, KL sparsity.

Shapes: ``X`` (N, D) examples in rows (the course stores patches in columns), ``W1`` (D, H),
``b1`` (H,), ``W2`` (H, D), ``b2`` (D,). The cost is a mean over the batch.

.. math::
    a = \\sigma(X W_1 + b_1), \\qquad \\hat X = \\sigma(a W_2 + b_2), \\qquad
    \\hat\\rho_j = \\frac1N \\sum_n a_{nj}

    J = \\frac{1}{2N} \\sum_n \\lVert x_n - \\hat x_n \\rVert^2
        + \\frac{\\lambda}{2} (\\lVert W_1 \\rVert_F^2 + \\lVert W_2 \\rVert_F^2)
        + \\beta \\sum_j \\mathrm{KL}(\\rho \\,\\Vert\\, \\hat\\rho_j),
    \\qquad \\mathrm{KL}(\\rho \\Vert \\hat\\rho) = \\rho \\log\\frac{\\rho}{\\hat\\rho}
        + (1-\\rho) \\log\\frac{1-\\rho}{1-\\hat\\rho}
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..layers import affine_backward, affine_forward, sigmoid_backward, sigmoid_forward

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def init_params(n_in: int, n_hidden: int, rng: np.random.Generator, dtype=np.float64) -> dict:
    """Weights and biases uniform in [-w0, w0], ``w0 = sqrt(6 / (n_in + n_hidden))`` (course).

    Returns ``{"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_in), "b2": (n_in,)}``.
    """
    n_in = _checks.positive_int("n_in", n_in)
    n_hidden = _checks.positive_int("n_hidden", n_hidden)
    rng = _checks.rng(rng)
    w0 = np.sqrt(6.0 / (n_in + n_hidden))
    shapes = {"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_in), "b2": (n_in,)}
    return {k: rng.uniform(-w0, w0, size=s).astype(dtype) for k, s in shapes.items()}


def check_hyper(lam, beta, rho):
    """Validate the cost's hyperparameters: λ >= 0, β >= 0, 0 < ρ < 1."""
    return (
        _checks.number("lam", lam, low=0),
        _checks.number("beta", beta, low=0),
        _checks.number("rho", rho, low=0, high=1, low_open=True, high_open=True),
    )


def _check(params, X):
    X = _checks.float_array("X", X, 2, "(N, n_in)")
    if "W1" not in params:
        raise ValueError(f"params lack ['W1'] (have {sorted(params)})")
    D, H = np.shape(params["W1"])
    _checks.params_match(params, {"W1": (D, H), "b1": (H,), "W2": (H, D), "b2": (D,)}, "autoencoder")
    if X.shape[1] != D:
        raise ValueError(f"X has {X.shape[1]} features per row but W1 expects n_in = {D}")
    return X


def forward(params: dict, X: np.ndarray):
    """Hidden activations ``a`` (N, H) and reconstruction ``X_hat`` (N, D)."""
    X = _check(params, X)
    a, _ = sigmoid_forward(affine_forward(X, params["W1"], params["b1"])[0])
    X_hat, _ = sigmoid_forward(affine_forward(a, params["W2"], params["b2"])[0])
    return a, X_hat


def loss_and_grads(params: dict, X: np.ndarray, *, lam: float, beta: float, rho: float):
    """Cost J (module docstring) and its gradient with respect to every parameter.

    Parameters
    ----------
    params : from :func:`init_params`.  X : (N, D) examples in [0, 1].
    lam : weight decay λ >= 0.  beta : sparsity weight β >= 0.  rho : target activation in (0, 1).

    Returns
    -------
    loss : float;  grads : dict with the keys of ``params``.

    Notes
    -----
    Backward, with :math:`\\delta_2 = (\\hat X - X) \\odot \\hat X (1 - \\hat X) / N`:

    .. math::
        \\nabla_{W_2} J = a^T \\delta_2 + \\lambda W_2, \\qquad
        \\delta_1 = \\Big(\\delta_2 W_2^T + \\frac{\\beta}{N}\\big(-\\frac{\\rho}{\\hat\\rho}
            + \\frac{1-\\rho}{1-\\hat\\rho}\\big)\\Big) \\odot a (1 - a), \\qquad
        \\nabla_{W_1} J = X^T \\delta_1 + \\lambda W_1
    """
    lam, beta, rho = check_hyper(lam, beta, rho)
    X = _check(params, X)
    X = X.astype(params["W1"].dtype, copy=False)
    N = X.shape[0]
    W1, W2 = params["W1"], params["W2"]

    z1, _ = affine_forward(X, W1, params["b1"])
    a, sig1 = sigmoid_forward(z1)
    z2, aff2 = affine_forward(a, W2, params["b2"])
    X_hat, sig2 = sigmoid_forward(z2)
    rho_hat = a.mean(axis=0)

    err = X_hat - X
    reconstruction = 0.5 * np.einsum("ij,ij->", err, err) / N
    decay = 0.5 * lam * (np.einsum("ij,ij->", W1, W1) + np.einsum("ij,ij->", W2, W2))
    kl, dkl = sparsity_penalty(rho, rho_hat)
    loss = float(reconstruction + decay + beta * kl)

    dz2 = sigmoid_backward(err / N, sig2)
    da, dW2, db2 = affine_backward(dz2, aff2)
    da += (beta / N) * dkl  # every example's activation moves ρ̂ by 1/N
    dz1 = sigmoid_backward(da, sig1)
    dW1, db1 = X.T @ dz1, dz1.sum(axis=0)  # affine_backward without dX: nothing below X to train
    grads = {"W1": dW1 + lam * W1, "b1": db1, "W2": dW2 + lam * W2, "b2": db2}
    return loss, grads


def cost_terms(params: dict, X: np.ndarray, *, lam: float, beta: float, rho: float) -> dict:
    """The three terms of the cost J (module docstring) separately, from a forward pass only:
    ``{"reconstruction": ..., "weight_decay": ..., "sparsity": β Σ_j KL(ρ ‖ ρ̂_j)}``; they sum to
    the loss of :func:`loss_and_grads`."""
    lam, beta, rho = check_hyper(lam, beta, rho)
    a, X_hat = forward(params, X)
    err = X_hat - np.asarray(X, dtype=X_hat.dtype)
    W1, W2 = params["W1"], params["W2"]
    return {"reconstruction": float(0.5 * np.einsum("ij,ij->", err, err) / len(X)),
            "weight_decay": float(0.5 * lam * (np.einsum("ij,ij->", W1, W1) + np.einsum("ij,ij->", W2, W2))),
            "sparsity": float(beta * sparsity_penalty(rho, a.mean(axis=0))[0])}


def sparsity_penalty(rho: float, rho_hat: np.ndarray):
    """The sparsity term :math:`\\sum_j \\mathrm{KL}(\\rho \\Vert \\hat\\rho_j)` and its gradient.

    .. math::
        \\mathrm{KL}(\\rho \\Vert \\hat\\rho_j) = \\rho \\log\\frac{\\rho}{\\hat\\rho_j}
            + (1 - \\rho) \\log\\frac{1 - \\rho}{1 - \\hat\\rho_j}, \\qquad
        \\frac{\\partial}{\\partial \\hat\\rho_j} = -\\frac{\\rho}{\\hat\\rho_j} + \\frac{1 - \\rho}{1 - \\hat\\rho_j}

    Parameters: ``rho`` the target in (0, 1); ``rho_hat`` (H,) mean activations in [0, 1]
    (a unit that is always 0 or 1 gives an infinite penalty).
    Returns (penalty: float, gradient with respect to ``rho_hat``: (H,)).
    """
    with np.errstate(divide="ignore"):
        kl = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
        dkl = -rho / rho_hat + (1 - rho) / (1 - rho_hat)
    return float(kl), dkl


def hidden_features(params: dict) -> np.ndarray:
    """The input that maximally activates each hidden unit (norm-1 rows of ``W1^T``): (H, D).

    For a sigmoid unit with bounded input norm, :math:`x^*_j = W_{1,:j} / \\lVert W_{1,:j}\\rVert`.
    """
    W1 = params["W1"]
    return (W1 / np.linalg.norm(W1, axis=0, keepdims=True).clip(1e-12)).T
