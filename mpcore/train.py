"""Training loops shared by all three models.

* :func:`sgd` -- mini-batch SGD with momentum exactly as the course defines it,

  .. math:: \\Delta W(n) = -\\eta \\nabla J + \\alpha \\Delta W(n-1), \\qquad W \\leftarrow W + \\Delta W(n),

  one seeded permutation of the examples per epoch (data and labels indexed together),
  optional gradient-norm clipping (here in the loop, never inside a loss), optional weight
  averaging, early stopping on the validation loss (or accuracy) with patience, restoring the
  best weights.
* :func:`lbfgs` -- full-batch L-BFGS through ``scipy.optimize`` (UFLDL's choice for the
  sparse autoencoder).

Training that diverges stops with :class:`TrainingDiverged` at the first sign: a NaN or
infinite mini-batch loss, non-finite weights after an epoch, or an epoch whose mean training
loss exceeds ``DIVERGENCE_FACTOR`` times the loss of the very first mini-batch (the loss at the
initial weights, about chance level; 1 if that is smaller) -- healthy training never comes near
that. The exception
carries the weights of the best completed epoch (the initial weights if none completed), the
history, and a message that says what was seen and what to try.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import minimize
from tqdm.auto import tqdm

from . import _checks, fpu

#: An epoch whose mean training loss exceeds this multiple of the first mini-batch's loss
#: counts as diverged (see the module docstring).
DIVERGENCE_FACTOR = 10.0


@dataclass(frozen=True)
class SGDConfig:
    """Hyperparameters of :func:`sgd`. ``patience`` epochs without a better validation score stop
    training; the score is the validation loss (``monitor="loss"``, lower is better) or the
    validation accuracy (``monitor="acc"``, higher is better; ties go to the lower loss).
    ``clip_norm`` (or None) caps the global gradient norm of each step.

    ``average`` (or None) turns on **weight averaging** (Polyak & Juditsky 1992, here as an
    exponential moving average): after every step :math:`\\bar W \\leftarrow a \\bar W + (1 - a) W`.
    Validation, early stopping and the returned weights use :math:`\\bar W`; training continues
    from :math:`W`. With a = 0.99 the average spans about 100 steps, so the epoch-to-epoch bounce
    of the last iterate (momentum SGD at a fixed η never settles) averages out."""

    lr: float = 0.1
    momentum: float = 0.85
    batch_size: int = 32
    epochs: int = 50
    patience: int = 5
    clip_norm: float | None = None
    seed: int = 0
    monitor: str = "loss"
    average: float | None = None

    def __post_init__(self):
        _checks.number("lr (learning rate η)", self.lr, low=0, low_open=True)
        _checks.number("momentum (α)", self.momentum, low=0, high=1, high_open=True)
        _checks.positive_int("batch_size", self.batch_size)
        _checks.positive_int("epochs", self.epochs)
        _checks.positive_int("patience", self.patience)
        if self.clip_norm is not None:
            _checks.number("clip_norm", self.clip_norm, low=0, low_open=True)
        if self.monitor not in ("loss", "acc"):
            raise ValueError(f"monitor must be 'loss' or 'acc', got {self.monitor!r}")
        if self.average is not None:
            _checks.number("average", self.average, low=0, high=1, low_open=True, high_open=True)
        if not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int, got {self.seed!r}")


@dataclass
class History:
    """Per-epoch record: ``train_loss`` is the mean mini-batch loss of the epoch; ``val_loss`` and
    any other validation metric are measured on the whole validation set after the epoch."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)  # when ``validate`` reports "train_acc"
    epoch_time: list = field(default_factory=list)  # seconds of training per epoch (validation excluded)
    best_epoch: int = -1  # 0-based index of the epoch whose weights were kept
    stopped: str = ""  # "max epochs", "early stopping", "converged" or "diverged"
    #: :func:`lbfgs` only: per-iteration values, ``"grad_norm"`` (‖∇J‖ over all parameters) and
    #: whatever its ``record`` function returns, e.g. the terms of a cost
    monitor: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class TrainingDiverged(RuntimeError):
    """Training diverged (see the module docstring). ``.params`` holds the weights of the best
    completed epoch (or the initial weights), ``.history`` the record up to the bad epoch."""

    def __init__(self, message, params, history):
        super().__init__(message)
        self.params = params
        self.history = history


def _global_norm(grads) -> float:
    return float(np.sqrt(sum(np.vdot(g, g) for g in grads.values())))


