"""Analytic gradients against central finite differences, in float64, for every parameter of
every layer and model (relative error < 1e-6); step functions against sequence functions."""

import numpy as np
import pytest

from mpcore import cells, layers, recurrent
from mpcore.gradcheck import check_gradients, numerical_gradient, relative_error
from mpcore.models import autoencoder, language_model, sequence

TOL = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def assert_close(errors):
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOL, f"{worst}: relative error {errors[worst]:.2e} (all: {errors})"


# ---------------------------------------------------------------------------- the checker itself


def test_numerical_gradient_of_quadratic(rng):
    A = rng.normal(size=(4, 4))
    A = A @ A.T
    b = rng.normal(size=4)
    x = rng.normal(size=4)
    x0 = x.copy()
    g = numerical_gradient(lambda: 0.5 * x @ A @ x + b @ x, x)
    np.testing.assert_allclose(g, A @ x + b, rtol=1e-8)
    np.testing.assert_array_equal(x, x0)  # restored exactly


def test_checker_detects_wrong_gradient(rng):
    p = {"w": rng.normal(size=3)}
    errs = check_gradients(lambda q: (float(np.sum(q["w"] ** 2)), {"w": 3 * q["w"]}), p)
    assert errs["w"] > 0.1
    assert relative_error(np.ones(3), np.ones(3)) == 0.0


# ---------------------------------------------------------------------------- layers


