"""Experiments as data: a frozen config per experiment -> a result (params, history, metrics).

One function per part trains a config (:func:`run_autoencoder`, :func:`run_language_model`,
:func:`run_sequence`); nothing else in mpcore trains. ``data_dir=None`` means the bundled
datasets; otherwise the course files ``data1.h5`` / ``data2.h5`` / ``data3.h5`` in that folder.

Training choices (course defaults unless noted, and why):

* Autoencoder: patches ZCA-whitened (ε = 1 x the mean pixel variance, :func:`data.zca_matrix`)
  before the course's clipping to [0.1, 0.9] -- without whitening the features are broad and
  smooth; 64 hidden units, λ = 1e-4, β = 3, ρ = 0.01 (UFLDL's exercise values); L-BFGS on the
  full-batch cost until it converges (relative fall below 1e-4 over 20 iterations; a cap of
  3000 iterations), float64. SGD with batch 32 is also available (``solver="sgd"``). A tenth
  of the patches is held out to measure reconstruction error on unseen patches.
* Language model: η = 0.15, α = 0.85, batch 200, at most 50 epochs, early stopping with
  patience 3 on validation cross-entropy.
* Sequences: α = 0.85, batch 32, at most 50 epochs (the course's); ReLU layers of 64 and 32
  units after the recurrent one (the reference report's sizes; the course leaves them open);
  gradient norms clipped at 5 (ours: the course does not clip; it caps the rare exploding
  steps), inputs standardised per channel with training-set statistics, LSTM forget-gate
  bias 1. Every η of
  ``study.SEQ_LR_GRID`` is trained with every seed of ``study.SEQ_SEEDS``; η is chosen per cell
  by mean validation accuracy (:func:`mpcore.study.choose_lr`). Early stopping (patience 10) watches validation
  *accuracy*: validation is a dozen whole recordings, and its cross-entropy jumps from epoch
  to epoch with a few confident mistakes -- it hit its minimum in epoch 2 for an LSTM whose
  validation accuracy was still rising 10 epochs later. Weight averaging (``average=0.99``):
  validation and the kept weights use a moving average of the SGD iterates, which cut the
  epoch-to-epoch swings of the validation loss three- to fourfold. float32 with flush-to-zero.
* Every run uses one BLAS thread: faster at these shapes, and ``--jobs 2`` never
  oversubscribes two cores.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from . import _checks, cells, data, fpu, layers, metrics, recurrent
from .models import autoencoder, language_model, sequence
from .store import Result
from .train import SGDConfig, lbfgs, sgd


def _check_positive(cfg, *names):
    for name in names:
        _checks.positive_int(name, getattr(cfg, name))


@dataclass(frozen=True)
class AutoencoderConfig:
    """Sparse autoencoder on whitened patches. ``seed`` draws the held-out patches and the
    initial weights. With ``solver="sgd"`` the settings in ``sgd`` are used (its own seed orders
    the mini-batches); with L-BFGS, ``maxiter`` and ``rel_tol`` -- or, when ``grad_tol`` is set,
    ``grad_tol`` instead of ``rel_tol``: converged once the gradient norm falls to it.

    ``warm_start_lam``: start from the trained weights of the same setting at λ =
    ``warm_start_lam`` (that run as the study has it: random start, no warm start, the
    ``rel_tol`` criterion; looked up in -- or trained into -- the store the run is given, else
    the default :class:`Store`) instead of from random weights. Both new fields are left out of
    the store key while None, so results trained before they existed are still found."""

    part: ClassVar[str] = "autoencoder"
    data_file: ClassVar[str] = data.PATCH_FILE
    schema: ClassVar[int] = 1  # bump when run_autoencoder's results change meaning
    metric_names: ClassVar[tuple] = ("cost", "reconstruction_mse", "held_out_mse", "mean_activation", "dead_units",
                                     "weight_norm", "selectivity", "high_frequency", "redundancy", "iterations")

    n_hidden: int = 64
    lam: float = 1e-4
    beta: float = 3.0
    rho: float = 0.01
    zca_epsilon: float | None = 1.0  # ZCA whitening regulariser (data.zca_matrix); None = course recipe only
    solver: str = "lbfgs"  # or "sgd"
    maxiter: int = 3000  # L-BFGS iteration cap; normally rel_tol stops it first
    rel_tol: float = 1e-4  # converged: cost fell by less than this (relative) over 20 iterations
    grad_tol: float | None = None  # or converged: gradient norm at most this (then rel_tol is not used)
    warm_start_lam: float | None = None  # start from this λ's trained weights instead of random ones
    sgd: SGDConfig = SGDConfig(lr=0.1, patience=50)
    seed: int = 0
    dtype: str = "float64"
    data_dir: str | None = None

    def __post_init__(self):
        _check_positive(self, "n_hidden", "maxiter")
        autoencoder.check_hyper(self.lam, self.beta, self.rho)
        if self.solver not in ("lbfgs", "sgd"):
            raise ValueError(f"solver must be 'lbfgs' or 'sgd', got {self.solver!r}")
        if self.zca_epsilon is not None and not self.zca_epsilon > 0:
            raise ValueError(f"zca_epsilon must be > 0 or None, got {self.zca_epsilon!r}")
        if self.grad_tol is not None:
            _checks.number("grad_tol", self.grad_tol, low=0, low_open=True)
        if self.warm_start_lam is not None:
            autoencoder.check_hyper(self.warm_start_lam, self.beta, self.rho)
        _check_config_types(self)

    def unused(self) -> tuple:
        """Fields this config's run ignores (left out of its store key)."""
        if self.solver == "lbfgs":
            ignored = ("sgd", "grad_tol") if self.grad_tol is None else ("sgd", "rel_tol")
        else:
            ignored = ("maxiter", "rel_tol", "grad_tol")
        return ignored + (("warm_start_lam",) if self.warm_start_lam is None else ())

    def warm_start_config(self):
        """The run whose weights this one starts from (None without ``warm_start_lam``)."""
        if self.warm_start_lam is None:
            return None
        return replace(self, lam=self.warm_start_lam, warm_start_lam=None, grad_tol=None)


