"""A/B: the working tree's recurrent training step against another git revision, in one process.

    python benchmarks/bench_recurrent_ab.py                  # against HEAD, every cell, 21 repetitions
    python benchmarks/bench_recurrent_ab.py --against 614056a --cells lstm gru --reps 31

For each cell, one mini-batch of the study's sequence model (32 windows of 150 steps x 3
channels, 128 units, float32, flush-to-zero, one BLAS thread, exactly as the study trains):
``sequence.loss_and_grads`` of the revision (``git archive`` into a temporary package) and of
the working tree, called alternately so that a busy machine slows both alike; prints the median
time of each, the speed-up (reference / working tree) and the largest relative difference of
any gradient (float32 rounding only, if the change kept the math). This is how a speed change to
``mpcore/cells`` or ``mpcore/recurrent.py`` is judged: same run, ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import threadpoolctl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mpcore import cells, data, fpu  # noqa: E402
from mpcore.models import sequence  # noqa: E402


def reference_sequence_module(rev: str, where: Path):
    """``mpcore.models.sequence`` of git revision ``rev``, imported as package ``mpcore_ref``."""
    archive = where / "ref.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "archive", rev, "mpcore"], cwd=ROOT, stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    (where / "mpcore").rename(where / "mpcore_ref")  # the package imports itself relatively
    sys.path.insert(0, str(where))
    return importlib.import_module("mpcore_ref.models.sequence")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    parser.add_argument("--cells", nargs="+", default=list(cells.CELLS), choices=list(cells.CELLS))
    parser.add_argument("--reps", type=int, default=21, help="calls of each side (default 21)")
    args = parser.parse_args(argv)
    act = data.load_activity()
    mu, sd = act.train_x.mean(axis=(0, 1)), act.train_x.std(axis=(0, 1))
    X, y = ((act.train_x[:32] - mu) / sd).astype(np.float32), act.train_y[:32]
    with tempfile.TemporaryDirectory() as tmp:
        ref = reference_sequence_module(args.against, Path(tmp))
        print(f"| cell | {args.against} (ms) | working tree (ms) | speed-up | largest gradient difference |")
        print("|---|---|---|---|---|")
        with threadpoolctl.threadpool_limits(1), fpu.training_numerics(np.float32):
            for cell in args.cells:
                p = {k: v.astype(np.float32) for k, v in
                     sequence.init_params(cell, X.shape[2], 128, act.n_classes, np.random.default_rng(1)).items()}
                _, g_ref = ref.loss_and_grads(p, X, y, cell=cell)
                _, g_new = sequence.loss_and_grads(p, X, y, cell=cell)
                diff = max(float(np.max(np.abs(g_ref[k] - g_new[k])) / (np.max(np.abs(g_ref[k])) + 1e-30))
                           for k in g_ref)
                times = {"ref": [], "new": []}
                for r in range(args.reps):  # alternate which side goes first
                    for side, module in (("ref", ref), ("new", sequence))[:: 1 if r % 2 else -1]:
                        t = time.perf_counter()
                        module.loss_and_grads(p, X, y, cell=cell)
                        times[side].append(time.perf_counter() - t)
                t_ref, t_new = np.median(times["ref"]) * 1e3, np.median(times["new"]) * 1e3
                print(f"| {cell} | {t_ref:.1f} | {t_new:.1f} | {t_ref / t_new:.2f}x | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
