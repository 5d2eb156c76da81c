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

import contextvars
import heapq
import os
import shutil
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np

from . import experiments


def _train(i, cfg):
    """Dask worker task: train one config (no progress bar: workers' output interleaves)."""
    return i, experiments.run(cfg, progress=False)


def _train_into(i, cfg, store, live_dir=None):
    """joblib worker task: the stored result, or train it under the store's per-key lock and
    save it -- so two ``reproduce`` runs on one store train each experiment once. ``live_dir``
    (or None): where the run reports its progress to the parent (:class:`RunProgress`)."""
    progress = RunProgress(live_dir, i, cfg) if live_dir is not None else False
    return i, store.get_or_run(cfg, partial(experiments.run, store=store), progress=progress)


class RunProgress:
    """The progress callable of one run while a notebook's batch trains: ``progress(done, total,
    note=None)`` from :func:`mpcore.train.sgd` / :func:`~mpcore.train.lbfgs` writes one line --
    ``LSTM, η=0.01, seed 0: epoch 12 of ≤50``, or for L-BFGS the iteration and its convergence
    rule -- to ``<live_dir>/<i>.txt`` (every epoch; L-BFGS iterations at most ten times a
    second), where :class:`LiveProgress` (in the parent, or the same process) reads it. Files,
    so that joblib's worker processes can report too; a failed write is ignored (the display
    must never stop a run)."""

    def __init__(self, live_dir, i: int, cfg):
        self.path = Path(live_dir) / f"{i}.txt"
        self.label = experiments.label(cfg)
        self.unit = "iteration" if getattr(cfg, "solver", "sgd") == "lbfgs" else "epoch"
        self._last = 0.0
        self._write(f"{self.label}: starting")

    def __call__(self, done: int, total: int, note: str | None = None) -> None:
        now = time.monotonic()
        if self.unit == "iteration" and now - self._last < 0.1:  # L-BFGS iterations may take a millisecond
            return
        self._last = now
        self._write(f"{self.label}: {self.unit} {done}, {note}" if note else
                    f"{self.label}: {self.unit} {done} of ≤{total}")

    def _write(self, text: str) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass


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


#: How often the notebook's progress display shows the runs in progress (seconds).
REFRESH_SECONDS = 2.0


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
    of N", the time left) stays in the notebook, with the runs in progress under it while they
    train (their epoch, or L-BFGS iteration and convergence rule; from the worker processes too),
    refreshed every ``REFRESH_SECONDS`` (:class:`LiveProgress`); once the batch ends only the
    overall line stays. An interruption says what was kept.
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

    t0, done, live = time.perf_counter(), [0], None
    if notebook:
        expected = expected_minutes([cfgs[i] for i in todo], store, jobs)
        print(f"{len(todo)} runs to train on these files (of {len(cfgs)}; {len(cfgs) - len(todo)} in the cache), "
              f"about {max(round(expected), 1)} min on this machine, {jobs} at a time. Each finished run is saved at "
              "once: stopping keeps them, and running the cell again continues.", flush=True)
        live = LiveProgress(ProgressLine(len(todo), _minutes_left(expected)), expected, REFRESH_SECONDS)

    def finished(i, result, save=True):
        if save:
            store.save(result, fps[i])
        results[i] = result
        done[0] += 1
        left = [cfgs[k] for k in todo if results[k] is None]
        minutes = estimate_minutes_left(left, [r for r in results if r is not None], jobs) if left else 0.0
        if live is not None:
            live.finished(i, done[0], minutes if left else None,
                          f"done in {(time.perf_counter() - t0) / 60:.1f} min")
            return
        eta = f"; about {minutes:.0f} min left" if left else ""
        print(f"  [{done[0]}/{len(todo)}] {cfgs[i].part} {experiments.label(result.config)}: {result.wall_time:.0f} s "
              f"({(time.perf_counter() - t0) / 60:.1f} min so far{eta})", flush=True)

    try:
        if live is not None:
            live.start()
        _train_missing(cfgs, todo, store, jobs, scheduler, progress and not notebook, finished,
                       live.dir if live is not None else None)
    except KeyboardInterrupt:
        if live is not None:
            live.close(f"stopped: {done[0]} finished runs kept in the cache")
            print(f"stopped: {done[0]} of {len(todo)} runs finished and are in the cache ({store.root}); "
                  "run the cell again to continue", flush=True)
        raise
    finally:
        if live is not None:
            live.close()
    return results