@dataclass(frozen=True)
class LanguageModelConfig:
    """Neural language model: D-dimensional embeddings, P sigmoid hidden units. ``seed`` draws
    the initial weights; ``sgd.seed`` orders the mini-batches."""

    part: ClassVar[str] = "language_model"
    data_file: ClassVar[str] = data.NGRAM_FILE
    schema: ClassVar[int] = 1
    metric_names: ClassVar[tuple] = ("test_cross_entropy", "test_perplexity", "test_top1", "test_top10",
                                     "val_cross_entropy", "train_cross_entropy", "train_top1", "epochs")

    D: int = 32
    P: int = 256
    sgd: SGDConfig = SGDConfig(lr=0.15, batch_size=200, patience=3)
    n_train: int | None = None  # use only the first n training 4-grams (quick runs)
    seed: int = 0
    dtype: str = "float32"
    data_dir: str | None = None

    def __post_init__(self):
        _check_positive(self, "D", "P")
        if self.n_train is not None:
            _check_positive(self, "n_train")
        _check_config_types(self)

    def unused(self) -> tuple:
        return ()


@dataclass(frozen=True)
class SequenceConfig:
    """Sequence classifier: a recurrent cell of ``n_hidden`` units, then the ReLU layers ``mlp``.
    ``seed`` draws the validation recordings and the initial weights; ``sgd.seed`` orders the
    mini-batches (the study sets both to the same value, :func:`sequence_config`)."""

    part: ClassVar[str] = "sequence"
    data_file: ClassVar[str] = data.ACTIVITY_FILE
    schema: ClassVar[int] = 2  # 2: weight averaging, float64 gradient norms
    metric_names: ClassVar[tuple] = ("train_accuracy", "val_accuracy", "test_accuracy", "test_cross_entropy",
                                     "train_confusion", "test_confusion", "hidden_gradient_norms", "classes",
                                     "epochs", "n_params", "seconds_per_epoch")

    cell: str = "gru"
    n_hidden: int = 128
    mlp: tuple = sequence.DEFAULT_MLP
    # early stopping on validation accuracy and weight averaging: see the module docstring
    sgd: SGDConfig = SGDConfig(lr=0.1, patience=10, clip_norm=5.0, monitor="acc", average=0.99)
    n_train: int | None = None  # use only the first n training windows (quick runs)
    seed: int = 0
    dtype: str = "float32"
    data_dir: str | None = None

    def __post_init__(self):
        cells.get(self.cell)  # ValueError for an unknown cell
        _check_positive(self, "n_hidden")
        for m in self.mlp:
            _checks.positive_int("mlp layer size", m)
        if self.n_train is not None:
            _check_positive(self, "n_train")
        _check_config_types(self)

    def unused(self) -> tuple:
        return ()


