"""Bad input to public functions gives a ValueError that says what was wrong."""

import numpy as np
import pytest

from mpcore import experiments, metrics
from mpcore.models import autoencoder, language_model, sequence
from mpcore.train import SGDConfig


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(lam=-1, beta=0, rho=0.1), "lam"),
        (dict(lam=0, beta=-0.5, rho=0.1), "beta"),
        (dict(lam=0, beta=0, rho=0.0), "rho"),
        (dict(lam=0, beta=0, rho=1.0), "rho"),
        (dict(lam=0, beta=0, rho=float("nan")), "rho"),
    ],
)
def test_autoencoder_bad_hyper(rng, kw, msg):
    p = autoencoder.init_params(4, 2, rng)
    with pytest.raises(ValueError, match=msg):
        autoencoder.loss_and_grads(p, np.zeros((3, 4)), **kw)


@pytest.mark.parametrize(
    "X, msg",
    [(np.zeros((3, 5)), "5 features.*n_in = 4"), (np.zeros(4), r"shape \(N, n_in\)"), (np.zeros((0, 4)), "empty"),
     (np.array([["a"] * 4]), "numbers")],
)
def test_autoencoder_bad_X(rng, X, msg):
    p = autoencoder.init_params(4, 2, rng)
    with pytest.raises(ValueError, match=msg):
        autoencoder.loss_and_grads(p, X, lam=0, beta=0, rho=0.1)


@pytest.mark.parametrize("args, msg", [((0, 3), "n_in"), ((4, 0), "n_hidden"), ((4.5, 3), "n_in"), ((True, 3), "n_in")])
def test_autoencoder_bad_sizes(rng, args, msg):
    with pytest.raises(ValueError, match=msg):
        autoencoder.init_params(*args, rng)


def test_bad_rng():
    with pytest.raises(ValueError, match="Generator"):
        autoencoder.init_params(3, 2, 0)


def test_autoencoder_bad_params(rng):
    p = autoencoder.init_params(4, 2, rng)
    p["b2"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"params\['b2'\] has shape \(3,\), expected \(4,\)"):
        autoencoder.loss_and_grads(p, np.zeros((3, 4)), lam=0, beta=0, rho=0.1)


@pytest.mark.parametrize(
    "contexts, targets, msg",
    [
        (np.zeros((4, 2), int), np.zeros(4, int), r"\(N, 3\)"),
        (np.full((4, 3), 9), np.zeros(4, int), r"index 9, outside \[0, 9\)"),
        (np.full((4, 3), -1), np.zeros(4, int), "index -1"),
        (np.zeros((4, 3), int), np.zeros(3, int), "4 rows but targets has 3"),
        (np.zeros((4, 3)), np.zeros(4, int), "integers"),
        (np.zeros((0, 3), int), np.zeros(0, int), "empty"),
        (np.zeros((4, 3), int), np.full(4, 10), "targets holds index 10"),
    ],
)
def test_language_model_bad_input(rng, contexts, targets, msg):
    p = language_model.init_params(9, 2, 3, rng)
    with pytest.raises(ValueError, match=msg):
        language_model.loss_and_grads(p, contexts, targets)


def test_language_model_utilities_bad_input(rng):
    p = language_model.init_params(3, 2, 3, rng)
    words = ["a", "b", "c"]
    with pytest.raises(ValueError, match="'zz' is not in the vocabulary"):
        language_model.top_k_words(p, words, ["a", "b", "zz"])
    with pytest.raises(ValueError, match="3 words"):
        language_model.top_k_words(p, words, ["a", "b"])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        language_model.nearest_words(p, words, "q")
    top = language_model.top_k_words(p, words, ["a", "b", "c"], k=2)
    assert len(top) == 2 and top[0][1] >= top[1][1]
    near = language_model.nearest_words(p, words, "a", k=5)  # only 2 other words exist
    assert sorted(w for w, _ in near) == ["b", "c"] and near[0][1] <= near[1][1]


def test_nearest_in_groups_finds_each_words_neighbour_and_skips_unknown_words():
    R = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.0, 5.2]])  # a ~ b, c ~ d
    near = language_model.nearest_in_groups({"R": R}, ["a", "b", "c", "d"], {"x": ("a", "c", "zz"), "y": ()})
    assert near == {"x": {"a": "b", "c": "d"}, "y": {}}


