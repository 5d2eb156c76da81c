"""Training many experiments: from the store when there, else in parallel, each result saved as it arrives.

:func:`run_all` is what ``python -m mpcore reproduce`` and the notebooks use. Missing experiments
train in this process (``jobs=1``), in joblib's worker processes (``jobs > 1``: two workers on a
2-core machine, each on one BLAS thread -- see :func:`mpcore.fpu.training_numerics`), or on a Dask
cluster. Each result is written to the store as soon as it is trained, so an interrupted run
(Ctrl-C, the notebook's stop button) keeps every finished experiment and a rerun continues
from there. Runs of seed 0 go first, so that the first complete picture (every setting once)
arrives before the seed statistics fill in.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from . import experiments as E


def _train(i, cfg):
    """Dask worker task: train one config (no progress bar: workers' output interleaves)."""
    return i, E.run(cfg, progress=False)


def _train_into(i, cfg, store):
    """joblib worker task: the stored result, or train it under the store's per-key lock and
    save it -- so two ``reproduce`` runs on one store train each experiment once."""
    return i, store.get_or_run(cfg, partial(E.run, store=store), progress=False)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: ask Linux to send this worker SIGTERM when ``parent``, the process
    that started it, dies -- even by SIGKILL (``prctl(PR_SET_PDEATHSIG)``). Elsewhere a no-op:
    workers then linger until loky's idle timeout of 5 minutes."""
    import ctypes
    import signal

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _stop_workers() -> None:
    """Terminate this process's worker processes (joblib's loky workers and resource trackers)."""
    import signal

    for pid in _children(os.getpid()):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


class NotInStore(LookupError):
    """A result the caller expected in the store (``train=False``) is missing."""


def run_all(cfgs, store, jobs: int = 1, scheduler: str | None = None, progress: bool = True, train: bool = True,
            notebook: bool = False):
    """Results for every config, in order: from the store when there, else trained and saved.

    Missing experiments train in this process (``jobs=1``), in parallel with joblib
    (``jobs > 1``), or on an existing Dask distributed cluster (``scheduler`` address), seed 0
    first. Each result is written to the store as soon as it arrives, so an interrupted run
    resumes where it stopped. ``notebook=True`` (the notebooks): nothing is printed when every
    result is stored; otherwise one line says how many runs and about how long -- measured on
    this machine (:func:`measured_seconds`) -- then one progress bar for the whole batch ("run k
    of N", the time left) stays in the notebook; an interruption says what was kept.
    """
    from .store import dataset_fingerprint

    fps = [dataset_fingerprint(c) for c in cfgs]
    results = [store.get(c, fp) for c, fp in zip(cfgs, fps)]
    todo = sorted((i for i, r in enumerate(results) if r is None), key=lambda i: cfgs[i].seed != 0)
    if todo and not train:
        raise NotInStore(f"{len(todo)} of {len(cfgs)} results are not in the store, e.g. {cfgs[todo[0]]}")
    if not notebook:
        print(f"{len(cfgs) - len(todo)} of {len(cfgs)} experiments found in the store; training {len(todo)}",
              flush=True)
    if not todo:
        return results

    t0, done, bar = time.perf_counter(), [0], None
    if notebook:
        expected = expected_minutes([cfgs[i] for i in todo], store, jobs)
        print(f"{len(todo)} runs to train on these files (of {len(cfgs)}; the others are in the cache), about "
              f"{expected:.0f} min on this machine, {jobs} at a time. Each finished run is saved at once: stopping "
              "keeps them, and running the cell again continues.", flush=True)
        bar = ProgressLine(len(todo), f"about {expected:.0f} min left")

    def finished(i, result, save=True):
        if save:
            store.save(result, fps[i])
        results[i] = result
        done[0] += 1
        left = [cfgs[k] for k in todo if results[k] is None]
        minutes = estimate_minutes_left(left, [r for r in results if r is not None], jobs) if left else 0.0
        if bar is not None:
            bar.update(done[0], f"about {minutes:.0f} min left; last: {label(result.config)}" if left else
                       f"done in {(time.perf_counter() - t0) / 60:.1f} min")
            return
        eta = f"; about {minutes:.0f} min left" if left else ""
        print(f"  [{done[0]}/{len(todo)}] {cfgs[i].part} {label(result.config)}: {result.wall_time:.0f} s "
              f"({(time.perf_counter() - t0) / 60:.1f} min so far{eta})", flush=True)

    try:
        _train_missing(cfgs, todo, store, jobs, scheduler, progress and not notebook, finished)
    except KeyboardInterrupt:
        if notebook:
            print(f"stopped: {done[0]} of {len(todo)} runs finished and are in the cache ({store.root}); "
                  "run the cell again to continue", flush=True)
        raise
    return results


class ProgressLine:
    """One line of progress -- ``run k of N [####------] note`` -- that updates in place: in a
    notebook through a display handle, so the saved notebook keeps the last state (a widget
    progress bar would be saved at its first, empty state); elsewhere as printed lines."""

    def __init__(self, total: int, note: str = ""):
        self.total = total
        try:
            from IPython import get_ipython
            from IPython.display import display

            self.handle = display({"text/plain": self._text(0, note)}, raw=True, display_id=True) \
                if get_ipython() is not None else None
        except ImportError:
            self.handle = None
        if self.handle is None:
            print(self._text(0, note), flush=True)

    def _text(self, done: int, note: str) -> str:
        filled = round(20 * done / max(self.total, 1))
        return f"run {done} of {self.total} [{'#' * filled}{'-' * (20 - filled)}] {note}"

    def update(self, done: int, note: str = "") -> None:
        if self.handle is not None:
            self.handle.update({"text/plain": self._text(done, note)}, raw=True)
        else:
            print(self._text(done, note), flush=True)


def _train_missing(cfgs, todo, store, jobs, scheduler, progress, finished):
    """Train ``cfgs[i]`` for each i in ``todo``; ``finished(i, result[, save])`` as each arrives."""
    if scheduler is not None:
        from dask.distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = [client.submit(_train, i, cfgs[i], pure=False) for i in todo]
            for future in as_completed(futures):
                finished(*future.result())
    elif jobs > 1:
        from joblib import Parallel, delayed, parallel_config

        try:
            with parallel_config(backend="loky", initializer=_die_with_parent, initargs=(os.getpid(),)):
                for i, result in Parallel(n_jobs=jobs, return_as="generator_unordered")(
                    delayed(_train_into)(i, cfgs[i], store) for i in todo
                ):
                    finished(i, result, save=False)
        except BaseException:  # Ctrl-C, SIGTERM (see main) or a failed experiment: no orphaned workers
            _stop_workers()
            raise
    else:
        for i in todo:
            finished(i, store.get_or_run(cfgs[i], partial(E.run, store=store), progress=progress), save=False)


def expected_minutes(cfgs, store, jobs: int = 2) -> float:
    """About how many minutes training the configs not yet in ``store`` takes here, ``jobs`` at a
    time (:func:`measured_seconds`)."""
    cache: dict = {}
    return sum(measured_seconds(c, cache) for c in cfgs if store.get(c) is None) / max(jobs, 1) / 60


def measured_seconds(cfg, cache: dict | None = None) -> float:
    """About how long training ``cfg`` takes on this machine: one training step of its model,
    timed here on its data (best of 3, under the training loop's numerics), times the steps the
    run is expected to take -- as many epochs (or L-BFGS iterations) as the same setting took on
    the bundled data (the shipped results), or the cap when that is not known. ``cache`` keeps
    step timings across configs that share a model and data."""
    from dataclasses import replace

    from . import fpu
    from .models import autoencoder, language_model, sequence
    from .store import Store, shipped_dir

    cache = {} if cache is None else cache
    twin = Store(shipped_dir(), read_only_roots=[]).get(replace(cfg, data_dir=None))
    if cfg.part == "autoencoder":
        key = ("autoencoder", cfg.data_dir, cfg.zca_epsilon, cfg.n_hidden, cfg.solver, cfg.dtype)
        if key not in cache:
            X, _ = E.autoencoder_inputs(cfg.data_dir, cfg.zca_epsilon, cfg.seed)
            batch = X if cfg.solver == "lbfgs" else X[: cfg.sgd.batch_size]
            p = autoencoder.init_params(X.shape[1], cfg.n_hidden, np.random.default_rng(0), dtype=cfg.dtype)
            step = _best_of_3(lambda: autoencoder.loss_and_grads(p, batch.astype(cfg.dtype), lam=cfg.lam,
                                                                  beta=cfg.beta, rho=cfg.rho), cfg.dtype, fpu)
            cache[key] = (step, 1 if cfg.solver == "lbfgs" else -(-len(X) // cfg.sgd.batch_size))
        step, per_epoch = cache[key]
        if cfg.solver == "lbfgs":
            return step * 1.1 * (twin.metrics["iterations"] if twin else cfg.maxiter)
        return step * per_epoch * 1.2 * (len(twin.history["train_loss"]) if twin else cfg.sgd.epochs)
    if cfg.part == "language_model":
        key = ("language_model", cfg.data_dir, cfg.D, cfg.P, cfg.dtype, cfg.sgd.batch_size)
        if key not in cache:
            ng = E.PARTS["language_model"].load(cfg.data_dir)
            p = language_model.init_params(ng.n_words, cfg.D, cfg.P, np.random.default_rng(0), dtype=cfg.dtype)
            B = cfg.sgd.batch_size
            step = _best_of_3(lambda: language_model.loss_and_grads(p, ng.train_x[:B], ng.train_y[:B]), cfg.dtype, fpu)
            cache[key] = (step, -(-(cfg.n_train or len(ng.train_x)) // B))
        step, per_epoch = cache[key]
        return step * per_epoch * 1.2 * (twin.metrics["epochs"] if twin else cfg.sgd.epochs)
    key = ("sequence", cfg.data_dir, cfg.cell, cfg.n_hidden, cfg.mlp, cfg.dtype, cfg.sgd.batch_size)
    if key not in cache:
        act = E.PARTS["sequence"].load(cfg.data_dir)
        mu, sd = E.standardizer(act)
        B = cfg.sgd.batch_size
        X, y = ((act.train_x[:B] - mu) / sd).astype(cfg.dtype), act.train_y[:B]
        p = sequence.init_params(cfg.cell, X.shape[2], cfg.n_hidden, act.n_classes, np.random.default_rng(0),
                                 mlp=cfg.mlp, dtype=cfg.dtype)
        step = _best_of_3(lambda: sequence.loss_and_grads(p, X, y, cell=cfg.cell), cfg.dtype, fpu)
        # an epoch also predicts the validation windows and a training probe (forward only, about 1/3 of a step)
        cache[key] = (step, -(-(cfg.n_train or len(act.train_x)) // B) + (len(act.val_x) + 512) / B / 3)
    step, per_epoch = cache[key]
    return step * per_epoch * (twin.metrics["epochs"] if twin else cfg.sgd.epochs)


def _best_of_3(step, dtype, fpu) -> float:
    with fpu.training_numerics(dtype):
        step()  # warm-up
        times = []
        for _ in range(3):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
    return min(times)


def estimate_minutes_left(left: list, finished: list, jobs: int) -> float:
    """Rough time still to go: each config left takes the mean training time of the finished
    results of its part (of all finished results if none of its part has finished yet),
    ``jobs`` at a time."""
    if not finished:
        return float("nan")
    overall = np.mean([r.wall_time for r in finished])
    by_part = {}
    for r in finished:
        by_part.setdefault(r.config.part, []).append(r.wall_time)
    seconds = sum(np.mean(by_part[c.part]) if c.part in by_part else overall for c in left)
    return seconds / max(jobs, 1) / 60


def label(cfg) -> str:
    """A config in a few words: the setting that tells it apart in the study."""
    if cfg.part == "autoencoder":
        white = "" if cfg.zca_epsilon is not None else ", not whitened"
        main = E.AutoencoderConfig()
        sparsity = f", β={cfg.beta:g}, ρ={cfg.rho:g}" if (cfg.beta, cfg.rho) != (main.beta, main.rho) else ""
        return f"L_hid={cfg.n_hidden}, λ={cfg.lam:g}{sparsity}{white}"
    if cfg.part == "language_model":
        return f"D={cfg.D}, P={cfg.P}" + (f", seed {cfg.seed}" if cfg.seed else "")
    return f"{cfg.cell.upper()}, η={cfg.sgd.lr:g}, seed {cfg.seed}"