def _check_config_types(cfg):
    if isinstance(cfg.data_dir, os.PathLike):  # Path("course") and "course" are one setting
        object.__setattr__(cfg, "data_dir", os.fspath(cfg.data_dir))
    if cfg.data_dir is not None and not isinstance(cfg.data_dir, str):
        raise ValueError(f"data_dir must be a folder path (str or os.PathLike) or None, got {cfg.data_dir!r}")
    if not isinstance(cfg.sgd, SGDConfig):
        raise ValueError(f"sgd must be an SGDConfig, got {cfg.sgd!r}")
    if not isinstance(cfg.seed, int):
        raise ValueError(f"seed must be an int, got {cfg.seed!r}")
    if cfg.dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {cfg.dtype!r}")


def _split_sgd_fields(fields: dict) -> dict:
    return {k: fields.pop(k) for k in list(fields) if k in SGDConfig.__dataclass_fields__}


def sequence_config(cell: str, lr: float, seed: int, **fields) -> SequenceConfig:
    """The study's sequence run: the default recipe with learning rate ``lr``, and ``seed`` for
    the split, the initial weights and the mini-batch order alike. Other ``fields`` may be
    SequenceConfig's or SGDConfig's (e.g. ``epochs=2``)."""
    sgd_cfg = replace(SequenceConfig.sgd, lr=lr, seed=seed, **_split_sgd_fields(fields))
    return SequenceConfig(cell=cell, seed=seed, sgd=sgd_cfg, **fields)


def language_model_config(D: int, P: int, seed: int = 0, **fields) -> LanguageModelConfig:
    """The study's language model of size (D, P), ``seed`` for the weights and the batch order."""
    sgd_cfg = replace(LanguageModelConfig.sgd, seed=seed, **_split_sgd_fields(fields))
    return LanguageModelConfig(D=D, P=P, seed=seed, sgd=sgd_cfg, **fields)


#: The study's main autoencoder setting (UFLDL's: L_hid = 64, λ = 1e-4, β = 3, ρ = 0.01, whitened):
#: what "the main run" means in the summary, the report and the explorers.
MAIN_AUTOENCODER = AutoencoderConfig()


def label(cfg, seed: bool | None = None) -> str:
    """A config in a few words, the setting that tells it apart in the study, for titles, legends
    and progress lines: "L_hid=64, λ=0.0001", "D=32, P=256", "GRU, η=0.03, seed 0". The seed is
    shown for sequence runs, and for language models when it is not 0; ``seed=True``: always."""
    if cfg.part == "autoencoder":
        white = "" if cfg.zca_epsilon is not None else ", not whitened"
        main = MAIN_AUTOENCODER
        sparsity = f", β={cfg.beta:g}, ρ={cfg.rho:g}" if (cfg.beta, cfg.rho) != (main.beta, main.rho) else ""
        return f"L_hid={cfg.n_hidden}, λ={cfg.lam:g}{sparsity}{white}" + (f", seed {cfg.seed}" if seed else "")
    if cfg.part == "language_model":
        return f"D={cfg.D}, P={cfg.P}" + (f", seed {cfg.seed}" if cfg.seed or seed else "")
    return f"{cfg.cell.upper()}, η={cfg.sgd.lr:g}, seed {cfg.seed}"


def config_from_dict(d: dict):
    """A config from its JSON form (:func:`mpcore.store.config_json`; tuples came back as lists)."""
    d = dict(d)
    part = d.pop("part", None)
    if part not in PARTS:
        raise ValueError(f"unknown experiment part {part!r}: expected one of {sorted(PARTS)}")
    if "mlp" in d:
        d["mlp"] = tuple(d["mlp"])
    if isinstance(d.get("sgd"), dict):
        d["sgd"] = SGDConfig(**d["sgd"])
    return PARTS[part].config(**d)


# --------------------------------------------------------------------------------------------


