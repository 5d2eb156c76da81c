"""The notebook's progress display while a batch trains (:func:`mpcore.runner.run_all` with
``notebook=True``): one overall line ("run k of N", the time left) that stays, the runs in
progress under it -- reported by the runs themselves, from joblib's worker processes too -- and
a background thread that never outlives ``run_all``."""

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mpcore import experiments, runner
from mpcore.store import Result

sys.path.insert(0, str(Path(__file__).parent))
from course_files import write_course_dir  # noqa: E402


class FakeHandle:
    """Stands in for the notebook's display handle: records every text shown. Raises
    KeyboardInterrupt (the stop button) at the first update in the main thread whose text
    starts with ``interrupt_at``."""

    def __init__(self, interrupt_at=None):
        self.texts, self.interrupt_at = [], interrupt_at

    def update(self, data, raw=False):
        text = data["text/plain"]
        self.texts.append(text)
        if (self.interrupt_at and text.startswith(self.interrupt_at)
                and threading.current_thread() is threading.main_thread()):
            self.interrupt_at = None
            raise KeyboardInterrupt


@pytest.fixture
def shown(monkeypatch):
    """The display handle run_all's progress line gets (as in a notebook), refreshing fast."""
    handle = FakeHandle()
    monkeypatch.setattr(runner.ProgressLine, "_display", staticmethod(lambda text: handle.texts.append(text) or handle))
    monkeypatch.setattr(runner, "REFRESH_SECONDS", 0.05)
    monkeypatch.setattr(runner, "expected_minutes", lambda cfgs, store, jobs: 12.0)
    return handle


def progress_threads():
    return [t for t in threading.enumerate() if t.name == "mpcore-progress"]


class EpochStore:
    """Stands in for the store: each "training" reports epochs 1 to 3 of at most 50 through the
    progress callable it is given (as ``train.sgd`` does), stays there a moment, and returns an
    empty result. ``stop_at``: the config index whose run is interrupted (KeyboardInterrupt)."""

    root = Path("nowhere")

    def __init__(self, stop_at=None, hold=0.6):
        self.stop_at, self.hold = stop_at, hold

    def get(self, config, fingerprint=None):
        return None

    def get_or_run(self, config, run, progress=True):
        assert callable(progress), "a notebook's run reports its progress"
        for epoch in (1, 2, 3):
            progress(epoch, 50)
        if config.sgd.lr == self.stop_at:
            raise KeyboardInterrupt
        time.sleep(self.hold)
        return Result(config, {}, {}, {"pid": os.getpid()}, 0.5)