def _minutes_left(minutes: float) -> str:
    return f"about {max(round(minutes), 1)} min left" if np.isfinite(minutes) else "time left not known yet"


class LiveProgress:
    """What a notebook shows while a batch trains: the overall :class:`ProgressLine` ("run k of
    N", the time left), and under it one line per run in progress ("now: ...") as the runs report
    it (:class:`RunProgress` files in ``self.dir``), refreshed every ``interval`` seconds by a
    background thread that :meth:`close` stops (``run_all`` closes it however it ends). Between
    finished runs the time left counts down from the last estimate."""

    def __init__(self, bar: ProgressLine, minutes_left: float, interval: float = 2.0):
        self.bar, self.interval = bar, interval
        self.dir = Path(tempfile.mkdtemp(prefix="mpcore-progress-"))
        self.done, self.note = 0, None
        self._minutes, self._since = minutes_left, time.monotonic()
        self._finished: set = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        # in the caller's context, so that a notebook's display updates go to the running cell
        self.thread = threading.Thread(target=contextvars.copy_context().run, args=(self._loop,),
                                       name="mpcore-progress", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 -- a display problem must not stop the training
                pass

    def running(self) -> list[str]:
        """The lines of the runs in progress, in the order they were given."""
        found = []
        for path in self.dir.glob("*.txt"):
            try:
                i = int(path.stem)
                if i not in self._finished:
                    found.append((i, path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return [text for _, text in sorted(found)]

    def _overall(self) -> str:
        if self.note is not None:
            return self.note
        return _minutes_left(self._minutes - (time.monotonic() - self._since) / 60)

    def refresh(self) -> None:
        with self._lock:
            if not self._stop.is_set():
                self.bar.update(self.done, self._overall(), self.running())

    def finished(self, i: int, done: int, minutes_left: float | None, final: str) -> None:
        """Run ``i`` has finished, ``done`` in all; ``minutes_left`` None: it was the last one."""
        with self._lock:
            self._finished.add(i)
            (self.dir / f"{i}.txt").unlink(missing_ok=True)
            self.done = done
            if minutes_left is None:
                self.note = final
            else:
                self._minutes, self._since = minutes_left, time.monotonic()
            self.bar.update(self.done, self._overall(), self.running())

    def close(self, note: str | None = None) -> None:
        """Stop the thread and show the final state: the overall line alone (``note``, or the
        last one). Safe to call more than once."""
        self._stop.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join()
        with self._lock:
            if note is not None:
                self.note = note
            if self.dir.exists():
                self.bar.update(self.done, self._overall())
                shutil.rmtree(self.dir, ignore_errors=True)


class ProgressLine:
    """One line of progress -- ``run k of N [####------] note`` -- that updates in place, with
    the runs in progress under it (``now: ...``): in a notebook through a display handle, so the
    saved notebook keeps the last state (a widget progress bar would be saved at its first, empty
    state); elsewhere as printed lines: whenever a run finishes, and the runs in progress at most
    every ``PRINT_EVERY`` seconds."""

    PRINT_EVERY = 30.0

    def __init__(self, total: int, note: str = ""):
        self.total = total
        self._printed, self._printed_done, self._printed_at = None, None, 0.0
        self._shown = self._text(0, note)
        self.handle = self._display(self._shown)
        if self.handle is None:
            self._print(self._text(0, note), 0)

    @staticmethod
    def _display(text: str):
        """A display handle showing ``text`` under IPython; None elsewhere."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return None
        if get_ipython() is None:
            return None
        return display({"text/plain": text}, raw=True, display_id=True)

    def _text(self, done: int, note: str, now=()) -> str:
        filled = round(20 * done / max(self.total, 1))
        line = f"run {done} of {self.total} [{'#' * filled}{'-' * (20 - filled)}] {note}"
        return "\n".join([line, *(("  now: " if k == 0 else "       ") + t for k, t in enumerate(now))])

    def update(self, done: int, note: str = "", now=()) -> None:
        """Show ``done`` runs finished, ``note`` after the bar, and the lines ``now`` under it."""
        text = self._text(done, note, now)
        if self.handle is not None:
            if text != self._shown:  # a refresh that changes nothing sends nothing
                self.handle.update({"text/plain": text}, raw=True)
                self._shown = text
        else:
            self._print(text, done)

    def _print(self, text: str, done: int) -> None:
        if text == self._printed or (done == self._printed_done
                                     and time.monotonic() - self._printed_at < self.PRINT_EVERY):
            return
        print(text, flush=True)
        self._printed, self._printed_done, self._printed_at = text, done, time.monotonic()


def _train_missing(cfgs, todo, store, jobs, scheduler, progress, finished, live_dir=None):
    """Train ``cfgs[i]`` for each i in ``todo``; ``finished(i, result[, save])`` as each arrives.
    ``live_dir`` (or None): where each run reports its progress (:class:`RunProgress`; not on a
    Dask cluster, whose workers may be other machines)."""
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
                    delayed(_train_into)(i, cfgs[i], store, live_dir) for i in todo
                ):
                    finished(i, result, save=False)
        except BaseException:  # Ctrl-C, SIGTERM (see main) or a failed experiment: no orphaned workers
            _stop_workers()
            raise
    else:
        for i in todo:
            report = RunProgress(live_dir, i, cfgs[i]) if live_dir is not None else progress
            finished(i, store.get_or_run(cfgs[i], partial(experiments.run, store=store), progress=report), save=False)


def expected_minutes(cfgs, store=None, jobs: int = 2) -> float:
    """About how many minutes training the configs not yet in ``store`` (all of them, without a
    store) takes here, ``jobs`` at a time: each run's time (:func:`measured_seconds`) placed on
    the first free worker, seed 0 first, as :func:`run_all` schedules them -- so one long run
    at the end counts in full, not halved."""
    cache: dict = {}
    todo = sorted((c for c in cfgs if store is None or store.get(c) is None), key=lambda c: c.seed != 0)
    free = [0.0] * max(jobs, 1)  # when each worker is next free, earliest first
    for c in todo:
        heapq.heapreplace(free, free[0] + measured_seconds(c, cache, jobs))
    return max(free) / 60


def measured_seconds(cfg, cache: dict | None = None, jobs: int = 1) -> float:
    """About how long training ``cfg`` takes on this machine: one training step of its model,
    timed here on its data (:func:`step_timing`), times the steps the run is expected to take --
    as many epochs (or L-BFGS iterations) as the same setting took on the bundled data (the
    shipped results), or the cap when that is not known or, for activity windows split at random
    (no recording ids), not a guide. With ``jobs > 1`` the step is timed in ``jobs`` worker
    processes at once, as training runs them: steps running together share the memory bandwidth
    and caches, and an autoencoder's step slows much more than a recurrent one (measured in
    ``benchmarks/RESULTS.md``). ``cache`` keeps step timings across configs that share a model
    and data."""
    from dataclasses import replace

    from .store import Store, shipped_dir

    cache = {} if cache is None else cache
    key = _step_key(cfg)
    if key not in cache:
        if jobs > 1:
            from joblib import Parallel, delayed, parallel_config

            with parallel_config(backend="loky", initializer=_die_with_parent, initargs=(os.getpid(),)):
                timings = Parallel(n_jobs=jobs)(delayed(step_timing)(cfg) for _ in range(jobs))
            cache[key] = max(timings)  # the slower worker's step
        else:
            cache[key] = step_timing(cfg)
    step, per_epoch, random_split = cache[key]
    twin = Store(shipped_dir(), read_only_roots=[]).get(replace(cfg, data_dir=None))
    if cfg.part == "autoencoder":
        if cfg.solver == "lbfgs":  # about 1.05 evaluations of the cost per iteration (line search)
            return step * 1.05 * (twin.metrics["iterations"] if twin else cfg.maxiter)
        return step * per_epoch * 1.2 * (len(twin.history["train_loss"]) if twin else cfg.sgd.epochs)
    if cfg.part == "language_model":
        return step * per_epoch * 1.2 * (twin.metrics["epochs"] if twin else cfg.sgd.epochs)
    # a random validation split shares windows' samples with training (data.load_activity warns): validation
    # accuracy keeps rising and runs go on to the epoch cap (measured on a course-sized file: see
    # benchmarks/bench_course_notebooks.py), so the shipped runs' epoch counts do not transfer
    epochs = twin.metrics["epochs"] if twin and not random_split else cfg.sgd.epochs
    return step * per_epoch * epochs


def _step_key(cfg) -> tuple:
    """What a training step's time depends on: configs with the same key share a timing."""
    if cfg.part == "autoencoder":
        return ("autoencoder", cfg.data_dir, cfg.zca_epsilon, cfg.n_hidden, cfg.solver, cfg.dtype)
    if cfg.part == "language_model":
        return ("language_model", cfg.data_dir, cfg.D, cfg.P, cfg.dtype, cfg.sgd.batch_size)
    return ("sequence", cfg.data_dir, cfg.cell, cfg.n_hidden, cfg.mlp, cfg.dtype, cfg.sgd.batch_size)


def step_timing(cfg) -> tuple[float, float, bool]:
    """``(seconds of one training step of cfg's model on its data, steps per epoch, whether the
    validation split is random)``; an L-BFGS iteration counts as one step per epoch. Runs in a
    worker process too (:func:`measured_seconds` with ``jobs > 1``)."""
    from . import fpu
    from .models import autoencoder, language_model, sequence

    if cfg.part == "autoencoder":
        X, _ = experiments.autoencoder_inputs(cfg.data_dir, cfg.zca_epsilon, cfg.seed)
        batch = (X if cfg.solver == "lbfgs" else X[: cfg.sgd.batch_size]).astype(cfg.dtype)
        p = autoencoder.init_params(X.shape[1], cfg.n_hidden, np.random.default_rng(0), dtype=cfg.dtype)
        hyper = dict(lam=cfg.lam, beta=cfg.beta, rho=cfg.rho)
        if cfg.solver == "lbfgs":  # an iteration: the cost and gradient, then its terms recorded (a forward pass)
            step = _typical_step(lambda: (autoencoder.loss_and_grads(p, batch, **hyper),
                                          autoencoder.cost_terms(p, batch, **hyper)), cfg.dtype, fpu)
            return step, 1, False
        step = _typical_step(lambda: autoencoder.loss_and_grads(p, batch, **hyper), cfg.dtype, fpu)
        return step, -(-len(X) // cfg.sgd.batch_size), False
    B = cfg.sgd.batch_size
    if cfg.part == "language_model":
        ng = experiments.PARTS["language_model"].load(cfg.data_dir)
        p = language_model.init_params(ng.n_words, cfg.D, cfg.P, np.random.default_rng(0), dtype=cfg.dtype)
        step = _typical_step(lambda: language_model.loss_and_grads(p, ng.train_x[:B], ng.train_y[:B]), cfg.dtype, fpu)
        return step, -(-(cfg.n_train or len(ng.train_x)) // B), False
    act = experiments.PARTS["sequence"].load(cfg.data_dir)
    mu, sd = experiments.standardizer(act)
    X, y = ((act.train_x[:B] - mu) / sd).astype(cfg.dtype), act.train_y[:B]
    p = sequence.init_params(cfg.cell, X.shape[2], cfg.n_hidden, act.n_classes, np.random.default_rng(0),
                             mlp=cfg.mlp, dtype=cfg.dtype)
    step = _typical_step(lambda: sequence.loss_and_grads(p, X, y, cell=cfg.cell), cfg.dtype, fpu)
    # an epoch also predicts the validation windows and a training probe (forward only, about 1/3 of a step)
    per_epoch = -(-(cfg.n_train or len(act.train_x)) // B) + (len(act.val_x) + 512) / B / 3
    return step, per_epoch, act.val_split == "random"


def _typical_step(step, dtype, fpu) -> float:
    """Seconds of one call of ``step`` as training sees it: the median of 5 after a warm-up,
    under the training loop's numerics."""
    with fpu.training_numerics(dtype):
        step()  # warm-up
        times = []
        for _ in range(5):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
    return float(np.median(times))


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