#: Share of the patches held out (never trained on, never used for preprocessing statistics)
#: to measure how well the autoencoder reconstructs patches it has not seen.
AE_HELD_OUT = 0.1


_AUTOENCODER_INPUTS: dict = {}


def autoencoder_inputs(data_dir=None, zca_epsilon=None, seed=0):
    """Preprocessed patches flattened to rows, split into training and held-out sets.

    Returns ``(X_train, X_held_out)``, (N_train, P*P) and (N_held, P*P); whitening and clipping
    statistics come from the training patches only. Computed once per data file version
    (:func:`data.file_fingerprint`), preprocessing and seed, and returned read-only: the
    summary, the report and the notebooks ask for the same arrays many times.
    """
    path = data.course_path(data.PATCH_FILE, data_dir)
    key = (data.file_fingerprint(path) if path.is_file() else str(path), zca_epsilon, seed)
    if key not in _AUTOENCODER_INPUTS:
        if len(_AUTOENCODER_INPUTS) >= 4:  # two preprocessings of two files at most stay in memory
            _AUTOENCODER_INPUTS.pop(next(iter(_AUTOENCODER_INPUTS)))
        X_train, X_held = _autoencoder_inputs(data_dir, zca_epsilon, seed)
        X_train.flags.writeable = X_held.flags.writeable = False
        _AUTOENCODER_INPUTS[key] = (X_train, X_held)
    return _AUTOENCODER_INPUTS[key]


def _autoencoder_inputs(data_dir, zca_epsilon, seed):
    rgb = PARTS["autoencoder"].load(data_dir)
    N = len(rgb)
    if N < 2:
        raise data.DataFormatError(f"{data.PATCH_FILE} holds {N} patch: need at least 2 (one is held out)")
    perm = np.random.default_rng(seed).permutation(N)
    n_held = max(1, int(round(AE_HELD_OUT * N)))
    held, train = perm[:n_held], perm[n_held:]
    x = data.preprocess_patches(rgb, zca_epsilon, fit=train).reshape(N, -1)
    return x[train], x[held]


def run_autoencoder(cfg: AutoencoderConfig, progress: bool = True, store=None) -> Result:
    t0 = time.perf_counter()
    X, X_held = autoencoder_inputs(cfg.data_dir, cfg.zca_epsilon, cfg.seed)
    X, X_held = X.astype(cfg.dtype), X_held.astype(cfg.dtype)
    rng = np.random.default_rng(cfg.seed)
    params = autoencoder.init_params(X.shape[1], cfg.n_hidden, rng, dtype=cfg.dtype)
    if cfg.warm_start_lam is not None:
        from .store import Store

        start = (store if store is not None else Store()).get_or_run(cfg.warm_start_config(), run, progress=progress)
        params = {k: v.astype(cfg.dtype) for k, v in start.params.items()}
    hyper = dict(lam=cfg.lam, beta=cfg.beta, rho=cfg.rho)
    desc = f"autoencoder L_hid={cfg.n_hidden} λ={cfg.lam:g}"
    with fpu.training_numerics(cfg.dtype):
        if cfg.solver == "lbfgs":
            params, hist = lbfgs(lambda p: autoencoder.loss_and_grads(p, X, **hyper), params, maxiter=cfg.maxiter,
                                 rel_tol=cfg.rel_tol if cfg.grad_tol is None else None, grad_tol=cfg.grad_tol,
                                 record=lambda p: autoencoder.cost_terms(p, X, **hyper),
                                 progress=progress, desc=desc)
        else:
            params, hist = sgd(lambda p, Xb: autoencoder.loss_and_grads(p, Xb, **hyper), params, (X,), cfg.sgd,
                               progress=progress, desc=desc)
        loss, _ = autoencoder.loss_and_grads(params, X, **hyper)
        a, X_hat = autoencoder.forward(params, X)
        _, X_held_hat = autoencoder.forward(params, X_held)
    features = autoencoder.hidden_features(params)
    selectivity, high_frequency = metrics.feature_spectrum(features)
    m = {
        "cost": loss,
        "reconstruction_mse": float(np.mean((X - X_hat) ** 2)),
        "held_out_mse": float(np.mean((X_held - X_held_hat) ** 2)),
        "mean_activation": float(a.mean()),
        "dead_units": int(np.sum(a.mean(axis=0) < 0.1 * cfg.rho)),
        # ‖W1[:, j]‖ averaged over units: near 0 when weight decay has flattened every feature
        "weight_norm": float(np.linalg.norm(params["W1"], axis=0).mean()),
        "selectivity": float(selectivity.mean()),
        "high_frequency": float(high_frequency.mean()),
        "redundancy": float(metrics.feature_redundancy(features).mean()),
        "iterations": len(hist.train_loss),
    }
    return Result(cfg, params, hist.as_dict(), m, time.perf_counter() - t0)


