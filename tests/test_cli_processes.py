"""The CLI as processes: two runs on one store share the work; a killed run leaves no workers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mpcore import runner

sys.path.insert(0, str(Path(__file__).parent))
from course_files import write_course_dir  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _reproduce(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "mpcore", "reproduce", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _marked(mark: str) -> list[str]:
    """Command lines of the live processes whose environment carries MPCORE_TEST_MARK=mark."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"MPCORE_TEST_MARK={mark}".encode() in env.read_bytes().split(b"\0"):
                found.append(env.with_name("cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
        except OSError:
            continue
    return found


def test_two_concurrent_runs_train_each_experiment_once(tmp_path):
    data_dir = write_course_dir(tmp_path / "data", np.random.default_rng(0))
    store = tmp_path / "store"
    runs = [_reproduce("--quick", "--data-dir", data_dir, "--store", store, "--out", tmp_path / f"out{k}",
                       "--jobs", 2) for k in (0, 1)]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    n_experiments = len(json.loads((tmp_path / "out0" / "summary.json").read_text())["experiments"])
    assert len(list(store.glob("*/*.json"))) == n_experiments
    # both reports were made from the same stored results: the same training times
    times = [[e["wall_time_s"] for e in json.loads((tmp_path / f"out{k}" / "summary.json").read_text())["experiments"]]
             for k in (0, 1)]
    assert times[0] == times[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_run_leaves_no_worker_processes(tmp_path, sig):
    mark = f"{os.getpid()}-{sig}"
    run = _reproduce("--quick", "--parts", "sequence", "--store", tmp_path / "store", "--out", tmp_path / "out",
                     "--jobs", 2, env={**os.environ, "MPCORE_TEST_MARK": mark})
    deadline = time.monotonic() + 60
    workers = lambda: [p for p in _marked(mark) if "loky" in p and "resource_tracker" not in p]  # noqa: E731
    while len(workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(workers()) == 2, f"the workers never started: {_marked(mark)}"
    time.sleep(2.0)
    run.send_signal(sig)
    try:
        _, err = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running: {_marked(mark)}") from None
    if sig == signal.SIGTERM:
        assert run.returncode == 130 and "interrupted" in err
    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(mark) == []


class ThreadProbeStore:
    """Stands in for the store in ``cli.run_all``'s workers: instead of the study's training it
    runs ``sgd`` on a tiny problem and reports the BLAS threads seen inside a training step."""

    def get(self, config, fingerprint=None):
        return None

    def get_or_run(self, config, run, progress=True):
        from threadpoolctl import threadpool_info, threadpool_limits

        from mpcore.store import Result
        from mpcore.train import SGDConfig, sgd

        threadpool_limits(2)  # as if the worker's BLAS had been left at two threads
        seen = []

        def loss(p, X):
            seen.append(max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))
            return float(np.sum((p["w"] - X) ** 2)), {"w": 2 * (p["w"] - X).sum(0)}

        outside = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        sgd(loss, {"w": np.zeros(3)}, (np.ones((8, 3)),), SGDConfig(lr=0.01, epochs=1, batch_size=4), progress=False)
        return Result(config, {}, {}, {"blas_threads": seen, "outside": outside, "pid": os.getpid()}, 0.0)


def test_parallel_jobs_train_on_one_blas_thread_each():
    """(BLAS threads x parallel jobs) <= cores: under --jobs 2 every training step sees one thread."""
    from mpcore import experiments, study

    cfgs = [experiments.sequence_config("rnn", lr, 0) for lr in study.SEQ_LR_GRID] * 2
    results = runner.run_all(cfgs, ThreadProbeStore(), jobs=2, progress=False)
    assert len({r.metrics["pid"] for r in results} - {os.getpid()}) >= 1  # really in worker processes
    assert all(r.metrics["outside"] == 2 and r.metrics["blas_threads"] == [1, 1] for r in results)