def configs(n):
    return [experiments.sequence_config("gru", 0.01 * (k + 1), 0) for k in range(n)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_line_shows_each_run_in_progress_and_ends_on_the_overall_line_alone(shown, jobs, capsys):
    results = runner.run_all(configs(3), EpochStore(), jobs=jobs, notebook=True)
    assert len(results) == 3
    if jobs == 2:
        assert {r.metrics["pid"] for r in results} != {os.getpid()}  # reported from worker processes
    live = [t for t in shown.texts if "now: " in t]
    assert any("GRU, η=0.01, seed 0: epoch 3 of ≤50" in t for t in live), shown.texts
    first = live[0].splitlines()
    assert first[0].startswith("run 0 of 3 [") and first[0].endswith("about 12 min left")
    assert first[1].startswith("  now: GRU, η=0.0")
    assert shown.texts[-1].startswith("run 3 of 3 [####################] done in ")  # the final state ...
    assert "\n" not in shown.texts[-1] and "now" not in shown.texts[-1]  # ... with nothing in progress
    assert progress_threads() == []
    assert "3 runs to train on these files" in capsys.readouterr().out


def test_two_runs_in_progress_show_one_line_each(shown):
    runner.run_all(configs(2), EpochStore(hold=1.5), jobs=2, notebook=True)
    both = [t for t in shown.texts if "η=0.01" in t and "η=0.02" in t]
    assert both, shown.texts
    lines = both[-1].splitlines()
    assert len(lines) == 3 and lines[1].startswith("  now: GRU") and lines[2].startswith("       GRU")


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_interruption_stops_the_thread_and_says_what_was_kept(shown, jobs, capsys):
    if jobs == 1:
        store = EpochStore(stop_at=0.02)  # the second run is stopped while it trains
    else:
        store, shown.interrupt_at = EpochStore(), "run 1 of 3"  # stopped as the first result arrives
    with pytest.raises(KeyboardInterrupt):
        runner.run_all(configs(3), store, jobs=jobs, notebook=True)
    assert progress_threads() == []
    assert "stopped: 1 of 3 runs finished and are in the cache" in capsys.readouterr().out
    assert shown.texts[-1].startswith("run 1 of 3 [") and shown.texts[-1].endswith(
        "stopped: 1 finished runs kept in the cache")
    time.sleep(0.3)
    n = len(shown.texts)
    time.sleep(0.3)
    assert len(shown.texts) == n  # nothing updates the line any more


def test_outside_a_notebook_the_line_is_printed_when_a_run_finishes(monkeypatch, capsys):
    monkeypatch.setattr(runner.ProgressLine, "_display", staticmethod(lambda text: None))
    monkeypatch.setattr(runner, "REFRESH_SECONDS", 0.05)
    monkeypatch.setattr(runner, "expected_minutes", lambda cfgs, store, jobs: 12.0)
    runner.run_all(configs(2), EpochStore(), jobs=1, notebook=True)
    out = capsys.readouterr().out
    assert out.count("run 1 of 2 [") == 1 and out.count("run 2 of 2 [") == 1  # not once per refresh
    assert progress_threads() == []


def test_a_run_reports_its_epoch_or_its_convergence_rule(tmp_path):
    cfg = experiments.sequence_config("lstm", 0.01, 1)
    report = runner.RunProgress(tmp_path, 4, cfg)
    assert (tmp_path / "4.txt").read_text(encoding="utf-8") == "LSTM, η=0.01, seed 1: starting"
    report(12, 50)
    assert (tmp_path / "4.txt").read_text(encoding="utf-8") == "LSTM, η=0.01, seed 1: epoch 12 of ≤50"
    ae = runner.RunProgress(tmp_path, 5, experiments.AutoencoderConfig(solver="lbfgs"))
    ae(140, 3000, note="fall over 20 it 3.1e-3 → stops < 1e-4")
    text = (tmp_path / "5.txt").read_text(encoding="utf-8")
    assert text.endswith(": iteration 140, fall over 20 it 3.1e-3 → stops < 1e-4") and "3000" not in text
    report._write("x")  # a folder that is gone (the batch has ended) is no error
    runner.RunProgress(tmp_path / "gone", 6, cfg)(1, 50)


def test_real_runs_in_worker_processes_report_their_epochs(shown, tmp_path):
    """The whole path: run_all -> joblib worker -> store -> experiments.run -> train.sgd -> the file."""
    from mpcore.store import Store

    data_dir = str(write_course_dir(tmp_path / "data", np.random.default_rng(0)))
    cfgs = [experiments.sequence_config(cell, 0.05, 0, n_hidden=4, mlp=(3,), epochs=40, patience=40, data_dir=data_dir)
            for cell in ("rnn", "gru")]
    results = runner.run_all(cfgs, Store(tmp_path / "store"), jobs=2, notebook=True)
    assert all(r is not None for r in results)
    assert any(": epoch " in t and " of ≤40" in t for t in shown.texts if "now: " in t), shown.texts
    assert progress_threads() == []


def test_the_estimate_counts_the_epoch_cap_when_validation_is_a_random_split(monkeypatch, tmp_path):
    """With recording ids the shipped twin's epoch count is the guide; split at random (a course
    file), validation leaks and runs go on to the cap, so the estimate counts the cap."""
    import warnings
    from dataclasses import replace

    import h5py

    from mpcore import data
    from mpcore.store import Store, shipped_dir

    monkeypatch.setattr(runner, "_typical_step", lambda step, dtype, fpu: 1.0)  # seconds per step
    cfg = experiments.sequence_config("gru", 0.03, 0)
    twin = Store(shipped_dir(), read_only_roots=[]).get(cfg)

    def steps_per_epoch(act):
        return -(-len(act.train_x) // cfg.sgd.batch_size) + (len(act.val_x) + 512) / cfg.sgd.batch_size / 3

    by_recording = experiments.PARTS["sequence"].load(None)
    assert runner.measured_seconds(cfg) == pytest.approx(steps_per_epoch(by_recording) * twin.metrics["epochs"])
    assert twin.metrics["epochs"] < cfg.sgd.epochs
    with h5py.File(data.default_path(data.ACTIVITY_FILE)) as src, h5py.File(tmp_path / data.ACTIVITY_FILE, "w") as dst:
        for key in ("trX", "trY", "tstX", "tstY"):  # the course's schema: no recording ids
            dst.create_dataset(key, data=src[key][:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random split's warning
        at_random = experiments.PARTS["sequence"].load(tmp_path)
        seconds = runner.measured_seconds(replace(cfg, data_dir=tmp_path))
    assert at_random.val_split == "random"
    assert seconds == pytest.approx(steps_per_epoch(at_random) * cfg.sgd.epochs)


def test_expected_minutes_places_each_run_on_the_first_free_worker(monkeypatch):
    """Two workers, runs of 10, 1 and 1 minutes: about 10 minutes (the long run counts in full),
    not 6 (the sum halved); seed 0 goes first, as run_all schedules it."""
    cfgs = [experiments.sequence_config("rnn", 0.01, 1, epochs=1), experiments.sequence_config("rnn", 0.01, 0),
            experiments.sequence_config("gru", 0.01, 0, epochs=2)]
    minutes = {cfgs[0]: 1.0, cfgs[1]: 10.0, cfgs[2]: 1.0}
    monkeypatch.setattr(runner, "measured_seconds", lambda cfg, cache, jobs: 60 * minutes[cfg])
    assert runner.expected_minutes(cfgs, None, jobs=2) == pytest.approx(10.0)
    assert runner.expected_minutes(cfgs, None, jobs=1) == pytest.approx(12.0)
    minutes[cfgs[0]] = 12.0  # a seed-1 run is scheduled after both seed-0 runs: 1 + 12 on the second worker
    assert runner.expected_minutes(cfgs, None, jobs=2) == pytest.approx(13.0)