def test_sequence_bad_input(rng):
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        sequence.init_params("transformer", 3, 4, 2, rng)
    p = sequence.init_params("gru", 3, 4, 2, rng)
    X, y = np.zeros((5, 7, 3)), np.zeros(5, int)
    with pytest.raises(ValueError, match="unknown cell"):
        sequence.loss_and_grads(p, X, y, cell="GRU!")
    with pytest.raises(ValueError, match="another cell"):
        sequence.loss_and_grads(p, X, y, cell="lstm")
    # the GRU has W_xh, W_hh and b_h too: the RNN's names are all there, the GRU's others are extra
    with pytest.raises(ValueError, match=r"does not use, \['W_hr', 'W_hz', 'W_xr', 'W_xz', 'b_r', 'b_z'\]; were they"):
        sequence.loss_and_grads(p, X, y, cell="rnn")
    with pytest.raises(ValueError, match="another cell"):
        sequence.predict_proba(p, X, cell="rnn")
    with pytest.raises(ValueError, match=r"shape \(N, T, C\)"):
        sequence.loss_and_grads(p, np.zeros((5, 7)), y, cell="gru")
    with pytest.raises(ValueError, match="4 channels.*C = 3"):
        sequence.loss_and_grads(p, np.zeros((5, 7, 4)), y, cell="gru")
    with pytest.raises(ValueError, match="index 2"):
        sequence.loss_and_grads(p, X, np.full(5, 2), cell="gru")
    with pytest.raises(ValueError, match="5 rows but y has 4"):
        sequence.loss_and_grads(p, X, np.zeros(4, int), cell="gru")
    with pytest.raises(ValueError, match="mlp layer size"):
        sequence.init_params("rnn", 3, 4, 2, rng, mlp=(0,))
    with pytest.raises(ValueError, match="n_classes"):
        sequence.init_params("rnn", 3, 4, 0, rng)


@pytest.mark.parametrize(
    "kw, msg",
    [(dict(lr=0), "lr"), (dict(lr=-1), "lr"), (dict(batch_size=0), "batch_size"), (dict(momentum=1.0), "momentum"),
     (dict(epochs=0), "epochs"), (dict(patience=0), "patience"), (dict(clip_norm=0), "clip_norm")],
)
def test_sgd_config_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        SGDConfig(**kw)


@pytest.mark.parametrize("make, msg", [
    (lambda: experiments.SequenceConfig(n_hidden=0), "n_hidden"),
    (lambda: experiments.SequenceConfig(n_hidden=-3), "n_hidden"),
    (lambda: experiments.SequenceConfig(mlp=(64, 0)), "mlp layer size"),
    (lambda: experiments.SequenceConfig(cell="lstm2"), "unknown cell"),
    (lambda: experiments.SequenceConfig(n_train=0), "n_train"), (lambda: experiments.LanguageModelConfig(D=0), "D"),
    (lambda: experiments.LanguageModelConfig(P=-1), "P"),
    (lambda: experiments.AutoencoderConfig(n_hidden=0), "n_hidden"),
    (lambda: experiments.AutoencoderConfig(maxiter=0), "maxiter"),
    (lambda: experiments.AutoencoderConfig(sgd=0.1), "SGDConfig"),
    (lambda: experiments.SequenceConfig(dtype="float16"), "dtype"),
    (lambda: experiments.SequenceConfig(seed=1.5), "seed"),
])
def test_experiment_configs_validate_on_construction(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_models_refuse_non_finite_inputs(rng, bad):
    X = rng.normal(size=(5, 7, 3))
    X[2, 3, 1] = bad
    y = np.zeros(5, int)
    for cell in ("rnn", "gru"):
        p = sequence.init_params(cell, 3, 4, 2, rng)
        with pytest.raises(ValueError, match="X has 1 non-finite value"):
            sequence.loss_and_grads(p, X, y, cell=cell)
        with pytest.raises(ValueError, match="X has 1 non-finite value"):
            sequence.predict_proba(p, X, cell=cell)
    pa = autoencoder.init_params(6, 3, rng)
    Xa = rng.uniform(size=(4, 6))
    Xa[0, :2] = bad
    with pytest.raises(ValueError, match="X has 2 non-finite values"):
        autoencoder.loss_and_grads(pa, Xa, lam=1e-4, beta=3, rho=0.01)


def test_metrics():
    y = np.array([0, 1, 2, 2])
    yp = np.array([0, 2, 2, 1])
    assert metrics.accuracy(y, yp) == 0.5
    cm = metrics.confusion_matrix(y, yp, 3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.3, 0.5], [0.5, 0.4, 0.1]])
    ce = -np.mean(np.log([0.7, 0.3, 0.5, 0.1]))
    assert metrics.cross_entropy(P, y) == pytest.approx(ce)
    assert metrics.perplexity(P, y) == pytest.approx(np.exp(ce))
    assert metrics.top_k_accuracy(P, y, 1) == 0.5
    assert metrics.top_k_accuracy(P, y, 2) == 0.75
    with pytest.raises(ValueError, match="top-3 accuracy over 3 classes is 1 by construction"):
        metrics.top_k_accuracy(P, y, 3)
    with pytest.raises(ValueError, match="index 3"):
        metrics.confusion_matrix(y, np.array([0, 1, 3, 1]), 3)
    with pytest.raises(ValueError, match="4 rows but y has 3"):
        metrics.cross_entropy(P, y[:3])
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])