def run_language_model(cfg: LanguageModelConfig, progress: bool = True) -> Result:
    t0 = time.perf_counter()
    ng = PARTS["language_model"].load(cfg.data_dir)
    rng = np.random.default_rng(cfg.seed)
    params = language_model.init_params(ng.n_words, cfg.D, cfg.P, rng, dtype=cfg.dtype)

    def validate(p):
        proba = language_model.predict_proba(p, ng.val_x)
        return {"loss": metrics.cross_entropy(proba, ng.val_y), "acc": metrics.top_k_accuracy(proba, ng.val_y, 1)}

    n = cfg.n_train or len(ng.train_x)
    with fpu.training_numerics(cfg.dtype):
        params, hist = sgd(language_model.loss_and_grads, params, (ng.train_x[:n], ng.train_y[:n]), cfg.sgd,
                           validate=validate, progress=progress, desc=f"language model D={cfg.D} P={cfg.P}")
        proba = language_model.predict_proba(params, ng.test_x)
        train_proba = language_model.predict_proba(params, ng.train_x[:n])
    m = {
        "test_cross_entropy": metrics.cross_entropy(proba, ng.test_y),
        "test_perplexity": metrics.perplexity(proba, ng.test_y),
        "test_top1": metrics.top_k_accuracy(proba, ng.test_y, 1),
        # over 10 words or fewer, every word is in the top 10: reported only when it means something
        "test_top10": metrics.top_k_accuracy(proba, ng.test_y, 10) if ng.n_words > 10 else None,
        "val_cross_entropy": hist.val_loss[hist.best_epoch],
        "train_cross_entropy": metrics.cross_entropy(train_proba, ng.train_y[:n]),
        "train_top1": metrics.top_k_accuracy(train_proba, ng.train_y[:n], 1),
        "epochs": len(hist.train_loss),
    }
    return Result(cfg, params, hist.as_dict(), m, time.perf_counter() - t0)


def standardizer(act: data.ActivityData):
    """Per-channel mean and std of the training windows: (C,), (C,).

    A channel that is constant over the training windows carries no information: it is left
    unscaled (sd 1), so it becomes all zeros after centring, with a warning. The loaders
    reject values that would make these statistics overflow (:data:`data.MAX_ABS`).
    """
    mu = act.train_x.mean(axis=(0, 1))
    sd = act.train_x.std(axis=(0, 1))
    if not (np.isfinite(mu).all() and np.isfinite(sd).all()):
        raise data.DataFormatError(f"channel statistics are not finite (mean {mu}, sd {sd}): check the data's scale")
    constant = np.flatnonzero(sd == 0)
    if constant.size:
        warnings.warn(f"channel(s) {constant.tolist()} are constant over the training windows: they carry no "
                      f"information and become all zeros after standardising", stacklevel=2)
    return mu, np.where(sd > 0, sd, 1.0)