def _layer_check(forward, backward, inputs, rng):
    """Check a layer through the scalar L = sum(out * G) for a random G."""
    out, _ = forward(*inputs.values())
    G = rng.normal(size=out.shape)

    def f(p):
        out, cache = forward(*p.values())
        grads = backward(G, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        return float(np.sum(out * G)), dict(zip(p, grads))

    return check_gradients(f, inputs)


def test_affine(rng):
    inputs = {"x": rng.normal(size=(5, 4)), "W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    assert_close(_layer_check(layers.affine_forward, layers.affine_backward, inputs, rng))


@pytest.mark.parametrize("name", ["sigmoid", "relu"])
def test_activations(rng, name):
    fwd, bwd = getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward")
    z = rng.normal(size=(6, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from relu's kink
    assert_close(_layer_check(fwd, bwd, {"z": z}, rng))


def test_softmax_cross_entropy(rng):
    y = rng.integers(0, 7, size=5)
    def f(p):
        loss, ds = layers.softmax_cross_entropy(p["s"], y)
        return loss, {"s": ds}

    assert_close(check_gradients(f, {"s": rng.normal(size=(5, 7))}))


def test_softmax_stable_for_huge_scores():
    p = layers.softmax(np.array([[1000.0, 0.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[1, 0], [0.5, 0.5]])


def test_embedding_accumulates_repeated_words(rng):
    idx = np.array([[1, 1, 2], [1, 0, 2]])
    R = rng.normal(size=(4, 3))
    out, cache = layers.embedding_forward(idx, R)
    dout = rng.normal(size=out.shape)
    dR = layers.embedding_backward(dout, cache)
    np.testing.assert_allclose(dR[1], dout[0, 0] + dout[0, 1] + dout[1, 0])
    np.testing.assert_array_equal(dR[3], 0)
    assert_close(_layer_check(lambda R: layers.embedding_forward(idx, R), layers.embedding_backward, {"R": R}, rng))


# ---------------------------------------------------------------------------- autoencoder, staged


@pytest.mark.parametrize("lam, beta", [(0.0, 0.0), (1e-2, 0.0), (1e-2, 0.7)], ids=["plain", "+lambda", "+beta"])
def test_autoencoder_gradients(rng, lam, beta):
    p = autoencoder.init_params(8, 5, rng)
    X = rng.uniform(0.1, 0.9, size=(7, 8))
    assert_close(check_gradients(lambda q: autoencoder.loss_and_grads(q, X, lam=lam, beta=beta, rho=0.1), p))


def test_autoencoder_loss_terms(rng):
    p = autoencoder.init_params(6, 3, rng)
    X = rng.uniform(size=(4, 6))
    base, _ = autoencoder.loss_and_grads(p, X, lam=0, beta=0, rho=0.1)
    a, X_hat = autoencoder.forward(p, X)
    assert base == pytest.approx(0.5 * np.sum((X - X_hat) ** 2) / 4)
    with_decay, _ = autoencoder.loss_and_grads(p, X, lam=0.3, beta=0, rho=0.1)
    assert with_decay - base == pytest.approx(0.15 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)))
    rho_hat = a.mean(0)
    kl = np.sum(0.1 * np.log(0.1 / rho_hat) + 0.9 * np.log(0.9 / (1 - rho_hat)))
    assert autoencoder.loss_and_grads(p, X, lam=0, beta=2.0, rho=0.1)[0] - base == pytest.approx(2 * kl)


def test_autoencoder_init_range(rng):
    p = autoencoder.init_params(256, 64, rng)
    w0 = np.sqrt(6 / 320)
    assert p["W1"].shape == (256, 64) and p["W2"].shape == (64, 256)
    assert all(np.abs(v).max() <= w0 for v in p.values())


# ---------------------------------------------------------------------------- language model


def test_language_model_gradients(rng):
    p = language_model.init_params(9, 4, 6, rng)
    p = {k: v * 50 for k, v in p.items()}  # larger weights: a stronger test than std 0.01
    contexts = rng.integers(0, 9, size=(11, 3))
    contexts[0] = [2, 2, 2]  # a word repeated inside one context
    contexts[1] = [2, 5, 2]
    targets = rng.integers(0, 9, size=11)
    assert_close(check_gradients(lambda q: language_model.loss_and_grads(q, contexts, targets), p))


def test_language_model_proba_and_shared_embedding(rng):
    p = language_model.init_params(9, 4, 6, rng)
    P = language_model.predict_proba(p, rng.integers(0, 9, size=(5, 3)))
    assert P.shape == (5, 9)
    np.testing.assert_allclose(P.sum(1), 1)
    assert set(p) == {"R", "W1", "b1", "W2", "b2"} and p["W1"].shape == (12, 6)
    assert 0.005 < p["R"].std() < 0.015  # Gaussian std 0.01


# ---------------------------------------------------------------------------- sequence models


@pytest.mark.parametrize("cell", cells.CELLS)
def test_sequence_gradients(rng, cell):
    p = sequence.init_params(cell, 3, 5, 4, rng, mlp=(6, 5))
    p = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in p.items()}  # non-zero biases too
    X = rng.normal(size=(4, 7, 3))
    y = rng.integers(0, 4, size=4)
    assert_close(check_gradients(lambda q: sequence.loss_and_grads(q, X, y, cell=cell), p))


@pytest.mark.parametrize("cell", cells.CELLS)
def test_sequence_input_gradient(rng, cell):
    """dX from BPTT, checked through a loss on all hidden states."""
    p = {k: v for k, v in sequence.init_params(cell, 2, 4, 3, rng).items() if k in cells.param_names(cell)}
    X = rng.normal(size=(3, 5, 2))
    G = rng.normal(size=(3, 5, 4))

    def f(q):
        Hs, cache = recurrent.sequence_forward(q["X"], p, cell)
        dX, _, _ = recurrent.sequence_backward(G, cache)
        return float(np.sum(Hs * G)), {"X": dX}

    assert_close(check_gradients(f, {"X": X}))


def _run_steps(cell, X, p):
    """The step API, the same for every cell: h_1..h_T and each step's cache."""
    module = cells.get(cell)
    N, T, _ = X.shape
    H = p[cells.param_names(cell)[1]].shape[0]
    state = tuple(np.zeros((N, H)) for _ in module.STATE)
    hs, caches = [], []
    for t in range(T):
        state, cache = module.step_forward(X[:, t], state, p)
        hs.append(state[0])
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def _back_steps(cell, dH, caches):
    module = cells.get(cell)
    N, T, H = dH.shape
    dstate = tuple(np.zeros((N, H)) for _ in module.STATE)
    total, dxs = {}, []
    for t in range(T - 1, -1, -1):
        dstate = (dstate[0] + dH[:, t], *dstate[1:])
        dx, dstate, g = module.step_backward(dstate, caches[t])
        for k, v in g.items():
            total[k] = total.get(k, 0) + v
        dxs.append(dx)
    return np.stack(dxs[::-1], axis=1), total


@pytest.mark.parametrize("cell", cells.CELLS)
def test_step_gradients(rng, cell):
    """The step pair alone, against finite differences (loss on every hidden state)."""
    p = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in sequence.init_params(cell, 3, 4, 2, rng).items()
         if k in cells.param_names(cell)}
    X = rng.normal(size=(2, 4, 3))
    G = rng.normal(size=(2, 4, 4))

    def f(q):
        Hs, caches = _run_steps(cell, X, q)
        _, grads = _back_steps(cell, G, caches)
        return float(np.sum(Hs * G)), grads

    assert_close(check_gradients(f, p))


@pytest.mark.parametrize("cell", cells.CELLS)
def test_step_functions_agree_with_sequence_functions(rng, cell):
    p = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in sequence.init_params(cell, 3, 4, 2, rng).items()}
    X = rng.normal(size=(5, 6, 3))
    H_seq, cache = recurrent.sequence_forward(X, p, cell)
    H_step, caches = _run_steps(cell, X, p)
    np.testing.assert_allclose(H_seq, H_step, rtol=1e-12, atol=1e-14)
    dH = rng.normal(size=H_seq.shape)
    dX_seq, g_seq, _ = recurrent.sequence_backward(dH, cache)
    dX_step, g_step = _back_steps(cell, dH, caches)
    np.testing.assert_allclose(dX_seq, dX_step, rtol=1e-10, atol=1e-13)
    for k in cells.param_names(cell):
        np.testing.assert_allclose(g_seq[k], g_step[k], rtol=1e-10, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("cell", cells.CELLS)
def test_float32_follows_float64(rng, cell):
    p = sequence.init_params(cell, 3, 8, 4, rng)
    X = rng.normal(size=(6, 10, 3))
    y = rng.integers(0, 4, size=6)
    l64, g64 = sequence.loss_and_grads(p, X, y, cell=cell)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    l32, g32 = sequence.loss_and_grads(p32, X.astype(np.float32), y, cell=cell)
    assert all(g.dtype == np.float32 for g in g32.values())
    assert l32 == pytest.approx(l64, rel=1e-5)
    for k in p:
        assert relative_error(g32[k], g64[k]) < 1e-4, k


def test_vanishing_gradient_norms(rng):
    """With its forget gate open (b_f = 3, f ~ 0.95) the LSTM's cell state carries dL/dh_t back over
    60 steps; the tanh RNN's gradient vanishes."""
    X = rng.normal(size=(16, 60, 3))
    y = rng.integers(0, 3, size=16)
    ratios = {}
    for cell in ("rnn", "lstm"):
        p = sequence.init_params(cell, 3, 16, 3, np.random.default_rng(0))
        if cell == "lstm":
            p["b_f"] += 3.0
        norms = sequence.hidden_gradient_norms(p, X, y, cell=cell)
        assert norms.shape == (60,)
        ratios[cell] = norms[0] / norms[-1]
    assert ratios["rnn"] < ratios["lstm"]