def momentum_update(W: np.ndarray, dW: np.ndarray, grad: np.ndarray, lr: float, alpha: float) -> None:
    """One step of the course's SGD with momentum, in place on ``W`` and ``dW`` (the last step).

    .. math:: \\Delta W(n) = -\\eta \\nabla J + \\alpha\\, \\Delta W(n-1), \\qquad W \\leftarrow W + \\Delta W(n)
    """
    dW *= alpha
    dW -= lr * grad
    W += dW


def sgd(loss_and_grads, params: dict, train: tuple, config: SGDConfig, *, validate=None,
        progress: bool = True, desc: str = "training"):
    """Train ``params`` (a copy; the caller's arrays are untouched) with SGD + momentum.

    Parameters
    ----------
    loss_and_grads : ``f(params, *batch) -> (loss, grads)``, e.g.
        ``lambda p, X, y: sequence.loss_and_grads(p, X, y, cell="gru")``.
    params : initial parameters.
    train : tuple of arrays with the same number of rows, e.g. ``(X,)`` or ``(X, y)``; each
        mini-batch takes the same rows of every array.
    config : :class:`SGDConfig`.
    validate : ``f(params) -> {"loss": float, ...}`` on the validation set, called after every
        epoch; its ``"loss"`` drives early stopping, ``"acc"`` and ``"train_acc"`` (if given) are
        recorded. It sees the averaged weights when ``config.average`` is set. Without it, the
        epoch's mean training loss is used.
    progress : True for a tqdm progress bar over epochs, False for none, or a callable
        ``progress(done, total)`` called after every epoch (done = epochs finished, total =
        ``config.epochs``); an exception it raises stops training and propagates (a Cancel button).

    Returns
    -------
    (best params, :class:`History`)
    """
    if not isinstance(config, SGDConfig):
        raise ValueError(f"config must be an SGDConfig, got {type(config)}")
    train = tuple(np.asarray(array) for array in train)
    if not train or len(train[0]) == 0:
        raise ValueError("train data is empty: need at least one example")
    for k, array in enumerate(train):
        _checks.finite(f"train[{k}]", array)
        _checks.same_length("train[0]", train[0], f"train[{k}]", array)
    N = len(train[0])
    params = {k: np.array(v, copy=True) for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    with fpu.training_numerics(np.result_type(*params.values())):
        return _sgd_loop(loss_and_grads, params, velocity, train, N, config, validate, progress, desc)


def _diverged(desc, what, config, kept, hist):
    hist.stopped = "diverged"
    where = (f"the weights of epoch {hist.best_epoch + 1} (the best completed epoch)" if hist.best_epoch >= 0
             else "the initial weights (no epoch completed)")
    return TrainingDiverged(
        f"{desc}: {what}. The inputs are finite, so the optimisation is unstable: try a smaller learning rate "
        f"(now {config.lr:g}) or gradient clipping (clip_norm, now {config.clip_norm}). Kept in .params: {where}.",
        kept, hist)


def _sgd_loop(loss_and_grads, params, velocity, train, N, config, validate, progress, desc):
    initial = {k: v.copy() for k, v in params.items()}
    reference = None  # the loss of the very first mini-batch, at the initial weights
    rng = np.random.default_rng(config.seed)
    a = config.average  # the averaging rate a of W̄ <- a W̄ + (1 - a) W (the docstring's a)
    averaged = {k: v.copy() for k, v in params.items()} if a is not None else params  # W̄ (or W itself)
    best, best_score, since_best = None, (-np.inf, -np.inf), 0
    hist = History()
    report = progress if callable(progress) else None
    bar = tqdm(range(config.epochs), desc=desc, disable=not progress or report is not None, leave=False)
    for epoch in bar:
        perm = rng.permutation(N)
        total = 0.0
        t_epoch = time.perf_counter()
        for step, s in enumerate(range(0, N, config.batch_size)):
            idx = perm[s : s + config.batch_size]
            loss, grads = loss_and_grads(params, *(array[idx] for array in train))
            if not np.isfinite(loss):
                raise _diverged(desc, f"the mini-batch loss became {loss} at step {step + 1} of epoch {epoch + 1}",
                                config, best if best is not None else initial, hist)
            if reference is None:  # a loss that starts near 0 is compared with 1 instead
                reference = max(abs(float(loss)), 1.0)
            total += loss * len(idx)
            if config.clip_norm is not None:
                norm = _global_norm(grads)
                if norm > config.clip_norm:
                    grads = {k: g * (config.clip_norm / norm) for k, g in grads.items()}
            for k, g in grads.items():
                momentum_update(params[k], velocity[k], g, config.lr, config.momentum)
                if a is not None:
                    w = averaged[k]
                    w *= a
                    w += (1.0 - a) * params[k]  # W̄ <- a W̄ + (1 - a) W
        hist.epoch_time.append(time.perf_counter() - t_epoch)
        hist.train_loss.append(total / N)
        kept = best if best is not None else initial
        if not all(np.isfinite(v).all() for v in params.values()):
            raise _diverged(desc, f"the weights became non-finite in epoch {epoch + 1}", config, kept, hist)
        if total / N > DIVERGENCE_FACTOR * reference:
            raise _diverged(desc, f"the mean training loss of epoch {epoch + 1} is {total / N:.4g}, more than "
                            f"{DIVERGENCE_FACTOR:g}x {reference:.4g} (the first mini-batch's loss, at least 1)",
                            config, kept, hist)
        metrics = validate(averaged) if validate is not None else {"loss": total / N}
        val_loss = float(metrics["loss"])
        hist.val_loss.append(val_loss)
        if "acc" in metrics:
            hist.val_acc.append(float(metrics["acc"]))
        if "train_acc" in metrics:
            hist.train_acc.append(float(metrics["train_acc"]))
        if progress and report is None:
            bar.set_postfix(train=f"{total / N:.4f}", val=f"{val_loss:.4f}")
        if not np.isfinite(val_loss):
            raise _diverged(desc, f"the validation loss became {val_loss} in epoch {epoch + 1}", config, kept, hist)
        if config.monitor == "acc" and "acc" not in metrics:
            raise ValueError("monitor='acc' needs validate() to return an 'acc'")
        if report is not None:
            report(epoch + 1, config.epochs)
        score = (-val_loss, 0.0) if config.monitor == "loss" else (float(metrics["acc"]), -val_loss)
        if score > best_score:
            best_score, since_best, hist.best_epoch = score, 0, epoch
            best = {k: v.copy() for k, v in averaged.items()}
        else:
            since_best += 1
            if since_best >= config.patience:
                hist.stopped = "early stopping"
                break
    else:
        hist.stopped = "max epochs"
    bar.close()
    return best, hist


def _takes_note(fn) -> bool:
    """Whether the progress callable ``fn`` accepts a ``note`` keyword (or any keyword)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "note" or p.kind is p.VAR_KEYWORD for p in params)


def _sci(x: float) -> str:
    """A number in two significant digits, as ``3.1e-3`` (``1e-4`` for 0.0001)."""
    if not math.isfinite(x):
        return str(x)
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def _convergence_note(J: list, grad_norm: float, rel_tol, window: int, grad_tol) -> str:
    """The stopping rule of :func:`lbfgs` in a few words: its quantity now and its threshold."""
    parts = []
    if rel_tol is not None:
        if len(J) > window:
            fall = (J[-window - 1] - J[-1]) / abs(J[-1]) if J[-1] != 0 else math.inf
            parts.append(f"fall over {window} it {_sci(fall)} → stops < {_sci(rel_tol)}")
        else:
            parts.append(f"fall over {window} it: from it {window + 1} → stops < {_sci(rel_tol)}")
    if grad_tol is not None:
        parts.append(f"|∇J| {_sci(grad_norm)} → stops ≤ {_sci(grad_tol)}")
    return ", ".join(parts)


def lbfgs(loss_and_grads, params: dict, *, maxiter: int = 400, rel_tol: float | None = None, window: int = 20,
          grad_tol: float | None = None, record=None, progress: bool = True, desc: str = "L-BFGS"):
    """Minimise a full-batch cost ``loss_and_grads(params) -> (loss, grads)`` with L-BFGS.

    Stops at the first of: **convergence** -- the cost fell by less than ``rel_tol`` (relative)
    over the last ``window`` iterations, :math:`(J_{n-w} - J_n) / |J_n| < \\text{rel\\_tol}`, or
    the gradient norm fell to ``grad_tol``, :math:`\\lVert \\nabla J \\rVert_2 \\le \\text{grad\\_tol}`
    (over all parameters; a plateau where the cost barely moves can still have a gradient);
    scipy's own tolerances; or ``maxiter`` iterations. ``History.stopped`` says which.

    ``record``: None, or ``record(params) -> {name: float}`` called after every iteration; the
    values go to ``History.monitor[name]`` (e.g. the separate terms of the cost). The gradient
    norm after every iteration is always recorded, as ``History.monitor["grad_norm"]``.

    ``progress``: as for :func:`sgd`, with ``progress(iterations done, maxiter)``. With a
    convergence rule (``rel_tol`` or ``grad_tol``) the run usually stops long before ``maxiter``,
    so the tqdm bar shows no total (its estimate would count to the cap) but the rule's quantity
    against its threshold, e.g. ``fall over 20 it 3.1e-3 → stops < 1e-4`` or
    ``|∇J| 2.3e-2 → stops ≤ 1e-3``; a callable that takes a ``note`` keyword (or ``**kwargs``)
    gets that text too, ``progress(done, maxiter, note=...)``; one that takes two arguments is
    called as before.

    Returns (params, :class:`History`) with the cost after every iteration in ``train_loss``.
    """
    maxiter = _checks.positive_int("maxiter", maxiter)
    window = _checks.positive_int("window", window)
    if rel_tol is not None:
        rel_tol = _checks.number("rel_tol", rel_tol, low=0, low_open=True)
    if grad_tol is not None:
        grad_tol = _checks.number("grad_tol", grad_tol, low=0, low_open=True)
    keys = list(params)
    shapes = [np.shape(params[k]) for k in keys]
    sizes = [int(np.prod(s)) for s in shapes]
    dtype = np.result_type(*params.values())

    def unflatten(theta):
        out, s = {}, 0
        for k, shape, n in zip(keys, shapes, sizes):
            out[k] = theta[s : s + n].reshape(shape).astype(dtype, copy=False)
            s += n
        return out

    last_good = {}

    def fun(theta):
        loss, grads = loss_and_grads(unflatten(theta))
        if not np.isfinite(loss):
            hist.stopped = "diverged"
            raise TrainingDiverged(
                f"{desc}: the cost became {loss} at evaluation {len(hist.train_loss) + 1} (iteration "
                f"{len(hist.train_loss)}); the last weights with a finite cost are kept in .params",
                unflatten(last_good.get("theta", theta0)), hist)
        last_good["theta"] = theta.copy()
        g = np.concatenate([np.ravel(grads[k]) for k in keys]).astype(np.float64)
        last_good["loss"], last_good["grad_norm"] = float(loss), float(np.linalg.norm(g))
        return loss, g

    hist = History()
    report = progress if callable(progress) else None
    rule = rel_tol is not None or grad_tol is not None
    with_note = report is not None and rule and _takes_note(report)
    bar = tqdm(total=None if rule else maxiter, desc=desc, disable=not progress or report is not None, leave=False)

    def callback(intermediate_result):
        J = hist.train_loss
        J.append(float(intermediate_result.fun))
        if last_good.get("loss") != J[-1]:  # the accepted point was not the last one evaluated
            fun(intermediate_result.x)
        values = {"grad_norm": last_good["grad_norm"]}
        if record is not None:
            values.update(record(unflatten(intermediate_result.x)))
        for name, v in values.items():
            hist.monitor.setdefault(name, []).append(float(v))
        bar.update(1)
        note = _convergence_note(J, values["grad_norm"], rel_tol, window, grad_tol) if rule else ""
        if with_note:
            report(len(J), maxiter, note=note)
        elif report is not None:
            report(len(J), maxiter)
        elif progress and rule:
            bar.set_postfix_str(f"cost {intermediate_result.fun:.5f}, {note}")
        elif progress:
            bar.set_postfix(cost=f"{intermediate_result.fun:.5f}")
        if rel_tol is not None and len(J) > window and (J[-window - 1] - J[-1]) < rel_tol * abs(J[-1]):
            hist.stopped = f"converged: cost fell by less than {rel_tol:g} (relative) over {window} iterations"
            raise StopIteration
        if grad_tol is not None and values["grad_norm"] <= grad_tol:
            hist.stopped = f"converged: gradient norm {values['grad_norm']:.2g} <= {grad_tol:g}"
            raise StopIteration

    theta0 = np.concatenate([np.ravel(params[k]) for k in keys]).astype(np.float64)
    with fpu.training_numerics(dtype):
        res = minimize(fun, theta0, jac=True, method="L-BFGS-B", callback=callback,
                       options={"maxiter": maxiter, "maxcor": 20})
    bar.close()
    hist.best_epoch = len(hist.train_loss) - 1
    if not hist.stopped:
        if res.success:
            hist.stopped = f"converged: {res.message}"
        elif len(hist.train_loss) >= maxiter:
            hist.stopped = "max iterations"
        else:
            hist.stopped = f"stopped early: {res.message}"
    return unflatten(res.x), hist