def balanced_sample(y, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class in ``y`` (all of a class that has fewer),
    drawn without replacement with a seeded generator, in increasing order."""
    y = np.asarray(y)
    per_class = _checks.positive_int("per_class", per_class)
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == k), size=min(per_class, int(np.sum(y == k))), replace=False)
             for k in np.unique(y)]
    return np.sort(np.concatenate(picks))


def state_gradients(params: dict, X: np.ndarray, y: np.ndarray, *, cell: str) -> dict:
    """How much gradient reaches the recurrent state at every step, window by window.

    Parameters
    ----------
    params : a sequence classifier's parameters (:func:`mpcore.models.sequence.init_params`).
    X : (N, T, C) windows.  y : (N,) labels.  cell : the params' cell.

    Returns
    -------
    ``{"h": (N, T)}`` -- :math:`\\lVert \\partial L_n / \\partial h_t \\rVert` for each window's own
    cross-entropy :math:`L_n` (not the batch mean, so the values do not shrink with N) -- and,
    for the LSTM, ``"c": (N, T)`` with :math:`\\lVert \\partial L_n / \\partial c_t \\rVert`.

    Notes
    -----
    The full gradient of the cell state collects the path through :math:`h_t` and the additive
    path from the next step (mpcore.cells.lstm.backward runs the same recursion):

    .. math:: \\frac{\\partial L}{\\partial c_t} = \\frac{\\partial L}{\\partial h_t} \\odot o_t \\odot
        (1 - \\tanh^2 c_t) + \\frac{\\partial L}{\\partial c_{t+1}} \\odot f_{t+1}

    Pass float64 params and X: in float32 the vanilla RNN's values underflow to 0.
    """
    X = np.asarray(X)
    Hs, cache = recurrent.sequence_forward(X, params, cell)
    u, mlp = Hs[:, -1], []
    L = sequence.n_mlp_layers(params)
    for k in range(1, L + 1):
        u, aff = layers.affine_forward(u, params[f"W{k}"], params[f"b{k}"])
        relu = None
        if k < L:
            u, relu = layers.relu_forward(u)
        mlp.append((aff, relu))
    _, du = layers.softmax_cross_entropy(u, y)
    du = du * len(y)  # each window's own loss
    for aff, relu in reversed(mlp):
        if relu is not None:
            du = layers.relu_backward(du, relu)
        du, _, _ = layers.affine_backward(du, aff)
    dH = np.zeros_like(Hs)
    dH[:, -1] = du  # only h_T feeds the classifier
    _, _, dh = recurrent.sequence_backward(dH, cache, need_dX=False, need_dh=True)  # (N, T, H)
    out = {"h": np.linalg.norm(dh, axis=2)}
    if cell == "lstm":
        acts, _, tanh_C = cache[5]  # (T, 4, N, H) gates i, f, o, c~; tanh(c_1..c_T) (T, N, H)
        dc = np.zeros_like(dh[:, 0])
        norms = np.empty_like(out["h"])
        for t in range(X.shape[1] - 1, -1, -1):
            if t + 1 < X.shape[1]:
                dc *= acts[t + 1, 1]  # the additive path: dc_{t+1} f_{t+1}
            dc += dh[:, t] * acts[t, 2] * (1.0 - tanh_C[t] ** 2)
            norms[:, t] = np.linalg.norm(dc, axis=1)
        out["c"] = norms
    return out


def gradients_at_init_and_trained(result: Result, per_class: int = 40, seed: int = 0) -> dict:
    """:func:`state_gradients` of a sequence result on a class-balanced sample of test windows
    (``per_class`` of each class, :func:`balanced_sample`), in float64, for the run's initial
    weights (re-drawn from its seed, exactly as :func:`run_sequence` drew them) and for its
    kept weights. The windows are standardised with the run's own training statistics.

    Returns ``{"init": {"h": (N, T)[, "c"]}, "trained": {...}, "y": (N,) labels}``."""
    cfg = result.config
    act = PARTS["sequence"].load(cfg.data_dir, seed=cfg.seed)
    mu, sd = standardizer(act)
    idx = balanced_sample(act.test_y, per_class, seed)
    X = ((act.test_x[idx] - mu) / sd).astype(cfg.dtype).astype(np.float64)  # as the run saw them
    initial = sequence.init_params(cfg.cell, X.shape[2], cfg.n_hidden, act.n_classes, np.random.default_rng(cfg.seed),
                                   mlp=cfg.mlp, dtype=cfg.dtype)
    out = {"y": act.test_y[idx]}
    with fpu.training_numerics(np.float64):
        for when, p in (("init", initial), ("trained", result.params)):
            p64 = {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}
            out[when] = state_gradients(p64, X, act.test_y[idx], cell=cfg.cell)
    return out


def run_sequence(cfg: SequenceConfig, progress: bool = True) -> Result:
    return train_sequence(cfg, PARTS["sequence"].load(cfg.data_dir, seed=cfg.seed), progress=progress)


def train_sequence(cfg: SequenceConfig, act: data.ActivityData, progress: bool = True) -> Result:
    """Train ``cfg`` on windows already loaded and split (``act``): :func:`run_sequence` with the
    validation split made by the caller."""
    t0 = time.perf_counter()
    mu, sd = standardizer(act)
    prep = lambda x: ((x - mu) / sd).astype(cfg.dtype)  # noqa: E731
    n = cfg.n_train or len(act.train_x)
    Xtr, ytr = prep(act.train_x[:n]), act.train_y[:n]
    Xva, Xte = prep(act.val_x), prep(act.test_x)
    rng = np.random.default_rng(cfg.seed)
    K = act.n_classes
    params = sequence.init_params(cfg.cell, Xtr.shape[2], cfg.n_hidden, K, rng, mlp=cfg.mlp, dtype=cfg.dtype)
    cell = cfg.cell

    desc = f"{cell.upper()} L_hid={cfg.n_hidden}"
    train_probe = np.random.default_rng(cfg.seed).choice(len(Xtr), size=min(512, len(Xtr)), replace=False)

    def validate(p):
        proba = sequence.predict_proba(p, Xva, cell=cell)
        train_pred = sequence.predict_proba(p, Xtr[train_probe], cell=cell).argmax(1)
        return {"loss": metrics.cross_entropy(proba, act.val_y), "acc": metrics.top_k_accuracy(proba, act.val_y, 1),
                "train_acc": metrics.accuracy(ytr[train_probe], train_pred)}

    with fpu.training_numerics(cfg.dtype):
        params, hist = sgd(lambda p, X, y: sequence.loss_and_grads(p, X, y, cell=cell), params, (Xtr, ytr),
                           cfg.sgd, validate=validate, progress=progress, desc=desc)
        p_tr = sequence.predict_proba(params, Xtr, cell=cell)
        p_te = sequence.predict_proba(params, Xte, cell=cell)
    with fpu.training_numerics(np.float64):
        # in float64, so no step underflows: the RNN's gradient reaches 1e-60 and below
        params64 = {k: v.astype(np.float64) for k, v in params.items()}
        grad_norms = sequence.hidden_gradient_norms(params64, prep(act.test_x[:256]).astype(np.float64),
                                                    act.test_y[:256], cell=cell)
    pred_tr, pred_te = p_tr.argmax(1), p_te.argmax(1)
    m = {
        "train_accuracy": metrics.accuracy(ytr, pred_tr),
        "val_accuracy": hist.val_acc[hist.best_epoch],
        "test_accuracy": metrics.accuracy(act.test_y, pred_te),
        "test_cross_entropy": metrics.cross_entropy(p_te, act.test_y),
        "train_confusion": metrics.confusion_matrix(ytr, pred_tr, K).tolist(),
        "test_confusion": metrics.confusion_matrix(act.test_y, pred_te, K).tolist(),
        "hidden_gradient_norms": grad_norms.astype(float).tolist(),
        "classes": act.classes,
        "epochs": len(hist.train_loss),
        "n_params": int(sum(v.size for v in params.values())),
        "seconds_per_epoch": float(np.median(hist.epoch_time)),
    }
    return Result(cfg, params, hist.as_dict(), m, time.perf_counter() - t0)


def run(cfg, progress: bool = True, store=None) -> Result:
    """Train any experiment config. ``store``: where a run that starts from another run's
    weights (``AutoencoderConfig.warm_start_lam``) finds or saves that run (default: the
    default :class:`~mpcore.store.Store`)."""
    if store is not None and cfg.part == "autoencoder":
        return PARTS[cfg.part].run(cfg, progress=progress, store=store)
    return PARTS[cfg.part].run(cfg, progress=progress)


@dataclass(frozen=True)
class Part:
    """One part of the study: its config class, how to load its data, how to train it."""

    name: str
    label: str
    config: type
    loader: Callable
    run: Callable

    def load(self, data_dir=None, **kwargs):
        """Load this part's data: the course file in ``data_dir``, or the bundled default."""
        return self.loader(data.course_path(self.config.data_file, data_dir), **kwargs)


#: The table of parts, in study order; everything else looks parts up here.
PARTS = {p.name: p for p in (
    Part("autoencoder", "Sparse autoencoder", AutoencoderConfig, data.load_patches, run_autoencoder),
    Part("language_model", "Language model", LanguageModelConfig, data.load_ngrams, run_language_model),
    Part("sequence", "Sequence classification", SequenceConfig, data.load_activity, run_sequence),
)}
