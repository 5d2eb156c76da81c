"""Two small kernels of ``mpcore.layers`` against the library call they replace.

    python benchmarks/bench_kernels.py

* ``layers.sigmoid`` (in-place exp / reciprocal passes) vs ``scipy.special.expit``, on the
  shapes the models use: the autoencoder's hidden layer (10,240 x 64, float64) and a GRU's
  gates for one time step of a batch (32 x 256, float32).
* ``layers.embedding_backward`` (one ``np.bincount`` over flat positions) vs
  ``np.add.at(dR, idx, dout)``, for the language model's batch (100 x 3 words, D = 32, V = 250).

Median of 7 repetitions of a timed loop each, one BLAS thread, cases interleaved. Appends a
table to ``benchmarks/RESULTS.md``; the docstrings of ``mpcore.layers`` point here instead of
quoting numbers that would go stale.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from results_file import RESULTS, append
from scipy.special import expit

from mpcore import layers

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, loops: int) -> float:
    t = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - t) / loops


def cases(rng):
    for name, shape, dtype in [("hidden layer 10240x64, float64", (10240, 64), np.float64),
                               ("GRU gates 32x256, float32", (32, 256), np.float32)]:
        z = rng.normal(size=shape).astype(dtype)
        out = np.empty_like(z)
        yield (f"sigmoid, {name}", lambda z=z, out=out: layers.sigmoid(z, out=out),
               lambda z=z, out=out: expit(z, out=out))
    V, D, B = 250, 32, 100
    idx = rng.integers(0, V, size=(B, 3))
    dout = rng.normal(size=(B, 3, D))

    def add_at():
        dR = np.zeros((V, D))
        np.add.at(dR, idx, dout)
        return dR

    yield "embedding backward, 100x3 words, D=32", lambda: layers.embedding_backward(dout, (idx, V)), add_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(1):
        for name, ours, theirs in cases(rng):
            loops = max(1, int(0.05 / max(timed(ours, 3), 1e-7)))
            a, b = [], []
            for _ in range(7):
                a.append(timed(ours, loops))
                b.append(timed(theirs, loops))
            rows.append((name, np.median(a), np.median(b)))
    lines = ["", f"### Kernels of mpcore.layers ({time.strftime('%Y-%m-%d')})", "",
             f"{platform.processor() or platform.machine()}; {os.cpu_count()} cores; numpy {np.__version__}; load "
             f"average {os.getloadavg()[0]:.1f}. Median of 7, one thread.", "",
             "| kernel | mpcore (µs) | library call (µs) | library / mpcore |", "|---|---|---|---|",
             *[f"| {n} | {a * 1e6:.1f} | {b * 1e6:.1f} | {b / a:.1f}x |" for n, a, b in rows], ""]
    append(lines, args.out)


if __name__ == "__main__":
    main()
